#!/usr/bin/env python3
"""The reference client (contrib/giftcode_client.py) keeps the retry rule of
doc/integration.md against a real node: it pays each code exactly once
through everything that can come between it and the node, and stops at
once on every final error.

The node is reached as an integrator reaches it: a fixed RPC port and the
node's cookie file (the framework keeps its own user, given with -rpcauth).

- Timeout: the node waits 1 s before each payment (-giftcodebatchwait), the
  client gives up on an answer after 0.5 s: its retry gets the same txid.
- Every final error redeemgiftcode can give on regtest without a fault
  injected (-401, -402, -403 with a mainnet code, -404, -405, -406, -407,
  -5, -6, -13 with an encrypted locked wallet, -18 with a wallet that is not
  loaded): raised after exactly one request.
- -408 (every coin locked with lockunspent): retried until the coins are
  unlocked, then paid.
- -20 (every sync of the wallet's log fails: libpowercut.so is preloaded
  into the node, as in wallet_giftcode_diskfull.py): retried, the code
  still issued, until the disk is back, then paid once.
- -4 (the node restarted with a -maxtxfee no payment fits): raised after
  one request, the code still issued.
- A node restart: a client that ran before tries while the node is down
  (connection refused); the node comes back with a new cookie (401: the
  client reads the cookie file again) and waits before paying
  (-giftcodestartdelay: -10); the client pays. A client started while the
  node is down finds no cookie file, then gets -28 while the node warms up,
  and pays too.
- A full work queue: the node runs with -rpcthreads=1 -rpcworkqueue=1 and
  three threads keep it busy with slow calls, so the client gets HTTP 500
  "Work queue depth exceeded" in plain text; it retries and pays once they
  stop.

Then each holder address received exactly one output of exactly its
code's amount, and the wallet holds exactly one payment tagged per code.
"""

import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
from decimal import Decimal
from http.client import HTTPException

import test_framework  # noqa: F401  (first: it finds this checkout's contrib/, where the client is)
from giftcode_client import Client, Refused
from test_framework.chain import mature_coinbases, outputs_to
from test_framework.giftcode import (ERR_ALREADY_REDEEMED, ERR_BAD_CHECKSUM, ERR_CANCELLED, ERR_EXPIRED,
                                     ERR_INSUFFICIENT_FUNDS, ERR_INVALID_ADDRESS, ERR_MALFORMED, ERR_UNKNOWN, ERR_WALLET,
                                     ERR_WALLET_LOCKED, ERR_WALLET_NOT_FOUND, ERR_WRONG_NETWORK, WorkQueueFull,
                                     find_powercut_library, preload_powercut)
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.test_node import TestNode
from test_framework.util import REPO_ROOT, assert_equal, assert_true, wait_until
from giftcodekit import codeformat as fmt  # noqa: E402  (after test_framework, which finds contrib/)

sys.path.insert(0, os.path.join(REPO_ROOT, "test", "powercut"))
import powercut  # noqa: E402

AMOUNT = Decimal("0.25")
PASSPHRASE = "correct horse battery staple"
#: Fast retries, so that each phase takes seconds; the rule is the same.
QUICK = dict(first_wait=0.02, max_wait=0.05, give_up_after=120)


class CookieNode(TestNode):
    """A node an integrator would run: RPC on one port for good, credentials
    in the cookie file it rewrites at every start."""

    @property
    def rpc_port(self):
        return self._port

    @rpc_port.setter
    def rpc_port(self, port):
        if getattr(self, "_port", None) is None:  # the first free port is kept across restarts
            self._port = port

    @property
    def cookie(self):
        return os.path.join(self.chaindir, ".cookie")

    def _write_conf(self):
        with open(os.path.join(self.datadir, "monacoin.conf"), "w") as f:
            f.write("regtest=1\n[regtest]\nrpcport=%d\nport=%d\n" % (self.rpc_port, self.p2p_port))

    def _args(self):
        salt = secrets.token_hex(16)
        digest = hmac.new(salt.encode(), self.rpc_password.encode(), hashlib.sha256).hexdigest()
        args = [a for a in super()._args() if not a.startswith(("-rpcuser=", "-rpcpassword="))]
        return args + ["-rpcauth=%s:%s$%s" % (self.rpc_user, salt, digest)]


class ClientTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.args = ["-wallet=issuer", "-wallet=payee"]

    def add_options(self, parser):
        parser.add_argument("--powercut", help="libpowercut.so (default: $GIFTCODE_POWERCUT_LIB, else build/default)")

    def setup_nodes(self):
        node = CookieNode(0, self.monacoind, self.args + ["-giftcodebatchwait=1000"],
                          keep_datadir=True if self.options.nocleanup else None)
        self.nodes.append(node)
        # The wallet's writes run through libpowercut.so, which fails them on
        # demand (-20); nothing else changes.
        self.faults, _ = preload_powercut(node, find_powercut_library(self.options.powercut))
        self.start_node(0)

    def client(self, wallet="issuer", **args):
        url = "http://127.0.0.1:%d/wallet/%s" % (self.node.rpc_port, wallet)
        return Client(url, cookie=self.node.cookie, **dict(QUICK, **args))

    def code(self, wallet="issuer", amount=AMOUNT, expires_at=None):
        entry = self.node.wallet(wallet).creategiftcode(amount, 1, "client", expires_at)["codes"][0]
        return dict(entry, amount=amount)

    def pays(self, client, code, address=None, reasons=None):
        """client.redeem(code) to a new payee address; returns its retry reasons."""
        address = address or self.payee.getnewaddress()
        reasons = [] if reasons is None else reasons
        result = client.redeem(code["code"], address, on_retry=lambda reason, wait: reasons.append(reason))
        assert_equal((result["id"], result["address"], result["amount"]), (code["id"], address, code["amount"]))
        self.paid[code["id"]] = (result["txid"], address, result["amount"])
        return reasons

    def refused(self, error, client, code_text, address=None):
        reasons = []
        try:
            client.redeem(code_text, address or self.payee.getnewaddress(), on_retry=lambda r, w: reasons.append(r))
        except Refused as e:
            assert_equal((e.code, e.attempts, reasons), (error, 1, []), "a final error, raised at once")
            return
        raise AssertionError("expected error %d" % error)

    def run_test(self):
        node = self.node = self.nodes[0]
        issuer, self.payee = node.wallet("issuer"), node.wallet("payee")
        self.paid = {}
        start_height = node.height()
        mature_coinbases(node, "issuer", 10)
        client = self.client(timeout=10)

        self.log.info("timeout: the node takes 1 s, the client waits 0.5 s; its retry gets the same txid")
        first = self.code()
        reasons = self.pays(self.client(timeout=0.5), first)
        assert_true(any("timeout" in r for r in reasons), "the first attempt timed out: %r" % reasons)

        self.log.info("final errors: each raised after one request")
        code = self.code()
        self.refused(ERR_MALFORMED, client, "RGC-NOT-A-CODE")
        self.refused(ERR_BAD_CHECKSUM, client, fmt.substitute(code["code"], 5))
        self.refused(ERR_WRONG_NETWORK, client, fmt.format_code(fmt.MAINNET, fmt.random_secret()))
        self.refused(ERR_UNKNOWN, client, fmt.random_code(fmt.REGTEST))
        self.refused(ERR_ALREADY_REDEEMED, client, first["code"])
        self.refused(ERR_INVALID_ADDRESS, client, code["code"], "not-an-address")
        self.refused(ERR_INSUFFICIENT_FUNDS, client, self.code(amount=Decimal("100000"))["code"])
        self.refused(ERR_WALLET_NOT_FOUND, self.client("nosuchwallet"), code["code"])
        cancelled = self.code()
        issuer.cancelgiftcode(cancelled["id"])
        self.refused(ERR_CANCELLED, client, cancelled["code"])
        expiring = self.code(expires_at=int(time.time()) + 2)
        wait_until(lambda: issuer.getgiftcode(expiring["id"])["state"] == "expired", timeout=10, what="the expiry")
        self.refused(ERR_EXPIRED, client, expiring["code"])
        node.rpc("createwallet", "locked")
        locked = node.wallet("locked")
        issuer.sendtoaddress(locked.getnewaddress(), 10)
        node.mine(1, wallet="payee")
        locked.encryptwallet(PASSPHRASE)
        locked.walletpassphrase(PASSPHRASE, 600)
        locked_code = self.code("locked")
        locked.walletlock()
        self.refused(ERR_WALLET_LOCKED, self.client("locked"), locked_code["code"])
        assert_equal(issuer.getgiftcode(code["id"])["state"], "issued")

        self.log.info("-408: every coin locked; retried until they are unlocked, then paid")
        issuer.lockunspent(False, [{"txid": c["txid"], "vout": c["vout"]} for c in issuer.listunspent(0)])
        reasons = []
        payer = threading.Thread(target=self.pays, args=(client, code, None, reasons), daemon=True)
        payer.start()
        wait_until(lambda: sum("error -408" in r for r in reasons) >= 3, what="three -408 retries")
        issuer.lockunspent(True)
        payer.join(60)
        assert_true(code["id"] in self.paid, "the code was paid after the unlock")

        self.log.info("-20: every sync of the wallet's log fails; retried until the disk is back, then paid")
        failing = self.code()
        reasons = []
        powercut.set_fault(self.faults, "eio-sync", "/wallets/issuer/database/log.")
        payer = threading.Thread(target=self.pays, args=(client, failing, None, reasons), daemon=True)
        try:
            payer.start()
            wait_until(lambda: sum("error -20" in r for r in reasons) >= 3, what="three -20 retries")
            assert_equal(issuer.getgiftcode(failing["id"])["state"], "issued")
        finally:
            powercut.set_fault(self.faults, None)
        payer.join(60)
        assert_true(failing["id"] in self.paid, "the code was paid once the disk was back")

        self.log.info("restart: refused, a new cookie (401), warm-up (-28), start delay (-10), then paid")
        # One client ran before the restart and holds the old cookie; another
        # starts while the node is down and waits for the cookie file.
        codes = [self.code(), self.code()]
        addresses = [self.payee.getnewaddress(), self.payee.getnewaddress()]
        node.stop()
        reasons = [[], []]
        clients = [client, self.client(first_wait=0.01, max_wait=0.01)]
        payers = [threading.Thread(target=self.pays, args=args, daemon=True)
                  for args in zip(clients, codes, addresses, reasons)]
        for payer in payers:
            payer.start()
        wait_until(lambda: any("connection refused" in r for r in reasons[0]), what="a refused connection")
        node.start(self.args + ["-giftcodestartdelay=3"])
        for payer in payers:
            payer.join(120)
        assert_true(all(code["id"] in self.paid for code in codes), "the codes were paid after the restart")
        for seen, r in (("connection refused", reasons[0]), ("HTTP 401", reasons[0]), ("error -10", reasons[0]),
                        ("cannot read the cookie", reasons[1])):
            assert_true(any(seen in reason for reason in r), "%s was retried: %r" % (seen, sorted(set(r))))
        # The warm-up lasts a moment on regtest: a client may or may not
        # meet -28 (the unit test drives that case); it must not fail on it.
        self.log.info("the client starting during the restart met -28 %d time(s)",
                      sum("error -28" in reason for reason in reasons[1]))

        self.log.info("work queue: one RPC thread busy, one call queued; the client gets plain-text 500s")
        node.restart(self.args + ["-rpcthreads=1", "-rpcworkqueue=1"])
        queue_code, address, stop = self.code(), self.payee.getnewaddress(), threading.Event()

        def block():
            while not stop.is_set():
                try:
                    node.post("/", node.request_body("waitforblockheight", [10 ** 6, 3000]), 10)
                except (OSError, HTTPException, WorkQueueFull):
                    time.sleep(0.005)  # the other one holds the queue: take its place as soon as it frees

        def queue_full():
            try:
                node.post("/", node.request_body("getblockcount", []), 10)
                return False
            except WorkQueueFull:
                return True

        blockers = [threading.Thread(target=block, daemon=True) for _ in range(3)]
        reasons = []
        payer = threading.Thread(target=self.pays, args=(self.client(first_wait=0.5, max_wait=2), queue_code, address,
                                                         reasons), daemon=True)
        try:
            for blocker in blockers:
                blocker.start()
            wait_until(queue_full, timeout=30, what="a full work queue")
            payer.start()
            wait_until(lambda: len(reasons) >= 2 or not payer.is_alive(), timeout=30, what="two retries")
        finally:
            stop.set()
            for thread in blockers + [payer]:
                thread.join(60)
        assert_true(any("work queue full" in r for r in reasons), "a full work queue was retried: %r" % reasons)
        assert_true(queue_code["id"] in self.paid, "the code was paid once the queue drained")

        self.log.info("-4: a node whose -maxtxfee no payment fits; raised after one request, nothing paid")
        node.restart(self.args + ["-maxtxfee=0.0001"])
        unpayable = self.code()
        self.refused(ERR_WALLET, self.client(), unpayable["code"])  # a client that reads the new cookie
        assert_equal(issuer.getgiftcode(unpayable["id"])["state"], "issued")

        self.log.info("each code paid exactly once: one tagged payment, one output of its amount")
        tags = node.tagged_payments("issuer")
        for code_id, (txid, _, _) in self.paid.items():
            assert_equal(tags.get(code_id), {txid}, "payments tagged with %s" % code_id)
            assert_equal(issuer.getgiftcode(code_id)["txid"], txid)
        node.mine(1, wallet="payee")
        found = outputs_to(node, [address for _, address, _ in self.paid.values()], first_height=start_height)
        for code_id, (txid, address, amount) in self.paid.items():
            assert_equal(found[address], [(txid, amount, True)], "outputs to the holder of %s" % code_id)
        assert_equal(len(self.paid), 6)


if __name__ == "__main__":
    ClientTest().main()
