"""JSON-RPC to a node over loopback HTTP, with amounts kept exact.

Every reply is parsed with its numbers with a fraction as Decimal, and every
Decimal in a request is written exactly as it reads (never through a
float), so an amount of 0.1 stays 0.1 both ways. One request is one HTTP
connection (keep-alive off, Basic auth). A reply with an error becomes an
RpcError carrying the node's code; the node's HTTP 500 "Work queue depth
exceeded" becomes WorkQueueFull: the node ran nothing, the request may be
sent again.

An RpcClient is safe to use from many threads at once: each call opens its
own connection, and the request ids are taken under a lock.
"""

import base64
import http.client
import json
import random
import threading
import time
import urllib.parse
from decimal import Decimal

# Documented error codes of the gift-code RPCs (doc/rpc.md). The module's own:
ERR_MALFORMED, ERR_BAD_CHECKSUM, ERR_WRONG_NETWORK, ERR_UNKNOWN = -401, -402, -403, -404
ERR_ALREADY_REDEEMED, ERR_CANCELLED, ERR_EXPIRED = -405, -406, -407
#: The wallet holds enough, but in coins it cannot spend now (unconfirmed,
#: immature, or locked with lockunspent): nothing was done; retry after the
#: next block.
ERR_FUNDS_PENDING = -408
# The node's codes the gift-code RPCs answer with:
ERR_INVALID_ADDRESS, ERR_INVALID_AMOUNT, ERR_INVALID_PARAMETER = -5, -3, -8
ERR_INSUFFICIENT_FUNDS, ERR_WALLET_LOCKED, ERR_WALLET = -6, -13, -4
ERR_STORE_FAILURE, ERR_CORRUPTION = -20, -22
#: The node is in initial block download, or the wallet has not processed
#: the chain tip yet: nothing was done; retry.
ERR_CATCHING_UP = -10
# Codes of the node itself. A call with too few or too many arguments gets
# the node's usual -1 with the RPC's help text (doc/rpc.md).
ERR_MISC, ERR_METHOD_NOT_FOUND, ERR_IN_WARMUP = -1, -32601, -28
ERR_WALLET_NOT_SPECIFIED, ERR_WALLET_NOT_FOUND = -19, -18

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

#: mapValue key of a wallet transaction that pays a gift code; it holds the
#: code id (several, comma-separated, for a payment of several codes).
#: gettransaction and listtransactions show it as a field of the transaction.
PAYMENT_TAG = "giftcode"


class RpcError(Exception):
    """A JSON-RPC error reply: the node's code and message."""

    def __init__(self, code, message, method=None):
        super().__init__("RPC error %s: %s%s" % (code, message, " (in %s)" % method if method else ""))
        self.code = code
        self.message = message
        self.method = method


class NodeError(Exception):
    """The node process failed to start, stop or answer."""


class WorkQueueFull(Exception):
    """The node's HTTP work queue turned the request away (HTTP 500)."""


