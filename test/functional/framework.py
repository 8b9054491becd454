"""A small harness for the gift-code functional tests.

It starts monacoind on regtest in a fresh temporary data directory, talks
JSON-RPC to it over loopback HTTP (Basic auth, one connection per call), and
cleans every node process and directory up when the test ends, whether it
passed, failed or was interrupted.

Only the Python standard library is used. The node binary comes from
--monacoind or the MONACOIND environment variable (and the optional
monacoin-cli from --monacoin-cli or MONACOIN_CLI).

Pieces:
  Node              one monacoind process: start, stop, kill, restart, rpc
  RpcError          a JSON-RPC error reply (code, message)
  Node.call_with_retries
                    a client that gives up on each attempt after a short
                    timeout and tries again until it gets an answer
  GiftCodeTest      base class of a test: logging, node bookkeeping, exit code
  assert_*          assertion helpers; assert_raises_rpc checks exact codes
  snapshot          wallet state to compare before and after a refused call
  build_id          the module build id (contrib/build-id)
  assess_payments   what holders received on chain against what they are owed
  RedemptionStorm   redemptions racing `lockunspent true` and ordinary sends
  corrupt_giftcode_record
                    plants an undecodable gift-code record in a wallet file
"""

import argparse
import atexit
import base64
import http.client
import json
import logging
import os
import random
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from collections import namedtuple
from decimal import Decimal

ENV_MONACOIND = "MONACOIND"
ENV_MONACOIN_CLI = "MONACOIN_CLI"
#: Set to 1 to keep node data directories after a test (for debugging).
ENV_KEEP_DATADIR = "GIFTCODE_TEST_KEEP_DATADIR"

#: Exit status of a test that skipped itself (as automake uses it).
EXIT_SKIPPED = 77

#: mapValue key of a wallet transaction that pays a gift code; it holds the
#: code id. gettransaction and listtransactions show mapValue entries as
#: fields of the transaction.
PAYMENT_TAG = "giftcode"

#: Money range of Monacoin, and the smallest amount a code may carry.
MAX_MONEY = Decimal("105120000")
DUST_LIMIT = Decimal("0.00000546")
SATOSHI = Decimal("0.00000001")

#: Documented error codes (doc/rpc.md).
ERR_MALFORMED = -401
ERR_BAD_CHECKSUM = -402
ERR_WRONG_NETWORK = -403
ERR_UNKNOWN = -404
ERR_ALREADY_REDEEMED = -405
ERR_CANCELLED = -406
ERR_EXPIRED = -407
ERR_INVALID_ADDRESS = -5
ERR_INVALID_AMOUNT = -3
ERR_INVALID_PARAMETER = -8
ERR_INSUFFICIENT_FUNDS = -6
ERR_WALLET_LOCKED = -13
ERR_WALLET = -4
ERR_STORE_FAILURE = -20
ERR_CORRUPTION = -22
#: The node is in initial block download, or the wallet has not processed
#: the chain tip yet: nothing was done; retry.
ERR_CATCHING_UP = -10
#: The wallet holds enough, but in coins it cannot spend now (unconfirmed,
#: immature, or locked with lockunspent): nothing was done; retry after the
#: next block.
ERR_FUNDS_PENDING = -408
#: Node codes the harness meets. A call with too few or too many arguments
#: gets the node's usual -1 with the RPC's help text (doc/rpc.md).
ERR_MISC = -1
ERR_METHOD_NOT_FOUND = -32601
ERR_IN_WARMUP = -28
ERR_WALLET_NOT_SPECIFIED = -19
ERR_WALLET_NOT_FOUND = -18

#: failed_redemptions reason names, by error code (doc/rpc.md).
REASON_FOR_CODE = {
    ERR_MALFORMED: "malformed_code",
    ERR_BAD_CHECKSUM: "bad_checksum",
    ERR_WRONG_NETWORK: "wrong_network",
    ERR_UNKNOWN: "unknown_code",
    ERR_ALREADY_REDEEMED: "already_redeemed",
    ERR_CANCELLED: "cancelled",
    ERR_EXPIRED: "expired",
    ERR_INVALID_ADDRESS: "invalid_address",
    ERR_INVALID_AMOUNT: "invalid_amount",
    ERR_INVALID_PARAMETER: "invalid_parameter",
    ERR_INSUFFICIENT_FUNDS: "insufficient_funds",
    ERR_WALLET_LOCKED: "wallet_locked",
    ERR_STORE_FAILURE: "store_failure",
    ERR_CORRUPTION: "corruption",
    ERR_CATCHING_UP: "node_catching_up",
    ERR_FUNDS_PENDING: "funds_pending",
}

#: payment_state of a redeemed code (getgiftcode, listgiftcodes, redeemgiftcode).
PAYMENT_STATES = ("mempool", "confirmed", "buried", "not_in_mempool", "conflicted", "dead", "abandoned",
                  "missing")
