#!/usr/bin/env python3
"""Runs the gift-code functional tests against a patched monacoind.

    run.py --monacoind PATH [--monacoin-cli PATH] [--jobs N] [--long] [TEST ...]

The node binary comes from --monacoind or $MONACOIND (the cli, optional, from
--monacoin-cli or $MONACOIN_CLI). Before any test runs, one node is started
and asked for getgiftcodeinfo: if the RPC is missing, or its build_id is not
the build id of this checkout's plugin/ and patches/ sources (as
contrib/build-id computes it), the runner refuses to run, since the
tests would check a binary built from other sources. --ignore-build-id skips
that check.

Tests are the wallet_giftcode_*.py, rpc_giftcode_*.py and feature_*.py files
of this folder, or the names given; --long adds the tests of the same names
in long/ (they take many minutes each). Each runs as its own process (in its
own process group, with its own TMPDIR), in parallel up to --jobs, with a
timeout. The runner prints PASSED/FAILED/SKIPPED per test with its duration,
the output of every failed test, and, as its last line,
"N passed, N failed" (", N skipped" when some were). The exit status is 0
only when no test failed.
"""

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import test_framework  # noqa: F401  (first: it finds giftcodekit in this checkout's contrib/)
from giftcodekit.node import (ENV_KEEP_DATADIR, ENV_MONACOIN_CLI, ENV_MONACOIND, REPO_ROOT, Node, build_id,
                              find_binary)
from giftcodekit.rpc import ERR_METHOD_NOT_FOUND, NodeError, RpcError
from test_framework.test_framework import TEST_EXIT_SKIPPED

HERE = os.path.dirname(os.path.abspath(__file__))
#: The tests import giftcodekit from here (their PYTHONPATH names it).
CONTRIB = os.path.join(REPO_ROOT, "contrib")

PATTERNS = ("wallet_giftcode_*.py", "rpc_giftcode_*.py", "feature_*.py")
LONG_DIR = "long"
FAILED_OUTPUT_LINES = 400


def discover(include_long=False):
    """Test names: file names of this folder, then (include_long) "long/NAME"."""
    found = []
    for folder in ([""] + ([LONG_DIR] if include_long else [])):
        names = set()
        for pattern in PATTERNS:
            for path in glob.glob(os.path.join(HERE, folder, pattern)):
                names.add(folder + "/" + os.path.basename(path) if folder else os.path.basename(path))
        found += sorted(names)
    return found


def resolve(requested, available):
    chosen = []
    for name in requested:
        base = os.path.basename(name)
        if not base.endswith(".py"):
            base += ".py"
        matches = [a for a in available if a.rsplit("/", 1)[-1] == base]
        if len(matches) > 1:  # the same name at the top and in long/: the path decides
            parent = os.path.basename(os.path.dirname(os.path.normpath(name)))
            matches = [a for a in matches if (a.startswith(LONG_DIR + "/")) == (parent == LONG_DIR)]
        if not matches:
            raise SystemExit("run.py: no such test: %s (see --list; tests in %s/ need --long)" % (name, LONG_DIR))
        if matches[0] not in chosen:
            chosen.append(matches[0])
    return chosen


def check_build_id(monacoind):
    """Returns None if the node's build id matches this checkout, else why not."""
    expected = build_id()
    node = Node(monacoind, name="buildcheck")
    try:
        node.start()
        try:
            info = node.rpc("getgiftcodeinfo", wallet="")
        except RpcError as e:
            if e.code == ERR_METHOD_NOT_FOUND:
                return ("%s has no gift-code RPCs (getgiftcodeinfo: %s): it is not a patched node"
                        % (monacoind, e.message))
            return "getgiftcodeinfo failed on %s: %s" % (monacoind, e)
        actual = info.get("build_id") if isinstance(info, dict) else None
        if actual != expected:
            return ("%s was built from other gift-code sources: its build_id is %s, this checkout's is %s "
                    "(a stale binary?)" % (monacoind, actual, expected))
        print("build id %s matches %s" % (expected, monacoind), flush=True)
        return None
    finally:
        try:
            node.stop(timeout=60)
        except Exception:
            pass
        node.cleanup()


