#!/usr/bin/env python3
"""A redemption's payment never conflicts with the wallet's other sends,
even while clients loop `lockunspent true`.

A payment's coins are chosen, the payment is committed with its code, and
the wallet takes it; if anything in between lets another send pick the same
coins, the committed payment and that send conflict, one of them is
confirmed and the holder of the code may never be paid. `lockunspent true`
releases every coin lock of the wallet, so it must not open such a gap.

The issuing wallet holds few confirmed coins. Three client threads redeem
CODES codes while two threads loop `lockunspent true` and two loop
sendtoaddress/sendmany from the same wallet to other addresses (a block is
mined every second meanwhile). Afterwards blocks are mined until the
mempool is empty. Then every redeemed code's payment is confirmed, none is
conflicted, every holder received exactly one output of exactly the code's
amount, each code has exactly one tagged wallet transaction, nothing is
unbroadcast or waiting for attention, payment_state is confirmed or buried,
and the consistency check is clean.
"""

from decimal import Decimal

from test_framework.chain import mine_until_mempool_empty
from test_framework.giftcode import RedemptionStorm, assert_ledger_settled, assert_paid_exactly_once, assess_payments
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal

CODES = 90
AMOUNT = Decimal("0.05")
FUNDING_COINS = 6
FUNDING_COIN = Decimal("5")


class LockUnspentTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-wallet=other",
                             "-rpcthreads=16", "-rpcworkqueue=256"]]

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee, other = (node.wallet(n) for n in ("issuer", "miner", "payee", "other"))
        self.log.info("fund the issuer with %d confirmed coins of %s MONA", FUNDING_COINS, FUNDING_COIN)
        node.mine(101 + FUNDING_COINS // 10, wallet="miner")
        miner.sendmany("", {issuer.getnewaddress(): FUNDING_COIN for _ in range(FUNDING_COINS)})
        miner_address = miner.getnewaddress()
        node.mine(1, address=miner_address)
        assert_equal(len(issuer.listunspent(1)), FUNDING_COINS)

        codes = issuer.creategiftcode(AMOUNT, CODES, "lockunspent")["codes"]
        holders = [payee.getnewaddress() for _ in codes]
        send_to = [other.getnewaddress() for _ in range(8)]
        first_height = node.height()

        self.log.info("3 threads redeem %d codes; 2 loop lockunspent true, 2 loop sendtoaddress/sendmany", CODES)
        storm = RedemptionStorm(node, "issuer", codes, holders, send_to, miner_address, redeemers=3, unlockers=2,
                                senders=2, mine_interval=1.0, log=self.log).run()
        self.log.info("%d redemptions answered (refusals retried: %s), %d sends (%d found no coin), "
                      "%d lockunspent calls, %d blocks, %.1f s", len(storm.replies), storm.refusals, storm.sends,
                      storm.dry_sends, storm.unlock_calls, storm.blocks, storm.wall)
        assert_equal(storm.errors, [], "errors of redemptions and sends")
        assert_equal(len(storm.replies), CODES, "codes redeemed")

        self.log.info("mine until the mempool is empty")
        mined = mine_until_mempool_empty(node, miner_address, max_blocks=20)
        self.log.info("%d blocks settled the mempool", mined)

        self.log.info("every payment confirmed, none conflicted; every holder paid exactly once")
        expected = {codes[i]["id"]: (holders[i], AMOUNT) for i in range(CODES)}
        found = assess_payments(node, "issuer", expected, first_height)
        assert_paid_exactly_once(found, CODES)
        for i, reply in storm.replies.items():
            assert_equal(reply["id"], codes[i]["id"])

        self.log.info("nothing unbroadcast or waiting for attention; payment_state confirmed; consistency clean")
        assert_ledger_settled(node, "issuer", AMOUNT * CODES)


if __name__ == "__main__":
    LockUnspentTest().main()
