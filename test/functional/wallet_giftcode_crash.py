#!/usr/bin/env python3
"""A node killed (SIGKILL) in the middle of a redemption storm, again and
again, never pays a code twice and never loses an acknowledged redemption.

Each iteration issues fresh codes, then client threads redeem every code
not yet redeemed (each twice, so replays are in flight too) while another
thread keeps issuing codes; after a random delay the node is SIGKILLed,
restarted on the same data directory, and checked:

- getgiftcodeinfo.consistency is checked and clean: no redeemed code
  without its payment, no tagged payment without its redeemed code;
- every redemption acknowledged before the kill (a reply was received) is
  there, redeemed, with the same txid and address;
- every code whose creation was acknowledged exists;
- each code has at most one tagged wallet transaction, and it is the txid
  of its record; a redeemed code's txid never changes across restarts.

Then a block is mined (and the chain flushed, so blocks survive the next
kill). After the last iteration the remaining codes are redeemed, payments
confirm, and the chain is scanned: every payee address received exactly
one output of exactly its code's amount; redeemed_amount equals the sum.
"""

import http.client
import random
import threading
import time
from decimal import Decimal

from test_framework.chain import flush_chain, mature_coinbases, outputs_to
from test_framework.giftcode import RpcError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true

ISSUER = "issuer"
CODES_PER_ITERATION = 8
CLIENT_THREADS = 8


class CrashTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-rpcthreads=16", "-rpcworkqueue=256", "-wallet=issuer", "-wallet=payee"]]

    def add_options(self, parser):
        parser.add_argument("--iterations", type=int, default=20, help="kill/restart cycles (default: 20)")

    # -- the storm -------------------------------------------------------------
    def storm(self, pending, iteration):
        """Redeems `pending` (each code twice) from CLIENT_THREADS threads and
        issues codes from one more, until the node is killed. Returns
        (acknowledged redemptions {id: reply}, acknowledged creations)."""
        work = [c for c in pending for _ in range(2)]
        random.shuffle(work)
        lock = threading.Lock()
        acks, created, errors = {}, [], []

        def redeemer():
            while True:
                with lock:
                    if not work:
                        return
                    code = work.pop()
                try:
                    r = self.node.call_or_error("redeemgiftcode", [code["code"], code["address"]], wallet=ISSUER)
                except (OSError, http.client.HTTPException):
                    return  # the node is gone
                with lock:
                    if isinstance(r, RpcError):
                        errors.append((code["id"], r))
                    else:
                        previous = acks.get(code["id"])
                        if previous is not None and previous["txid"] != r["txid"]:
                            errors.append((code["id"], "two txids %s %s" % (previous["txid"], r["txid"])))
                        acks[code["id"]] = r

        def issuer():
            amount = Decimal("0.002") + Decimal(iteration) * Decimal("0.0001")
            while not stop.is_set():
                try:
                    r = self.node.call_or_error("creategiftcode", [amount, 1, "storm-%d" % iteration], wallet=ISSUER)
                except (OSError, http.client.HTTPException):
                    return
                if isinstance(r, RpcError):
                    with lock:
                        errors.append(("creategiftcode", r))
                    return
                with lock:
                    created.extend(dict(c, amount=amount) for c in r["codes"])
                time.sleep(0.05)

        stop = threading.Event()
        threads = [threading.Thread(target=redeemer, daemon=True) for _ in range(CLIENT_THREADS)]
        threads.append(threading.Thread(target=issuer, daemon=True))
        for t in threads:
            t.start()
        delay = random.uniform(0.01, 0.4)
        time.sleep(delay)
        self.node.kill()
        stop.set()
        for t in threads:
            t.join(120)
            assert_true(not t.is_alive(), "a client thread hangs after the kill")
        assert_equal(errors, [], "errors during the storm")
        return acks, created, delay

    # -- the checks -----------------------------------------------------------
    def check(self, acks, what):
        w = self.node.wallet(ISSUER)
        info = w.getgiftcodeinfo()
        c = info["consistency"]
        assert_true(c["checked"], "%s: consistency check did not run: %s" % (what, c.get("error")))
        assert_equal((c["redeemed_without_payment"], c["payment_without_redemption"]), ([], []), what)
        assert_equal(c["clean"], True, what)

        for code_id, reply in acks.items():
            view = w.getgiftcode(code_id)
            assert_equal((view["state"], view["txid"], view["address"]),
                         ("redeemed", reply["txid"], self.codes[code_id]["address"]),
                         "%s: acknowledged redemption of %s" % (what, code_id))
        tags = self.node.tagged_payments(ISSUER)
        unknown = set(tags) - set(self.codes)
        assert_equal(unknown, set(), "%s: payments tagged with codes this test never saw" % what)
        redeemed_now = 0
        for code_id, code in self.codes.items():
            view = w.getgiftcode(code["code"])
            assert_equal(view["id"], code_id)
            if view["state"] == "redeemed":
                redeemed_now += 1
                assert_equal(view["address"], code["address"])
                assert_equal(view["amount"], code["amount"])
                known = self.redeemed.setdefault(code_id, view["txid"])
                assert_equal(view["txid"], known, "%s: the txid of %s changed" % (what, code_id))
                assert_equal(tags.get(code_id), {view["txid"]}, "%s: payments tagged with %s" % (what, code_id))
            else:
                assert_equal(view["state"], "issued", what)
                assert_true(code_id not in self.redeemed, "%s: %s is issued again" % (what, code_id))
                assert_true(code_id not in tags, "%s: an issued code %s has a payment" % (what, code_id))
        assert_equal(info["counts"]["redeemed"], redeemed_now, what)
        return redeemed_now

    def check_chain(self):
        """Scans the blocks mined since the last scan: at most one output to
        each payee address ever, and it is the recorded payment."""
        node = self.node
        by_address = {c["address"]: c for c in self.codes.values()}
        found = outputs_to(node, list(by_address), first_height=self.scanned_height + 1, include_mempool=False)
        self.scanned_height = node.height()
        for address, outs in found.items():
            self.on_chain.setdefault(address, []).extend((txid, value) for txid, value, _ in outs)
            code = by_address[address]
            if self.on_chain[address]:
                assert_equal(len(self.on_chain[address]), 1, "outputs to the payee of %s on chain: %r" % (
                    code["id"], self.on_chain[address]))
                assert_equal(self.on_chain[address][0], (self.redeemed.get(code["id"]), code["amount"]),
                             "the payment of %s on chain" % code["id"])

    # -- the test ---------------------------------------------------------------
    def run_test(self):
        node = self.node = self.nodes[0]
        w, payee = node.wallet(ISSUER), node.wallet("payee")
        self.codes = {}      # id -> {code, id, amount, address}
        self.redeemed = {}   # id -> txid, once seen redeemed
        self.on_chain = {}   # payee address -> [(txid, amount)] found in blocks
        start_height = node.height()
        self.log.info("fund: 150 mature coinbases for the issuer; flush the chain")
        mature_coinbases(node, ISSUER, 150)
        self.miner_address = w.getnewaddress()
        flush_chain(node)
        self.scanned_height = node.height()

        total_acks = 0
        unacknowledged = 0
        for it in range(self.options.iterations):
            amount = Decimal("0.01") + Decimal(it) * Decimal("0.001")
            for c in w.creategiftcode(amount, CODES_PER_ITERATION, "iteration-%d" % it)["codes"]:
                self.codes[c["id"]] = dict(c, amount=amount, address=payee.getnewaddress())
            pending = [c for c in self.codes.values() if c["id"] not in self.redeemed]
            acks, created, delay = self.storm(pending, it)
            node.start()
            for c in created:
                self.codes[c["id"]] = dict(c, address=payee.getnewaddress())
            redeemed_now = self.check(acks, "iteration %d" % it)
            newly = [i for i in self.redeemed if i in {c["id"] for c in pending}]
            unacknowledged += sum(1 for i in newly if i not in acks)
            total_acks += len(acks)
            self.log.info("iteration %d: killed after %.0f ms; %d pending, %d acknowledged, %d codes created in the "
                          "storm; %d of %d codes redeemed; consistency clean", it, delay * 1000, len(pending),
                          len(acks), len(created), redeemed_now, len(self.codes))
            node.mine(1, self.miner_address)
            flush_chain(node)
            self.check_chain()
        self.log.info("%d kills: %d redemptions acknowledged, %d committed without an acknowledgement",
                      self.options.iterations, total_acks, unacknowledged)

        self.log.info("redeem what is left, without kills")
        for n, code in enumerate(self.codes.values()):
            r = w.redeemgiftcode(code["code"], code["address"])
            if code["id"] in self.redeemed:
                assert_equal((r["txid"], r["replay"]), (self.redeemed[code["id"]], True))
            else:
                assert_equal((r["replay"], r["broadcast"]), (False, True))
            if n % 40 == 39:
                node.mine(1, self.miner_address)  # keep confirmed coins at hand
        self.check({}, "after the last redemptions")

        self.log.info("mine until every payment is confirmed")
        for _ in range(10):
            node.mine(1, self.miner_address)
            if all(w.getgiftcode(i)["confirmations"] >= 1 for i in self.codes):
                break
        for code_id in self.codes:
            view = w.getgiftcode(code_id)
            assert_true(view["confirmations"] >= 1, "payment of %s not confirmed: %r" % (code_id, view))
        self.check_chain()

        self.log.info("scan the chain: one output of exactly the amount per payee")
        found = outputs_to(node, [c["address"] for c in self.codes.values()], first_height=start_height)
        total = Decimal("0")
        for code_id, code in self.codes.items():
            assert_equal(found[code["address"]], [(self.redeemed[code_id], code["amount"], True)],
                         "outputs to the payee of %s" % code_id)
            total += code["amount"]
        info = w.getgiftcodeinfo()
        assert_equal(info["redeemed_amount"], total)
        assert_equal(info["counts"]["redeemed"], len(self.codes))
        assert_equal(info["unbroadcast"], [])

        self.log.info("a clean restart: still consistent")
        node.restart()
        self.check({}, "the final restart")


if __name__ == "__main__":
    CrashTest().main()