class Runner:
    def __init__(self, tests, env, jobs, timeout, keep_tmp):
        self.queue = list(tests)
        self.env = env
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.keep_tmp = keep_tmp
        self.lock = threading.Lock()
        self.results = {}
        self.groups = set()
        self.tmp_root = tempfile.mkdtemp(prefix="giftcode_run_")

    def _next(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def _report(self, name, status, duration, output, note=""):
        with self.lock:
            self.results[name] = status
            print("%-7s %s (%.1f s)%s" % (status, name, duration, " " + note if note else ""), flush=True)
            if status == "FAILED":
                lines = output.splitlines()
                if len(lines) > FAILED_OUTPUT_LINES:
                    lines = ["... (%d lines cut)" % (len(lines) - FAILED_OUTPUT_LINES)] + lines[-FAILED_OUTPUT_LINES:]
                print("------ output of %s ------" % name)
                print("\n".join(lines))
                print("------ end of %s ------" % name, flush=True)

    @staticmethod
    def _group_alive(pgid):
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    def _kill_group(self, pgid, first=signal.SIGTERM, grace=15, proc=None):
        """Signals the test's process group, waits up to `grace` seconds for
        it to empty (reaping the test process itself, which would otherwise
        linger as a zombie member), then kills whatever is left."""
        try:
            os.killpg(pgid, first)
        except ProcessLookupError:
            return
        end = time.monotonic() + grace
        while time.monotonic() < end:
            if proc is not None:
                proc.poll()
            if not self._group_alive(pgid):
                return
            time.sleep(0.1)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _run_one(self, name):
        tmpdir = os.path.join(self.tmp_root, name[:-3])
        os.makedirs(tmpdir)
        env = dict(self.env, TMPDIR=tmpdir)
        with tempfile.TemporaryFile(mode="w+", dir=self.tmp_root) as out:
            started = time.monotonic()
            proc = subprocess.Popen([sys.executable, os.path.join(HERE, name)], stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, env=env, cwd=HERE,
                                    start_new_session=True)
            with self.lock:
                self.groups.add(proc.pid)
            note = ""
            try:
                code = proc.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self._kill_group(proc.pid, proc=proc)
                proc.wait()
                code = None
                note = "timed out after %d s" % self.timeout
            duration = time.monotonic() - started
            # Anything left in the test's process group (a node it did not
            # stop) is a bug of the test: kill it and fail the test.
            if self._group_alive(proc.pid):
                self._kill_group(proc.pid, first=signal.SIGKILL, grace=5)
                if code is not None:
                    note = "left processes running"
                    code = 1
            with self.lock:
                self.groups.discard(proc.pid)
            leftovers = os.listdir(tmpdir)
            if leftovers and not self.keep_tmp:
                if code == 0:
                    note = "left files behind: %s" % ", ".join(sorted(leftovers)[:5])
                    code = 1
                shutil.rmtree(tmpdir, ignore_errors=True)
            elif not leftovers:
                os.rmdir(tmpdir)
            out.seek(0)
            output = out.read()
        if code == 0:
            status = "PASSED"
        elif code == TEST_EXIT_SKIPPED:
            status = "SKIPPED"
        else:
            status = "FAILED"
            if code is not None and not note:
                note = "exit status %d" % code
        self._report(name, status, duration, output, note)

    def _worker(self):
        while True:
            name = self._next()
            if name is None:
                return
            try:
                self._run_one(name)
            except Exception as e:  # the runner itself must not die on one test
                self._report(name, "FAILED", 0.0, "runner error: %r" % e)

    def run(self):
        threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.jobs)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)
        except KeyboardInterrupt:
            with self.lock:
                groups = list(self.groups)
                self.queue.clear()
            for pgid in groups:
                self._kill_group(pgid, first=signal.SIGTERM, grace=5)
            print("interrupted: killed %d running test(s)" % len(groups), file=sys.stderr)
            raise
        finally:
            if not self.keep_tmp:
                shutil.rmtree(self.tmp_root, ignore_errors=True)
            else:
                print("test temporary files kept in %s" % self.tmp_root)
        return self.results


def _interrupt(signum, frame):
    raise KeyboardInterrupt()


def main():
    # SIGTERM/SIGHUP end the runner like Ctrl-C: running tests are killed
    # with their nodes (each test is a process group of its own).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests", nargs="*", help="test file names (default: all)")
    parser.add_argument("--monacoind", help="patched node binary (default: $%s)" % ENV_MONACOIND)
    parser.add_argument("--monacoin-cli", dest="monacoin_cli",
                        help="its cli, optional (default: $%s)" % ENV_MONACOIN_CLI)
    parser.add_argument("--jobs", "-j", type=int, default=2, help="tests run in parallel (default: 2)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per test (default: 1800)")
    parser.add_argument("--ignore-build-id", action="store_true",
                        help="run even if the node lacks getgiftcodeinfo or was built from other sources")
    parser.add_argument("--list", action="store_true", help="list the tests and exit")
    parser.add_argument("--long", action="store_true",
                        help="also the long tests in %s/ (with --list: list them too)" % LONG_DIR)
    parser.add_argument("--nocleanup", action="store_true", help="keep node data directories and test files")
    parser.add_argument("--powercut", help="libpowercut.so for the power-loss and disk tests (default: "
                        "$GIFTCODE_POWERCUT_LIB, else build/default/test/powercut/libpowercut.so)")
    args = parser.parse_args()

    available = discover(args.long)
    tests = resolve(args.tests, available) if args.tests else available
    if args.list:
        for name in tests:
            print(name)
        return 0
    if not tests:
        print("run.py: no tests found", file=sys.stderr)
        return 2

    try:
        monacoind = find_binary(args.monacoind, ENV_MONACOIND)
        cli = find_binary(args.monacoin_cli, ENV_MONACOIN_CLI, required=False)
    except NodeError as e:
        print("run.py: %s" % e, file=sys.stderr)
        return 2

    if args.ignore_build_id:
        print("build id check skipped (--ignore-build-id)", flush=True)
    else:
        try:
            why = check_build_id(monacoind)
        except NodeError as e:
            why = "the node did not start: %s" % e
        if why:
            print("run.py: refusing to run the tests: %s\n"
                  "Build monacoind from this checkout, or pass --ignore-build-id." % why, file=sys.stderr)
            return 2

    env = dict(os.environ)
    env["PYTHONPATH"] = CONTRIB + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env[ENV_MONACOIND] = monacoind
    if cli:
        env[ENV_MONACOIN_CLI] = cli
    else:
        env.pop(ENV_MONACOIN_CLI, None)
    if args.nocleanup:
        env[ENV_KEEP_DATADIR] = "1"
    if args.powercut:
        env["GIFTCODE_POWERCUT_LIB"] = os.path.abspath(args.powercut)

    print("running %d test(s), %d at a time" % (len(tests), max(1, args.jobs)), flush=True)
    results = Runner(tests, env, args.jobs, args.timeout, args.nocleanup).run()
    passed = sum(1 for s in results.values() if s == "PASSED")
    failed = sum(1 for s in results.values() if s == "FAILED")
    skipped = sum(1 for s in results.values() if s == "SKIPPED")
    failed += len(tests) - len(results)  # never reported: count as failed
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line, flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
