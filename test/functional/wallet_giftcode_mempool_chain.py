#!/usr/bin/env python3
"""A committed redemption payment that the mempool refuses is said so, kept
visible, resubmitted when a block connects, and never paid twice.

The issuing wallet holds a single confirmed coin. Thirty redemptions in a row
without a block chain each payment on the previous one's change: the first
25 enter the mempool, the 26th is committed but refused with
"too-long-mempool-chain" (ancestor limit 25). Its reply says broadcast false
and why, getgiftcode shows the error, getgiftcodeinfo lists it under
unbroadcast, and the code stays redeemed. The next redemption finds no
spendable coin and fails with -6, recording nothing. Mining one block
confirms the 25 and the module resubmits the 26th, which then confirms with
the next block; the remaining codes redeem normally. At the end every code
has exactly one payment and the payees hold exactly the redeemed amount.
It also checks that a payment is built from confirmed coins while there are
any: with two confirmed coins, two redemptions in a row both spend a
confirmed coin rather than the first one's change.
"""

from decimal import Decimal

from test_framework.giftcode import ERR_INSUFFICIENT_FUNDS
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true, wait_until

AMOUNT = Decimal("0.1")
CODES = 30


class MempoolChainTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee"]]

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee = node.wallet("issuer"), node.wallet("miner"), node.wallet("payee")
        self.log.info("mine 101 blocks to the miner, give the issuer one confirmed 10 MONA coin")
        node.mine(101, wallet="miner")
        miner.sendtoaddress(issuer.getnewaddress(), 10)
        node.mine(1, wallet="miner")
        assert_equal(len(issuer.listunspent(1)), 1)

        codes = issuer.creategiftcode(AMOUNT, CODES, "chain")["codes"]
        addresses = [payee.getnewaddress() for _ in codes]
        replies = []
        self.log.info("redeem 26 codes without a block: 25 enter the mempool, the 26th is refused")
        for i in range(26):
            replies.append(issuer.redeemgiftcode(codes[i]["code"], addresses[i]))
        for r in replies[:25]:
            assert_true(r["broadcast"], "payment in the mempool")
        refused = replies[25]
        assert_equal(refused["broadcast"], False)
        assert_true("too-long-mempool-chain" in refused["broadcast_error"], refused["broadcast_error"])
        assert_true(refused["txid"] not in node.rpc("getrawmempool"), "refused payment is not in the mempool")
        view = issuer.getgiftcode(codes[25]["id"])
        assert_equal(view["state"], "redeemed")
        assert_equal(view["txid"], refused["txid"])
        assert_true("too-long-mempool-chain" in view["broadcast_error"])
        info = issuer.getgiftcodeinfo()
        assert_equal([u["txid"] for u in info["unbroadcast"]], [refused["txid"]])
        assert_equal(info["counts"]["redeemed"], 26)

        self.log.info("a replay of the refused redemption says the same and pays nothing new")
        again = issuer.redeemgiftcode(codes[25]["code"], addresses[25])
        assert_equal((again["replay"], again["txid"], again["broadcast"]), (True, refused["txid"], False))

        self.log.info("the 27th finds no spendable coin: -6, and nothing is recorded")
        before = (issuer.getgiftcode(codes[26]["id"]), sorted(node.tagged_payments("issuer")))
        assert_raises_rpc_error(ERR_INSUFFICIENT_FUNDS, None, issuer.redeemgiftcode, codes[26]["code"], addresses[26])
        assert_equal((issuer.getgiftcode(codes[26]["id"]), sorted(node.tagged_payments("issuer"))), before)

        self.log.info("one block confirms the 25; the module resubmits the 26th on that block")
        node.mine(1, wallet="miner")
        wait_until(lambda: refused["txid"] in node.rpc("getrawmempool"), 30, what="the refused payment resubmitted")
        wait_until(lambda: issuer.getgiftcodeinfo()["unbroadcast"] == [], 30, what="unbroadcast to empty")
        assert_equal(issuer.getgiftcode(codes[25]["id"])["in_mempool"], True)
        node.mine(1, wallet="miner")
        assert_equal(issuer.getgiftcode(codes[25]["id"])["confirmations"], 1)

        self.log.info("the remaining codes redeem normally")
        for i in range(26, CODES):
            r = issuer.redeemgiftcode(codes[i]["code"], addresses[i])
            assert_true(r["broadcast"] and not r["replay"])
        node.mine(1, wallet="miner")

        self.log.info("every code paid exactly once; payees hold exactly the redeemed amount")
        tags = node.tagged_payments("issuer")
        assert_equal(sorted(tags), sorted(c["id"] for c in codes))
        for ident, txids in tags.items():
            assert_equal(len(txids), 1, "payments of %s" % ident)
        assert_equal(payee.getbalance(), AMOUNT * CODES)
        assert_equal(Decimal(str(issuer.getgiftcodeinfo()["redeemed_amount"])), AMOUNT * CODES)

        self.log.info("with confirmed coins at hand, consecutive payments spend them, not fresh change")
        for _ in range(2):
            miner.sendtoaddress(issuer.getnewaddress(), 5)
        node.mine(1, wallet="miner")
        more = issuer.creategiftcode(AMOUNT, 2, "confirmed-first")["codes"]
        paid = [issuer.redeemgiftcode(c["code"], payee.getnewaddress())["txid"] for c in more]
        for txid in paid:
            parents = {vin["txid"] for vin in node.rpc("getrawtransaction", txid, True)["vin"]}
            assert_true(not parents & set(paid), "payment %s spends another redemption's change" % txid)
            for parent in parents:
                assert_true(issuer.gettransaction(parent)["confirmations"] >= 1, "input from a confirmed coin")


if __name__ == "__main__":
    MempoolChainTest().main()
