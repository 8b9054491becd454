"""A node process on regtest, started here or already running.

Node starts monacoind (or any Bitcoin-family node) on regtest in a fresh
temporary data directory, loopback only, on free ports, and talks JSON-RPC
to it (it is an rpc.RpcClient). The data directory is made once and kept
across restart(), stop() and kill(), so wallets and the chain survive them;
cleanup() ends the process and deletes the directory. Every Node made in a
process is cleaned up when that process exits, whether it ended normally,
by an exception or by SIGTERM/SIGHUP (after install_signal_handlers()).

attach() is the other way in: a node someone else runs on this machine,
reached by RPC only, never started, stopped or deleted here.

build_id() is the module build id of this checkout, as contrib/build-id
(its one definition) computes it.
"""

import atexit
import http.client
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import traceback

from giftcodekit.rpc import ERR_IN_WARMUP, NodeError, RpcClient, RpcError, WorkQueueFull

ENV_MONACOIND = "MONACOIND"
ENV_MONACOIN_CLI = "MONACOIN_CLI"
#: Set to 1 to keep node data directories after a run (for debugging).
ENV_KEEP_DATADIR = "GIFTCODE_TEST_KEEP_DATADIR"

#: This checkout: contrib/giftcodekit/node.py is two folders below it.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

log = logging.getLogger("giftcode")

_live_nodes = []
_live_lock = threading.Lock()


def _cleanup_all_nodes():
    with _live_lock:
        nodes = list(_live_nodes)
    for node in nodes:
        try:
            node.cleanup()
        except Exception:  # best effort at exit
            traceback.print_exc()


atexit.register(_cleanup_all_nodes)


def _terminate_on_signal(signum, frame):
    # SIGTERM/SIGHUP become a normal exit, so that atexit cleans up.
    raise SystemExit(128 + signum)


def install_signal_handlers():
    """SIGTERM and SIGHUP end the process like an exception: every node is
    stopped and deleted on the way out."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate_on_signal)
        signal.signal(signal.SIGHUP, _terminate_on_signal)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(value, env_name, required=True):
    """The absolute path of an executable given as value, else by the
    environment variable env_name; None when neither names one and it is
    not required. Raises NodeError otherwise."""
    path = value or os.environ.get(env_name)
    if not path:
        if required:
            raise NodeError("no node binary: pass --monacoind or set %s" % env_name)
        return None
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise NodeError("%s is not an executable file" % path)
    return path


def build_id(repo_root=REPO_ROOT):
    """The checkout's module build id, as contrib/build-id defines it."""
    script = os.path.join(repo_root, "contrib", "build-id")
    return subprocess.run([script], check=True, capture_output=True, text=True).stdout.strip()


