#!/usr/bin/env python3
"""Redemptions and ordinary sends from the same wallet, at the same time,
never spend the same coin.

A payment is built, then committed, then adopted by the wallet; in between,
its coins must not be handed to another send. Here several threads redeem
codes while others call sendtoaddress on the same wallet, which holds only a
few confirmed coins plus their unconfirmed change. Afterwards every
redemption payment is in the mempool (none refused as a conflict or for
missing inputs), getgiftcodeinfo has nothing unbroadcast, and after a block
every payment is confirmed and none is conflicted; each code has exactly
one payment.
"""

import threading

from test_framework.giftcode import ERR_INSUFFICIENT_FUNDS, RpcError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true

CODES = 60
SENDS_PER_THREAD = 40


class SendsTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-rpcthreads=8", "-rpcworkqueue=64"]]

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee = node.wallet("issuer"), node.wallet("miner"), node.wallet("payee")
        node.mine(101, wallet="miner")
        for _ in range(4):
            miner.sendtoaddress(issuer.getnewaddress(), 10)
        node.mine(1, wallet="miner")
        codes = issuer.creategiftcode("0.01", CODES, "sends")["codes"]
        payee_addresses = [payee.getnewaddress() for _ in codes]
        send_to = [payee.getnewaddress() for _ in range(4)]

        replies, send_errors, redeem_errors = [], [], []
        lock = threading.Lock()

        def redeemer(part):
            for i in range(part, CODES, 3):
                try:
                    r = node.rpc("redeemgiftcode", codes[i]["code"], payee_addresses[i], wallet="issuer")
                    with lock:
                        replies.append(r)
                except RpcError as e:
                    with lock:
                        redeem_errors.append(e)

        def sender(part):
            for _ in range(SENDS_PER_THREAD):
                try:
                    node.rpc("sendtoaddress", send_to[part], "0.001", wallet="issuer")
                except RpcError as e:
                    # With coins held by payments in flight and change not yet
                    # confirmed, a send may find too little to spend (-6 from
                    # the balance check, -4 from coin selection).
                    if "Insufficient funds" not in e.message:
                        with lock:
                            send_errors.append(e)

        self.log.info("3 threads redeem %d codes while 2 threads send %d times each", CODES, SENDS_PER_THREAD)
        threads = [threading.Thread(target=redeemer, args=(p,)) for p in range(3)]
        threads += [threading.Thread(target=sender, args=(p,)) for p in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert_equal(send_errors, [])
        self.log.info("%d redemptions answered, %d refused (%s)", len(replies), len(redeem_errors),
                      sorted({e.code for e in redeem_errors}))
        for e in redeem_errors:
            assert_equal(e.code, ERR_INSUFFICIENT_FUNDS, "only a dry wallet may refuse: %s" % e.message)
        refused = [r for r in replies if not r["broadcast"]]
        for r in refused:
            assert_true("too-long-mempool-chain" in r["broadcast_error"],
                        "payment %s refused for another reason: %s" % (r["txid"], r["broadcast_error"]))
        mempool = set(node.rpc("getrawmempool"))
        for r in replies:
            if r["broadcast"]:
                assert_true(r["txid"] in mempool, "payment %s in the mempool" % r["txid"])

        self.log.info("after blocks, every payment is confirmed and none conflicted")
        for _ in range(10):  # refused chains are resubmitted block by block
            node.mine(1, wallet="miner")
            if all(issuer.getgiftcode(r["id"])["confirmations"] >= 1 for r in replies):
                break
        for r in replies:
            view = issuer.getgiftcode(r["id"])
            assert_true(view["confirmations"] >= 1 and not view["conflicted"], "payment of %s confirmed" % r["id"])
        assert_equal(issuer.getgiftcodeinfo()["unbroadcast"], [])
        tags = node.tagged_payments("issuer")
        assert_equal(len(tags), len(replies))
        for ident, txids in tags.items():
            assert_equal(len(txids), 1, "payments of %s" % ident)


if __name__ == "__main__":
    SendsTest().main()