#: The payment states getgiftcodeinfo lists under attention: a human must look.
ATTENTION_STATES = ("not_in_mempool", "conflicted", "dead", "abandoned", "missing")
#: Confirmations after which a payment (or a conflicting transaction) is
#: buried: the module follows it no more.
BURIED_DEPTH = 6

#: A regtest code as creategiftcode prints it, a code id, a txid.
CODE_RE = re.compile(r"^RGC(-[0-9A-HJKMNP-TV-Z]{4}){8}$")
ID_RE = re.compile(r"^[0-9a-f]{32}$")
TXID_RE = re.compile(r"^[0-9a-f]{64}$")

log = logging.getLogger("giftcode")


class RpcError(Exception):
    """A JSON-RPC error reply."""

    def __init__(self, code, message, method=None):
        super().__init__("RPC error %s: %s%s" % (code, message, " (in %s)" % method if method else ""))
        self.code = code
        self.message = message
        self.method = method


class NodeError(Exception):
    """The node process failed to start, stop or answer."""


class WorkQueueFull(Exception):
    """The node's HTTP work queue rejected the request (HTTP 500)."""


class SkipTest(Exception):
    """Raised by a test that cannot run here; the test exits with EXIT_SKIPPED."""


# ---------------------------------------------------------------------------
# JSON with exact decimals


