#!/usr/bin/env python3
"""A stand-in for a patched monacoind, for testing the claim server without a
node: a JSON-RPC server that answers the gift-code RPCs of doc/rpc.md the way
the node does, over the HTTP behaviour of Bitcoin Core 0.20, and that can be
told to misbehave.

HTTP, as the node's: JSON-RPC 1.0 requests (`{"method", "params", "id"}`) by
POST to `/` or `/wallet/<name>`, HTTP Basic authentication (401 with an empty
body otherwise, after the node's 250 ms pause), a result as HTTP 200
`{"result", "error": null, "id"}`, an RPC error as HTTP 500 (400 for an
invalid request, 404 for an unknown method) with `{"result": null, "error":
{"code", "message"}, "id"}`. At most `--rpcthreads` calls run at once and at
most `--rpcworkqueue` wait; past that the answer is HTTP 500 with the plain
text `Work queue depth exceeded`, as the node's.

Methods: creategiftcode, getgiftcode, listgiftcodes, redeemgiftcode,
cancelgiftcode, getgiftcodeinfo (the fields a client reads), and
getblockchaininfo and uptime. Codes are made with
contrib/giftcodekit/codeformat.py, so they are real codes of the network's
prefix; addresses are checked as the node checks them (base58check with the
network's version bytes, or bech32 with its human-readable part).

Faults and time are steered through `/control`, which needs no password:

    POST /control {"delay_ms": 500}               every gift-code call waits 500 ms first
    POST /control {"delay_ms": 3000, "method": "redeemgiftcode"}   one method only
    POST /control {"fail_next": ["timeout", "workqueue", "close", "lost", "error:-10"]}
        the next gift-code calls (of "method" only, when given), in order:
          timeout    answer nothing and hold the connection until the client
                     gives up (at most hold_ms); redeemgiftcode pays first,
                     like a node that paid but whose answer was lost
          lost       do the call (pay, for redeemgiftcode), then close the
                     connection without an answer
          workqueue  HTTP 500 "Work queue depth exceeded", nothing done
          close      close the connection at once, nothing done
          error:N    RPC error N (with the node's message), nothing done
    POST /control {"mine": 1}        one block: every payment gains a confirmation
    POST /control {"expire": ID}     the code's expiry becomes now
    POST /control {"cancel": ID}     the code is cancelled
    POST /control {"hold_ms": 30000} how long "timeout" holds at most
    POST /control {"reset": true}    no delays, no pending faults
    GET  /control                    counters: calls per method, redeem calls
                                     and payments per code id, ...

Both answer the counters as JSON. `payments` counts payments made per code
id: the node's promise, which the claim server must not break, is that it
never exceeds 1.

Run: standin_node.py --port 0 [--user U --password P] [--network regtest]
(the chosen port is the first line printed), or standin_node.py --self-test.
Standard library only; runs on any Python from 3.7 on.
"""