def wait_until(predicate, timeout=60, interval=0.1, what="condition"):
    """Polls predicate() every `interval` seconds until it is true; raises
    AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(interval)


def attach(port, user, password, timeout=30):
    """An RpcClient of a node already running on this machine at
    127.0.0.1:port; raises NodeError when it does not answer."""
    client = RpcClient(port, user, password)
    try:
        client.rpc("getblockcount", timeout=timeout)
    except (OSError, http.client.HTTPException) as e:
        raise NodeError("no answer from the node at 127.0.0.1:%d: %s" % (port, e))
    return client


class Node(RpcClient):
    """One node process on regtest with its own temporary data directory.

    module_args: the gift-code module's options the node starts with
    (before extra_args, which may override them): redemptions are paid at
    once after a start (-giftcodestartdelay=0). False for a node without
    the module (a stock node)."""

    def __init__(self, binary, extra_args=(), name="node0", cli=None, rpc_timeout=300, keep_datadir=None,
                 module_args=True):
        super().__init__(rpc_timeout=rpc_timeout)
        self.binary = binary
        self.cli_binary = cli
        self.name = name
        self.extra_args = list(extra_args)
        self.module_args = ["-giftcodestartdelay=0"] if module_args else []
        self.keep_datadir = (os.environ.get(ENV_KEEP_DATADIR) == "1") if keep_datadir is None else keep_datadir
        self.datadir = tempfile.mkdtemp(prefix="giftcode_func_%s_" % name)
        self.set_credentials("u" + secrets.token_hex(8), secrets.token_hex(16))
        self.p2p_port = None
        self.process = None
        #: extra environment variables of the process (for example a preload)
        self.env = {}
        #: files beside the data directory that cleanup() removes with it
        self.side_files = []
        self._stdout = None
        self._stderr = None
        self.log = logging.getLogger("giftcode.%s" % name)
        with _live_lock:
            _live_nodes.append(self)

    # -- paths and logs ------------------------------------------------------------
    @property
    def chaindir(self):
        return os.path.join(self.datadir, "regtest")

    @property
    def walletdir(self):
        return os.path.join(self.chaindir, "wallets")

    @property
    def debug_log(self):
        return os.path.join(self.chaindir, "debug.log")

    def debug_log_contains(self, text):
        """Whether the node's debug.log holds `text`."""
        try:
            with open(self.debug_log, encoding="utf-8", errors="replace") as f:
                return text in f.read()
        except FileNotFoundError:
            return False

    def tail_log(self, lines=60):
        """The last lines of debug.log."""
        try:
            with open(self.debug_log, "r", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no debug.log)"

    def _read_stderr(self):
        try:
            with open(os.path.join(self.datadir, "stderr.txt"), "r", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def _write_conf(self):
        # Network options must be in the [regtest] section (or on the command
        # line, where they are given too); the conf only serves the cli.
        with open(os.path.join(self.datadir, "monacoin.conf"), "w") as f:
            f.write("regtest=1\n[regtest]\n")
            f.write("rpcport=%d\nport=%d\n" % (self.rpc_port, self.p2p_port))
            f.write("rpcuser=%s\nrpcpassword=%s\n" % (self.rpc_user, self.rpc_password))

    def _args(self):
        return [
            self.binary,
            "-datadir=" + self.datadir,
            "-regtest",
            "-server",
            "-listen=0",
            "-discover=0",
            "-dnsseed=0",
            "-rpcbind=127.0.0.1",
            "-rpcallowip=127.0.0.1",
            "-rpcport=%d" % self.rpc_port,
            "-port=%d" % self.p2p_port,
            "-rpcuser=" + self.rpc_user,
            "-rpcpassword=" + self.rpc_password,
            "-printtoconsole=0",
            "-daemon=0",
        ] + self.module_args + self.extra_args

    # -- lifecycle -------------------------------------------------------------------
    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self, extra_args=None, wait=True, timeout=180):
        """Starts the node (again) on its data directory and, with wait,
        returns once it answers RPC.

        extra_args, when given, replace the previous extra arguments and are
        kept for later restarts. Fresh ports are picked on every start; a
        port taken meanwhile by another process is retried. Raises NodeError
        when the node exits during its start or does not answer in time."""
        if self.running:
            raise NodeError("%s is already running" % self.name)
        if extra_args is not None:
            self.extra_args = list(extra_args)
        last_error = None
        for attempt in range(3):
            self.rpc_port = free_port()
            self.p2p_port = free_port()
            while self.p2p_port == self.rpc_port:
                self.p2p_port = free_port()
            self._write_conf()
            self._stdout = open(os.path.join(self.datadir, "stdout.txt"), "ab")
            self._stderr = open(os.path.join(self.datadir, "stderr.txt"), "ab")
            self.log.debug("starting: %s", " ".join(self._args()))
            self.process = subprocess.Popen(self._args(), stdin=subprocess.DEVNULL, stdout=self._stdout,
                                            stderr=self._stderr, cwd=self.datadir,
                                            env=dict(os.environ, **self.env) if self.env else None)
            if not wait:
                return
            try:
                self.wait_for_rpc(timeout)
                return
            except NodeError as e:
                last_error = e
                if self.running:
                    raise
                text = self._read_stderr()
                if "Unable to bind" not in text and "Unable to start HTTP server" not in text:
                    raise
                self.log.info("port clash at start-up, retrying")
                self._close_files()
        raise last_error

    def wait_for_rpc(self, timeout=180):
        """Returns once the node answers getblockcount (past its warm-up) and
        has read its mempool file back (getmempoolinfo's `loaded`, where the
        node has it): until then a patched node makes no new payment (-10)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise NodeError("%s exited with status %s during start-up\nstderr: %s\ndebug.log tail:\n%s" % (
                    self.name, self.process.returncode, self._read_stderr(), self.tail_log(30)))
            try:
                self.rpc("getblockcount", timeout=10)
                if self.rpc("getmempoolinfo", timeout=10).get("loaded", True):
                    return
            except RpcError as e:
                if e.code != ERR_IN_WARMUP:
                    raise
            except (OSError, http.client.HTTPException, WorkQueueFull):
                pass
            if time.monotonic() > deadline:
                raise NodeError("%s did not answer RPC within %d s" % (self.name, timeout))
            time.sleep(0.1)

    def stop(self, timeout=180):
        """Stops the node through the stop RPC and waits for the process to
        exit. Raises NodeError when it exits with a failure status, or does
        not exit in time (it is killed then)."""
        if not self.running:
            self._close_files()
            return
        try:
            self.rpc("stop", timeout=30)
        except (OSError, http.client.HTTPException, RpcError) as e:
            self.log.info("stop RPC failed (%s); waiting for the process anyway", e)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.log.error("%s did not stop within %d s; killing it", self.name, timeout)
            self.kill()
            raise NodeError("%s did not stop within %d s" % (self.name, timeout))
        self._close_files()
        if code != 0:
            raise NodeError("%s exited with status %d\n%s" % (self.name, code, self.tail_log(30)))

    def kill(self):
        """SIGKILL: the node gets no chance to flush or shut down."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self._close_files()

    def restart(self, extra_args=None, timeout=180):
        self.stop()
        self.start(extra_args, timeout=timeout)

    def _close_files(self):
        for f in (self._stdout, self._stderr):
            if f is not None:
                f.close()
        self._stdout = self._stderr = None

    def cleanup(self):
        """Kills the process if it still runs and deletes the data directory
        (unless it is kept) with the side files."""
        self.kill()
        with _live_lock:
            if self in _live_nodes:
                _live_nodes.remove(self)
        if self.keep_datadir:
            if os.path.isdir(self.datadir):
                log.info("kept data directory of %s: %s", self.name, self.datadir)
        else:
            shutil.rmtree(self.datadir, ignore_errors=True)
            for path in self.side_files:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass

    def cli_command(self, args, wallet=None):
        """The monacoin-cli command line of args against this node."""
        cmd = [self.cli_binary, "-datadir=" + self.datadir, "-regtest",
               "-rpcconnect=127.0.0.1", "-rpcport=%d" % self.rpc_port,
               "-rpcuser=" + self.rpc_user, "-rpcpassword=" + self.rpc_password]
        if wallet is not None:
            cmd.append("-rpcwallet=" + wallet)
        return cmd + [str(a) for a in args]
