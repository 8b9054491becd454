#!/usr/bin/env python3
"""Redemptions do not touch a flood of tiny outputs while larger coins pay,
use them when nothing else can, and -giftcodemininput is checked at startup.

The issuing wallet receives 600 outputs of 0.001 MONA besides two confirmed
10 MONA coins. With the default threshold (0.01 MONA) ten redemptions spend
only the large coins: no input of any payment is below the threshold. A
wallet holding nothing but outputs below the threshold (0.005 MONA, each
worth more than the fee to spend it) still redeems a code from them.
-giftcodemininput=0 is accepted; a node started with an invalid
-giftcodemininput refuses to start and says why.
"""

from decimal import Decimal

from test_framework.giftcode import NodeError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true

DUST = Decimal("0.001")
SMALL = Decimal("0.005")  # below the threshold, but worth more than spending it costs
THRESHOLD = Decimal("0.01")
WALLETS = ["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-wallet=poor"]


class DustTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [WALLETS + ["-txindex"]]

    def input_values(self, node, txid):
        values = []
        for vin in node.rpc("getrawtransaction", txid, True)["vin"]:
            parent = node.rpc("getrawtransaction", vin["txid"], True)
            values.append(Decimal(str(parent["vout"][vin["vout"]]["value"])))
        return values

    def flood(self, node, wallet, count, amount=DUST):
        miner = node.wallet("miner")
        addresses = [node.rpc("getnewaddress", wallet=wallet) for _ in range(count)]
        for start in range(0, count, 100):
            miner.sendmany("", {a: amount for a in addresses[start:start + 100]})
        node.mine(1, wallet="miner")

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee, poor = (node.wallet(n) for n in ("issuer", "miner", "payee", "poor"))
        node.mine(110, wallet="miner")
        for _ in range(2):
            miner.sendtoaddress(issuer.getnewaddress(), 10)
        node.mine(1, wallet="miner")
        self.log.info("flood the issuer with 600 outputs of %s MONA", DUST)
        self.flood(node, "issuer", 600)
        assert_equal(len([u for u in issuer.listunspent() if Decimal(str(u["amount"])) == DUST]), 600)

        self.log.info("ten redemptions spend only outputs of at least %s MONA", THRESHOLD)
        codes = issuer.creategiftcode("0.5", 10, "dust")["codes"]
        for c in codes:
            r = issuer.redeemgiftcode(c["code"], payee.getnewaddress())
            assert_true(r["broadcast"])
            values = self.input_values(node, r["txid"])
            assert_true(min(values) >= THRESHOLD, "payment %s spends %s" % (r["txid"], values))
        assert_equal(len([u for u in issuer.listunspent(0) if Decimal(str(u["amount"])) == DUST]), 600)

        self.log.info("a wallet of nothing but outputs below the threshold still pays, from them")
        self.flood(node, "poor", 100, SMALL)
        code = poor.creategiftcode("0.05")["codes"][0]
        r = poor.redeemgiftcode(code["code"], payee.getnewaddress())
        assert_true(r["broadcast"])
        values = self.input_values(node, r["txid"])
        assert_true(len(values) >= 10 and max(values) == SMALL, "paid from %d small outputs" % len(values))

        self.log.info("-giftcodemininput=0 is accepted, and redemptions still pay")
        node.restart(WALLETS + ["-txindex", "-giftcodemininput=0"])
        code = poor.creategiftcode("0.05")["codes"][0]
        assert_true(poor.redeemgiftcode(code["code"], payee.getnewaddress())["broadcast"])

        self.log.info("an invalid -giftcodemininput stops the node at startup")
        node.stop()
        for bad in ("abc", "-1", "200000000"):
            try:
                node.start(WALLETS + ["-giftcodemininput=%s" % bad], timeout=60)
            except NodeError as e:
                assert_true("-giftcodemininput" in str(e), "error names the option: %s" % e)
            else:
                raise AssertionError("node started with -giftcodemininput=%s" % bad)
        node.start(WALLETS)


if __name__ == "__main__":
    DustTest().main()
