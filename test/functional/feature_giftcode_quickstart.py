#!/usr/bin/env python3
"""The README's regtest quick-start works as written.

The shell block under "## Try it on regtest" in README.md is run with bash
(-e, -u, pipefail: any failing command fails the test) in an empty
directory, with two changes only: NODE is set to a directory holding the
monacoind and monacoin-cli under test, and every `-regtest` gets this
test's own free RPC port (-rpcport; the node also -port), so that it does not collide with
another node on the machine. The test then checks what the block printed:
the code issued, the redemption and its retry with the same txid marked
"replay": true, the code's state "redeemed" with one confirmation, and the
holder's balance of exactly the code's amount, and the node stopping.
The node started by the block is stopped by it (`cli stop`); on a failure
the test stops it through its pid file.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from decimal import Decimal

from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import REPO_ROOT, SkipTest, assert_equal, assert_true, wait_until
from giftcodekit.node import free_port

SECTION = "## Try it on regtest"


def quickstart_block():
    """The first ```sh block after SECTION in README.md."""
    with open(os.path.join(REPO_ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    assert_true(SECTION in text, "README.md has a section %r" % SECTION)
    m = re.search(r"```sh\n(.*?)```", text[text.index(SECTION):], re.S)
    assert_true(m is not None, "a ```sh block in %r" % SECTION)
    return m.group(1)


def json_objects(text):
    """Every top-level JSON object printed in `text`, in order."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    out, i = [], 0
    while True:
        start = text.find("{", i)
        if start < 0:
            return out
        obj, end = decoder.raw_decode(text, start)
        out.append(obj)
        i = end


class QuickstartTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 0

    def run_test(self):
        if not self.monacoin_cli:
            raise SkipTest("no monacoin-cli given (--monacoin-cli or $MONACOIN_CLI)")
        block = quickstart_block()
        assert_true(re.search(r"^NODE=.*$", block, re.M), "the block sets NODE")
        work = tempfile.mkdtemp(prefix="giftcode_quickstart_")
        bindir = os.path.join(work, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(self.monacoind), os.path.join(bindir, "monacoind"))
        os.symlink(os.path.abspath(self.monacoin_cli), os.path.join(bindir, "monacoin-cli"))
        script = re.sub(r"^NODE=.*$", "NODE=" + bindir, block, count=1, flags=re.M)
        assert_equal(script.count('monacoind" -regtest'), 1, "one monacoind started")
        script = script.replace('monacoind" -regtest', 'monacoind" -regtest -port=%d' % free_port())
        script = script.replace("-regtest", "-regtest -rpcport=%d" % free_port())
        assert_equal(script.count("-rpcport="), block.count("-regtest"))
        run_dir = os.path.join(work, "run")
        os.mkdir(run_dir)
        env = dict(os.environ, TMPDIR=work)
        self.log.info("running the README's quick-start block (%d lines)", len(block.strip().splitlines()))
        try:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=run_dir, env=env,
                                  capture_output=True, text=True, timeout=600)
        finally:
            self.stop_leftover_nodes(work)
        self.log.info("exit status %d; output:\n%s%s", done.returncode, done.stdout, done.stderr)
        assert_equal(done.returncode, 0, "the quick-start block's exit status")

        objects = json_objects(done.stdout)
        created = [o for o in objects if "codes" in o]
        redeemed = [o for o in objects if "replay" in o]
        views = [o for o in objects if o.get("state") == "redeemed"]
        assert_equal(len(created), 1, "one creategiftcode reply")
        amount = created[0]["amount"]
        assert_equal((amount, created[0]["count"], created[0]["label"]), (Decimal("1.5"), 1, "first try"))
        assert_equal([r["replay"] for r in redeemed], [False, True])
        assert_equal(redeemed[0]["txid"], redeemed[1]["txid"])
        assert_equal(redeemed[0]["broadcast"], True)
        assert_equal(len(views), 1, "one getgiftcode reply, redeemed")
        assert_equal((views[0]["txid"], views[0]["confirmations"]), (redeemed[0]["txid"], 1))
        amounts = [line for line in done.stdout.splitlines() if re.match(r"^\d+\.\d{8}$", line)]
        assert_true(amounts, "getbalance printed an amount")
        assert_equal(Decimal(amounts[-1]), amount, "the holder's balance")
        assert_true(done.stdout.strip().splitlines()[-1].endswith("stopping"), "the block stops its node")
        if not self.options.nocleanup:
            shutil.rmtree(work, ignore_errors=True)

    def stop_leftover_nodes(self, work):
        """Stops the node the block started, if it still runs (a failed run, or
        one still shutting down after `cli stop`)."""
        for root, _, files in os.walk(work):
            if "monacoind.pid" not in files:
                continue
            with open(os.path.join(root, "monacoind.pid")) as f:
                pid = int(f.read().strip())
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            self.log.info("waiting for the node the block started to exit (pid %d)", pid)

            def gone():
                try:
                    os.kill(pid, 0)
                    return False
                except ProcessLookupError:
                    return True
            wait_until(gone, 120, what="the node to exit")


if __name__ == "__main__":
    QuickstartTest().main()
