#!/usr/bin/env python3
"""Gift codes and their states survive a clean restart, a SIGKILL, an
unload/load of the wallet, and a restore from backupwallet.

A wallet holds codes in every stored state: issued (one with an expiry far
ahead), redeemed with a confirmed payment, redeemed with a payment still in
the mempool, and cancelled. After each of the four events the test checks
that every code reads back the same (id, state, amount, label, times, txid,
payee, fee), getgiftcodeinfo reports the same counts and sums with a clean
consistency check and failed_redemptions reset, each payment is still the
one tagged wallet transaction of its code, the unconfirmed payment is back
in the mempool, a repeat of a redemption is a replay with the same txid,
another address still gets -405 and the cancelled code -406, and an issued
code can still be redeemed once.
"""

import os
import shutil
import time
from decimal import Decimal

from test_framework.chain import flush_chain
from test_framework.giftcode import ERR_ALREADY_REDEEMED, ERR_CANCELLED, ERR_WALLET_NOT_FOUND
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true, wait_until

VOLATILE = ("confirmations", "in_mempool", "broadcast_error")
WALLETS = ["-wallet=issuer", "-wallet=payee", "-wallet=miner"]


def stable(codes):
    """Code views without the fields that change as blocks are mined."""
    return [{k: v for k, v in c.items() if k not in VOLATILE} for c in codes]


class PersistenceTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [WALLETS]

    def state(self, wallet):
        node = self.node
        # Every block so far processed: the consistency check's height and
        # the spendable balance (solvency) are the tip's.
        node.sync_callbacks()
        info = node.rpc("getgiftcodeinfo", wallet=wallet)
        return {
            "codes": stable(node.rpc("listgiftcodes", "", None, 0, 10000, wallet=wallet)["codes"]),
            "info": {k: v for k, v in info.items()
                     if k not in ("failed_redemptions", "unbroadcast", "timings", "restore", "batches",
                                  "payments_start_in", "payments_wait_for_block")},
            "tags": node.tagged_payments(wallet),
        }

    def check_survived(self, what, wallet="issuer", new_place=False):
        node, w = self.node, self.node.wallet(wallet)
        self.log.info("after %s: every code, state and payment is as before", what)
        now = self.state(wallet)
        for key in ("codes", "info", "tags"):
            assert_equal(now[key], self.expected[key], "%s after %s" % (key, what))
        info = w.getgiftcodeinfo()
        assert_equal(info["failed_redemptions"], {}, "failed_redemptions count since the wallet was loaded")
        restore = info["restore"]
        # A copy loaded in a new place has no state file beside it yet.
        assert_equal((restore["detected"], restore["side_file"], restore["found_on_chain"]), (False, not new_place, 0),
                     "%s is not a restore from an older backup" % what)
        if not new_place:
            assert_equal(restore["wallet_commits"], restore["side_file_commits"], "commits in the wallet and beside it")
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"], "consistency clean")
        for code, txid in ((self.r[0]["code"], self.paid0["txid"]), (self.r[1]["code"], self.paid1["txid"])):
            assert_equal(w.getgiftcode(code)["txid"], txid)
        assert_true(w.getgiftcode(self.r[0]["id"])["confirmations"] >= 1, "the confirmed payment stays confirmed")
        wait_until(lambda: self.paid1["txid"] in node.rpc("getrawmempool"), 60,
                   what="the unconfirmed payment back in the mempool")
        assert_equal(w.getgiftcode(self.r[1]["id"])["in_mempool"], True)
        self.log.info("after %s: replays, -405, -406", what)
        again0 = w.redeemgiftcode(self.r[0]["code"], self.address0)
        again1 = w.redeemgiftcode(self.r[1]["code"], self.address1)
        assert_equal((again0["txid"], again0["replay"]), (self.paid0["txid"], True))
        assert_equal((again1["txid"], again1["replay"], again1["broadcast"]), (self.paid1["txid"], True, True))
        assert_equal((again0["fee"], again0["redeemed_at"]), (self.paid0["fee"], self.paid0["redeemed_at"]))
        assert_raises_rpc_error(ERR_ALREADY_REDEEMED, None, w.redeemgiftcode, self.r[0]["code"], self.address1)
        assert_raises_rpc_error(ERR_CANCELLED, None, w.redeemgiftcode, self.c[0]["code"], self.address1)
        assert_equal(node.tagged_payments(wallet), self.expected["tags"], "no payment was added")

    def run_test(self):
        node = self.node = self.nodes[0]
        issuer, payee, miner = node.wallet("issuer"), node.wallet("payee"), node.wallet("miner")
        assert_equal(sorted(node.rpc("listwallets")), ["issuer", "miner", "payee"])

        self.log.info("fund the issuer with 200 MONA")
        node.mine(110, wallet="miner")
        self.miner_address = miner.getnewaddress()
        miner.sendtoaddress(issuer.getnewaddress(), Decimal("200"))
        node.mine(1, self.miner_address)

        self.log.info("codes in every state: issued, expiring later, redeemed (confirmed/unconfirmed), cancelled")
        self.i = issuer.creategiftcode(Decimal("1"), 3, "keep")["codes"]
        self.expires_at = int(time.time()) + 10 ** 7
        self.e = issuer.creategiftcode(Decimal("4"), 1, "expiry", self.expires_at)["codes"]
        self.r = issuer.creategiftcode(Decimal("2"), 2, "redeem")["codes"]
        self.c = issuer.creategiftcode(Decimal("3"), 1, "cancel")["codes"]
        self.address0, self.address1 = payee.getnewaddress(), payee.getnewaddress()
        self.paid0 = issuer.redeemgiftcode(self.r[0]["code"], self.address0)
        node.mine(1, self.miner_address)
        self.paid1 = issuer.redeemgiftcode(self.r[1]["code"], self.address1)
        issuer.cancelgiftcode(self.c[0]["id"])
        self.expected = self.state("issuer")
        assert_equal(self.expected["info"]["counts"], {"issued": 4, "redeemed": 2, "cancelled": 1, "expired": 0})
        assert_equal(self.expected["info"]["outstanding_liability"], Decimal("7"))
        assert_equal(self.expected["tags"], {self.r[0]["id"]: {self.paid0["txid"]},
                                             self.r[1]["id"]: {self.paid1["txid"]}})
        states = {c["id"]: c["state"] for c in self.expected["codes"]}
        assert_equal(sorted(states.values()), ["cancelled", "issued", "issued", "issued", "issued",
                                               "redeemed", "redeemed"])

        self.log.info("clean restart")
        node.restart()
        self.check_survived("a clean restart")

        self.log.info("SIGKILL and start")
        flush_chain(node)  # blocks are not what this test is about: keep them
        node.kill()
        node.start()
        self.check_survived("a SIGKILL")

        self.log.info("unloadwallet and loadwallet")
        node.rpc("unloadwallet", "issuer")
        assert_raises_rpc_error(ERR_WALLET_NOT_FOUND, None, issuer.getgiftcodeinfo)
        node.rpc("loadwallet", "issuer")
        self.check_survived("unloadwallet/loadwallet")

        self.log.info("backupwallet, then restore the backup as a wallet of its own")
        backup = os.path.join(node.datadir, "issuer-backup.dat")
        issuer.backupwallet(backup)
        # The node refuses two loaded copies of one database, so the original
        # goes first, as it would on a machine being restored.
        node.rpc("unloadwallet", "issuer")
        os.makedirs(os.path.join(node.walletdir, "restored"))
        shutil.copyfile(backup, os.path.join(node.walletdir, "restored", "wallet.dat"))
        node.rpc("loadwallet", "restored")
        self.check_survived("a restore from backupwallet", wallet="restored", new_place=True)
        restored = node.wallet("restored")

        self.log.info("the restored wallet redeems an issued code once, and keeps it over a restart")
        # Loaded without the state file beside it, it makes new payments
        # after the next block (wallet_giftcode_restore.py tests the wait).
        address2 = payee.getnewaddress()
        node.mine(1, self.miner_address)
        node.sync_callbacks()
        paid2 = restored.redeemgiftcode(self.i[0]["code"], address2)
        assert_equal((paid2["amount"], paid2["replay"], paid2["broadcast"]), (Decimal("1"), False, True))
        node.mine(1, self.miner_address)
        assert_equal(payee.getreceivedbyaddress(address2, 1), Decimal("1"))
        before = self.state("restored")
        node.restart(["-wallet=restored", "-wallet=payee", "-wallet=miner"])
        after = self.state("restored")
        assert_equal(after, before, "restored wallet over a restart")
        again = restored.redeemgiftcode(self.i[0]["code"], address2)
        assert_equal((again["txid"], again["replay"]), (paid2["txid"], True))
        expiring = restored.getgiftcode(self.e[0]["id"])
        assert_equal((expiring["state"], expiring["expires_at"]), ("issued", self.expires_at))
        info = restored.getgiftcodeinfo()
        assert_equal(info["counts"], {"issued": 3, "redeemed": 3, "cancelled": 1, "expired": 0})
        assert_true(info["consistency"]["clean"], "consistency clean")


if __name__ == "__main__":
    PersistenceTest().main()