def to_json(value):
    """JSON text of value; Decimal amounts are written exactly, never via float."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        if not value.is_finite():
            raise ValueError("not a finite amount: %r" % value)
        return text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + to_json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def from_json(data):
    return json.loads(data, parse_float=Decimal)


# ---------------------------------------------------------------------------
# Process bookkeeping: every node started here is stopped at exit.

_live_nodes = []
_live_lock = threading.Lock()


def _cleanup_all_nodes():
    with _live_lock:
        nodes = list(_live_nodes)
    for node in nodes:
        try:
            node.cleanup()
        except Exception:  # pragma: no cover - best effort at exit
            traceback.print_exc()


atexit.register(_cleanup_all_nodes)


def _terminate_on_signal(signum, frame):
    # Turn SIGTERM/SIGHUP into a normal exit so that atexit cleans up.
    raise SystemExit(128 + signum)


def install_signal_handlers():
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate_on_signal)
        signal.signal(signal.SIGHUP, _terminate_on_signal)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(value, env_name, required=True):
    path = value or os.environ.get(env_name)
    if not path:
        if required:
            raise NodeError("no node binary: pass --monacoind or set %s" % env_name)
        return None
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise NodeError("%s is not an executable file" % path)
    return path


# ---------------------------------------------------------------------------
# The node


class Node:
    """One monacoind process on regtest with its own temporary data directory.

    The data directory is created once and reused by restart(), so wallets
    and the chain survive restarts and kills. rpc() returns the result of a
    call or raises RpcError with the node's exact error code.
    """

    def __init__(self, binary, extra_args=(), name="node0", cli=None, rpc_timeout=300, keep_datadir=None,
                 module_args=True):
        self.binary = binary
        self.cli_binary = cli
        self.name = name
        self.extra_args = list(extra_args)
        # Options of the gift-code module a test node starts with (before
        # extra_args, which may override them); False for a node without
        # the module (a stock node the replay tool starts).
        # Tests that restart a node redeem at once; the wait after a load is
        # tested on its own (wallet_giftcode_restore.py).
        self.module_args = ["-giftcodestartdelay=0"] if module_args else []
        self.rpc_timeout = rpc_timeout
        self.keep_datadir = (os.environ.get(ENV_KEEP_DATADIR) == "1") if keep_datadir is None else keep_datadir
        self.datadir = tempfile.mkdtemp(prefix="giftcode_func_%s_" % name)
        self.rpc_user = "u" + secrets.token_hex(8)
        self.rpc_password = secrets.token_hex(16)
        self._auth = "Basic " + base64.b64encode(
            ("%s:%s" % (self.rpc_user, self.rpc_password)).encode()).decode()
        self.rpc_port = None
        self.p2p_port = None
        self.process = None
        #: extra environment variables of the process (for example a preload)
        self.env = {}
        #: files beside the data directory that cleanup() removes with it
        self.side_files = []
        self._stdout = None
        self._stderr = None
        self._ids = 0
        self._id_lock = threading.Lock()
        self.log = logging.getLogger("giftcode.%s" % name)
        with _live_lock:
            _live_nodes.append(self)

    # -- paths ------------------------------------------------------------
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
        try:
            with open(self.debug_log, "r", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no debug.log)"

    def _write_conf(self):
        # Network options must be in the [regtest] section (or on the command
        # line, where they are given too); the conf only serves monacoin-cli.
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

    # -- lifecycle ----------------------------------------------------------
    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self, extra_args=None, wait=True, timeout=180):
        """Starts the node (again) on its data directory.

        extra_args, when given, replace the previous extra arguments and are
        kept for later restarts. Fresh ports are picked on every start.
        """
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
                # Exited during start-up: a port taken meanwhile is retried.
                text = self._read_stderr()
                if "Unable to bind" not in text and "Unable to start HTTP server" not in text:
                    raise
                self.log.info("port clash at start-up, retrying")
                self._close_files()
        raise last_error

    def _read_stderr(self):
        try:
            with open(os.path.join(self.datadir, "stderr.txt"), "r", errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def wait_for_rpc(self, timeout=180):
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise NodeError("%s exited with status %s during start-up\nstderr: %s\ndebug.log tail:\n%s" % (
                    self.name, self.process.returncode, self._read_stderr(), self.tail_log(30)))
            try:
                self.rpc("getblockcount", timeout=10)
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
        """Stops the node through the stop RPC and waits for the process to exit."""
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
        """Kills the process if it still runs and deletes the data directory."""
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

    # -- RPC ------------------------------------------------------------------
    def _next_id(self):
        with self._id_lock:
            self._ids += 1
            return self._ids

    @staticmethod
    def wallet_path(wallet):
        if wallet is None:
            return "/"
        return "/wallet/" + urllib.parse.quote(wallet, safe="")

    def request_body(self, method, params):
        return to_json({"jsonrpc": "1.0", "id": self._next_id(), "method": method, "params": params})

    def post(self, path, body, timeout):
        """One HTTP POST on a new connection (keep-alive off).

        Returns the decoded JSON reply. Raises socket.timeout (TimeoutError)
        when the node does not answer in time, OSError or HTTPException for
        a broken connection, WorkQueueFull for the node's HTTP 500 "Work
        queue depth exceeded".
        """
        conn = http.client.HTTPConnection("127.0.0.1", self.rpc_port, timeout=timeout)
        try:
            conn.request("POST", path, body=body.encode(), headers={
                "Authorization": self._auth,
                "Content-Type": "application/json",
                "Connection": "close",
            })
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status == 500 and b"Work queue depth exceeded" in data:
            raise WorkQueueFull()
        try:
            reply = from_json(data)
        except ValueError:
            raise http.client.HTTPException("HTTP %d with a body that is not JSON: %r" % (response.status, data[:200]))
        if not isinstance(reply, dict) or "error" not in reply:
            raise http.client.HTTPException("HTTP %d with an unexpected body: %r" % (response.status, data[:200]))
        return reply

    @staticmethod
    def unwrap(reply, method):
        if reply.get("error") is not None:
            err = reply["error"]
            raise RpcError(err.get("code"), err.get("message"), method)
        return reply.get("result")

    def rpc(self, method, *params, wallet=None, timeout=None, named=None):
        """Calls method and returns its result, or raises RpcError.

        wallet: None for the node endpoint "/", a name (may be "") for the
        "/wallet/<name>" endpoint. named: a dict of named arguments (then no
        positional ones may be given). A full work queue is retried, as a
        well-behaved client does.
        """
        if named is not None and params:
            raise ValueError("give positional or named arguments, not both")
        payload = named if named is not None else list(params)
        timeout = self.rpc_timeout if timeout is None else timeout
        path = self.wallet_path(wallet)
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.post(path, self.request_body(method, payload), timeout)
            except WorkQueueFull:
                if time.monotonic() > deadline:
                    raise NodeError("work queue still full after %d s (%s)" % (timeout, method))
                time.sleep(0.02 + random.random() * 0.05)
                continue
            return self.unwrap(reply, method)

    def call_or_error(self, method, params, wallet=None, timeout=60):
        """One request, sent again while the work queue is full. Returns the
        result, or the RpcError the node answered with; raises OSError or
        http.client.HTTPException when the node is gone."""
        while True:
            try:
                reply = self.post(self.wallet_path(wallet), self.request_body(method, params), timeout)
            except WorkQueueFull:
                time.sleep(0.01)
                continue
            try:
                return self.unwrap(reply, method)
            except RpcError as e:
                return e

    def call_with_retries(self, method, params, wallet=None, attempt_timeout=0.05, deadline=180,
                          backoff=(0.005, 0.25), give_up_when_down=False, first_timeout=None):
        """A client that gives up on each attempt after attempt_timeout seconds
        and sends the same request again until it gets an answer.

        Between attempts it waits a random time below an exponentially
        growing bound (backoff = (first bound, largest bound) in seconds), as
        a well-behaved client does: without that, thousands of abandoned
        requests would keep the node busy with work nobody waits for.

        first_timeout, if given, replaces attempt_timeout for the first
        attempt only (a very short one makes the node finish a request whose
        client has already left).

        Returns (outcome, attempts): outcome is the result, or the RpcError
        the node answered with. Raises NodeError after `deadline` seconds
        without an answer. With give_up_when_down, a refused connection
        (node not running) raises ConnectionRefusedError instead of retrying.
        """
        path = self.wallet_path(wallet)
        end = time.monotonic() + deadline
        attempts = 0
        while True:
            attempts += 1
            timeout = first_timeout if (attempts == 1 and first_timeout is not None) else attempt_timeout
            try:
                reply = self.post(path, self.request_body(method, params), timeout)
                try:
                    return self.unwrap(reply, method), attempts
                except RpcError as e:
                    return e, attempts
            except ConnectionRefusedError:
                if give_up_when_down:
                    raise
            except (OSError, http.client.HTTPException, WorkQueueFull):
                pass  # timed out, reset or rejected: ask again
            if time.monotonic() > end:
                raise NodeError("no answer to %s after %d attempts in %d s" % (method, attempts, deadline))
            bound = min(backoff[1], backoff[0] * (2 ** min(attempts - 1, 30)))
            time.sleep(random.uniform(0, bound))

    def wallet(self, name):
        """A proxy whose methods are RPCs on the /wallet/<name> endpoint."""
        return WalletRPC(self, name)

    def cli(self, *args, wallet=None, timeout=120):
        """Runs monacoin-cli against this node; returns stdout (stripped)."""
        if not self.cli_binary:
            raise SkipTest("no monacoin-cli given (--monacoin-cli or %s)" % ENV_MONACOIN_CLI)
        cmd = [self.cli_binary, "-datadir=" + self.datadir, "-regtest",
               "-rpcconnect=127.0.0.1", "-rpcport=%d" % self.rpc_port,
               "-rpcuser=" + self.rpc_user, "-rpcpassword=" + self.rpc_password]
        if wallet is not None:
            cmd.append("-rpcwallet=" + wallet)
        cmd += [str(a) for a in args]
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise NodeError("monacoin-cli %s failed (%d): %s" % (" ".join(map(str, args)), done.returncode,
                                                                 done.stderr.strip()))
        return done.stdout.strip()

    # -- chain and wallet helpers ---------------------------------------------------------
    def height(self):
        return self.rpc("getblockcount")

    def mine(self, n, address=None, wallet=None, chunk=25):
        """Mines n blocks to address (default: a new address of `wallet`)."""
        if address is None:
            address = self.rpc("getnewaddress", wallet=wallet)
        hashes = []
        while len(hashes) < n:
            step = min(chunk, n - len(hashes))
            hashes += self.rpc("generatetoaddress", step, address)
        return hashes

    def flush_chain(self):
        """Makes the chain durable now. The node writes its block index and
        chainstate only from time to time: blocks mined since the last flush
        are gone after a SIGKILL. gettxoutsetinfo flushes first."""
        self.rpc("gettxoutsetinfo")

    def fund(self, wallet, amount, source=None, confirm=True, miner_address=None):
        """Sends amount from wallet `source` to a new address of `wallet`,
        then (confirm) mines a block so the coins are confirmed. Returns the txid."""
        address = self.rpc("getnewaddress", wallet=wallet)
        txid = self.rpc("sendtoaddress", address, amount, wallet=source)
        if confirm:
            self.mine(1, address=miner_address or address)
        return txid

    def wallet_names(self):
        return self.rpc("listwallets")

    def mature_coinbases(self, wallet, count):
        """Mines count + 100 blocks to `wallet`: afterwards it holds at least
        `count` more mature coinbase outputs of 50 MONA (one coin each)."""
        self.mine(count + COINBASE_MATURITY, wallet=wallet)

    def sync_callbacks(self):
        """Returns once the wallets have processed every block and mempool
        event the node has announced so far (the node's hidden
        syncwithvalidationinterfacequeue). After mine() and this, whatever
        the wallets and the gift-code module do on a connected block is done."""
        self.rpc("syncwithvalidationinterfacequeue")

    def mine_until_mempool_empty(self, address, max_blocks=20, settled=None):
        """Mines one block at a time to `address` until, with the block's
        callbacks done, the mempool is empty and settled() (if given) is
        true. Returns the number of blocks mined; raises AssertionError when
        max_blocks were not enough."""
        for mined in range(1, max_blocks + 1):
            self.rpc("generatetoaddress", 1, address)
            self.sync_callbacks()
            if not self.rpc("getrawmempool") and (settled is None or settled()):
                return mined
        raise AssertionError("the mempool still holds %d transactions after %d blocks" % (
            len(self.rpc("getrawmempool")), max_blocks))


COINBASE_MATURITY = 100
BLOCK_REWARD = Decimal("50")


class WalletRPC:
    """node.wallet("name").getbalance() calls getbalance on /wallet/name."""

    def __init__(self, node, name):
        self.node = node
        self.name = name

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*params, **named):
            if named:
                return self.node.rpc(method, wallet=self.name, named=named)
            return self.node.rpc(method, *params, wallet=self.name)

        return call


# ---------------------------------------------------------------------------
# Assertions


def assert_equal(actual, expected, message=""):
    if actual != expected:
        raise AssertionError("%s%r != %r" % (message + ": " if message else "", actual, expected))


def assert_true(condition, message="condition is false"):
    if not condition:
        raise AssertionError(message)


def assert_greater_than(a, b, message=""):
    if not a > b:
        raise AssertionError("%s%r is not greater than %r" % (message + ": " if message else "", a, b))


def assert_raises_rpc(code, fn, *args, message=None, **kwargs):
    """Calls fn(*args, **kwargs), which must fail with RpcError `code` exactly
    (and `message` as a substring of the error message, if given).
    Returns the RpcError."""
    try:
        result = fn(*args, **kwargs)
    except RpcError as e:
        if e.code != code:
            raise AssertionError("expected RPC error %d, got %d: %s" % (code, e.code, e.message))
        if message is not None and message not in (e.message or ""):
            raise AssertionError("RPC error %d message %r does not contain %r" % (code, e.message, message))
        return e
    raise AssertionError("expected RPC error %d, but the call succeeded: %r" % (code, result))


def wait_until(predicate, timeout=60, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Wallet state for before/after comparisons

Snapshot = namedtuple("Snapshot", ["balances", "info", "codes", "txids", "mempool"])


def all_gift_codes(node, wallet, page=10000):
    """Every code of the wallet, via listgiftcodes paging."""
    codes = []
    while True:
        got = node.rpc("listgiftcodes", "", None, len(codes), page, wallet=wallet)
        codes += got["codes"]
        if len(codes) >= got["total"] or not got["codes"]:
            return codes


def wallet_txids(node, wallet):
    txs = node.rpc("listtransactions", "*", 1000000, 0, True, wallet=wallet)
    return sorted({t["txid"] for t in txs})


def snapshot(node, wallet):
    """(balances, getgiftcodeinfo without failed_redemptions, listgiftcodes,
    wallet txids, mempool). failed_redemptions is left out on purpose: a
    refused redemption is counted there, which is the one documented effect
    of a refused call. The follow-up of every block announced so far (the
    consistency check) has run first, so that two snapshots differ only by
    what happened between them."""
    node.sync_callbacks()
    info = node.rpc("getgiftcodeinfo", wallet=wallet)
    info = {k: v for k, v in info.items() if k != "failed_redemptions"}
    return Snapshot(
        balances=node.rpc("getbalances", wallet=wallet),
        info=info,
        codes=all_gift_codes(node, wallet),
        txids=wallet_txids(node, wallet),
        mempool=sorted(node.rpc("getrawmempool")),
    )


def assert_snapshot_equal(before, after, what="a refused call"):
    for field in Snapshot._fields:
        a, b = getattr(before, field), getattr(after, field)
        if a != b:
            raise AssertionError("%s changed %s:\n before: %s\n after:  %s" % (
                what, field, to_json(a)[:2000], to_json(b)[:2000]))


#: Where Debian's python3-matplotlib lives; an interpreter of its own (pyenv,
#: a virtual environment) does not look there.
DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def import_pyplot():
    """pyplot on the Agg backend, from this interpreter's packages or else
    from Debian's python3-matplotlib. Raises ImportError saying what to
    install."""
    try:
        import matplotlib
    except ImportError:
        if not os.path.isdir(os.path.join(DEBIAN_DIST_PACKAGES, "matplotlib")) or DEBIAN_DIST_PACKAGES in sys.path:
            raise ImportError("plots need matplotlib (Debian: apt-get install python3-matplotlib)")
        sys.path.append(DEBIAN_DIST_PACKAGES)
        try:
            import matplotlib
        except ImportError as e:
            raise ImportError("plots need matplotlib, and the system's copy does not load here: %s" % e)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def tag_codes(tag):
    """The code ids a payment's tag names: one, or several comma-separated
    for a payment of several codes; none for no tag."""
    return tag.split(",") if tag else []


def tagged_payments(node, wallet):
    """{code id: set of txids} of the wallet's transactions tagged with a code."""
    out = {}
    for t in node.rpc("listtransactions", "*", 1000000, 0, True, wallet=wallet):
        for code_id in tag_codes(t.get(PAYMENT_TAG)):
            out.setdefault(code_id, set()).add(t["txid"])
    return out


