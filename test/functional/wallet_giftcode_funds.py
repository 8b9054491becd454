#!/usr/bin/env python3
"""A redemption the wallet cannot pay right now says what to do: retry
later (-408 funds pending, -10 node catching up) or fund the wallet (-6);
none of them pays anything, and each pays once the cause is gone.

- A wallet whose coins are all locked with `lockunspent false` gets -408
  (funds_pending); after `lockunspent true` the same code pays.
- A wallet whose only funds are unconfirmed coins from another wallet gets
  -408; after a block it pays.
- A wallet whose only funds are an immature coinbase output gets -408;
  once the coinbase matures it pays.
- A wallet whose total (confirmed, unconfirmed and locked coins together)
  is below the amount gets -6 (insufficient_funds); a code it could pay
  from that total, but not from coins it can spend now, gets -408.
- A node started with a tip older than -maxtipage (here 1 second, with the
  clock set 100 seconds past the tip by -mocktime) is in initial block
  download: redeemgiftcode answers -10 and pays nothing; after one new
  block it pays.

Each refusal leaves the code issued, adds no wallet transaction and no
mempool entry; -408 and -6 are counted in failed_redemptions under their
reason names. While the node is in initial block download only
redeemgiftcode is called.
"""

from decimal import Decimal

from test_framework.giftcode import ERR_CATCHING_UP, ERR_FUNDS_PENDING, ERR_INSUFFICIENT_FUNDS, REASON_FOR_CODE
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true, wait_until

WALLETS = ["issuer", "pending", "young", "poor", "miner", "payee"]
AMOUNT = Decimal("1")


class FundsTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=%s" % w for w in WALLETS]]

    def refused(self, code, wallet, entry):
        """Redeeming `entry` from `wallet` fails with `code`, pays nothing, and
        is counted in failed_redemptions under the code's reason name."""
        node = self.node
        w = node.wallet(wallet)
        before = (node.tagged_payments(wallet), sorted(node.rpc("getrawmempool")))
        failed_before = w.getgiftcodeinfo()["failed_redemptions"]
        assert_raises_rpc_error(code, None, w.redeemgiftcode, entry["code"], self.payee.getnewaddress())
        assert_equal(w.getgiftcode(entry["id"])["state"], "issued", "the refused code stays issued")
        after = (node.tagged_payments(wallet), sorted(node.rpc("getrawmempool")))
        assert_equal(after, before, "payments and mempool after a refused redemption")
        reason = REASON_FOR_CODE[code]
        expected = dict(failed_before)
        expected[reason] = expected.get(reason, 0) + 1
        assert_equal(w.getgiftcodeinfo()["failed_redemptions"], expected, "failed_redemptions")

    def pays(self, wallet, entry):
        w = self.node.wallet(wallet)
        paid = w.redeemgiftcode(entry["code"], self.payee.getnewaddress())
        assert_equal((paid["amount"], paid["replay"], paid["broadcast"]), (AMOUNT, False, True))
        assert_true(paid["txid"] in self.node.rpc("getrawmempool"), "the payment is in the mempool")
        return paid

    def run_test(self):
        node = self.node = self.nodes[0]
        issuer, pending, young, poor, miner, payee = (node.wallet(w) for w in WALLETS)
        self.payee = payee
        miner_address = miner.getnewaddress()
        node.mine(110, address=miner_address)
        code = {w: node.wallet(w).creategiftcode(AMOUNT, 2, "funds")["codes"] for w in ("issuer", "pending", "young")}

        self.log.info("locked coins: every coin of the issuer locked with lockunspent false -> -408")
        miner.sendtoaddress(issuer.getnewaddress(), 5)
        miner.sendtoaddress(issuer.getnewaddress(), 5)
        node.mine(1, address=miner_address)
        coins = issuer.listunspent(1)
        assert_equal(len(coins), 2)
        issuer.lockunspent(False, [{"txid": c["txid"], "vout": c["vout"]} for c in coins])
        self.refused(ERR_FUNDS_PENDING, "issuer", code["issuer"][0])
        self.log.info("unlocked, the same code pays")
        issuer.lockunspent(True)
        self.pays("issuer", code["issuer"][0])

        self.log.info("unconfirmed coins from another wallet only -> -408; after a block it pays")
        miner.sendtoaddress(pending.getnewaddress(), 5)
        assert_equal(pending.getbalances()["mine"]["trusted"], 0)
        self.refused(ERR_FUNDS_PENDING, "pending", code["pending"][0])
        node.mine(1, address=miner_address)
        node.sync_callbacks()
        self.pays("pending", code["pending"][0])

        self.log.info("an immature coinbase only -> -408; once it matures it pays")
        node.mine(1, address=young.getnewaddress())
        assert_true(young.getbalances()["mine"]["immature"] > 0, "the coinbase is immature")
        self.refused(ERR_FUNDS_PENDING, "young", code["young"][0])
        node.mine(100, address=miner_address)
        node.sync_callbacks()
        self.pays("young", code["young"][0])

        self.log.info("too little in total -> -6; enough only counting coins not spendable now -> -408")
        small = miner.sendtoaddress(poor.getnewaddress(), Decimal("0.5"))
        node.mine(1, address=miner_address)
        miner.sendtoaddress(poor.getnewaddress(), Decimal("0.2"))
        poor.lockunspent(False, [{"txid": small, "vout": c["vout"]} for c in poor.listunspent(1)
                                 if c["txid"] == small])
        big = poor.creategiftcode(AMOUNT, 1, "too much")["codes"][0]
        within = poor.creategiftcode(Decimal("0.6"), 1, "pending")["codes"][0]
        self.refused(ERR_INSUFFICIENT_FUNDS, "poor", big)
        self.refused(ERR_FUNDS_PENDING, "poor", within)
        node.mine(1, address=miner_address)
        node.sync_callbacks()

        self.log.info("initial block download: restart with a tip older than -maxtipage")
        node.mine(1, address=miner_address)
        node.sync_callbacks()
        assert_equal(node.rpc("getrawmempool"), [])
        tip_time = node.rpc("getblock", node.rpc("getbestblockhash"))["time"]
        node.restart(self.extra_args[0] + ["-maxtipage=1", "-mocktime=%d" % (tip_time + 100)])
        assert_equal(node.rpc("getblockchaininfo")["initialblockdownload"], True)
        # Only redeemgiftcode is asked while the node catches up: whether the
        # other gift-code RPCs answer then is not what this test is about.
        before = (node.tagged_payments("issuer"), node.rpc("getrawmempool"))
        assert_raises_rpc_error(ERR_CATCHING_UP, None, issuer.redeemgiftcode, code["issuer"][1]["code"],
                                payee.getnewaddress())
        assert_equal((node.tagged_payments("issuer"), node.rpc("getrawmempool")), before,
                     "payments and mempool after a redemption refused during initial block download")
        self.log.info("after a new block the node has caught up and the code pays")
        node.mine(1, address=miner_address)
        node.sync_callbacks()
        wait_until(lambda: not node.rpc("getblockchaininfo")["initialblockdownload"], 30,
                   what="the end of initial block download")
        assert_equal(issuer.getgiftcode(code["issuer"][1]["id"])["state"], "issued")
        self.pays("issuer", code["issuer"][1])


if __name__ == "__main__":
    FundsTest().main()
