#!/usr/bin/env python3
"""Concurrent redemptions of one code pay once.

Each round releases 100+ client threads at the same instant (a barrier),
each sending its own HTTP request:

1. 120 redemptions of one code to one address: exactly one payment, every
   caller got its txid, and exactly one reply has replay false.
2. one code, 60 callers with one address and 60 callers with 60 other
   addresses: exactly one payment, to the winner's address; every caller
   with that address got its txid (replay true except one); every other
   caller got -405, and failed_redemptions counted each of them.
3. 20 codes at once, 6 callers each (5 with the code's address, 1 with
   another): per code as in 2.
4. 10 codes, each raced by 8 redemptions and 2 cancellations: per code
   exactly one side wins, and every reply agrees with the final state
   (redeemed: txid for the redeemers, -405 for the cancels; cancelled: -406
   for the redeemers, one cancel succeeds and the other gets -406).
5. the same as 1 on a node with its default 4 RPC threads and work queue
   of 16: rejected requests (HTTP 500 "Work queue depth exceeded") are
   retried by the client, as a client must, and still one payment.

After the rounds: one tagged wallet transaction per redeemed code and none
for the others, every payee address received exactly the code's amount on
chain (or nothing if it lost), getgiftcodeinfo's redeemed_amount equals the
sum, and the consistency check is clean after a restart.
"""

import random
import threading
from decimal import Decimal

from test_framework.chain import mature_coinbases, outputs_to
from test_framework.giftcode import ERR_ALREADY_REDEEMED, ERR_CANCELLED, RpcError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true, run_threads

ISSUER = "issuer"
FAST_RPC = ["-rpcthreads=16", "-rpcworkqueue=256"]
WALLETS = ["-wallet=issuer", "-wallet=payee"]


class ConcurrencyTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [FAST_RPC + WALLETS]

    def fire(self, calls):
        """Runs every call (method, *args) in its own thread, all released at
        once. Returns [(call, result or RpcError)] in the order given."""
        node = self.node
        barrier = threading.Barrier(len(calls))
        results = [None] * len(calls)

        def client(i, call):
            def run():
                barrier.wait(60)
                try:
                    results[i] = node.rpc(call[0], *call[1:], wallet=ISSUER)
                except RpcError as e:
                    results[i] = e
            return run

        run_threads([client(i, c) for i, c in enumerate(calls)])
        return list(zip(calls, results))

    def check_one_payment(self, code, results):
        """Redemption replies for one code: one payment, consistent replies.
        Returns the winning reply."""
        w = self.node.wallet(ISSUER)
        view = w.getgiftcode(code["id"])
        assert_equal(view["state"], "redeemed", "code %s" % code["id"])
        winners = [r for _, r in results if not isinstance(r, RpcError) and not r["replay"]]
        assert_equal(len(winners), 1, "replies with replay false for one code")
        win = winners[0]
        assert_equal((win["txid"], win["address"]), (view["txid"], view["address"]))
        refused = 0
        for call, r in results:
            address = call[2]
            if address == view["address"]:
                assert_true(not isinstance(r, RpcError), "a caller with the winning address got %r" % (r,))
                assert_equal((r["txid"], r["id"], r["amount"], r["fee"]),
                             (view["txid"], code["id"], view["amount"], view["fee"]))
            else:
                assert_true(isinstance(r, RpcError) and r.code == ERR_ALREADY_REDEEMED,
                            "a caller with another address got %r, not -405" % (r,))
                refused += 1
        self.expected_refusals += refused
        self.paid[code["id"]] = (view["txid"], view["address"], view["amount"])
        return win

    def check_tags(self):
        tags = self.node.tagged_payments(ISSUER)
        expected = {code_id: {txid} for code_id, (txid, _, _) in self.paid.items()}
        assert_equal(tags, expected, "exactly one tagged payment per redeemed code")

    def run_test(self):
        node = self.node = self.nodes[0]
        w, payee = node.wallet(ISSUER), node.wallet("payee")
        self.paid = {}
        self.expected_refusals = 0
        self.log.info("fund: 80 mature coinbases for the issuer")
        start_height = node.height()
        mature_coinbases(node, ISSUER, 80)
        self.miner_address = payee.getnewaddress()

        self.log.info("round 1: 120 concurrent redemptions of one code to one address")
        code = w.creategiftcode(Decimal("0.7"))["codes"][0]
        address = payee.getnewaddress()
        txids_before = set(t["txid"] for t in w.listtransactions("*", 100000))
        results = self.fire([("redeemgiftcode", code["code"], address)] * 120)
        win = self.check_one_payment(code, results)
        assert_equal(sum(1 for _, r in results if r["replay"]), 119)
        assert_equal(set(t["txid"] for t in w.listtransactions("*", 100000)) - txids_before, {win["txid"]})
        self.node.sync_callbacks()  # the payee wallet learns of the payment asynchronously
        assert_equal(payee.getreceivedbyaddress(address, 0), Decimal("0.7"))
        self.check_tags()

        self.log.info("round 2: one code, 60 callers with one address, 60 with other addresses")
        code = w.creategiftcode(Decimal("0.8"))["codes"][0]
        same = payee.getnewaddress()
        calls = [("redeemgiftcode", code["code"], same)] * 60
        calls += [("redeemgiftcode", code["code"], payee.getnewaddress()) for _ in range(60)]
        random.shuffle(calls)
        results = self.fire(calls)
        win = self.check_one_payment(code, results)
        self.log.info("round 2 winner: %s address", "the shared" if win["address"] == same else "a single-caller")
        self.node.sync_callbacks()
        for call, _ in results:
            got = payee.getreceivedbyaddress(call[2], 0)
            assert_equal(got, Decimal("0.8") if call[2] == win["address"] else Decimal("0"))
        self.check_tags()

        self.log.info("round 3: 20 codes at once, 6 callers each")
        codes = w.creategiftcode(Decimal("0.05"), 20)["codes"]
        calls = []
        for c in codes:
            a = payee.getnewaddress()
            calls += [("redeemgiftcode", c["code"], a)] * 5 + [("redeemgiftcode", c["code"], payee.getnewaddress())]
        random.shuffle(calls)
        results = self.fire(calls)
        for c in codes:
            self.check_one_payment(c, [(call, r) for call, r in results if call[1] == c["code"]])
        self.check_tags()

        self.log.info("round 4: 10 codes, each raced by 8 redemptions and 2 cancellations")
        codes = w.creategiftcode(Decimal("0.06"), 10)["codes"]
        calls = []
        for c in codes:
            a = payee.getnewaddress()
            calls += [("redeemgiftcode", c["code"], a)] * 8 + [("cancelgiftcode", c["id"])] * 2
        random.shuffle(calls)
        results = self.fire(calls)
        outcomes = {"redeemed": 0, "cancelled": 0}
        for c in codes:
            mine = [(call, r) for call, r in results if call[1] in (c["code"], c["id"])]
            redeems = [(call, r) for call, r in mine if call[0] == "redeemgiftcode"]
            cancels = [r for call, r in mine if call[0] == "cancelgiftcode"]
            state = w.getgiftcode(c["id"])["state"]
            outcomes[state] += 1
            if state == "redeemed":
                self.check_one_payment(c, redeems)
                for r in cancels:
                    assert_true(isinstance(r, RpcError) and r.code == ERR_ALREADY_REDEEMED,
                                "a cancel that lost to a redemption got %r, not -405" % (r,))
            else:
                assert_equal(state, "cancelled")
                for _, r in redeems:
                    assert_true(isinstance(r, RpcError) and r.code == ERR_CANCELLED,
                                "a redemption that lost to a cancel got %r, not -406" % (r,))
                self.expected_refusals_cancelled = getattr(self, "expected_refusals_cancelled", 0) + len(redeems)
                ok = [r for r in cancels if not isinstance(r, RpcError)]
                assert_equal(len(ok), 1, "exactly one cancel succeeds")
                assert_equal(ok[0]["state"], "cancelled")
                for r in cancels:
                    if isinstance(r, RpcError):
                        assert_equal(r.code, ERR_CANCELLED, "the losing cancel")
        self.log.info("round 4 outcomes: %s", outcomes)
        self.check_tags()

        info = w.getgiftcodeinfo()
        assert_equal(info["failed_redemptions"].get("already_redeemed", 0), self.expected_refusals)
        assert_equal(info["failed_redemptions"].get("cancelled", 0), getattr(self, "expected_refusals_cancelled", 0))

        self.log.info("round 5: the node's default 4 RPC threads and work queue of 16, clients retry")
        node.restart(WALLETS)
        code = w.creategiftcode(Decimal("0.9"))["codes"][0]
        address = payee.getnewaddress()
        results = self.fire([("redeemgiftcode", code["code"], address)] * 100)
        self.check_one_payment(code, results)
        with open(node.debug_log, errors="replace") as f:
            rejected = f.read().count("work queue depth exceeded")
        self.log.info("round 5: %d requests were rejected by the full work queue and retried", rejected)
        self.check_tags()

        self.log.info("mine: every payment confirms; every payee got exactly its amount on chain")
        node.mine(1, self.miner_address)
        expected_total = Decimal("0")
        for code_id, (txid, addr, amount) in self.paid.items():
            assert_true(w.getgiftcode(code_id)["confirmations"] >= 1, "payment of %s confirmed" % code_id)
            expected_total += amount
        found = outputs_to(node, [addr for _, addr, _ in self.paid.values()], first_height=start_height)
        for code_id, (txid, addr, amount) in self.paid.items():
            assert_equal([(t, v) for t, v, _ in found[addr]], [(txid, amount)], "outputs to %s" % addr)
        info = w.getgiftcodeinfo()
        assert_equal(info["redeemed_amount"], expected_total)
        assert_equal(info["counts"]["redeemed"], len(self.paid))
        assert_equal(info["counts"]["cancelled"], outcomes["cancelled"])

        self.log.info("restart: the ledger is consistent with the wallet")
        node.restart()
        info = w.getgiftcodeinfo()
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"], "consistency clean")
        assert_equal(info["redeemed_amount"], expected_total)
        self.check_tags()


if __name__ == "__main__":
    ConcurrencyTest().main()
