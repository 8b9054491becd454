#!/usr/bin/env python3
"""A wallet whose disk is full or failing refuses redemptions with -20 and
sends nothing; once the disk is back, the same redemption pays, once. A
failure of the commit itself stops the node, which comes back consistent.

The node runs with libpowercut.so preloaded on its wallets directory, which
makes the wallet database's writes fail on demand (test/powercut: a control
file names the fault):

- disk full (enospc): every write that needs new blocks fails, including
  writes into the holes of Berkeley DB's sparse log files. Redemptions that
  still fit in blocks the files have are paid, once; the first that does
  not gets -20 (and again on a retry), and so does creategiftcode; each
  refusal leaves balances, codes, wallet transactions and mempool as they
  were, and the node keeps running. When space returns, the same redemption pays; a
  retry is a replay with the same txid. A restart reads it back.
- failing disk (eio-sync): every fsync of the wallet's log fails. The
  module writes a transaction's log before its commit record, so the
  refusal comes where aborting is certain to leave nothing behind: -20,
  the message names the log, nothing changed. Then the same redemption pays.
- the commit itself fails (eio-sync:N on the log, N growing until the
  sync that fails is the commit record's: every earlier one is a -20 that
  changes nothing). Its outcome is unknown, so the node stops (abort) rather than tell the holder anything.
  The power is then cut (the commit record was never synced), the node
  restarts consistent with the code still issued and nothing paid, and
  the holder's retry pays once.
"""

import http.client
import os
import sys
from decimal import Decimal

from test_framework.chain import mature_coinbases, outputs_to
from test_framework.giftcode import (ERR_STORE_FAILURE, RpcError, assert_snapshot_equal, find_powercut_library,
                                     preload_powercut, snapshot)
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import REPO_ROOT, assert_equal, assert_raises_rpc_error, assert_true, wait_until

sys.path.insert(0, os.path.join(REPO_ROOT, "test", "powercut"))
import powercut  # noqa: E402

ISSUER = "issuer"
AMOUNT = Decimal("0.5")


class DiskFullTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=" + ISSUER, "-wallet=payee"]]

    def add_options(self, parser):
        parser.add_argument("--powercut", help="libpowercut.so (default: $GIFTCODE_POWERCUT_LIB, else build/default)")

    def fault(self, kind, where="/wallets/"):
        powercut.set_fault(self.control, kind, where)

    def paid_once(self, entry, txid):
        """The holder of `entry` has exactly one payment, `txid`."""
        found = outputs_to(self.node, [entry["address"]])[entry["address"]]
        assert_equal([(t, v) for t, v, _ in found], [(txid, AMOUNT)], "payments to the holder of %s" % entry["id"])
        assert_equal(self.node.tagged_payments(ISSUER).get(entry["id"]), {txid})

    def refused_and_unchanged(self, entry, message=None):
        before = snapshot(self.node, ISSUER)
        e = assert_raises_rpc_error(ERR_STORE_FAILURE, message, self.w.redeemgiftcode, entry["code"], entry["address"])
        assert_snapshot_equal(before, snapshot(self.node, ISSUER), "a redemption refused by the disk")
        assert_equal(self.w.getgiftcode(entry["id"])["state"], "issued")
        assert_true(self.node.running, "the node stopped")
        return e

    def pays_once(self, entry):
        r = self.w.redeemgiftcode(entry["code"], entry["address"])
        assert_equal((r["replay"], r["broadcast"]), (False, True))
        again = self.w.redeemgiftcode(entry["code"], entry["address"])
        assert_equal((again["replay"], again["txid"]), (True, r["txid"]))
        self.paid_once(entry, r["txid"])
        return r["txid"]

    def run_test(self):
        library = find_powercut_library(self.options.powercut)
        node = self.node = self.nodes[0]
        self.w, payee = node.wallet(ISSUER), node.wallet("payee")
        mature_coinbases(node, ISSUER, 20)
        codes = self.w.creategiftcode(AMOUNT, 12, "disk")["codes"]
        for c in codes:
            c["address"] = payee.getnewaddress()
        node.stop()
        self.control, journal = preload_powercut(node, library)
        node.start()

        self.log.info("disk full: redemptions and creation get -20, nothing changes, the node runs on")
        # A full disk still takes writes into blocks a file already has (the
        # rest of its last block): the first redemptions may fit there, and
        # then are paid and kept like any other. The first one that needs a
        # new block is refused.
        self.fault("enospc")
        fitted = []
        full = None
        for entry in codes[:8]:
            before = snapshot(node, ISSUER)
            try:
                fitted.append((entry, self.w.redeemgiftcode(entry["code"], entry["address"])["txid"]))
            except RpcError as e:
                assert_equal(e.code, ERR_STORE_FAILURE)
                assert_snapshot_equal(before, snapshot(node, ISSUER), "a redemption refused by the disk")
                self.log.info("  redeemgiftcode: %d %s", e.code, e.message)
                full = entry
                break
        assert_true(full is not None, "eight redemptions fitted on a full disk")
        self.log.info("  %d redemption(s) fitted in blocks the wallet's files had; the next was refused", len(fitted))
        first = self.refused_and_unchanged(full)
        self.log.info("  its retry: %d %s", first.code, first.message)
        second = self.refused_and_unchanged(full)
        self.log.info("  and again: %d %s", second.code, second.message)
        before = snapshot(node, ISSUER)
        e = assert_raises_rpc_error(ERR_STORE_FAILURE, None, self.w.creategiftcode, AMOUNT, 1)
        self.log.info("  creategiftcode: %d %s", e.code, e.message)
        assert_snapshot_equal(before, snapshot(node, ISSUER), "a creation refused by the disk")

        self.log.info("space returns: the same redemption pays, once")
        self.fault(None)
        full_txid = self.pays_once(full)

        for entry, txid in fitted:
            self.paid_once(entry, txid)
        rest = [c for c in codes if c is not full and c["id"] not in {e["id"] for e, _ in fitted}]

        self.log.info("failing disk (every sync of the wallet's log fails): -20 naming the log, nothing changes")
        failing = rest[0]
        self.fault("eio-sync", "/wallets/%s/database/log." % ISSUER)
        e = self.refused_and_unchanged(failing, message="could not write its log")
        self.log.info("  redeemgiftcode: %d %s", e.code, e.message)
        self.fault(None)
        failing_txid = self.pays_once(failing)

        self.log.info("a restart reads both back")
        node.restart()
        for entry, txid in ((full, full_txid), (failing, failing_txid)):
            view = self.w.getgiftcode(entry["id"])
            assert_equal((view["state"], view["txid"]), ("redeemed", txid))
        info = self.w.getgiftcodeinfo()
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"], "consistent after the restart")

        self.log.info("the commit itself fails: the node stops, loses power, and comes back consistent")
        # eio-sync:N lets N syncs of the log through, then fails them: the
        # wallet syncs its log a few times before the commit (its own key
        # pool writes checkpoint), then the module's log flush, then the
        # commit record. N grows until the commit's sync is the one that
        # fails; every earlier failure is a plain -20 that changes nothing.
        stopped = rest[1]
        for allowed in range(1, 31):
            self.fault("eio-sync:%d" % allowed, "/wallets/%s/database/log." % ISSUER)
            try:
                self.w.redeemgiftcode(stopped["code"], stopped["address"])
                raise AssertionError("a redemption whose commit failed was answered")
            except RpcError as e:
                assert_equal(e.code, ERR_STORE_FAILURE)
                assert_equal(self.w.getgiftcode(stopped["id"])["state"], "issued")
                self.fault(None)
                continue
            except (OSError, http.client.HTTPException):
                self.log.info("  the node stopped when the sync after %d others failed", allowed)
                break
        else:
            stopped = None
        assert_true(stopped is not None, "the node never stopped on a failed commit")
        wait_until(lambda: not node.running, timeout=60, what="the node to exit")
        self.log.info("  the node exited with status %d", node.process.returncode)
        assert_equal(node.process.returncode, -6)  # SIGABRT
        assert_true(node.debug_log_contains("FATAL: committing a database transaction failed"),
                    "the node says why it stopped")
        stats = powercut.rollback(journal)
        self.log.info("  power cut: %d files rolled back (%d bytes restored, %d bytes cut off)", stats["files"],
                      stats["restored_bytes"], stats["truncated_bytes"])
        node._close_files()
        self.fault(None)
        node.start()
        info = self.w.getgiftcodeinfo()
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"], "consistent after the stop")
        assert_equal(self.w.getgiftcode(stopped["id"])["state"], "issued")
        assert_equal(outputs_to(node, [stopped["address"]])[stopped["address"]], [], "paid while unknown")
        assert_true(stopped["id"] not in node.tagged_payments(ISSUER), "a payment of the stopped redemption")
        self.log.info("  the holder retries: paid once")
        self.pays_once(stopped)
        node.mine(1, wallet=ISSUER)
        info = self.w.getgiftcodeinfo()
        assert_equal(info["counts"]["redeemed"], 3 + len(fitted))
        assert_equal(info["redeemed_amount"], AMOUNT * (3 + len(fitted)))


if __name__ == "__main__":
    DiskFullTest().main()
