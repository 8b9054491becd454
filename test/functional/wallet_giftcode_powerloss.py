#!/usr/bin/env python3
"""The issuing node loses power in the middle of redemptions, again and
again: every payment a peer saw belongs to a code that reads redeemed with
that txid, no code is paid twice, and the ledger stays consistent.

Two nodes: the issuer (wallet "issuer", funded by the peer's mining) and a
peer (wallet "holder", which owns every payee address, and wallet "miner").
The peer mines every block; the issuer relays its payments to the peer at
once (it whitelists it). The issuer runs with libpowercut.so preloaded
(test/powercut): each write to its data directory is journaled, and a cut
is SIGKILL followed by a rollback of every file to what had last been
synced, which is what a power loss leaves on a disk that honours fsync.
A SIGKILL alone would keep whatever the node had written but not synced.

Each round: client threads redeem codes (a holder retries until it gets an
answer, as a real one would), the peer mines now and then, and the
issuer's power is cut, in half of the rounds after a random number of
acknowledged redemptions plus a random delay, in the other half the moment
the peer's mempool has a payment it did not have before. The test then reads what the peer saw (every transaction
paying a payee address, in its mempool or chain), restarts the issuer on
the rolled-back data directory, reconnects it, and checks:

- every payment the peer has seen belongs to a code that reads redeemed
  with that txid ("seen paid, came back issued" otherwise);
- no payee address was ever paid by two transactions;
- every acknowledged redemption reads redeemed with its txid;
- getgiftcodeinfo.consistency is checked and clean.

Violations are counted over all rounds and the test fails at the end with
the counts, so a build that does not sync its commits shows how many codes
came back. After the last cut: payments confirm, and the chain holds one
output of the code's amount per redeemed code. --cuts sets the number of
cuts (default 20; the long suite runs 200).
"""

import http.client
import os
import random
import sys
import threading
import time
from decimal import Decimal

from test_framework.chain import flush_chain, outputs_to
from test_framework.giftcode import (ENV_POWERCUT_LIB, ERR_CATCHING_UP, ERR_FUNDS_PENDING, ERR_INSUFFICIENT_FUNDS,
                                     RpcError, all_gift_codes, find_powercut_library)
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import REPO_ROOT, assert_equal, assert_true, wait_until

sys.path.insert(0, os.path.join(REPO_ROOT, "test", "powercut"))
import powercut  # noqa: E402

ISSUER = "issuer"
CLIENTS = 8
AMOUNT = Decimal("0.01")


