#!/usr/bin/env python3
"""Every redemption payment sends something to its code's payment key, even
when the coins it picks match the amount exactly, so a restored wallet can
recognise it; and that output is the wallet's own.

Two issuing wallets, each with a coin worth exactly a code's amount plus the
fee of a payment without change (the wallet's coin selection then makes no
change):

- "spare" also holds a confirmed 1 MONA coin. The payment spends both coins,
  and the change (about 1 MONA) goes to the payment key.
- "small" also holds only coins below 0.01 MONA. The payment gets one more
  output, the smallest that is not dust, to the payment key.

In both, the output to the payment key is the wallet's (getaddressinfo
ismine), the holder gets exactly the amount, and after the backup taken
before the redemption is put back, the code reads redeemed with that payment.
"""

import os
import shutil
from decimal import Decimal

from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true, wait_until

AMOUNT = Decimal("0.5")


class PaymentKeyTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=miner", "-wallet=payee"]]

    def run_test(self):
        node = self.node = self.nodes[0]
        self.miner = node.wallet("miner")
        self.payee = node.wallet("payee")
        node.mine(101, wallet="miner")
        self.exact_fee = self.fee_without_change()
        self.log.info("a payment of %s MONA without change costs %s MONA in fees", AMOUNT, self.exact_fee)
        self.check("spare", [Decimal("1")], extra_inputs=1)
        self.check("small", [Decimal("0.005")] * 5, extra_inputs=None)

    def fee_without_change(self):
        """The fee the wallet pays for one P2WPKH input and one output."""
        probe = "feeprobe"
        self.node.rpc("createwallet", probe)
        self.miner.sendtoaddress(self.node.rpc("getnewaddress", wallet=probe), 2)
        self.node.mine(1, wallet="miner")
        txid = self.node.rpc("sendtoaddress", self.payee.getnewaddress(), AMOUNT, wallet=probe)
        sent = self.node.rpc("gettransaction", txid, wallet=probe)
        decoded = self.node.rpc("decoderawtransaction", sent["hex"])
        assert_equal(len(decoded["vout"]), 2, "fee probe: a payment with change")
        # Without the change output (31 vbytes for P2WPKH) the fee is smaller.
        feerate = -sent["fee"] / Decimal(decoded["vsize"])
        self.node.rpc("unloadwallet", probe)
        return (feerate * (decoded["vsize"] - 31)).quantize(Decimal("0.00000001"))

    def check(self, name, others, extra_inputs):
        node = self.node
        node.rpc("createwallet", name)
        wallet = node.wallet(name)
        self.log.info("%s: a coin of exactly %s MONA, and %s", name, AMOUNT + self.exact_fee, others)
        outputs = {wallet.getnewaddress(): AMOUNT + self.exact_fee}
        for value in others:
            outputs[wallet.getnewaddress()] = value
        self.miner.sendmany("", outputs)
        node.mine(1, wallet="miner")
        code = wallet.creategiftcode(AMOUNT, 1, name)["codes"][0]
        backup = os.path.join(node.datadir, name + "-backup.dat")
        wallet.backupwallet(backup)
        holder = self.payee.getnewaddress()
        paid = wallet.redeemgiftcode(code["code"], holder)
        tx = node.rpc("getrawtransaction", paid["txid"], True)
        to_holder = [o for o in tx["vout"] if o["scriptPubKey"].get("addresses") == [holder]]
        assert_equal([o["value"] for o in to_holder], [AMOUNT], "the holder gets the amount")
        mine = [o for o in tx["vout"] if o["scriptPubKey"].get("addresses") != [holder]
                and wallet.getaddressinfo(o["scriptPubKey"]["addresses"][0])["ismine"]]
        assert_true(mine, "an output of the payment is the wallet's")
        if extra_inputs is not None:
            assert_equal(len(tx["vin"]), 1 + extra_inputs, "the exact coin and a spare one")
            assert_equal(len(tx["vout"]), 2, "the holder's output and the change")
        else:
            dust = [o for o in mine if o["value"] < Decimal("0.00001")]
            assert_true(dust, "the smallest output that is not dust goes to the payment key: %r" % tx["vout"])
        self.log.info("%s: %d inputs, outputs %s", name, len(tx["vin"]), [str(o["value"]) for o in tx["vout"]])

        self.log.info("%s: the backup from before the redemption, put back, finds it", name)
        node.mine(1, wallet="miner")
        node.rpc("unloadwallet", name)
        shutil.copyfile(backup, os.path.join(node.walletdir, name, "wallet.dat"))
        node.rpc("loadwallet", name)
        wait_until(lambda: wallet.getgiftcode(code["id"])["state"] == "redeemed", what="the payment found")
        view = wallet.getgiftcode(code["id"])
        assert_equal((view["txid"], view["address"], view["found_on_chain"]), (paid["txid"], holder, True))


if __name__ == "__main__":
    PaymentKeyTest().main()
