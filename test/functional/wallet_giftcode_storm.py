#!/usr/bin/env python3
"""Acceptance storm: 300 codes redeemed by 4 client threads while 2 threads
loop `lockunspent true` and 2 loop sendtoaddress/sendmany on the same
wallet; every holder is paid exactly once and no payment is conflicted.

The issuing wallet holds FUNDING_COINS confirmed coins (enough that
payments need not chain on unconfirmed change), the node runs with enough
RPC threads and queue for 9 busy clients (a full work queue is retried, as
a client must), and a block is mined every MINE_INTERVAL seconds during the
storm. Afterwards blocks are mined until the mempool is empty, and then:
every code is redeemed, every payment confirmed and none conflicted, every
holder received exactly one output of exactly the code's amount, each code
has exactly one tagged wallet transaction, unbroadcast and attention are
empty and the consistency check is clean. Before the checks, the test
logs a one-line summary ("storm: ...") with the counts of codes, payments,
conflicted payments, sends and unlock calls, and the wall time.
"""

from decimal import Decimal

from test_framework.chain import mine_until_mempool_empty
from test_framework.giftcode import RedemptionStorm, assert_ledger_settled, assert_paid_exactly_once, assess_payments
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal

CODES = 300
AMOUNT = Decimal("0.01")
FUNDING_COINS = 48
FUNDING_COIN = Decimal("2")
CLIENTS = 4
UNLOCKERS = 2
SENDERS = 2
MINE_INTERVAL = 1.5


class StormTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-wallet=other",
                             "-rpcthreads=16", "-rpcworkqueue=512"]]

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee, other = (node.wallet(n) for n in ("issuer", "miner", "payee", "other"))
        self.log.info("fund the issuer with %d confirmed coins of %s MONA", FUNDING_COINS, FUNDING_COIN)
        node.mine(103, wallet="miner")
        miner.sendmany("", {issuer.getnewaddress(): FUNDING_COIN for _ in range(FUNDING_COINS)})
        miner_address = miner.getnewaddress()
        node.mine(1, address=miner_address)
        assert_equal(len(issuer.listunspent(1)), FUNDING_COINS)

        codes = issuer.creategiftcode(AMOUNT, CODES, "storm")["codes"]
        holders = [payee.getnewaddress() for _ in codes]
        send_to = [other.getnewaddress() for _ in range(8)]
        first_height = node.height()

        self.log.info("%d clients redeem %d codes; %d loop lockunspent true, %d loop sendtoaddress/sendmany",
                      CLIENTS, CODES, UNLOCKERS, SENDERS)
        storm = RedemptionStorm(node, "issuer", codes, holders, send_to, miner_address, redeemers=CLIENTS,
                                unlockers=UNLOCKERS, senders=SENDERS, mine_interval=MINE_INTERVAL,
                                log=self.log).run()
        self.log.info("%d redemptions answered (refusals retried: %s), %d sends (%d found no coin), "
                      "%d lockunspent calls, %d blocks, %.1f s", len(storm.replies), storm.refusals, storm.sends,
                      storm.dry_sends, storm.unlock_calls, storm.blocks, storm.wall)
        assert_equal(storm.errors, [], "errors of redemptions and sends")

        self.log.info("mine until the mempool is empty")
        mine_until_mempool_empty(node, miner_address, max_blocks=20)

        expected = {codes[i]["id"]: (holders[i], AMOUNT) for i in storm.replies}
        found = assess_payments(node, "issuer", expected, first_height)
        payments = sum(len(txids) for txids in node.tagged_payments("issuer").values())
        self.log.info("storm: %d codes, %d redeemed, %d payments, %d conflicted, %d unpaid, %d paid twice, "
                      "%d sends, %d unlock calls, %.1f s", CODES, len(storm.replies), payments,
                      len(found["conflicted"]), len(found["unpaid"]), len(found["overpaid"]), storm.sends,
                      storm.unlock_calls, storm.wall)
        assert_equal(len(storm.replies), CODES, "codes redeemed")
        assert_paid_exactly_once(found, CODES)
        assert_equal(payments, CODES, "tagged payments")

        assert_ledger_settled(node, "issuer", AMOUNT * CODES)


if __name__ == "__main__":
    StormTest().main()