class PowerLossTest(GiftCodeTestFramework):
    default_cuts = 20

    def set_test_params(self):
        # The peer, then the issuer.
        self.num_nodes = 2
        self.extra_args = [["-wallet=holder", "-wallet=miner"],
                           ["-wallet=" + ISSUER, "-listen=1", "-whitelist=127.0.0.1", "-rpcthreads=16",
                            "-rpcworkqueue=256"]]

    def setup_nodes(self):
        # The issuer is started by start_issuer(), connected to the peer.
        self.add_nodes(self.num_nodes, self.extra_args, names=["peer", "issuer"])
        self.start_node(0)

    def add_options(self, parser):
        parser.add_argument("--cuts", type=int, default=self.default_cuts,
                            help="power cuts (default: %d)" % self.default_cuts)
        parser.add_argument("--powercut", help="libpowercut.so (default: $%s, else build/default)" % ENV_POWERCUT_LIB)

    # -- the two nodes -----------------------------------------------------------
    def start_issuer(self):
        self.issuer.start()
        self.peer.rpc("addnode", "127.0.0.1:%d" % self.issuer.p2p_port, "onetry")
        wait_until(lambda: self.issuer.rpc("getbestblockhash") == self.peer.rpc("getbestblockhash"),
                   timeout=120, what="the issuer to catch up with the peer")
        # The node syncs its block files and block index only when it flushes
        # (now and then, and at a clean stop): flush now, or every cut would
        # lose every block since the start, and each restart would download
        # them all again. Its chain state is written without a sync even
        # then, so a restart still reconnects them from its own files.
        flush_chain(self.issuer)

    def issue(self, count):
        holder = self.peer.wallet("holder")
        for c in self.issuer.wallet(ISSUER).creategiftcode(AMOUNT, count, "powerloss")["codes"]:
            self.codes[c["id"]] = dict(c, address=holder.getnewaddress())
        self.by_address = {c["address"]: i for i, c in self.codes.items()}

    # -- one round ---------------------------------------------------------------
    def storm(self, round_):
        """Redeems unanswered codes until the power is cut. Returns the cut's
        rollback counts and how many acknowledgements came this round."""
        queue = [c for i, c in self.codes.items() if i not in self.acks]
        random.shuffle(queue)
        lock = threading.Lock()
        acked = threading.Semaphore(0)
        errors = []
        cut = threading.Event()

        def client():
            while not cut.is_set():
                with lock:
                    if not queue:
                        return
                    code = queue.pop()
                try:
                    r = self.issuer.call_or_error("redeemgiftcode", [code["code"], code["address"]], wallet=ISSUER)
                except (OSError, http.client.HTTPException):
                    return  # the power is off
                if isinstance(r, RpcError):
                    if r.code in (ERR_CATCHING_UP, ERR_FUNDS_PENDING, ERR_INSUFFICIENT_FUNDS):
                        with lock:
                            queue.insert(0, code)  # the holder tries again later
                        time.sleep(0.05)
                        continue
                    with lock:
                        errors.append((code["id"], r))
                    return
                with lock:
                    previous = self.acks.get(code["id"])
                    if previous is not None and previous != r["txid"]:
                        errors.append((code["id"], "two txids %s %s" % (previous, r["txid"])))
                    self.acks[code["id"]] = r["txid"]
                acked.release()

        def miner():
            while not cut.wait(random.uniform(0.3, 1.0)):
                try:
                    self.peer.rpc("generatetoaddress", 1, self.miner_address)
                except (OSError, http.client.HTTPException, RpcError) as e:
                    errors.append(("miner", e))
                    return

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        threads.append(threading.Thread(target=miner, daemon=True))
        for t in threads:
            t.start()
        got = 0
        if random.random() < 0.5:
            # After a random number of acknowledgements and a random delay.
            wanted = random.randint(1, 12)
            while got < wanted and acked.acquire(timeout=60):
                got += 1
            assert_true(got == wanted, "round %d: only %d redemptions answered in 60 s" % (round_, got))
            time.sleep(random.uniform(0, 0.3))
        else:
            # The moment the peer has a payment it did not have before: the
            # window in which an unsynced commit would pay a code twice.
            known = set(self.peer.rpc("getrawmempool"))
            deadline = time.monotonic() + 60
            while not set(self.peer.rpc("getrawmempool")) - known:
                assert_true(time.monotonic() < deadline, "round %d: the peer saw no payment in 60 s" % round_)
                time.sleep(0.005)
            while acked.acquire(blocking=False):
                got += 1
        stats = powercut.cut(self.issuer.process, self.journal)
        cut.set()
        self.issuer._close_files()
        for t in threads:
            t.join(120)
            assert_true(not t.is_alive(), "a client hangs after the cut")
        assert_equal(errors, [], "round %d: errors during the storm" % round_)
        return stats, got

    def record_what_the_peer_saw(self):
        """Adds every transaction paying a payee address that the peer has
        (mempool or chain) to self.seen {address: set of txids}."""
        self.peer.rpc("syncwithvalidationinterfacequeue")
        for t in self.peer.rpc("listtransactions", "*", 1000000, 0, True, wallet="holder"):
            if t["category"] == "receive" and t["address"] in self.by_address:
                self.seen.setdefault(t["address"], set()).add(t["txid"])

    def check(self, round_):
        """The checks after a restart; returns this round's violations."""
        w = self.issuer.wallet(ISSUER)
        violations = {"seen_paid_came_back_issued": [], "seen_paid_other_txid": [], "paid_twice": [],
                      "acknowledged_lost": [], "tags": []}
        info = w.getgiftcodeinfo()
        c = info["consistency"]
        assert_true(c["checked"], "round %d: consistency check did not run: %s" % (round_, c.get("error")))
        self.unclean += 0 if c["clean"] else 1
        views = {c["id"]: c for c in all_gift_codes(self.issuer, ISSUER)}
        for address, txids in self.seen.items():
            ident = self.by_address[address]
            view = views[ident]
            if len(txids) > 1:
                violations["paid_twice"].append(ident)
            if view["state"] != "redeemed":
                violations["seen_paid_came_back_issued"].append(ident)
            elif view["txid"] not in txids:
                violations["seen_paid_other_txid"].append(ident)
        for ident, txid in self.acks.items():
            view = views[ident]
            if view["state"] != "redeemed" or view["txid"] != txid:
                violations["acknowledged_lost"].append(ident)
        for ident, txids in self.issuer.tagged_payments(ISSUER).items():
            if len(txids) != 1:
                violations["tags"].append(ident)
        for kind, idents in violations.items():
            if idents:
                self.log.error("round %d: %d %s (first: %s)", round_, len(idents), kind, ", ".join(idents[:3]))
            self.violations[kind].update(idents)
        return info

    # -- the test ------------------------------------------------------------------
    def run_test(self):
        library = find_powercut_library(self.options.powercut)
        self.peer, self.issuer = self.nodes
        self.start_issuer()
        self.miner_address = self.peer.rpc("getnewaddress", wallet="miner")
        self.log.info("fund the issuer: 150 coinbases mined by the peer, then 100 more to mature them")
        self.peer.mine(150, self.issuer.rpc("getnewaddress", wallet=ISSUER))
        self.peer.mine(100, self.miner_address)
        wait_until(lambda: self.issuer.rpc("getbestblockhash") == self.peer.rpc("getbestblockhash"),
                   what="the issuer to see the funding blocks")
        self.codes, self.acks, self.seen = {}, {}, {}
        self.issue(200)
        self.log.info("restart the issuer with libpowercut.so preloaded")
        self.issuer.stop()
        self.journal = os.path.join(os.path.dirname(self.issuer.datadir.rstrip("/")),
                                    os.path.basename(self.issuer.datadir.rstrip("/")) + ".powercut")
        self.issuer.env = powercut.environment(library, self.issuer.datadir, self.journal, exclude=("debug.log",))
        self.issuer.side_files.append(self.journal)
        self.start_issuer()

        self.violations = {k: set() for k in ("seen_paid_came_back_issued", "seen_paid_other_txid", "paid_twice",
                                             "acknowledged_lost", "tags")}
        self.unclean = 0
        totals = {"files": 0, "removed": 0, "restored_bytes": 0, "truncated_bytes": 0}
        started = time.monotonic()
        for round_ in range(self.options.cuts):
            if sum(1 for i in self.codes if i not in self.acks) < 60:
                self.issue(100)
            stats, acked = self.storm(round_)
            for k in totals:
                totals[k] += stats[k]
            self.record_what_the_peer_saw()
            self.start_issuer()
            info = self.check(round_)
            self.log.info("cut %d after %d acknowledgements: rolled back %d files (%d removed, %d bytes restored, "
                          "%d bytes cut off); peer has seen %d codes paid; %d redeemed; consistency %s", round_,
                          acked, stats["files"], stats["removed"], stats["restored_bytes"],
                          stats["truncated_bytes"], len(self.seen), info["counts"]["redeemed"],
                          "clean" if info["consistency"]["clean"] else "NOT clean")
        elapsed = time.monotonic() - started
        self.log.info("%d cuts in %.0f s: %d files rolled back (%d removed, %d bytes restored, %d bytes cut off); "
                      "%d redemptions acknowledged; peer saw %d codes paid", self.options.cuts, elapsed,
                      totals["files"], totals["removed"], totals["restored_bytes"], totals["truncated_bytes"],
                      len(self.acks), len(self.seen))
        counts = {k: len(v) for k, v in self.violations.items()}
        self.log.info("violations over all cuts: %s; rounds with an unclean consistency check: %d", counts,
                      self.unclean)
        assert_true(totals["truncated_bytes"] + totals["restored_bytes"] + totals["removed"] > 0,
                    "the cuts discarded nothing: the harness is not biting")
        assert_equal(counts, {k: 0 for k in counts}, "violations over %d cuts" % self.options.cuts)
        assert_equal(self.unclean, 0, "rounds with an unclean consistency check")

        self.log.info("settle: mine until every redeemed code's payment is confirmed")
        w = self.issuer.wallet(ISSUER)

        def settled():
            self.peer.rpc("generatetoaddress", 1, self.miner_address)
            redeemed = w.listgiftcodes("redeemed", None, 0, 10000)["codes"]
            return all(c["confirmations"] >= 1 for c in redeemed)
        try:
            wait_until(settled, timeout=120, interval=0.5, what="every payment to confirm")
        except AssertionError:
            waiting = [c for c in w.listgiftcodes("redeemed", None, 0, 10000)["codes"] if c["confirmations"] < 1]
            issuer_pool, peer_pool = set(self.issuer.rpc("getrawmempool")), set(self.peer.rpc("getrawmempool"))
            for c in waiting[:10]:
                self.log.error("unconfirmed %s: %s in the issuer's mempool %s, the peer's %s; %r", c["id"], c["txid"],
                               c["txid"] in issuer_pool, c["txid"] in peer_pool,
                               {k: c.get(k) for k in ("payment_state", "broadcast_error", "attention")})
            self.log.error("%d unconfirmed; mempools: issuer %d, peer %d; peers of the issuer: %d", len(waiting),
                           len(issuer_pool), len(peer_pool), len(self.issuer.rpc("getpeerinfo")))
            raise
        self.record_what_the_peer_saw()
        redeemed = {c["id"]: c for c in w.listgiftcodes("redeemed", None, 0, 10000)["codes"]}
        found = outputs_to(self.peer, [self.codes[i]["address"] for i in redeemed], first_height=0,
                           include_mempool=True)
        for ident, view in redeemed.items():
            assert_equal(found[self.codes[ident]["address"]], [(view["txid"], AMOUNT, True)],
                         "outputs to the payee of %s" % ident)
        for address, txids in self.seen.items():
            assert_true(self.by_address[address] in redeemed, "a code the peer saw paid is not redeemed")
        info = w.getgiftcodeinfo()
        assert_equal(info["redeemed_amount"], AMOUNT * len(redeemed))
        assert_true(info["consistency"]["clean"], "consistency after settling")
        self.log.info("settled: %d codes redeemed, each paid once on chain", len(redeemed))


if __name__ == "__main__":
    PowerLossTest().main()