import argparse
import base64
import collections
import hashlib
import http.client
import importlib.util
import json
import os
import re
import secrets
import select
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _load_format():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "contrib", "giftcodekit",
                        "codeformat.py")
    spec = importlib.util.spec_from_file_location("codeformat", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fmt = _load_format()

COIN = 100000000
DUST = 546
MAX_MONEY = 105120000 * COIN
MAX_BATCH = 10000
MAX_LABEL = 256
MAX_CODE_INPUT = 128
DEFAULT_HOLD_MS = 30000

# The node's chain parameters: code prefix, bech32 human-readable part,
# base58 version bytes (pubkey hash, script hash, legacy script hash).
NETWORKS = {
    "main": ("MGC", "mona", (50, 55, 5)),
    "test": ("TGC", "tmona", (111, 117, 196)),
    "regtest": ("RGC", "rmona", (111, 117, 196)),
}
NODE_NETWORK_NAMES = {"main": "main", "test": "test", "regtest": "regtest"}

# Methods faults and delays apply to (creategiftcode and getgiftcodeinfo are
# how tests set up and look, not what a claim server calls in its work).
FAULTY_METHODS = ("getgiftcode", "redeemgiftcode", "cancelgiftcode", "listgiftcodes")
GIFTCODE_METHODS = FAULTY_METHODS + ("creategiftcode", "getgiftcodeinfo")

# Messages the node gives with the errors a fault can inject.
ERROR_MESSAGES = {
    -1: "error",
    -3: "amount must be positive",
    -4: "the payment could not be built",
    -5: "Invalid regtest address",
    -6: "Insufficient funds",
    -8: "invalid parameter",
    -10: "the node is catching up with the chain; retry the same redemption later",
    -13: "Error: Please enter the wallet passphrase with walletpassphrase first.",
    -20: "the wallet database refused the write; nothing changed, retry later",
    -22: "a stored gift-code record cannot be read",
    -401: "gift code has the wrong length",
    -402: "gift code checksum does not match: a character is mistyped",
    -403: "gift code is for another network",
    -404: "no such gift code in this wallet",
    -405: "gift code was already redeemed",
    -406: "gift code was cancelled by its issuer",
    -407: "gift code has expired",
    -408: "the wallet holds enough, but not in coins it can spend now; retry after the next block",
}

HELP = {
    "creategiftcode": 'creategiftcode amount ( count "label" expires_at )',
    "getgiftcode": 'getgiftcode "code_or_id"',
    "listgiftcodes": 'listgiftcodes ( "state" "label" skip count )',
    "redeemgiftcode": 'redeemgiftcode "code" "address"',
    "cancelgiftcode": 'cancelgiftcode "code_or_id"',
    "getgiftcodeinfo": "getgiftcodeinfo",
    "getblockchaininfo": "getblockchaininfo",
    "uptime": "uptime",
}
ARG_NAMES = {
    "creategiftcode": ["amount", "count", "label", "expires_at"],
    "getgiftcode": ["code_or_id"],
    "listgiftcodes": ["state", "label", "skip", "count"],
    "redeemgiftcode": ["code", "address"],
    "cancelgiftcode": ["code_or_id"],
    "getgiftcodeinfo": [],
    "getblockchaininfo": [],
    "uptime": [],
}
ARITY = {
    "creategiftcode": (1, 4),
    "getgiftcode": (1, 1),
    "listgiftcodes": (0, 4),
    "redeemgiftcode": (2, 2),
    "cancelgiftcode": (1, 1),
    "getgiftcodeinfo": (0, 0),
    "getblockchaininfo": (0, 0),
    "uptime": (0, 0),
}


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Amount(int):
    """Satoshis, written in JSON as MONA with 8 decimals (as the node does)."""


def to_json(value):
    """JSON text as the node writes it: amounts with exactly 8 decimals."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Amount):
        sign = "-" if value < 0 else ""
        return "%s%d.%08d" % (sign, abs(value) // COIN, abs(value) % COIN)
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + to_json(v) for k, v in value.items()) + "}"
    raise TypeError("cannot write %r as JSON" % (value,))


# --- addresses ----------------------------------------------------------------

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check_decode(text):
    """The payload of a base58check string, or None."""
    n = 0
    for ch in text:
        i = B58_ALPHABET.find(ch)
        if i < 0:
            return None
        n = n * 58 + i
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    if len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return payload


def base58check_encode(payload):
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58_ALPHABET[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def base58_address(version, hash160):
    """A base58check address, e.g. base58_address(50, bytes(20)) for mainnet."""
    return base58check_encode(bytes([version]) + hash160)


def bech32_decode(text):
    """(hrp, witness version, program) of a bech32 segwit address, or None."""
    if text.lower() != text and text.upper() != text:
        return None
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text) or len(text) > 90:
        return None
    hrp = text[:pos]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp):
        return None
    data = []
    for c in text[pos + 1:]:
        i = fmt.BECH32_CHARSET.find(c)
        if i < 0:
            return None
        data.append(i)
    if fmt.polymod(fmt.hrp_expand(hrp) + data) != fmt.BECH32_CONST:
        return None
    data = data[:-6]
    if not data:
        return None
    witver = data[0]
    acc, bits, program = 0, 0, []
    for value in data[1:]:
        acc = (acc << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            program.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc & ((1 << bits) - 1)):
        return None
    return hrp, witver, bytes(program)


def normalise_address(network, text):
    """The address as the node writes it back, or RpcError -5."""
    _, hrp, versions = NETWORKS[network]
    invalid = RpcError(-5, "Invalid %s address" % NODE_NETWORK_NAMES[network])
    if not isinstance(text, str):
        raise RpcError(-5, "address must be a string")
    segwit = bech32_decode(text)
    if segwit is not None:
        got_hrp, witver, program = segwit
        if got_hrp != hrp or witver > 16:
            raise invalid
        if witver == 0 and len(program) not in (20, 32):
            raise invalid
        if not 2 <= len(program) <= 40:
            raise invalid
        return text.lower()
    payload = base58check_decode(text)
    if payload is not None and len(payload) == 21 and payload[0] in versions:
        return text
    raise invalid


def regtest_address(n=None):
    """A valid regtest bech32 address (of 20 random bytes, or of n)."""
    program = secrets.token_bytes(20) if n is None else n.to_bytes(20, "big")
    return fmt.segwit_address("rmona", 0, program)


# --- the ledger ---------------------------------------------------------------

class CodeRecord:
    def __init__(self, code_id, code, amount, label, created_at, expires_at):
        self.id = code_id
        self.code = code
        self.amount = amount
        self.label = label
        self.created_at = created_at
        self.expires_at = expires_at
        self.stored = "issued"   # issued, redeemed, cancelled
        self.txid = None
        self.vout = None
        self.address = None
        self.redeemed_at = None
        self.fee = 0
        self.confirmations = 0
        self.cancelled_at = None

    def state(self, now):
        if self.stored == "issued" and self.expires_at and now >= self.expires_at:
            return "expired"
        return self.stored

    def payment_state(self):
        if self.confirmations >= 6:
            return "buried"
        if self.confirmations >= 1:
            return "confirmed"
        return "mempool"


class StandinNode:
    """The wallet's gift codes, the counters and the faults to inject.

    Thread-safety: every method may be called from any thread; one lock
    guards all state, and no call sleeps while holding it."""

    def __init__(self, network="regtest", rpcthreads=4, rpcworkqueue=16):
        self.network = network
        self.prefix = NETWORKS[network][0]
        self.started = time.time()
        self.lock = threading.Lock()
        self.codes = collections.OrderedDict()
        self.calls = collections.Counter()
        self.redeem_calls = collections.Counter()
        self.payments = collections.Counter()
        self.faults_done = collections.Counter()
        self.delays = {}
        self.faults = []         # [(method or None, fault)]
        self.hold_ms = DEFAULT_HOLD_MS
        self.height = 100
        self.in_flight = 0
        self.max_in_flight = 0
        self.workers = threading.BoundedSemaphore(rpcthreads)
        self.workqueue = rpcworkqueue
        self.waiting = 0
        self.work_queue_refusals = 0

    # -- the work queue and faults --

    def admit(self):
        """True when the call may wait for a worker; False: the queue is full."""
        with self.lock:
            if self.waiting >= self.workqueue:
                self.work_queue_refusals += 1
                return False
            self.waiting += 1
        self.workers.acquire()
        with self.lock:
            self.waiting -= 1
        return True

    def release(self):
        self.workers.release()

    def count_call(self, method, params):
        code_id = None
        if method == "redeemgiftcode":
            code = params[0] if isinstance(params, list) and params else (
                params.get("code") if isinstance(params, dict) else None)
            try:
                code_id = fmt.id_of(code) if isinstance(code, str) else None
            except ValueError:
                code_id = None
        with self.lock:
            self.calls[method] += 1
            if code_id:
                self.redeem_calls[code_id] += 1

    def take_fault(self, method):
        """The fault the call meets, if one is pending for it."""
        with self.lock:
            if method not in FAULTY_METHODS:
                return None
            for i, (only, fault) in enumerate(self.faults):
                if only is None or only == method:
                    del self.faults[i]
                    self.faults_done[fault] += 1
                    return fault
        return None

    def delay_for(self, method):
        if method not in GIFTCODE_METHODS:
            return 0
        with self.lock:
            return self.delays.get(method, self.delays.get("*", 0))

    def enter(self):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    # -- control --

    def control(self, body):
        if not isinstance(body, dict):
            raise ValueError("the control body is a JSON object")
        method = body.get("method")
        if method is not None and method not in ARG_NAMES:
            raise ValueError("unknown method %r" % (method,))
        with self.lock:
            if body.get("reset"):
                self.delays.clear()
                self.faults.clear()
                self.hold_ms = DEFAULT_HOLD_MS
            if "delay_ms" in body:
                delay = body["delay_ms"]
                if not isinstance(delay, int) or delay < 0:
                    raise ValueError("delay_ms is a whole number of milliseconds")
                self.delays[method or "*"] = delay
            if "hold_ms" in body:
                self.hold_ms = int(body["hold_ms"])
            if "fail_next" in body:
                faults = body["fail_next"]
                if not isinstance(faults, list):
                    raise ValueError("fail_next is a list")
                for fault in faults:
                    if fault not in ("timeout", "lost", "workqueue", "close") and not re.fullmatch(
                            r"error:-?\d+", str(fault)):
                        raise ValueError("unknown fault %r" % (fault,))
                    self.faults.append((method, fault))
            if "mine" in body:
                blocks = int(body["mine"])
                self.height += blocks
                for record in self.codes.values():
                    if record.stored == "redeemed":
                        record.confirmations += blocks
            now = int(time.time())
            if "expire" in body:
                record = self._find_locked(body["expire"])
                record.expires_at = now
            if "cancel" in body:
                record = self._find_locked(body["cancel"])
                if record.stored != "issued":
                    raise ValueError("the code is %s" % record.stored)
                record.stored = "cancelled"
                record.cancelled_at = now
        return self.counters()

    def _find_locked(self, key):
        try:
            code_id = self._resolve(key)
        except RpcError as e:
            raise ValueError(e.message)
        if code_id not in self.codes:
            raise ValueError("no such code")
        return self.codes[code_id]

    def counters(self):
        with self.lock:
            now = int(time.time())
            return {
                "calls": dict(self.calls),
                "redeem_calls": dict(self.redeem_calls),
                "payments": dict(self.payments),
                "faults_done": dict(self.faults_done),
                "faults_pending": [[m, f] for m, f in self.faults],
                "delays": dict(self.delays),
                "height": self.height,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "work_queue_refusals": self.work_queue_refusals,
                "codes": {i: {"state": r.state(now), "txid": r.txid, "confirmations": r.confirmations}
                          for i, r in self.codes.items()},
            }

    # -- the RPCs --

    def _resolve(self, text):
        """The id a code text or id names, or the node's parse error."""
        if isinstance(text, str) and re.fullmatch(r"[0-9a-fA-F]{32}", text):
            return text.lower()
        return self._parse(text)

    def _parse(self, text):
        if len(text) > MAX_CODE_INPUT:
            raise RpcError(-401, "gift code is too long")
        try:
            prefix, version, secret = fmt.parse_code(text)
        except fmt.BadChecksum:
            raise RpcError(-402, "gift code checksum does not match: a character is mistyped")
        except fmt.MalformedCode as e:
            message = str(e)
            if "prefix" in message:
                message = "gift code does not start with MGC, TGC or RGC"
            elif "character" in message:
                message = "gift code contains a character that is not allowed"
            else:
                message = "gift code has the wrong length"
            raise RpcError(-401, message)
        if version != 0:
            raise RpcError(-401, "gift code has an unsupported format version")
        if prefix != self.prefix:
            raise RpcError(-403, "gift code is for another network (%s), this node expects %s" % (prefix, self.prefix))
        return fmt.code_id(prefix, secret)

    def _view(self, record, now):
        out = collections.OrderedDict()
        out["id"] = record.id
        out["state"] = record.state(now)
        out["amount"] = Amount(record.amount)
        out["label"] = record.label
        out["created_at"] = record.created_at
        out["expires_at"] = record.expires_at or None
        if record.stored == "redeemed":
            out["txid"] = record.txid
            out["vout"] = record.vout
            out["address"] = record.address
            out["redeemed_at"] = record.redeemed_at
            out["fee"] = Amount(record.fee)
            out["confirmations"] = record.confirmations
            out["in_mempool"] = record.confirmations == 0
            out["abandoned"] = False
            out["conflicted"] = False
            out["payment_state"] = record.payment_state()
            out["replaced_txids"] = []
            out["found_on_chain"] = False
        elif record.stored == "cancelled":
            out["cancelled_at"] = record.cancelled_at
        return out

    def _string(self, value, name):
        if not isinstance(value, str):
            raise RpcError(-8, "%s must be a string" % name)
        return value

    def _integer(self, value, name, low, high):
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise RpcError(-8, "%s must be a number, got %s" % (name, type(value).__name__))
        if isinstance(value, Decimal) or not low <= value <= high:
            raise RpcError(-8, "%s must be a whole number from %d to %d" % (name, low, high))
        return value

    def creategiftcode(self, amount, count=None, label=None, expires_at=None):
        satoshis = parse_amount(amount)
        count = 1 if count is None else self._integer(count, "count", 1, MAX_BATCH)
        label = "" if label is None else self._string(label, "label")
        if len(label.encode()) > MAX_LABEL:
            raise RpcError(-8, "label is longer than %d bytes" % MAX_LABEL)
        if "\0" in label:
            raise RpcError(-8, "label must not contain a NUL character")
        expiry = 0
        if expires_at is not None:
            expiry = self._integer(expires_at, "expires_at", -(1 << 63), (1 << 63) - 1)
        now = int(time.time())
        if expiry and expiry <= now:
            raise RpcError(-8, "expiry must be a unix time in the future, or 0 for none")
        made = []
        with self.lock:
            for _ in range(count):
                secret = fmt.random_secret()
                code_id = fmt.code_id(self.prefix, secret)
                record = CodeRecord(code_id, fmt.format_code(self.prefix, secret), satoshis, label, now, expiry)
                self.codes[code_id] = record
                made.append({"id": code_id, "code": record.code, "uri": fmt.format_uri(self.prefix, secret)})
        return collections.OrderedDict([
            ("amount", Amount(satoshis)), ("count", count), ("label", label),
            ("expires_at", expiry or None), ("codes", made)])

    def getgiftcode(self, code_or_id):
        code_id = self._resolve(self._string(code_or_id, "code_or_id"))
        with self.lock:
            record = self.codes.get(code_id)
            if record is None:
                raise RpcError(-404, "no such gift code in this wallet")
            return self._view(record, int(time.time()))

    def listgiftcodes(self, state=None, label=None, skip=None, count=None):
        state = "" if state is None else self._string(state, "state")
        if state not in ("", "issued", "redeemed", "cancelled", "expired"):
            raise RpcError(-8, 'state must be one of issued, redeemed, cancelled, expired, or "" for all')
        label = None if label is None else self._string(label, "label")
        skip = 0 if skip is None else self._integer(skip, "skip", 0, 2147483647)
        count = 100 if count is None else self._integer(count, "count", 1, MAX_BATCH)
        now = int(time.time())
        with self.lock:
            matching = [r for r in self.codes.values()
                        if (not state or r.state(now) == state) and (label is None or r.label == label)]
            return {"total": len(matching), "skip": skip,
                    "codes": [self._view(r, now) for r in matching[skip:skip + count]]}

    def redeemgiftcode(self, code, address):
        if not isinstance(code, str):
            raise RpcError(-401, "code must be a string")
        code_id = self._parse(code)
        address = normalise_address(self.network, address)
        now = int(time.time())
        with self.lock:
            record = self.codes.get(code_id)
            if record is None:
                raise RpcError(-404, "no such gift code in this wallet")
            state = record.state(now)
            replay = False
            if state == "redeemed":
                if record.address != address:
                    raise RpcError(-405, "gift code was already redeemed")
                replay = True
            elif state == "cancelled":
                raise RpcError(-406, "gift code was cancelled by its issuer")
            elif state == "expired":
                raise RpcError(-407, "gift code has expired")
            else:
                record.stored = "redeemed"
                record.txid = secrets.token_hex(32)
                record.vout = int(code_id[0], 16) % 2
                record.address = address
                record.redeemed_at = now
                record.fee = 2260
                record.confirmations = 0
                self.payments[code_id] += 1
            out = collections.OrderedDict()
            out["id"] = record.id
            out["txid"] = record.txid
            out["vout"] = record.vout
            out["amount"] = Amount(record.amount)
            out["fee"] = Amount(record.fee)
            out["address"] = record.address
            out["redeemed_at"] = record.redeemed_at
            out["replay"] = replay
            out["broadcast"] = True
            out["payment_state"] = record.payment_state()
            return out

    def cancelgiftcode(self, code_or_id):
        code_id = self._resolve(self._string(code_or_id, "code_or_id"))
        now = int(time.time())
        with self.lock:
            record = self.codes.get(code_id)
            if record is None:
                raise RpcError(-404, "no such gift code in this wallet")
            if record.stored == "redeemed":
                raise RpcError(-405, "gift code was already redeemed; it cannot be cancelled")
            if record.stored == "cancelled":
                raise RpcError(-406, "gift code was already cancelled")
            record.stored = "cancelled"
            record.cancelled_at = now
            return self._view(record, now)

    def getgiftcodeinfo(self):
        now = int(time.time())
        with self.lock:
            counts = collections.Counter(r.state(now) for r in self.codes.values())
            return collections.OrderedDict([
                ("network", self.prefix),
                ("counts", {s: counts.get(s, 0) for s in ("issued", "redeemed", "cancelled", "expired")}),
                ("outstanding_liability", Amount(sum(r.amount for r in self.codes.values()
                                                     if r.state(now) == "issued"))),
                ("redeemed_amount", Amount(sum(r.amount for r in self.codes.values() if r.stored == "redeemed"))),
                ("payments_start_in", 0),
                ("payments_wait_for_block", False),
            ])

    def getblockchaininfo(self):
        with self.lock:
            return {"chain": NODE_NETWORK_NAMES[self.network], "blocks": self.height, "headers": self.height,
                    "initialblockdownload": False}

    def uptime(self):
        return int(time.time() - self.started)

    def dispatch(self, method, params):
        if method not in ARG_NAMES:
            raise RpcError(-32601, "Method not found")
        if isinstance(params, dict):
            names = ARG_NAMES[method]
            for name in params:
                if name not in names:
                    raise RpcError(-8, "Unknown named parameter " + name)
            positional = [params.get(name) for name in names]
            while positional and positional[-1] is None:
                positional.pop()
            params = positional
        elif params is None:
            params = []
        low, high = ARITY[method]
        if not low <= len(params) <= high:
            raise RpcError(-1, HELP[method] + "\n\nSee doc/rpc.md.")
        return getattr(self, method)(*params)


def parse_amount(value):
    """Satoshis of an amount given as a JSON number or string, as the node reads it."""
    bad = RpcError(-3, "amount must be a number of MONA with at most 8 decimals")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise bad
    if isinstance(value, str):
        if not re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", value):
            raise bad
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise bad
    value = Decimal(value)
    if value <= 0:
        raise RpcError(-3, "amount must be positive")
    satoshis = value * COIN
    if satoshis != satoshis.to_integral_value():
        raise RpcError(-3, "amount has more than 8 decimals")
    if satoshis > MAX_MONEY:
        raise RpcError(-3, "amount is out of the money range")
    if satoshis < DUST:
        raise RpcError(-3, "amount is below the dust limit of 0.00000546")
    return int(satoshis)


# --- HTTP ---------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write("standin: %s\n" % (format % args))

    def send_body(self, status, body, content_type="application/json", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path == "/control":
            self.send_body(200, json.dumps(self.server.node.counters()))
        else:
            self.send_body(405, "JSONRPC server handles only POST requests", "text/html")

    def do_POST(self):
        if self.path == "/control":
            try:
                counters = self.server.node.control(json.loads(self.read_body() or b"{}"))
            except (ValueError, TypeError) as e:
                self.send_body(400, json.dumps({"error": str(e)}))
                return
            self.send_body(200, json.dumps(counters))
            return
        if self.path != "/" and not re.fullmatch(r"/wallet/[^/]*", self.path):
            self.read_body()
            self.send_body(404, b"")
            return
        node = self.server.node
        body = self.read_body()
        if not node.admit():
            self.send_body(500, "Work queue depth exceeded", "text/html; charset=ISO-8859-1")
            return
        try:
            self.handle_rpc(node, body)
        finally:
            node.release()

    def handle_rpc(self, node, body):
        if self.headers.get("Authorization") != self.server.authorization:
            time.sleep(0.25)  # the node's deterrent against guessing
            self.send_body(401, b"", extra=[("WWW-Authenticate", 'Basic realm="jsonrpc"')])
            return
        try:
            request = json.loads(body, parse_float=Decimal)
        except ValueError:
            self.reply_error(None, RpcError(-32700, "Parse error"))
            return
        if isinstance(request, list):
            for r in request:
                if isinstance(r, dict):
                    node.count_call(r.get("method"), r.get("params"))
            replies = [self.one(node, r) for r in request]
            self.send_body(200, "[" + ",".join(to_json(r) for r, _ in replies) + "]\n")
            return
        if not isinstance(request, dict):
            self.reply_error(None, RpcError(-32600, "Top-level object parse error"))
            return
        request_id = request.get("id")
        method = request.get("method")
        if not isinstance(method, str):
            self.reply_error(request_id, RpcError(-32600, "Method must be a string"))
            return
        params = request.get("params")
        if params is not None and not isinstance(params, (list, dict)):
            self.reply_error(request_id, RpcError(-32600, "Params must be an array or object"))
            return

        node.count_call(method, params)
        fault = node.take_fault(method)
        if fault == "workqueue":
            self.send_body(500, "Work queue depth exceeded", "text/html; charset=ISO-8859-1")
            return
        if fault == "close":
            self.drop()
            return
        delay = node.delay_for(method)
        node.enter()
        try:
            if delay:
                time.sleep(delay / 1000.0)
            if fault is not None and fault.startswith("error:"):
                code = int(fault.split(":", 1)[1])
                self.reply_error(request_id, RpcError(code, ERROR_MESSAGES.get(code, "error %d" % code)))
                return
            reply, status = self.one(node, request)
        finally:
            node.leave()
        if fault == "timeout":
            self.hold(node)
            return
        if fault == "lost":
            self.drop()
            return
        self.send_body(status, to_json(reply) + "\n")

    def one(self, node, request):
        """(reply object, HTTP status) of one call, as the node answers it."""
        request_id = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                raise RpcError(-32600, "Invalid Request object")
            result = node.dispatch(request["method"], request.get("params"))
            return collections.OrderedDict([("result", result), ("error", None), ("id", request_id)]), 200
        except RpcError as e:
            return self.error_reply(request_id, e)

    @staticmethod
    def error_reply(request_id, error):
        status = {-32600: 400, -32601: 404}.get(error.code, 500)
        reply = collections.OrderedDict([
            ("result", None), ("error", collections.OrderedDict([("code", error.code), ("message", error.message)])),
            ("id", request_id)])
        return reply, status

    def reply_error(self, request_id, error):
        reply, status = self.error_reply(request_id, error)
        self.send_body(status, to_json(reply) + "\n")

    def drop(self):
        """Closes the connection without a word."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hold(self, node):
        """Answers nothing until the client gives up (or hold_ms passes)."""
        with node.lock:
            limit = node.hold_ms / 1000.0
        end = time.monotonic() + limit
        while time.monotonic() < end and not self.server.stopping:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break
                except OSError:
                    break
                time.sleep(0.05)
        self.drop()


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, node, user, password, verbose=False):
        super().__init__(address, Handler)
        self.node = node
        self.authorization = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.verbose = verbose
        self.stopping = False

    def stop(self):
        self.stopping = True
        self.shutdown()
        self.server_close()


# --- a client, for tests --------------------------------------------------------

class RpcFailure(Exception):
    """A call that got no result: an RPC error (code set) or another answer."""

    def __init__(self, status, code, message, body=b""):
        super().__init__("HTTP %s, error %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class RpcClient:
    """A JSON-RPC client of the stand-in (or of a node), one connection a call."""

    def __init__(self, url, user, password, timeout=30.0):
        self.url = url
        self.authorization = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.timeout = timeout

    def raw(self, method, params, authorization=None, timeout=None):
        """(HTTP status, body bytes) of one call."""
        request = urllib.request.Request(
            self.url, data=to_json({"method": method, "params": params, "id": 1}).encode(),
            headers={"Content-Type": "application/json",
                     "Authorization": self.authorization if authorization is None else authorization})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def call(self, method, *params, timeout=None):
        status, body = self.raw(method, list(params), timeout=timeout)
        try:
            reply = json.loads(body, parse_float=Decimal)
        except ValueError:
            raise RpcFailure(status, None, body.decode(errors="replace"), body)
        if reply.get("error"):
            raise RpcFailure(status, reply["error"]["code"], reply["error"]["message"], body)
        if status != 200:
            raise RpcFailure(status, None, "a result with HTTP %d" % status, body)
        return reply["result"]


def control(base_url, body=None, timeout=10.0):
    """POST (with a body) or GET /control of the stand-in at base_url."""
    url = base_url.rstrip("/") + "/control"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


# --- the self-test --------------------------------------------------------------

def self_test():
    """Shows the stand-in behaves as documented above; exits non-zero otherwise."""
    node = StandinNode("regtest", rpcthreads=2, rpcworkqueue=1)
    server = StandinServer(("127.0.0.1", 0), node, "claim", "secret")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    rpc = RpcClient(base + "/wallet/gifts", "claim", "secret", timeout=5)
    failures = []

    def check(name, condition, detail=""):
        note = ": %s" % (detail,) if detail and not condition else ""
        print("%s %s%s" % ("ok  " if condition else "FAIL", name, note))
        if not condition:
            failures.append(name)

    def error_of(method, *params, timeout=None):
        try:
            rpc.call(method, *params, timeout=timeout)
        except RpcFailure as e:
            return e.status, e.code
        return 200, None

    try:
        status, body = RpcClient(rpc.url, "claim", "wrong").raw("getgiftcode", ["x"])
        check("wrong password: 401, empty body", (status, body) == (401, b""), (status, body))
        status, body = rpc.raw("getgiftcode", ["x"], authorization="")
        check("no credentials: 401", (status, body) == (401, b""), (status, body))
        check("unknown method: HTTP 404, -32601", error_of("getbalance") == (404, -32601), error_of("getbalance"))
        check("wrong arity: -1", error_of("getgiftcode") == (500, -1), error_of("getgiftcode"))

        status, body = rpc.raw("creategiftcode", [Decimal("1.5"), 3, "test", None])
        text = body.decode()
        check("creategiftcode: HTTP 200, amount with 8 decimals",
              status == 200 and '"amount":1.50000000' in text and '"error":null' in text, text[:200])
        made = json.loads(text)["result"]
        check("creategiftcode: result fields", sorted(made) == ["amount", "codes", "count", "expires_at", "label"]
              and made["count"] == 3 and made["expires_at"] is None and len(made["codes"]) == 3, made)
        check("codes made by codeformat", all(fmt.id_of(c["code"]) == c["id"] and
                                                   c["uri"].startswith("MONAGIFT:RGC") for c in made["codes"]))
        check("creategiftcode: dust -3", error_of("creategiftcode", "0.00000545") == (500, -3))
        check("creategiftcode: 9 decimals -3", error_of("creategiftcode", "1.000000001") == (500, -3))
        check("creategiftcode: count as a string -8", error_of("creategiftcode", 1, "2") == (500, -8))
        check("creategiftcode: expiry in the past -8", error_of("creategiftcode", 1, 1, "", 1000) == (500, -8))
        first, second, third = made["codes"]

        code = first["code"]
        spellings = [code, code.lower(), code.replace("-", ""), code.replace("-", " "), first["uri"], first["id"],
                     first["uri"].lower()]
        check("getgiftcode: every spelling", all(rpc.call("getgiftcode", s)["id"] == first["id"] for s in spellings))
        issued = rpc.call("getgiftcode", code)
        check("getgiftcode: issued fields", list(issued) == ["id", "state", "amount", "label", "created_at",
                                                            "expires_at"] and issued["state"] == "issued", issued)
        check("malformed -401", error_of("getgiftcode", "RGC-1234") == (500, -401))
        check("bad checksum -402", error_of("getgiftcode", fmt.substitute(code, 5)) == (500, -402))
        check("wrong network -403", error_of("getgiftcode", fmt.random_code("TGC")) == (500, -403))
        check("unknown -404", error_of("getgiftcode", fmt.random_code("RGC")) == (500, -404))

        address = regtest_address()
        for bad in ["", "notanaddress", fmt.segwit_address("tmona", 0, bytes(20)),
                    fmt.segwit_address("mona", 0, bytes(20)), base58_address(50, bytes(20)),
                    address[:-1] + ("q" if address[-1] != "q" else "p")]:
            check("invalid address -5: %r" % bad[:16], error_of("redeemgiftcode", code, bad) == (500, -5))
        check("regtest base58 address accepted", normalise_address("regtest", base58_address(111, bytes(20))))
        check("upper-case bech32 accepted", normalise_address("regtest", address.upper()) == address)

        paid = rpc.call("redeemgiftcode", code, address)
        check("redeem: paid", paid["replay"] is False and len(paid["txid"]) == 64 and paid["address"] == address, paid)
        again = rpc.call("redeemgiftcode", code.lower(), address.upper())
        check("redeem again, same address: replay, same txid",
              again["replay"] is True and again["txid"] == paid["txid"])
        check("redeem, other address: -405", error_of("redeemgiftcode", code, regtest_address()) == (500, -405))
        view = rpc.call("getgiftcode", first["id"])
        check("getgiftcode: redeemed fields", view["state"] == "redeemed" and view["txid"] == paid["txid"]
              and view["confirmations"] == 0 and view["payment_state"] == "mempool", view)
        control(base, {"mine": 1})
        view = rpc.call("getgiftcode", first["id"])
        check("mine: a confirmation", view["confirmations"] == 1 and view["payment_state"] == "confirmed", view)

        control(base, {"cancel": second["id"]})
        check("cancelled -406", error_of("redeemgiftcode", second["code"], address) == (500, -406))
        check("cancel a cancelled code -406", error_of("cancelgiftcode", second["id"]) == (500, -406))
        check("cancel a redeemed code -405", error_of("cancelgiftcode", first["id"]) == (500, -405))
        control(base, {"expire": third["id"]})
        check("expired: state", rpc.call("getgiftcode", third["code"])["state"] == "expired")
        check("expired -407", error_of("redeemgiftcode", third["code"], address) == (500, -407))

        more = rpc.call("creategiftcode", 1, 4)["codes"]
        control(base, {"fail_next": ["error:-10", "workqueue"], "method": "redeemgiftcode"})
        check("error:-10 injected", error_of("redeemgiftcode", more[0]["code"], address) == (500, -10))
        status, body = rpc.raw("redeemgiftcode", [more[0]["code"], address])
        check("workqueue injected", (status, body) == (500, b"Work queue depth exceeded"), (status, body))
        counters = control(base)
        check("nothing paid by injected errors", counters["payments"].get(more[0]["id"]) is None)
        check("redeem calls count injected faults", counters["redeem_calls"].get(more[0]["id"]) == 2,
              counters["redeem_calls"])

        control(base, {"fail_next": ["close"]})
        try:
            rpc.call("getgiftcode", more[0]["code"])
            check("close: no answer", False)
        except (http.client.HTTPException, ConnectionError, urllib.error.URLError) as e:
            check("close: no answer", True, e)

        control(base, {"fail_next": ["timeout"], "method": "redeemgiftcode"})
        start = time.monotonic()
        try:
            rpc.call("redeemgiftcode", more[0]["code"], address, timeout=0.5)
            check("timeout: no answer", False)
        except (socket.timeout, TimeoutError, urllib.error.URLError, OSError) as e:
            check("timeout: no answer within the client's timeout", time.monotonic() - start < 5, e)
        counters = control(base)
        check("timeout: the redemption was made", counters["payments"].get(more[0]["id"]) == 1, counters["payments"])
        again = rpc.call("redeemgiftcode", more[0]["code"], address)
        check("timeout then retry: replay", again["replay"] is True)

        control(base, {"fail_next": ["lost"], "method": "redeemgiftcode"})
        try:
            rpc.call("redeemgiftcode", more[1]["code"], address)
            check("lost: no answer", False)
        except (http.client.HTTPException, ConnectionError, urllib.error.URLError):
            check("lost: no answer", True)
        check("lost: the redemption was made", control(base)["payments"].get(more[1]["id"]) == 1)

        control(base, {"delay_ms": 300})
        start = time.monotonic()
        rpc.call("getgiftcode", more[2]["code"])
        check("delay_ms", time.monotonic() - start >= 0.3)

        # Two workers and a queue of one: a fourth call at once is refused.
        control(base, {"delay_ms": 600})
        results = []

        def call_one():
            status, _ = rpc.raw("getgiftcode", [more[2]["code"]])
            results.append(status)

        threads = [threading.Thread(target=call_one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check("work queue: a full queue refuses", sorted(results) == [200, 200, 200, 500], results)
        counters = control(base, {"reset": True})
        check("at most rpcthreads at once", counters["max_in_flight"] == 2, counters["max_in_flight"])
        check("counters: calls per method", counters["calls"]["redeemgiftcode"] >= 10, counters["calls"])
        check("counters: never more than one payment per code", max(counters["payments"].values()) == 1)

        # Concurrent redemptions of one code to one address: one payment.
        code_id, code = more[3]["id"], more[3]["code"]
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(rpc.call("redeemgiftcode", code, address)))
                   for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check("concurrent redemptions: one payment, one txid",
              control(base)["payments"][code_id] == 1 and len({a["txid"] for a in answers}) == 1)
    finally:
        server.stop()
    print("standin self-test: %s" % ("passed" if not failures else "%d FAILED" % len(failures)))
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks one (printed first)")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--user", default="claim")
    parser.add_argument("--password", default=None, help="default: read from --password-file")
    parser.add_argument("--password-file", default=None)
    parser.add_argument("--network", choices=sorted(NETWORKS), default="regtest")
    parser.add_argument("--rpcthreads", type=int, default=4)
    parser.add_argument("--rpcworkqueue", type=int, default=16)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--self-test", action="store_true", help="check the stand-in itself and exit")
    args = parser.parse_args()
    if args.self_test:
        sys.exit(self_test())
    password = args.password
    if password is None and args.password_file:
        with open(args.password_file) as f:
            password = f.read().strip()
    if password is None:
        parser.error("give --password or --password-file")
    node = StandinNode(args.network, args.rpcthreads, args.rpcworkqueue)
    server = StandinServer((args.bind, args.port), node, args.user, password, args.verbose)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
