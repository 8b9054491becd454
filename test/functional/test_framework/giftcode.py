"""What the functional tests know of gift codes: the formats a node prints,
the payments holders received, the wallet's state before and after a call,
redemptions racing other clients of the wallet, a corrupt record planted in
a wallet file, and the power-cut library some tests preload.

The RPC error codes (doc/rpc.md) and exceptions are giftcodekit.rpc's,
named here too so that a test imports what it needs from test_framework.
"""

import logging
import os
import re
import struct
import sys
import threading
import time
import traceback
from collections import namedtuple
from decimal import Decimal

from giftcodekit.rpc import (  # noqa: F401  (part of this module's interface)
    ERR_ALREADY_REDEEMED, ERR_BAD_CHECKSUM, ERR_CANCELLED, ERR_CATCHING_UP, ERR_CORRUPTION, ERR_EXPIRED,
    ERR_FUNDS_PENDING, ERR_IN_WARMUP, ERR_INSUFFICIENT_FUNDS, ERR_INVALID_ADDRESS, ERR_INVALID_AMOUNT,
    ERR_INVALID_PARAMETER, ERR_MALFORMED, ERR_METHOD_NOT_FOUND, ERR_MISC, ERR_STORE_FAILURE, ERR_UNKNOWN, ERR_WALLET,
    ERR_WALLET_LOCKED, ERR_WALLET_NOT_FOUND, ERR_WALLET_NOT_SPECIFIED, ERR_WRONG_NETWORK, PAYMENT_TAG,
    REASON_FOR_CODE, NodeError, RpcError, WorkQueueFull, tag_codes, to_json)
from giftcodekit import codeformat
from test_framework.chain import outputs_to, wallet_txids
from test_framework.util import REPO_ROOT, assert_equal, assert_true, run_threads, wait_until

#: Money range of Monacoin, and the smallest amount a code may carry.
MAX_MONEY = Decimal("105120000")
DUST_LIMIT = Decimal("0.00000546")
SATOSHI = Decimal("0.00000001")

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

#: libpowercut.so: --powercut, else this variable, else the default build's.
ENV_POWERCUT_LIB = "GIFTCODE_POWERCUT_LIB"


#: giftcode-claim: this variable, else the default build's.
ENV_CLAIM_SERVER = "GIFTCODE_CLAIM_SERVER"


def find_built(value, variable, default, how):
    """`value`, else $`variable`, else `default` (a path below the
    checkout), made absolute. Raises NodeError when it does not exist."""
    path = value or os.environ.get(variable) or os.path.join(REPO_ROOT, *default)
    if not os.path.exists(path):
        raise NodeError("%s not found: build it with `cmake --workflow --preset default`, or %s" % (path, how))
    return os.path.abspath(path)


def find_claim_server(value=None):
    """The giftcode-claim to run (the default build's unless named)."""
    return find_built(value, ENV_CLAIM_SERVER, ("build", "default", "contrib", "claim", "giftcode-claim"),
                      "name it with $%s" % ENV_CLAIM_SERVER)


def find_powercut_library(value):
    """The libpowercut.so to preload: `value`, $GIFTCODE_POWERCUT_LIB or the
    default build's."""
    return find_built(value, ENV_POWERCUT_LIB, ("build", "default", "test", "powercut", "libpowercut.so"),
                      "name it with --powercut or $%s" % ENV_POWERCUT_LIB)


def preload_powercut(node, library):
    """From its next start, runs `node` under libpowercut.so watching its
    wallets directory, so that a test can fail the wallets' writes
    (powercut.set_fault on the control file) or cut its power
    (powercut.rollback on the journal). Returns (control, journal): they sit
    beside the data directory and go with it."""
    sys.path.insert(0, os.path.join(REPO_ROOT, "test", "powercut"))
    import powercut  # noqa: E402  (test/powercut)
    base = node.datadir.rstrip("/")
    control, journal = base + ".faults", base + ".powercut"
    os.makedirs(node.walletdir, exist_ok=True)  # the library watches it from the start
    node.env = powercut.environment(library, node.walletdir, journal, faults=control)
    node.side_files += [journal, control, control + ".tmp"]
    return control, journal


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
    tags = node.tagged_payments(wallet)
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



