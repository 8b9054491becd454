#!/usr/bin/env python3
"""The breaker bounds what redemptions pay per window, exactly, under 64
concurrent clients; the operator can pause and resume; nothing of it is
lifted by a restart.

Each section starts a fresh window (setmocktime moves the node's clock on
by more than every window) and sends 64 client threads at once, each
redeeming its own code:

1. amount: a limit of 23 MONA an hour over 70 1-MONA codes pays exactly 23;
   every other redemption gets -409 (limit_reached in failed_redemptions),
   its code still issued, nothing sent for it. getgiftcodeinfo's breaker
   shows the window (23 MONA, 23 redemptions), tripped with the limit and
   when the refused redemptions fit again; -giftcodenotify ran a breaker
   event; replays of the paid codes are answered while it is tripped.
2. count: 17 redemptions an hour (80 codes of 0.5 MONA): exactly 17.
3. label: 9 MONA an hour for the label "spring", none for the others: of
   codes half "spring" and half "summer", exactly 9 spring codes are paid
   and every summer code.
4. restart: the wallet's limits and the window's contents survive a
   restart: the next spring redemption is still refused.
5. pause: pausegiftcodes refuses every new redemption with -409 naming the
   reason (also after a restart); replays are answered; resumegiftcodes
   lets them through again.
6. the node's option: with setgiftcodelimits null the wallet follows
   -giftcodelimit=1h:2 (limits_from "node"), and a bad -giftcodelimit
   stops the node at start-up.
7. bad input: setgiftcodelimits with a bad limit gets -8 and changes
   nothing.
"""

import os
import threading
import time
from decimal import Decimal

from test_framework.chain import mature_coinbases, outputs_to
from test_framework.giftcode import ERR_INVALID_PARAMETER, RpcError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import REPO_ROOT, assert_equal, assert_raises_rpc_error, assert_true, wait_until

ERR_LIMIT = -409
ISSUER = "issuer"
CLIENTS = 64
HOUR = 3600


class BreakerTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def setup_nodes(self):
        self.add_nodes(1)
        node = self.nodes[0]
        self.events_file = os.path.join(node.datadir, "events.tsv")
        script = os.path.join(REPO_ROOT, "contrib", "giftcode-notify.sh")
        self.args = ["-wallet=" + ISSUER, "-wallet=payee", "-rpcthreads=16", "-rpcworkqueue=256",
                     "-giftcodenotify=%s %s %%e %%c %%s %%w %%r" % (script, self.events_file)]
        self.start_node(0, self.args)

    def next_window(self):
        """Moves the node's clock on past every window."""
        self.clock += 2 * 24 * HOUR
        self.node.rpc("setmocktime", self.clock)

    def storm(self, codes):
        """CLIENTS threads redeem `codes` (each its own, to its own address)
        at once. Returns {id: txid or RpcError}."""
        node, outcome, lock = self.node, {}, threading.Lock()
        addresses = [self.payee.getnewaddress() for _ in codes]
        assert_true(len(codes) >= CLIENTS, "a code for every client")
        barrier = threading.Barrier(CLIENTS)
        work = list(zip(codes, addresses))

        def client(part):
            barrier.wait()
            for code, address in part:
                try:
                    result = node.rpc("redeemgiftcode", code["code"], address, wallet=ISSUER)["txid"]
                except RpcError as e:
                    result = e
                with lock:
                    outcome[code["id"]] = result
        parts = [work[i::CLIENTS] for i in range(CLIENTS)]
        threads = [threading.Thread(target=client, args=(p,)) for p in parts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.codes_to_address.update({c["id"]: a for c, a in work})
        return outcome

    def paid_and_refused(self, outcome):
        paid = {i: r for i, r in outcome.items() if not isinstance(r, RpcError)}
        refused = {i: r for i, r in outcome.items() if isinstance(r, RpcError)}
        for i, e in refused.items():
            assert_equal(e.code, ERR_LIMIT, "refusal of %s: %s" % (i, e.message))
            assert_equal(self.w.getgiftcode(i)["state"], "issued")
        return paid, refused

    def run_test(self):
        node = self.node = self.nodes[0]
        self.w, self.payee = node.wallet(ISSUER), node.wallet("payee")
        self.codes_to_address = {}
        mature_coinbases(node, ISSUER, 12)
        self.clock = int(time.time())

        self.log.info("1. amount: 23 MONA an hour, 64 clients, 70 codes of 1 MONA")
        self.next_window()
        breaker = self.w.setgiftcodelimits([{"window": HOUR, "amount": 23}])
        assert_equal((breaker["limits_from"], breaker["tripped"], breaker["paused"]), ("wallet", False, False))
        assert_equal(breaker["limits"], [{"label": None, "window": HOUR, "max_amount": Decimal("23"), "max_count": None,
                                          "amount": Decimal("0"), "count": 0, "next_release": None}])
        codes = self.w.creategiftcode(1, 70, "plain")["codes"]
        failed_before = self.w.getgiftcodeinfo()["failed_redemptions"].get("limit_reached", 0)
        paid, refused = self.paid_and_refused(self.storm(codes))
        assert_equal((len(paid), len(refused)), (23, 47))
        info = self.w.getgiftcodeinfo()
        b = info["breaker"]
        assert_equal((b["limits"][0]["amount"], b["limits"][0]["count"]), (Decimal("23"), 23))
        assert_equal(b["tripped"], True)
        assert_true(b["tripped_by"].startswith("wallet: per 1 h at most 23.00000000"), b["tripped_by"])
        assert_true(self.clock < b["resumes_at"] <= self.clock + HOUR, "resumes_at %r" % b["resumes_at"])
        assert_equal(info["failed_redemptions"]["limit_reached"] - failed_before, 47)
        wait_until(lambda: any(e[1] == "breaker" and "tripped" in e[5] for e in self.events()), 60,
                   what="a breaker event")
        # Paid exactly once each, and nothing for the refused.
        node.mine(1, wallet=ISSUER)
        found = outputs_to(node, [self.codes_to_address[i] for i in list(paid) + list(refused)])
        for i in paid:
            assert_equal(len(found[self.codes_to_address[i]]), 1, "payments for %s" % i)
        for i in refused:
            assert_equal(found[self.codes_to_address[i]], [], "payments for refused %s" % i)
        self.log.info("   replays are answered while it is tripped")
        some = next(iter(paid))
        code = next(c for c in codes if c["id"] == some)
        again = self.w.redeemgiftcode(code["code"], self.codes_to_address[some])
        assert_equal((again["replay"], again["txid"]), (True, paid[some]))

        self.log.info("2. count: 17 redemptions an hour")
        self.next_window()
        self.w.setgiftcodelimits([{"window": HOUR, "count": 17}])
        codes = self.w.creategiftcode(Decimal("0.5"), 80, "count")["codes"]
        paid, refused = self.paid_and_refused(self.storm(codes))
        assert_equal((len(paid), len(refused)), (17, 63))

        self.log.info("3. label: 9 MONA an hour for spring only")
        self.next_window()
        self.w.setgiftcodelimits([{"window": HOUR, "amount": 9, "label": "spring"}])
        spring = self.w.creategiftcode(1, 32, "spring")["codes"]
        summer = self.w.creategiftcode(1, 32, "summer")["codes"]
        paid, refused = self.paid_and_refused(self.storm(spring + summer))
        spring_ids = {c["id"] for c in spring}
        assert_equal(len([i for i in paid if i in spring_ids]), 9)
        assert_equal(len([i for i in paid if i not in spring_ids]), 32)
        assert_true(all(i in spring_ids for i in refused), "only spring codes were refused")
        b = self.w.getgiftcodeinfo()["breaker"]
        assert_equal((b["limits"][0]["label"], b["limits"][0]["amount"]), ("spring", Decimal("9")))

        self.log.info("4. restart: the limits and the window survive")
        node.mine(1, wallet=ISSUER)
        # The node's clock stays where the test moved it: its blocks are
        # stamped then, and a node refuses to start on blocks from its future.
        node.restart(self.args + ["-mocktime=%d" % self.clock])
        b = self.w.getgiftcodeinfo()["breaker"]
        assert_equal((b["limits_from"], b["limits"][0]["amount"], b["limits"][0]["count"]), ("wallet", Decimal("9"), 9))
        left = next(c for c in spring if c["id"] in refused)
        assert_raises_rpc_error(ERR_LIMIT, None, self.w.redeemgiftcode, left["code"], self.payee.getnewaddress())

        self.log.info("5. pause and resume")
        self.next_window()
        self.w.setgiftcodelimits([])
        paused = self.w.pausegiftcodes("checking a leak")
        assert_equal((paused["paused"], paused["pause_reason"]), (True, "checking a leak"))
        plain = self.w.creategiftcode(1, 3, "pause")["codes"]
        e = assert_raises_rpc_error(ERR_LIMIT, None, self.w.redeemgiftcode, plain[0]["code"], self.payee.getnewaddress())
        assert_true("checking a leak" in e.message, e.message)
        some = next(iter(paid))
        code = next(c for c in spring + summer if c["id"] == some)
        assert_equal(self.w.redeemgiftcode(code["code"], self.codes_to_address[some])["replay"], True)
        node.restart(self.args + ["-mocktime=%d" % self.clock])
        node.mine(1, wallet=ISSUER)  # a tip of this clock's time: out of initial block download
        assert_equal(self.w.getgiftcodeinfo()["breaker"]["paused"], True)
        assert_raises_rpc_error(ERR_LIMIT, None, self.w.redeemgiftcode, plain[0]["code"], self.payee.getnewaddress())
        resumed = self.w.resumegiftcodes()
        assert_equal((resumed["paused"], resumed["pause_reason"]), (False, None))
        wait_until(lambda: self.w.getgiftcodeinfo()["payments_start_in"] == 0, 120, what="payments to start")
        self.w.redeemgiftcode(plain[0]["code"], self.payee.getnewaddress())
        assert_true(any(e[1] == "breaker" and "paused" in e[5] for e in self.events()), "a pause event")

        self.log.info("6. the node's -giftcodelimit, for a wallet without its own")
        self.clock += 3 * 24 * HOUR
        node.restart(self.args + ["-mocktime=%d" % self.clock, "-giftcodelimit=1h:2"])
        node.mine(1, wallet=ISSUER)
        b = self.w.setgiftcodelimits(None)
        assert_equal((b["limits_from"], len(b["limits"]), b["limits"][0]["max_amount"]), ("node", 1, Decimal("2")))
        wait_until(lambda: self.w.getgiftcodeinfo()["payments_start_in"] == 0, 120, what="payments to start")
        self.w.redeemgiftcode(plain[1]["code"], self.payee.getnewaddress())
        self.w.redeemgiftcode(plain[2]["code"], self.payee.getnewaddress())
        more = self.w.creategiftcode(1, 1, "node")["codes"][0]
        assert_raises_rpc_error(ERR_LIMIT, None, self.w.redeemgiftcode, more["code"], self.payee.getnewaddress())
        node.stop()
        for bad in ("-giftcodelimit=0:1", "-giftcodelimit=1h", "-giftcodelimit=1h:x", "-giftcodelimit=32d:1",
                    "-giftcodelimit=1h:0:0"):
            self.log.info("   %s stops the node", bad)
            node.start(self.args + ["-mocktime=%d" % self.clock, bad], wait=False)
            wait_until(lambda: not node.running, 60, what="the node to refuse %s" % bad)
            assert_true("giftcodelimit" in node._read_stderr() or node.debug_log_contains("giftcodelimit"),
                        "the node names the option")
        node.start(self.args + ["-mocktime=%d" % self.clock])

        self.log.info("7. bad limits: -8, nothing changes")
        before = self.w.getgiftcodeinfo()["breaker"]
        for bad in ([{"window": 0, "amount": 1}], [{"window": 60}], [{"window": 60, "amount": 1, "colour": 1}],
                    [{"window": 60, "amount": "x"}], [{"window": "60", "amount": 1}], [1], {"window": 60},
                    [{"window": 60, "count": 0}], [{"window": 60, "amount": 1, "label": 5}]):
            assert_raises_rpc_error(ERR_INVALID_PARAMETER, None, self.w.setgiftcodelimits, bad)
        assert_equal(self.w.getgiftcodeinfo()["breaker"], before)
        node.rpc("setmocktime", 0)

    def events(self):
        if not os.path.exists(self.events_file):
            return []
        with open(self.events_file, encoding="utf-8") as f:
            return [line.split("\t") for line in f.read().splitlines()]


if __name__ == "__main__":
    BreakerTest().main()
