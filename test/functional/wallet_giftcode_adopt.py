#!/usr/bin/env python3
"""A payment that was committed but that the wallet failed to take into
memory keeps its code redeemed: a second redemption to another address is
refused, and the same payment is put back into the wallet and paid once.

The node runs with -giftcodetestfault=adopt (regtest only), which makes the
wallet's adoption of every committed redemption payment throw, as a
BerkeleyBatch that cannot open would. Each code is redeemed, then redeemed
again to another address at once: the second call must get -405 and pay
nothing, the first payment must be in the wallet (put back from the
redeemed record, the same txid, tagged with its code), its coins must not
be spent by the next redemption, and after mining every holder is paid
exactly once. The debug log says each payment was put back.
"""

from decimal import Decimal

from test_framework.chain import mine_until_mempool_empty, outputs_to
from test_framework.giftcode import ERR_ALREADY_REDEEMED, PAYMENT_TAG
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true, wait_until

AMOUNT = Decimal("0.25")
CODES = 4


class AdoptFailureTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-giftcodetestfault=adopt"]]

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee = node.wallet("issuer"), node.wallet("miner"), node.wallet("payee")
        node.mine(101, wallet="miner")
        miner.sendtoaddress(issuer.getnewaddress(), 10)
        miner_address = miner.getnewaddress()
        node.mine(1, address=miner_address)
        first_height = node.height()
        codes = issuer.creategiftcode(AMOUNT, CODES, "adopt")["codes"]
        holders = [payee.getnewaddress() for _ in codes]

        payments = []
        spent = set()
        for code, holder in zip(codes, holders):
            self.log.info("redeem code %s; the wallet fails to take its payment", code["id"][:8])
            reply = issuer.redeemgiftcode(code["code"], holder)
            payments.append(reply["txid"])
            assert_equal(issuer.getgiftcode(code["id"])["state"], "redeemed")
            self.log.info("the same code to another address is refused and pays nothing")
            before = issuer.getbalance()
            assert_raises_rpc_error(ERR_ALREADY_REDEEMED, None, issuer.redeemgiftcode, code["code"],
                                    payee.getnewaddress())
            assert_equal(issuer.getbalance(), before)
            self.log.info("the payment is back in the wallet: same txid, tagged")
            wtx = issuer.gettransaction(reply["txid"])
            assert_equal(wtx.get(PAYMENT_TAG), code["id"])
            inputs = {(i["txid"], i["vout"]) for i in node.rpc("decoderawtransaction", wtx["hex"])["vin"]}
            assert_equal(inputs & spent, set(), "coins spent by two payments")
            spent |= inputs
            replay = issuer.redeemgiftcode(code["code"], holder)
            assert_equal((replay["txid"], replay["replay"]), (reply["txid"], True))
        wait_until(lambda: node.debug_log_contains("put back into the wallet"), what="the put-back is logged")

        self.log.info("mine until the mempool is empty: every holder paid exactly once")
        mine_until_mempool_empty(node, 
            miner_address, max_blocks=10,
            settled=lambda: all(issuer.gettransaction(t)["confirmations"] > 0 for t in payments))
        received = outputs_to(node, holders, first_height)
        for holder, txid in zip(holders, payments):
            assert_equal(received[holder], [(txid, AMOUNT, True)], "outputs to %s" % holder)
        info = issuer.getgiftcodeinfo()
        assert_equal((info["unbroadcast"], info["attention"]), ([], []))
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"],
                    "consistency clean: %r" % (info["consistency"],))
        assert_equal(info["counts"]["redeemed"], CODES)


if __name__ == "__main__":
    AdoptFailureTest().main()
