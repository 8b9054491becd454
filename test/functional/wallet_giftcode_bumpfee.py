#!/usr/bin/env python3
"""A payment replaced with bumpfee is followed as the code's payment: the
code names the replacement, a replay returns it, and the books count its
fee, before and after a restart.

On a node with -walletrbf=1 a code is redeemed and its payment bumped with
the wallet's bumpfee. Then getgiftcode's txid is the replacement, its fee
the replacement's fee (as gettransaction reports it), replaced_txids holds
the original, payment_state is mempool; a replay with the same address
returns the replacement's txid with broadcast true; another address gets
-405; getgiftcodeinfo has nothing unbroadcast or under attention, its
redeemed_fees is the replacement's fee and its consistency check is clean.
The same holds after a restart (once the node has reloaded its mempool);
then one block confirms the replacement (the module does not resubmit the
original on it), the holder received exactly one output of the amount, the
original is conflicted, and the books still count the replacement's fee.
"""

from decimal import Decimal

from test_framework.chain import outputs_to
from test_framework.giftcode import ERR_ALREADY_REDEEMED
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_greater_than, assert_raises_rpc_error, assert_true, wait_until

AMOUNT = Decimal("2")


class BumpFeeTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-walletrbf=1"]]

    def check_follows_replacement(self, what):
        node, issuer, code = self.node, self.issuer, self.code
        self.log.info("%s: the code names the replacement", what)
        view = issuer.getgiftcode(code["id"])
        assert_equal(view["txid"], self.replacement, "%s: getgiftcode txid is the replacement" % what)
        assert_equal(view["fee"], self.replacement_fee, "%s: getgiftcode fee is the replacement's" % what)
        assert_equal(view.get("replaced_txids"), [self.original], "%s: replaced_txids" % what)
        assert_equal(view.get("payment_state"), "mempool", "%s: payment_state" % what)
        listed = issuer.listgiftcodes("redeemed")["codes"]
        assert_equal([(c["id"], c["txid"], c.get("replaced_txids")) for c in listed],
                     [(code["id"], self.replacement, [self.original])], "%s: listgiftcodes" % what)
        again = issuer.redeemgiftcode(code["code"], self.holder)
        assert_equal((again["txid"], again["replay"], again["broadcast"]), (self.replacement, True, True),
                     "%s: replay" % what)
        assert_equal(again["fee"], self.replacement_fee, "%s: replay fee" % what)
        assert_raises_rpc_error(ERR_ALREADY_REDEEMED, None, issuer.redeemgiftcode, code["code"],
                                self.payee.getnewaddress())
        info = issuer.getgiftcodeinfo()
        assert_equal(info["unbroadcast"], [], "%s: unbroadcast" % what)
        assert_equal(info.get("attention"), [], "%s: attention" % what)
        assert_equal(info["redeemed_fees"], self.replacement_fee, "%s: redeemed_fees" % what)
        assert_equal(info["redeemed_amount"], AMOUNT)
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"],
                    "%s: consistency clean: %r" % (what, info["consistency"]))
        mempool = node.rpc("getrawmempool")
        assert_true(self.replacement in mempool and self.original not in mempool,
                    "%s: the replacement, not the original, is in the mempool" % what)

    def run_test(self):
        node = self.node = self.nodes[0]
        issuer = self.issuer = node.wallet("issuer")
        miner, payee = node.wallet("miner"), node.wallet("payee")
        self.payee = payee
        node.mine(101, wallet="miner")
        miner.sendtoaddress(issuer.getnewaddress(), 10)
        self.miner_address = miner.getnewaddress()
        node.mine(1, address=self.miner_address)
        first_height = node.height()

        self.log.info("redeem a code; bumpfee its payment")
        self.code = issuer.creategiftcode(AMOUNT, 1, "bump")["codes"][0]
        self.holder = payee.getnewaddress()
        paid = issuer.redeemgiftcode(self.code["code"], self.holder)
        assert_equal((paid["replay"], paid["broadcast"]), (False, True))
        self.original = paid["txid"]
        bumped = issuer.bumpfee(self.original)
        self.replacement = bumped["txid"]
        self.replacement_fee = -issuer.gettransaction(self.replacement)["fee"]
        assert_equal(self.replacement_fee, bumped["fee"])
        assert_greater_than(self.replacement_fee, paid["fee"], "the replacement pays more fee")
        assert_equal(issuer.gettransaction(self.original).get("replaced_by_txid"), self.replacement)
        self.check_follows_replacement("after bumpfee")

        self.log.info("restart")
        node.restart()
        node.sync_callbacks()
        wait_until(lambda: self.replacement in node.rpc("getrawmempool"), 60,
                   what="the replacement back in the mempool after the restart")
        self.check_follows_replacement("after a restart")

        self.log.info("mine: the replacement confirms, the holder is paid exactly once")
        node.mine(1, address=self.miner_address)
        node.sync_callbacks()
        view = issuer.getgiftcode(self.code["id"])
        assert_equal((view["txid"], view["confirmations"], view.get("payment_state")),
                     (self.replacement, 1, "confirmed"))
        assert_equal(issuer.gettransaction(self.original)["confirmations"], -1, "the original is conflicted")
        received = outputs_to(node, [self.holder], first_height)[self.holder]
        assert_equal(received, [(self.replacement, AMOUNT, True)], "outputs to the holder")
        info = issuer.getgiftcodeinfo()
        assert_equal((info["unbroadcast"], info.get("attention"), info["redeemed_fees"]),
                     ([], [], self.replacement_fee))
        assert_true(info["consistency"]["clean"], "consistency clean: %r" % (info["consistency"],))


if __name__ == "__main__":
    BumpFeeTest().main()