def outputs_to(node, addresses, first_height=0, include_mempool=True):
    """{address: [(txid, amount, confirmed)]} of every output paying one of
    `addresses` in the active chain from first_height on (and the mempool)."""
    wanted = set(addresses)
    found = {a: [] for a in wanted}

    def scan(tx, confirmed):
        for out in tx["vout"]:
            spk = out["scriptPubKey"]
            for a in spk.get("addresses", []) + ([spk["address"]] if "address" in spk else []):
                if a in wanted:
                    found[a].append((tx["txid"], out["value"], confirmed))

    tip = node.rpc("getblockcount")
    for h in range(first_height, tip + 1):
        block = node.rpc("getblock", node.rpc("getblockhash", h), 2)
        for tx in block["tx"]:
            scan(tx, True)
    if include_mempool:
        for txid in node.rpc("getrawmempool"):
            try:
                scan(node.rpc("getrawtransaction", txid, True), False)
            except RpcError:
                pass  # left the mempool meanwhile
    return found


# ---------------------------------------------------------------------------
# Build id (contrib/build-id)


def build_id(repo_root):
    """The checkout's module build id, as contrib/build-id defines it."""
    script = os.path.join(repo_root, "contrib", "build-id")
    return subprocess.run([script], check=True, capture_output=True, text=True).stdout.strip()