def corrupt_giftcode_record(wallet_file, code_id=None):
    """Overwrites, in place, every byte of the stored value of one gift-code
    record of a Berkeley DB wallet file with 0xff (its length prefix is
    kept, so the database itself stays well-formed; the record's format
    version then reads 255, which no decoder accepts). As
    edit_giftcode_record; returns the id of the record corrupted."""
    return edit_giftcode_record(wallet_file, lambda value: b"\xff" * len(value), code_id)


def edit_giftcode_record(wallet_file, edit, code_id=None):
    """Replaces, in place, the stored value of one gift-code record of a
    Berkeley DB wallet file (the record's bytes, after the node's length
    prefix) with edit(value), which must keep its length.

    The wallet must not be open (unload it or stop the node first: both
    flush the database into the file). code_id picks the record (32 hex
    digits); None takes the first found. Returns the id of the record
    edited. Only the standard library is needed: the leaf pages of the
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
            end = start + value_len
            first = data[start]
            start += 1 if first < 253 else {253: 3, 254: 5, 255: 9}[first]
            edited = edit(bytes(data[start:end]))
            if len(edited) != end - start:
                raise NodeError("an edit of a gift-code record must keep its length")
            data[start:end] = edited
            with open(wallet_file, "r+b") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            return ident
    raise NodeError("no gift-code record%s in %s" % (" of " + code_id if code_id else "", wallet_file))


# ---------------------------------------------------------------------------
# Codes where they must not be: files a node wrote

#: A code's 32 symbols in groups of four, with any one of the separators the
#: node accepts between groups, found at every position (overlapping); and any run of
#: 32 or more letters and digits, in which a code written without
#: separators (compact, or in a MONAGIFT: URI) would sit.
_GROUPED_RE = re.compile(rb"(?=([0-9A-Za-z]{4}(?:[-_ ][0-9A-Za-z]{4}){7}))")
_RUN_RE = re.compile(rb"[0-9A-Za-z]{32,}")
#: The node reads I and L as 1, O as 0.
_LOOKALIKES = str.maketrans("ILO", "110")


def code_body(code):
    """The 32 symbols of a code after its prefix, upper case, no separators."""
    compact = re.sub(r"[-_ ]", "", code.upper())
    if compact.startswith("MONAGIFT:"):
        compact = compact[len("MONAGIFT:"):]
    return compact[3:]


def find_codes(paths, codes):
    """[(path, code id)] for every file under `paths` (files or directories)
    that holds one of `codes` in a spelling the node accepts: any case, its
    groups separated by dashes, spaces or underscores or not at all, with
    or without its prefix, as a URI, with I or L for 1 and O for 0. Reads
    every file whole, binary or not."""
    bodies = {code_body(c): c for c in codes}
    if not bodies:
        return []
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in os.walk(path):
                files += [os.path.join(root, n) for n in names]
        elif os.path.isfile(path):
            files.append(path)
    found = []
    for name in sorted(set(files)):
        try:
            with open(name, "rb") as f:
                data = f.read()
        except OSError:
            continue
        hits = set()
        for m in _GROUPED_RE.finditer(data):
            body = re.sub(rb"[-_ ]", b"", m.group(1)).upper().decode().translate(_LOOKALIKES)
            if body in bodies:
                hits.add(bodies[body])
        for m in _RUN_RE.finditer(data):
            run = m.group(0).upper().decode().translate(_LOOKALIKES)
            for i in range(len(run) - 31):
                if run[i:i + 32] in bodies:
                    hits.add(bodies[run[i:i + 32]])
        for code in sorted(hits):
            found.append((name, codeformat.id_of(code)))
    return found