def to_json(value):
    """JSON text of value; a Decimal is written exactly, never via float."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite amount: %r" % value)
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + to_json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def from_json(data):
    """The value of JSON text (str or bytes); numbers with a fraction or an
    exponent become Decimal."""
    return json.loads(data, parse_float=Decimal)


def tag_codes(tag):
    """The code ids a payment's tag names: one, or several for a payment of
    several codes; none for no tag."""
    return tag.split(",") if tag else []


def backoff_bound(attempts, first, cap):
    """The bound of a retrying client's random wait after its attempts-th
    failed attempt: first * 2^(attempts-1), at most cap."""
    return min(cap, first * (2 ** min(attempts - 1, 30)))


class RpcClient:
    """A JSON-RPC client of one node at 127.0.0.1:rpc_port.

    rpc() returns the result of a call or raises RpcError with the node's
    exact code; the lower-level post() and unwrap() let a caller handle each
    attempt itself (timeouts, retries, latency)."""

    def __init__(self, rpc_port=None, rpc_user="", rpc_password="", rpc_timeout=300):
        self.rpc_port = rpc_port
        self.rpc_timeout = rpc_timeout
        self.set_credentials(rpc_user, rpc_password)
        self._ids = 0
        self._id_lock = threading.Lock()

    def set_credentials(self, user, password):
        self.rpc_user = user
        self.rpc_password = password
        self._auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

    def _next_id(self):
        with self._id_lock:
            self._ids += 1
            return self._ids

    @staticmethod
    def wallet_path(wallet):
        """The endpoint: "/" for None, "/wallet/<name>" for a name (may be "")."""
        if wallet is None:
            return "/"
        return "/wallet/" + urllib.parse.quote(wallet, safe="")

    def request_body(self, method, params):
        return to_json({"jsonrpc": "1.0", "id": self._next_id(), "method": method, "params": params})

    def post(self, path, body, timeout):
        """One HTTP POST on a new connection.

        Returns the decoded JSON reply. Raises TimeoutError when the node
        does not answer in time, OSError or HTTPException for a broken
        connection or a body that is no JSON-RPC reply, WorkQueueFull for the
        node's HTTP 500 "Work queue depth exceeded"."""
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
        """The result of a reply, or RpcError for an error reply."""
        if reply.get("error") is not None:
            err = reply["error"]
            raise RpcError(err.get("code"), err.get("message"), method)
        return reply.get("result")

    def rpc(self, method, *params, wallet=None, timeout=None, named=None):
        """Calls method and returns its result, or raises RpcError.

        wallet: None for the node endpoint "/", a name (may be "") for the
        "/wallet/<name>" endpoint. named: a dict of named arguments (then no
        positional ones may be given). A full work queue is retried, as a
        well-behaved client does, until `timeout` seconds have passed."""
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
        (node not running) raises ConnectionRefusedError instead of retrying."""
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
            time.sleep(random.uniform(0, backoff_bound(attempts, backoff[0], backoff[1])))

    def wallet(self, name):
        """A proxy whose methods are RPCs on the /wallet/<name> endpoint."""
        return WalletRPC(self, name)

    # -- what every client of a regtest node does ------------------------------------
    def height(self):
        return self.rpc("getblockcount")

    def mine(self, n, address=None, wallet=None, chunk=25):
        """Mines n blocks to address (default: a new address of `wallet`).
        Returns their hashes."""
        if address is None:
            address = self.rpc("getnewaddress", wallet=wallet)
        hashes = []
        while len(hashes) < n:
            step = min(chunk, n - len(hashes))
            hashes += self.rpc("generatetoaddress", step, address)
        return hashes

    def sync_callbacks(self):
        """Returns once the wallets have processed every block and mempool
        event the node has announced so far (the node's hidden
        syncwithvalidationinterfacequeue). After mine() and this, whatever
        the wallets and the gift-code module do on a connected block is done.
        A node without that RPC gets a second instead."""
        try:
            self.rpc("syncwithvalidationinterfacequeue")
        except RpcError as e:
            if e.code != ERR_METHOD_NOT_FOUND:
                raise
            time.sleep(1.0)

    def tagged_payments(self, wallet):
        """{code id: set of txids} of the wallet's transactions tagged with a code."""
        out = {}
        for t in self.rpc("listtransactions", "*", 1000000, 0, True, wallet=wallet):
            for code_id in tag_codes(t.get(PAYMENT_TAG)):
                out.setdefault(code_id, set()).add(t["txid"])
        return out

    def wait_idle(self, timeout, quiet_polls=2, interval=0.5, also=None):
        """Waits until the node runs no RPC but getrpcinfo (requests it took
        from clients that left are finished too: its work queue is first in,
        first out) and also() (if given) returned the same value
        `quiet_polls` times in a row. Returns (idle, seconds waited, the
        methods still running): idle is False when `timeout` passed first."""
        started = time.monotonic()
        end = started + timeout
        last = None
        quiet = 0
        while True:
            info = self.rpc("getrpcinfo", timeout=max(5.0, end - time.monotonic()))
            busy = [c["method"] for c in info.get("active_commands", []) if c.get("method") != "getrpcinfo"]
            state = (busy, also() if also else None)
            quiet = quiet + 1 if not busy and state == last else 0
            last = state
            if quiet >= quiet_polls:
                return True, time.monotonic() - started, busy
            if time.monotonic() > end:
                return False, time.monotonic() - started, busy
            time.sleep(interval)


class WalletRPC:
    """client.wallet("name").getbalance() calls getbalance on /wallet/name."""

    def __init__(self, client, name):
        self.node = client
        self.name = name

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*params, **named):
            if named:
                return self.node.rpc(method, wallet=self.name, named=named)
            return self.node.rpc(method, *params, wallet=self.name)

        return call
