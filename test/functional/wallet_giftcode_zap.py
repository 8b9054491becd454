#!/usr/bin/env python3
"""A payment the wallet lost with -zapwallettxes is put back from its
gift-code record, the same transaction, before the next redemption is
served, so its coins are not spent twice.

The issuing wallet holds a single confirmed coin. A code is redeemed and
its payment stays unconfirmed; the node restarts with -zapwallettxes=1
(only the issuing wallet loaded, as the node requires), which drops
unconfirmed transactions from the wallet and empties the mempool. Right
after the restart another code is redeemed. The first payment must be back
in the wallet under its own txid (gettransaction finds it, tagged with its
code), and the second payment must not spend any coin the first one
spends. (Should the second redemption be told -408, funds pending, because
the only coin left is the first payment's unconfirmed change, it is tried
again after a block.) After mining until the mempool is empty both
payments are confirmed, neither is conflicted, each holder received
exactly one output of the code's amount, nothing is unbroadcast or under
attention, and the consistency check is clean.
"""

from decimal import Decimal

from test_framework.chain import flush_chain, mine_until_mempool_empty, outputs_to
from test_framework.giftcode import ERR_FUNDS_PENDING, PAYMENT_TAG, RpcError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true

AMOUNT = Decimal("0.5")


class ZapTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee"]]

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee = node.wallet("issuer"), node.wallet("miner"), node.wallet("payee")
        self.log.info("the issuer holds one confirmed coin")
        node.mine(101, wallet="miner")
        miner.sendtoaddress(issuer.getnewaddress(), 10)
        miner_address = miner.getnewaddress()
        node.mine(1, address=miner_address)
        assert_equal(len(issuer.listunspent(1)), 1)
        first_height = node.height()
        codes = issuer.creategiftcode(AMOUNT, 2, "zap")["codes"]
        holders = [payee.getnewaddress(), payee.getnewaddress()]

        self.log.info("redeem the first code; its payment stays unconfirmed")
        first = issuer.redeemgiftcode(codes[0]["code"], holders[0])
        assert_equal(first["broadcast"], True)
        first_inputs = {(i["txid"], i["vout"]) for i in node.rpc("getrawtransaction", first["txid"], True)["vin"]}
        flush_chain(node)

        self.log.info("restart with -zapwallettxes=1: the wallet drops unconfirmed transactions")
        node.restart(["-wallet=issuer", "-zapwallettxes=1"])

        self.log.info("right away, redeem the second code")
        second = None
        for attempt in range(3):
            try:
                second = issuer.redeemgiftcode(codes[1]["code"], holders[1])
                break
            except RpcError as e:
                if e.code != ERR_FUNDS_PENDING:
                    raise
                self.log.info("funds pending (%s); mine a block and try again", e.message)
                node.mine(1, address=miner_address)
                node.sync_callbacks()
        assert_true(second is not None, "the second code redeemed")
        assert_equal(second["replay"], False)

        self.log.info("the second payment spends no coin the first one spends")
        second_inputs = {(i["txid"], i["vout"])
                         for i in node.rpc("decoderawtransaction", issuer.gettransaction(second["txid"])["hex"])["vin"]}
        assert_equal(second_inputs & first_inputs, set(), "coins spent by both payments")
        self.log.info("the first payment is back in the wallet: same txid, tagged with its code")
        try:
            wtx = issuer.gettransaction(first["txid"])
        except RpcError as e:
            raise AssertionError("the first payment %s is not back in the wallet after -zapwallettxes: %s" % (
                first["txid"], e))
        assert_equal(wtx.get(PAYMENT_TAG), codes[0]["id"], "tag of the first payment")
        assert_equal(issuer.getgiftcode(codes[0]["id"])["txid"], first["txid"])

        self.log.info("mine until the mempool is empty: both payments confirmed, each holder paid once")
        payments = [first["txid"], second["txid"]]
        mine_until_mempool_empty(node, 
            miner_address, max_blocks=10,
            settled=lambda: all(issuer.gettransaction(t)["confirmations"] != 0 for t in payments))
        for code, txid in zip(codes, payments):
            view = issuer.getgiftcode(code["id"])
            assert_equal((view["txid"], view["conflicted"]), (txid, False))
            assert_true(view["confirmations"] >= 1, "payment %s confirmed" % txid)
            assert_equal(view.get("payment_state"), "confirmed")
        received = outputs_to(node, holders, first_height)
        for holder, txid in zip(holders, payments):
            assert_equal(received[holder], [(txid, AMOUNT, True)], "outputs to %s" % holder)
        info = issuer.getgiftcodeinfo()
        assert_equal((info["unbroadcast"], info.get("attention")), ([], []))
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"],
                    "consistency clean: %r" % (info["consistency"],))
        assert_equal(info["redeemed_amount"], 2 * AMOUNT)


if __name__ == "__main__":
    ZapTest().main()
