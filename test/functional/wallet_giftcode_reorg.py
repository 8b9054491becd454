#!/usr/bin/env python3
"""A payment that a reorg takes out of the chain is followed until it is
buried: it is resubmitted on the next block it can enter, or, when a
conflicting transaction is confirmed instead, reported under attention as
conflicted and then dead, and never paid again.

Part A, resubmission. A payment normally returns to the mempool when its
block is disconnected; to keep it out, the issuing wallet's only coin is a
coinbase output that has just matured (its payment also has a lock time of
the height it was made at). The payment is mined, then `invalidateblock`
takes the chain back below the coinbase's maturity, so the node cannot put
the payment back into its mempool (premature spend of a coinbase, and
non-final), and the wallet does not either. New blocks are mined (to another
address, so they differ from the invalidated ones). While the payment
cannot enter the mempool, payment_state is not_in_mempool and attention
lists it; on the block after which it can, the module resubmits it (it is
in the mempool once that block's callbacks are done): payment_state
mempool, attention empty; then confirmed after one block and buried after
six; the holder is paid exactly once and the consistency check, recomputed
on every block, is clean at the tip's height.

Part B, conflict. With -walletrbf=1 the payment signals replaceability. It
is mined, `invalidateblock` puts it back into the mempool, and a conflicting
transaction spending the same coins with a higher fee (signed by the same
wallet) replaces it there and is mined in the replacement chain. On the
next block the payment is conflicted (attention lists it, with a reason);
while the conflict is fewer than 6 blocks deep it stays conflicted, at 6 it
is dead; the holder received nothing, a replay returns the same txid with
broadcast false, another address gets -405, and the module never pays the
code again on its own.
"""

from decimal import Decimal

from test_framework.chain import COINBASE_MATURITY, outputs_to
from test_framework.giftcode import BURIED_DEPTH, ERR_ALREADY_REDEEMED
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true

AMOUNT = Decimal("1")
SEQUENCE_FINAL = 0xffffffff


class ReorgTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-walletrbf=1"]]

    def attention(self, txid):
        """The attention entries of `txid` (getgiftcodeinfo)."""
        info = self.issuer.getgiftcodeinfo()
        assert_true("attention" in info, "getgiftcodeinfo has no attention field")
        return [a for a in info["attention"] if a["txid"] == txid]

    def check_consistency_at_tip(self):
        consistency = self.issuer.getgiftcodeinfo()["consistency"]
        assert_true(consistency["checked"] and consistency["clean"], "consistency clean: %r" % (consistency,))
        assert_equal(consistency.get("height"), self.node.height(), "consistency.height (recomputed every block)")

    def run_test(self):
        node = self.node = self.nodes[0]
        issuer = self.issuer = node.wallet("issuer")
        miner, payee = node.wallet("miner"), node.wallet("payee")

        self.part_a(node, issuer, miner, payee)
        self.part_b(node, issuer, miner, payee)

    def part_a(self, node, issuer, miner, payee):
        self.log.info("part A: the issuer's only coin is the coinbase of block 1, just mature")
        coinbase_height = 1
        node.mine(1, address=issuer.getnewaddress())
        node.mine(COINBASE_MATURITY, wallet="miner")
        coins = issuer.listunspent(1)
        assert_equal(len(coins), 1)
        code = issuer.creategiftcode(AMOUNT, 1, "reorg")["codes"][0]
        holder = payee.getnewaddress()
        made_at = node.height()
        paid = issuer.redeemgiftcode(code["code"], holder)
        txid = paid["txid"]
        tx = node.rpc("getrawtransaction", txid, True)
        assert_equal([(i["txid"], i["vout"]) for i in tx["vin"]], [(coins[0]["txid"], coins[0]["vout"])])
        lock_time = tx["locktime"]
        assert_true(lock_time <= made_at, "lock time %d at most the height %d" % (lock_time, made_at))

        self.log.info("mine the payment; it is confirmed")
        node.mine(1, wallet="miner")
        node.sync_callbacks()
        assert_equal(issuer.getgiftcode(code["id"])["confirmations"], 1)

        self.log.info("invalidate back below the coinbase's maturity: the payment cannot return to the mempool")
        fork_height = coinbase_height + COINBASE_MATURITY - 1
        node.rpc("invalidateblock", node.rpc("getblockhash", fork_height))
        node.sync_callbacks()
        assert_equal(node.height(), fork_height - 1)
        assert_true(txid not in node.rpc("getrawmempool"), "the node did not take the payment back")
        view = issuer.getgiftcode(code["id"])
        assert_equal((view["confirmations"], view["in_mempool"], view["conflicted"]), (0, False, False))

        # The payment can enter the mempool once the next block's height is
        # past its lock time and its coinbase input is mature in that block.
        valid_tip = max(coinbase_height + COINBASE_MATURITY - 1, lock_time)
        self.log.info("lock time %d: the payment can enter the mempool once the tip is at %d", lock_time, valid_tip)
        other_address = miner.getnewaddress()  # new blocks differ from the invalidated ones
        seen_before = []
        while node.height() < valid_tip:
            node.mine(1, address=other_address)
            node.sync_callbacks()
            if node.height() < valid_tip:
                assert_true(txid not in node.rpc("getrawmempool"), "the payment cannot be in the mempool yet")
                view = issuer.getgiftcode(code["id"])
                info = issuer.getgiftcodeinfo()
                seen_before.append((node.height(), view.get("payment_state"),
                                    [a for a in info.get("attention", []) if a.get("txid") == txid]))
        self.log.info("at height %d the module must have resubmitted the payment", node.height())
        assert_true(txid in node.rpc("getrawmempool"),
                    "the payment taken out of the chain was not resubmitted on the block after which it can "
                    "enter the mempool (height %d)" % node.height())

        self.log.info("before that block: payment_state not_in_mempool, listed under attention")
        for height, state, listed in seen_before:
            assert_equal(state, "not_in_mempool", "payment_state at height %d" % height)
            assert_equal([(a["id"], a["state"]) for a in listed], [(code["id"], "not_in_mempool")],
                         "attention at height %d" % height)
            assert_true(listed[0]["reason"], "attention gives a reason")
        self.log.info("resubmitted: payment_state mempool, attention and unbroadcast empty")
        view = issuer.getgiftcode(code["id"])
        assert_equal((view["txid"], view["payment_state"], view["in_mempool"]), (txid, "mempool", True))
        assert_equal(self.attention(txid), [])
        assert_equal(issuer.getgiftcodeinfo()["unbroadcast"], [])

        self.log.info("one block: confirmed; six: buried; the holder is paid exactly once")
        node.mine(1, address=other_address)
        node.sync_callbacks()
        view = issuer.getgiftcode(code["id"])
        assert_equal((view["confirmations"], view["payment_state"]), (1, "confirmed"))
        self.check_consistency_at_tip()
        node.mine(BURIED_DEPTH - 1, address=other_address)
        node.sync_callbacks()
        view = issuer.getgiftcode(code["id"])
        assert_equal((view["confirmations"], view["payment_state"]), (BURIED_DEPTH, "buried"))
        received = outputs_to(node, [holder], coinbase_height)[holder]
        assert_equal(received, [(txid, AMOUNT, True)], "outputs to the holder")
        assert_equal(node.tagged_payments("issuer"), {code["id"]: {txid}})
        self.check_consistency_at_tip()

    def part_b(self, node, issuer, miner, payee):
        self.log.info("part B: a payment, confirmed, then replaced in the mempool after a reorg and buried")
        code = issuer.creategiftcode(AMOUNT, 1, "conflict")["codes"][0]
        holder = payee.getnewaddress()
        first_height = node.height()
        paid = issuer.redeemgiftcode(code["code"], holder)
        txid = paid["txid"]
        tx = node.rpc("getrawtransaction", txid, True)
        assert_true(all(i["sequence"] < SEQUENCE_FINAL - 1 for i in tx["vin"]),
                    "with -walletrbf=1 the payment signals replaceability")
        block = node.mine(1, wallet="miner")[0]
        node.sync_callbacks()
        assert_equal(issuer.getgiftcode(code["id"])["confirmations"], 1)

        self.log.info("invalidate its block: the payment is back in the mempool")
        node.rpc("invalidateblock", block)
        node.sync_callbacks()
        assert_true(txid in node.rpc("getrawmempool"), "the node put the payment back into its mempool")

        self.log.info("a conflicting spend of the same coins, with a higher fee, replaces it")
        spent = Decimal("0")
        for vin in tx["vin"]:
            parent = node.rpc("decoderawtransaction", issuer.gettransaction(vin["txid"])["hex"])
            spent += parent["vout"][vin["vout"]]["value"]
        conflict_fee = paid["fee"] + Decimal("0.01")
        raw = node.rpc("createrawtransaction", [{"txid": i["txid"], "vout": i["vout"]} for i in tx["vin"]],
                       {miner.getnewaddress(): spent - conflict_fee})
        signed = issuer.signrawtransactionwithwallet(raw)
        assert_true(signed["complete"], "the issuing wallet signs the conflicting spend")
        conflict = node.rpc("sendrawtransaction", signed["hex"], 0)  # 0: no fee-rate cap
        mempool = node.rpc("getrawmempool")
        assert_true(conflict in mempool and txid not in mempool, "the conflicting spend replaced the payment")

        self.log.info("mine the conflict in the replacement chain: the payment is conflicted")
        other_address = miner.getnewaddress()
        node.mine(1, address=other_address)
        node.sync_callbacks()
        view = issuer.getgiftcode(code["id"])
        assert_equal((view["txid"], view["confirmations"], view["conflicted"]), (txid, 0, True))
        assert_equal(view.get("payment_state"), "conflicted", "payment_state with the conflict 1 block deep")
        listed = self.attention(txid)
        assert_equal([(a["id"], a["state"]) for a in listed], [(code["id"], "conflicted")], "attention")
        assert_true(listed[0]["reason"], "attention gives a reason")

        for depth in range(2, BURIED_DEPTH):
            node.mine(1, address=other_address)
            node.sync_callbacks()
            assert_equal(issuer.getgiftcode(code["id"])["payment_state"], "conflicted",
                         "payment_state with the conflict %d blocks deep" % depth)
        self.log.info("the conflict is %d blocks deep: the payment is dead", BURIED_DEPTH)
        node.mine(1, address=other_address)
        node.sync_callbacks()
        assert_equal(issuer.gettransaction(conflict)["confirmations"], BURIED_DEPTH)
        view = issuer.getgiftcode(code["id"])
        assert_equal((view["state"], view["txid"], view["payment_state"]), ("redeemed", txid, "dead"))
        assert_equal([(a["id"], a["state"]) for a in self.attention(txid)], [(code["id"], "dead")], "attention")

        self.log.info("the holder was not paid, and the module does not pay again on its own")
        again = issuer.redeemgiftcode(code["code"], holder)
        assert_equal((again["txid"], again["replay"], again["broadcast"]), (txid, True, False))
        assert_raises_rpc_error(ERR_ALREADY_REDEEMED, None, issuer.redeemgiftcode, code["code"], payee.getnewaddress())
        node.mine(2, address=other_address)
        node.sync_callbacks()
        assert_equal(outputs_to(node, [holder], first_height)[holder], [], "outputs to the holder")
        assert_equal(node.tagged_payments("issuer").get(code["id"]), {txid}, "payments of the code")
        assert_equal(issuer.getgiftcode(code["id"])["payment_state"], "dead")
        assert_equal([a["state"] for a in self.attention(txid)], ["dead"], "a dead payment stays under attention")
        self.check_consistency_at_tip()


if __name__ == "__main__":
    ReorgTest().main()
