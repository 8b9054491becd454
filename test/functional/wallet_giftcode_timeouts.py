#!/usr/bin/env python3
"""Clients that time out and retry never get a code paid twice.

This is the failure that emptied a web wallet: a redemption call timed out,
the caller treated it as failed and tried again, and the code was paid on
every try. Here 30 codes are redeemed at once by clients that give up on an
answer after 50 ms and send the same request (same code, same address)
again until they get one, two clients per code. In a second round each
client's first attempt gives up after 1 ms, so the node certainly finishes
requests whose clients have left.

Checks: every client ends with a successful reply carrying the code's one
txid; the wallet holds exactly one transaction tagged with each code, and
no other new transaction; after mining, each payee address received exactly
one output of exactly the code's amount; the total paid to the payees equals
getgiftcodeinfo's redeemed_amount (and the sum of the amounts), and
redeemed_fees equals the sum of the fees the replies and getgiftcode report.
"""

from decimal import Decimal

from test_framework.chain import mature_coinbases, outputs_to
from test_framework.giftcode import RpcError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_greater_than, assert_true, run_threads

ISSUER = "issuer"
CODES_PER_ROUND = 30
CLIENTS_PER_CODE = 2
ATTEMPT_TIMEOUT = 0.05


class TimeoutsTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-rpcthreads=16", "-rpcworkqueue=256", "-wallet=issuer", "-wallet=payee"]]

    def round(self, label, first_timeout):
        node, w, payee = self.node, self.node.wallet(ISSUER), self.node.wallet("payee")
        codes = []
        for i in range(CODES_PER_ROUND):
            amount = Decimal("0.1") + Decimal(i) * Decimal("0.001") + self.offset
            entry = w.creategiftcode(amount, 1, label)["codes"][0]
            codes.append(dict(entry, amount=amount, address=payee.getnewaddress()))
        self.offset += Decimal("0.0001")
        txids_before = {t["txid"] for t in w.listtransactions("*", 100000)}
        outcomes = []

        def client(code):
            def run():
                outcome, attempts = node.call_with_retries(
                    "redeemgiftcode", [code["code"], code["address"]], wallet=ISSUER,
                    attempt_timeout=ATTEMPT_TIMEOUT, first_timeout=first_timeout, deadline=300)
                outcomes.append((code, outcome, attempts))
            return run

        run_threads([client(c) for c in codes for _ in range(CLIENTS_PER_CODE)])
        attempts = sum(a for _, _, a in outcomes)
        retried = sum(1 for _, _, a in outcomes if a > 1)
        self.log.info("%s: %d clients, %d attempts, %d clients had to retry, %d replies were replays",
                      label, len(outcomes), attempts, retried,
                      sum(1 for _, o, _ in outcomes if not isinstance(o, RpcError) and o["replay"]))

        for code, outcome, _ in outcomes:
            assert_true(not isinstance(outcome, RpcError), "a client got an error: %r" % (outcome,))
            view = w.getgiftcode(code["id"])
            assert_equal(view["state"], "redeemed")
            assert_equal((outcome["id"], outcome["txid"], outcome["address"], outcome["amount"], outcome["fee"]),
                         (code["id"], view["txid"], code["address"], code["amount"], view["fee"]))
        for code in codes:
            fresh = [o for c, o, _ in outcomes if c is code and not o["replay"]]
            assert_true(len(fresh) <= 1, "two replies with replay false for one code")

        tags = node.tagged_payments(ISSUER)
        new_txids = {t["txid"] for t in w.listtransactions("*", 100000)} - txids_before
        for code in codes:
            view = w.getgiftcode(code["id"])
            assert_equal(tags.get(code["id"]), {view["txid"]}, "one tagged payment for %s" % code["id"])
            self.paid[code["id"]] = (view["txid"], code["address"], code["amount"], view["fee"])
        assert_equal(new_txids, {w.getgiftcode(c["id"])["txid"] for c in codes}, "no other new transaction")
        return attempts, len(outcomes)

    def run_test(self):
        node = self.node = self.nodes[0]
        w = node.wallet(ISSUER)
        self.paid = {}
        self.offset = Decimal("0")
        self.log.info("fund: 80 mature coinbases for the issuer")
        start_height = node.height()
        mature_coinbases(node, ISSUER, 80)
        miner_address = node.wallet("payee").getnewaddress()

        self.log.info("round 1: %d codes, %d clients each, %d ms per attempt",
                      CODES_PER_ROUND, CLIENTS_PER_CODE, ATTEMPT_TIMEOUT * 1000)
        self.round("round 1", None)

        self.log.info("round 2: the same, but every first attempt gives up after 1 ms")
        attempts, clients = self.round("round 2", 0.001)
        assert_greater_than(attempts, clients, "round 2 attempts")

        self.log.info("one tagged payment per code in the whole wallet")
        tags = node.tagged_payments(ISSUER)
        assert_equal(len(tags), 2 * CODES_PER_ROUND)
        assert_equal(tags, {code_id: {txid} for code_id, (txid, _, _, _) in self.paid.items()})

        self.log.info("mine; every payee received exactly one output of exactly the amount")
        node.mine(1, miner_address)
        addresses = [addr for _, addr, _, _ in self.paid.values()]
        found = outputs_to(node, addresses, first_height=start_height)
        total_paid = Decimal("0")
        for code_id, (txid, addr, amount, fee) in self.paid.items():
            assert_equal(found[addr], [(txid, amount, True)], "outputs to the payee of %s" % code_id)
            total_paid += found[addr][0][1]
        info = w.getgiftcodeinfo()
        assert_equal(info["redeemed_amount"], total_paid, "redeemed_amount = total paid on chain")
        assert_equal(total_paid, sum(amount for _, _, amount, _ in self.paid.values()))
        assert_equal(info["redeemed_fees"], sum(fee for _, _, _, fee in self.paid.values()))
        assert_equal(info["counts"]["redeemed"], len(self.paid))
        assert_equal(info["unbroadcast"], [])
        for code_id in self.paid:
            assert_equal(w.getgiftcode(code_id)["confirmations"], 1)
        assert_true(info["consistency"]["clean"], "consistency clean")


if __name__ == "__main__":
    TimeoutsTest().main()