def repo_root():
    return os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


# ---------------------------------------------------------------------------
# Test base class


class GiftCodeTest:
    """Base of a functional test: subclass, set node_args, write run_test().

    main() parses --monacoind/--monacoin-cli (or the environment), sets up
    timestamped logging, runs run_test(), prints the node logs on failure,
    cleans up every node and exits 0 (passed), 1 (failed) or 77 (skipped).
    """

    #: extra arguments of the first node
    node_args = []

    def __init__(self):
        self.nodes = []
        self.log = logging.getLogger("giftcode.test")
        self.monacoind = None
        self.monacoin_cli = None
        self.options = None

    def add_options(self, parser):
        """Override to add command-line options."""

    def add_node(self, extra_args=None, start=True, name=None):
        node = Node(self.monacoind, self.node_args if extra_args is None else extra_args,
                    name=name or "node%d" % len(self.nodes), cli=self.monacoin_cli,
                    keep_datadir=self.options.nocleanup)
        self.nodes.append(node)
        if start:
            node.start()
            self.log.info("%s is up (rpc port %d, data in %s)", node.name, node.rpc_port, node.datadir)
        return node

    def run_test(self):
        raise NotImplementedError

    def main(self):
        parser = argparse.ArgumentParser(description=(sys.modules[self.__class__.__module__].__doc__ or "").strip(),
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--monacoind", help="node binary (default: $%s)" % ENV_MONACOIND)
        parser.add_argument("--monacoin-cli", dest="monacoin_cli", help="cli binary (default: $%s)" % ENV_MONACOIN_CLI)
        parser.add_argument("--nocleanup", action="store_true", help="keep node data directories")
        parser.add_argument("--loglevel", default="INFO", help="DEBUG, INFO, ...")
        parser.add_argument("--seed", type=int, help="random seed (default: random, logged)")
        self.add_options(parser)
        self.options = parser.parse_args()
        logging.basicConfig(level=getattr(logging, self.options.loglevel.upper(), logging.INFO),
                            format="%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s",
                            datefmt="%H:%M:%S", stream=sys.stdout)
        install_signal_handlers()
        seed = self.options.seed if self.options.seed is not None else random.randrange(1 << 32)
        random.seed(seed)
        name = os.path.basename(sys.modules[self.__class__.__module__].__file__ or self.__class__.__name__)
        self.log.info("%s: random seed %d", name, seed)
        try:
            self.monacoind = find_binary(self.options.monacoind, ENV_MONACOIND)
            self.monacoin_cli = find_binary(self.options.monacoin_cli, ENV_MONACOIN_CLI, required=False)
        except NodeError as e:
            self.log.error("%s cannot run: %s", name, e)
            sys.exit(1)
        status = 1
        try:
            started = time.monotonic()
            self.run_test()
            self.log.info("%s passed in %.1f s", name, time.monotonic() - started)
            status = 0
        except SkipTest as e:
            self.log.info("%s skipped: %s", name, e)
            status = EXIT_SKIPPED
        except (Exception, KeyboardInterrupt):
            self.log.error("%s FAILED:\n%s", name, traceback.format_exc())
            for node in self.nodes:
                self.log.error("--- last lines of %s debug.log ---\n%s", node.name, node.tail_log(60))
        finally:
            for node in self.nodes:
                try:
                    if node.running:
                        node.stop(timeout=60)
                except Exception as e:
                    self.log.error("stopping %s: %s", node.name, e)
                node.cleanup()
        logging.shutdown()
        sys.exit(status)


def run_threads(targets):
    """Starts one thread per callable, waits for all; re-raises the first exception."""
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported to the caller below
                errors.append((e, traceback.format_exc()))
        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise AssertionError("%d thread(s) failed; first:\n%s" % (len(errors), errors[0][1]))


# ---------------------------------------------------------------------------
# Payments as a holder sees them


def redeemed_views(node, wallet):
    """{code id: getgiftcode view} of every redeemed code of the wallet."""
    return {c["id"]: c for c in node.rpc("listgiftcodes", "redeemed", None, 0, 10000, wallet=wallet)["codes"]}


def assess_payments(node, wallet, expected, first_height):
    """Compares what holders received on chain with what they are owed.

    expected: {code id: (holder address, amount)}. Looks at every redeemed
    code of `wallet` and at every output paying a holder address in the
    active chain from first_height on, and in the mempool. Returns a dict of
    lists of code ids: "unconfirmed" (payment not confirmed: conflicted,
    stuck or in the mempool), "conflicted" (getgiftcode says conflicted),
    "unpaid" (no confirmed output to the holder), "overpaid" (more than one
    output to the holder, counting the mempool), "wrong_amount", and
    "tags" (not exactly one wallet transaction tagged with the code)."""
    views = redeemed_views(node, wallet)
    received = outputs_to(node, [a for a, _ in expected.values()], first_height)
    tags = tagged_payments(node, wallet)
    found = {k: [] for k in ("unconfirmed", "conflicted", "unpaid", "overpaid", "wrong_amount", "tags")}
    for ident, (address, amount) in sorted(expected.items()):
        view = views.get(ident)
        if view is None or view["confirmations"] < 1:
            found["unconfirmed"].append(ident)
        if view is not None and view["conflicted"]:
            found["conflicted"].append(ident)
        outputs = received[address]
        confirmed = [o for o in outputs if o[2]]
        if not confirmed:
            found["unpaid"].append(ident)
        if len(outputs) > 1:
            found["overpaid"].append(ident)
        if any(value != amount for _, value, _ in outputs):
            found["wrong_amount"].append(ident)
        if len(tags.get(ident, ())) != 1:
            found["tags"].append(ident)
    return found


# ---------------------------------------------------------------------------
# Redemptions racing lockunspent and ordinary sends


class RedemptionStorm:
    """Codes redeemed by client threads while other clients of the same
    wallet loop `lockunspent true` (which also releases the coins a payment
    being built holds) and sendtoaddress/sendmany (which spend whatever coin
    is free), and a miner thread mines a block every `mine_interval`
    seconds so that unconfirmed chains stay short.

    A redemption refused because the wallet's coins are all in flight
    (-6, -408) or the wallet is catching up (-10) is tried again after the
    next block, up to `max_attempts` times. Any other refusal of a
    redemption, or any error of a send other than "Insufficient funds",
    is collected in `errors`.

    run() returns when every code was answered (or gave up) and the other
    threads have stopped. Counters: replies (index -> reply), refusals
    (error code -> count), sends, dry_sends, unlock_calls, blocks, wall.
    """

    RETRYABLE = (ERR_INSUFFICIENT_FUNDS, ERR_FUNDS_PENDING, ERR_CATCHING_UP)

    def __init__(self, node, wallet, codes, holders, send_to, mine_address, redeemers=4, unlockers=2, senders=2,
                 send_amount=Decimal("0.001"), mine_interval=1.0, max_attempts=60, log=None):
        assert len(codes) == len(holders)
        self.node = node
        self.wallet = wallet
        self.codes = codes
        self.holders = holders
        self.send_to = send_to
        self.mine_address = mine_address
        self.redeemers = redeemers
        self.unlockers = unlockers
        self.senders = senders
        self.send_amount = send_amount
        self.mine_interval = mine_interval
        self.max_attempts = max_attempts
        self.log = log or logging.getLogger("giftcode.storm")
        self.replies = {}
        self.refusals = {}
        self.errors = []
        self.sends = 0
        self.dry_sends = 0
        self.unlock_calls = 0
        self.blocks = 0
        self.wall = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _redeemer(self, part):
        node = self.node
        for i in range(part, len(self.codes), self.redeemers):
            for attempt in range(1, self.max_attempts + 1):
                height = node.rpc("getblockcount")
                try:
                    reply = node.rpc("redeemgiftcode", self.codes[i]["code"], self.holders[i], wallet=self.wallet)
                except RpcError as e:
                    with self._lock:
                        self.refusals[e.code] = self.refusals.get(e.code, 0) + 1
                    if e.code not in self.RETRYABLE:
                        with self._lock:
                            self.errors.append("redeem %d: %s" % (i, e))
                        break
                    if attempt == self.max_attempts:
                        with self._lock:
                            self.errors.append("redeem %d gave up after %d attempts: %s" % (i, attempt, e))
                        break
                    # Coins come back with the next block.
                    wait_until(lambda: node.rpc("getblockcount") > height, timeout=max(30, 10 * self.mine_interval),
                               interval=0.05, what="a block while the wallet's coins are in flight")
                    continue
                with self._lock:
                    self.replies[i] = reply
                break

    def _unlocker(self):
        while not self._stop.is_set():
            self.node.rpc("lockunspent", True, wallet=self.wallet)
            with self._lock:
                self.unlock_calls += 1

    def _sender(self, part):
        node, n = self.node, 0
        while not self._stop.is_set():
            n += 1
            try:
                if n % 2:
                    node.rpc("sendtoaddress", self.send_to[(part + n) % len(self.send_to)], self.send_amount,
                             wallet=self.wallet)
                else:
                    targets = {self.send_to[(part + n + k) % len(self.send_to)]: self.send_amount for k in range(2)}
                    node.rpc("sendmany", "", targets, wallet=self.wallet)
                with self._lock:
                    self.sends += 1
            except RpcError as e:
                with self._lock:
                    if "Insufficient funds" in (e.message or ""):
                        self.dry_sends += 1
                    else:
                        self.errors.append("send: %s" % e)

    def _miner(self):
        while not self._stop.wait(self.mine_interval):
            self.node.rpc("generatetoaddress", 1, self.mine_address)
            with self._lock:
                self.blocks += 1

    def run(self):
        started = time.monotonic()
        others = [self._unlocker] * self.unlockers + [lambda p=p: self._sender(p) for p in range(self.senders)]
        others.append(self._miner)
        background_errors = []

        def guarded(fn):
            def run():
                try:
                    fn()
                except BaseException:
                    background_errors.append(traceback.format_exc())
                    self._stop.set()
            return run

        background = [threading.Thread(target=guarded(fn), daemon=True) for fn in others]
        for t in background:
            t.start()
        try:
            run_threads([lambda p=p: self._redeemer(p) for p in range(self.redeemers)])
        finally:
            self._stop.set()
            for t in background:
                t.join(300)
        self.wall = time.monotonic() - started
        if background_errors:
            raise AssertionError("a background client failed:\n%s" % background_errors[0])
        return self


# ---------------------------------------------------------------------------
# Planting a corrupt gift-code record in a wallet file

#: Berkeley DB btree files: magic number, leaf page type, item types.
_BDB_BTREE_MAGIC = 0x053162
_BDB_P_LBTREE = 5
_BDB_B_KEYDATA = 1
_BDB_B_DELETE = 0x80
_BDB_PAGE_HEADER = 26
#: The serialized key prefix of a gift-code record: the type string
#: "giftcode", then the 17-byte key "c" || code id, each with its length.
GIFTCODE_KEY_PREFIX = b"\x08giftcode\x11c"


def assert_paid_exactly_once(found, total):
    """Fails unless assess_payments found every holder paid exactly once:
    nothing conflicted, unconfirmed, unpaid, paid twice, of a wrong amount,
    or tagged other than once."""
    for kind in ("conflicted", "unconfirmed", "unpaid", "overpaid", "wrong_amount", "tags"):
        assert_true(not found[kind], "%d of %d codes %s (first: %s)" % (len(found[kind]), total, kind,
                                                                       ", ".join(found[kind][:5])))


def assert_ledger_settled(node, wallet, redeemed_amount):
    """Fails unless the wallet's ledger has nothing unbroadcast or under
    attention, a clean consistency check, every redeemed code's payment
    confirmed or buried, and `redeemed_amount` paid in all."""
    info = node.rpc("getgiftcodeinfo", wallet=wallet)
    assert_equal(info["unbroadcast"], [], "unbroadcast")
    assert_true(info["consistency"]["checked"] and info["consistency"]["clean"],
                "consistency clean: %r" % (info["consistency"],))
    assert_equal(info.get("attention"), [], "getgiftcodeinfo.attention")
    states = {v["id"]: v.get("payment_state") for v in redeemed_views(node, wallet).values()}
    wrong = {k: v for k, v in states.items() if v not in ("confirmed", "buried")}
    assert_equal(wrong, {}, "codes whose payment_state is not confirmed or buried")
    assert_equal(info["redeemed_amount"], redeemed_amount)


def corrupt_giftcode_record(wallet_file, code_id=None):
    """Overwrites, in place, every byte of the stored value of one gift-code
    record of a Berkeley DB wallet file with 0xff (its length prefix is
    kept, so the database itself stays well-formed; the record's format
    version then reads 255, which no decoder accepts).

    The wallet must not be open (unload it or stop the node first: both
    flush the database into the file). code_id picks the record (32 hex
    digits); None takes the first found. Returns the id of the record
    corrupted. Only the standard library is needed: the leaf pages of the
    btree are read directly (no checksums, no encryption, as the node
    creates them)."""
    with open(wallet_file, "rb") as f:
        data = bytearray(f.read())
    magic, _, pagesize = struct.unpack_from("<III", data, 12)
    if magic != _BDB_BTREE_MAGIC:
        raise NodeError("%s is not a little-endian Berkeley DB btree file" % wallet_file)
    if data[24] or data[26] & 1:
        raise NodeError("%s is encrypted or checksummed: cannot edit it in place" % wallet_file)
    for base in range(0, len(data) - pagesize + 1, pagesize):
        if data[base + 25] != _BDB_P_LBTREE:
            continue
        entries = struct.unpack_from("<H", data, base + 20)[0]
        for i in range(0, entries - 1, 2):
            key_at, value_at = struct.unpack_from("<HH", data, base + _BDB_PAGE_HEADER + 2 * i)
            key_len, key_type = struct.unpack_from("<HB", data, base + key_at)
            if key_type != _BDB_B_KEYDATA:
                continue
            key = bytes(data[base + key_at + 3:base + key_at + 3 + key_len])
            if len(key) != len(GIFTCODE_KEY_PREFIX) + 16 or not key.startswith(GIFTCODE_KEY_PREFIX):
                continue
            ident = key[len(GIFTCODE_KEY_PREFIX):].hex()
            if code_id is not None and ident != code_id:
                continue
            value_len, value_type = struct.unpack_from("<HB", data, base + value_at)
            if value_type != _BDB_B_KEYDATA:
                raise NodeError("the record of %s is not stored on its page (type %d)" % (ident, value_type))
            start = base + value_at + 3
            first = data[start]
            header = 1 if first < 253 else {253: 3, 254: 5, 255: 9}[first]
            for j in range(start + header, start + value_len):
                data[j] = 0xff
            with open(wallet_file, "r+b") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return ident
    raise NodeError("no gift-code record%s in %s" % (" of " + code_id if code_id else "", wallet_file))
