#!/usr/bin/env python3
"""-giftcodenotify tells the operator of every kind of event, each with the
code's id (never the code), the payment's txid and the reason, and
getgiftcodeinfo's solvency follows what the wallet can spend.

The node runs the example command, contrib/giftcode-notify.sh, which appends
one tab-separated line per event to a file. The issuing wallet is driven
through every event:
  insolvent    a code worth more than the wallet's one confirmed coin,
               and again for a code issued while it lasts
               (getgiftcodeinfo: solvent false, the shortfall, the label
               not covered; a warning in the log)
  solvent      funds confirmed in the next block
  redeemed     a redemption committed
  not_accepted with -limitancestorcount=2, a payment spending the change
               of a chain of unconfirmed payments is refused by the mempool
  attention    that payment abandoned (abandontransaction)
  replaced     a payment bumped (bumpfee), followed when the code is read
  buried       six blocks on
  refusals     ten malformed codes within a minute (-giftcoderefusalalert=10)
  restore      the wallet put back from a backup older than a commit
  consistency  a redeemed record's txid changed in the wallet file: the
               record's payment is missing, and the wallet's payment of the
               code is not the record's
Every line names the wallet, and no code text appears in the file.
"""

import os
import re
import shutil
from decimal import Decimal

from test_framework.giftcode import ERR_MALFORMED, edit_giftcode_record
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import REPO_ROOT, assert_equal, assert_raises_rpc_error, assert_true, wait_until

KINDS = ("redeemed", "not_accepted", "attention", "replaced", "buried", "consistency", "restore", "insolvent",
         "solvent", "refusals")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
REFUSAL_ALERT = 10


class NotifyTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-wallet=issuer", "-wallet=miner", "-wallet=payee", "-walletrbf=1",
                            "-limitancestorcount=2", "-giftcoderefusalalert=%d" % REFUSAL_ALERT]]

    def setup_nodes(self):
        # The events file lives in the node's data directory, known once the node is made.
        node, = self.add_nodes(self.num_nodes, self.extra_args)
        self.events_file = os.path.join(node.datadir, "giftcode-events.log")
        script = os.path.join(REPO_ROOT, "contrib", "giftcode-notify.sh")
        node.extra_args.append("-giftcodenotify=%s %s %%e %%c %%s %%w %%r" % (script, self.events_file))
        self.start_nodes()

    def events(self):
        """Every event line so far: dicts of time, event, code, txid, wallet, reason."""
        if not os.path.exists(self.events_file):
            return []
        with open(self.events_file, encoding="utf-8") as f:
            lines = f.read().splitlines()
        fields = ("time", "event", "code", "txid", "wallet", "reason")
        out = []
        for line in lines:
            parts = line.split("\t")
            assert_equal(len(parts), len(fields), "fields of %r" % line)
            out.append(dict(zip(fields, parts)))
        return out

    def wait_for_event(self, kind, code="-", txid=None, reason=None):
        """The first event of `kind` for `code` (and `txid`, and with
        `reason` in its reason, when given), waiting for it."""
        def find():
            for e in self.events():
                if e["event"] == kind and e["code"] == code and (txid is None or e["txid"] == txid) and \
                        (reason is None or reason in e["reason"]):
                    return e
            return None
        wait_until(lambda: find() is not None, 60, what="a %s event for %s" % (kind, code))
        return find()

    def run_test(self):
        node = self.nodes[0]
        issuer, miner, payee = node.wallet("issuer"), node.wallet("miner"), node.wallet("payee")
        node.mine(101, wallet="miner")
        miner.sendtoaddress(issuer.getnewaddress(), 10)
        node.mine(1, wallet="miner")
        # The issuer counts the coin once it has processed that block.
        node.sync_callbacks()
        secrets = []

        self.log.info("solvency: nothing owed, 10 spendable")
        solvency = issuer.getgiftcodeinfo()["solvency"]
        assert_equal((solvency["checked"], solvency["solvent"], solvency["liability"], solvency["spendable"]),
                     (True, True, Decimal("0"), Decimal("10")))

        self.log.info("insolvent: a 20 MONA code in a wallet that can spend 10, its label hostile to a shell")
        planted = os.path.join(node.datadir, "planted")
        label = "big $(touch %s) `touch %s` 'q' \u6625" % (planted, planted)
        created = issuer.creategiftcode(20, 1, label)
        big = created["codes"][0]
        secrets.append(big)
        # A code reserves no funds: the call issues it, and says so.
        assert_equal((created["outstanding_liability"], created["spendable"], created["solvent"]),
                     (Decimal("20"), Decimal("10"), False))
        assert_true("A code reserves no funds" in created["warning"], created["warning"])
        event = self.wait_for_event("insolvent")
        assert_true(event["reason"].endswith("cannot cover alone: big %%24(touch %s) %%60touch %s%%60 %%27q%%27 "
                                             "%%E6%%98%%A5" % (planted, planted)), event["reason"])
        assert_true(not os.path.exists(planted), "a label ran as a command")
        solvency = issuer.getgiftcodeinfo()["solvency"]
        assert_equal((solvency["solvent"], solvency["shortfall"]), (False, Decimal("10")))
        assert_equal(solvency["labels"], [{"label": label, "liability": Decimal("20"), "covered": False}])
        assert_true(node.debug_log_contains("gift codes: WARNING: outstanding codes are worth 20.00000000"),
                    "the log warns of the shortfall")
        # Each further issue while it lasts is told again, and logged.
        more = issuer.creategiftcode(1, 1, "more")
        assert_equal((more["outstanding_liability"], more["solvent"]), (Decimal("21"), False))
        wait_until(lambda: len([e for e in self.events() if e["event"] == "insolvent"]) == 2, 60,
                   what="a second insolvent event")
        assert_true(node.debug_log_contains("gift codes: WARNING: outstanding codes are worth 21.00000000"),
                    "the log warns again")

        self.log.info("solvent: 15 more confirmed in the next block")
        miner.sendtoaddress(issuer.getnewaddress(), 15)
        node.mine(1, wallet="miner")
        self.wait_for_event("solvent")
        assert_equal(issuer.getgiftcodeinfo()["solvency"]["solvent"], True)
        issuer.cancelgiftcode(big["id"])
        issuer.cancelgiftcode(more["codes"][0]["id"])
        covered = issuer.creategiftcode("0.5", 1, "covered")
        assert_equal((covered["solvent"], "warning" in covered), (True, False))
        issuer.cancelgiftcode(covered["codes"][0]["id"])

        self.log.info("redeemed: one line per committed redemption, with its txid")
        codes = issuer.creategiftcode("0.1", 8, "chain")["codes"]
        secrets += codes
        first = issuer.redeemgiftcode(codes[0]["code"], payee.getnewaddress())
        event = self.wait_for_event("redeemed", codes[0]["id"], first["txid"])
        assert_true(event["reason"].startswith("committed: 0.10000000 to "), event["reason"])
        # The payment's change, still unconfirmed, is the wallet's to spend.
        solvency = issuer.getgiftcodeinfo()["solvency"]
        assert_true(solvency["solvent"] and solvency["spendable"] > Decimal("24.8"), solvency)

        self.log.info("not_accepted: redeem until the mempool refuses a payment (ancestor limit 2)")
        refused = None
        for code in codes[1:6]:
            reply = issuer.redeemgiftcode(code["code"], payee.getnewaddress())
            if not reply["broadcast"]:
                refused = (code, reply)
                break
        assert_true(refused is not None, "a payment beyond the ancestor limit is refused")
        code, reply = refused
        event = self.wait_for_event("not_accepted", code["id"], reply["txid"])
        assert_true("too-long-mempool-chain" in event["reason"], event["reason"])

        self.log.info("attention: the refused payment abandoned, judged on the next block")
        issuer.abandontransaction(reply["txid"])
        node.mine(1, wallet="miner")
        event = self.wait_for_event("attention", code["id"], reply["txid"], reason="abandoned")
        assert_true(event["reason"].startswith("abandoned: "), event["reason"])

        self.log.info("replaced: a payment bumped, followed when its code is read")
        bumped_code = codes[7]
        paid = issuer.redeemgiftcode(bumped_code["code"], payee.getnewaddress())
        bump = issuer.bumpfee(paid["txid"])
        assert_equal(issuer.getgiftcode(bumped_code["id"])["txid"], bump["txid"])
        event = self.wait_for_event("replaced", bumped_code["id"], bump["txid"])
        assert_true(paid["txid"] in event["reason"], event["reason"])

        self.log.info("buried: six blocks deep")
        node.mine(6, wallet="miner")
        self.wait_for_event("buried", codes[0]["id"], first["txid"])
        self.wait_for_event("buried", bumped_code["id"], bump["txid"])

        self.log.info("refusals: %d malformed codes within a minute", REFUSAL_ALERT)
        for i in range(REFUSAL_ALERT):
            assert_raises_rpc_error(ERR_MALFORMED, None, issuer.redeemgiftcode, "RGC-NOT-A-CODE-%d" % i,
                                    payee.getnewaddress())
        event = self.wait_for_event("refusals")
        assert_true("(malformed_code %d)" % REFUSAL_ALERT in event["reason"], event["reason"])
        assert_true(node.debug_log_contains("gift codes: WARNING: %d requests for codes paid or found nothing"
                                            % REFUSAL_ALERT))

        wallet_file = os.path.join(node.walletdir, "issuer", "wallet.dat")
        backup = os.path.join(node.datadir, "issuer-backup.dat")
        self.log.info("restore: the wallet put back from a backup older than its last commit")
        issuer.backupwallet(backup)
        secrets += issuer.creategiftcode("0.1", 1, "after the backup")["codes"]
        node.rpc("unloadwallet", "issuer")
        shutil.copyfile(backup, wallet_file)
        node.rpc("loadwallet", "issuer")
        event = self.wait_for_event("restore")
        assert_true("1 codes issued after the backup" in event["reason"], event["reason"])

        self.log.info("consistency: a redeemed record's txid changed in the wallet file")
        node.rpc("unloadwallet", "issuer")
        real = bytes.fromhex(first["txid"])[::-1]  # the record keeps the txid in internal order
        forged = bytes([real[0] ^ 0xff]) + real[1:]

        def retarget(value):
            at = value.find(real)
            assert_true(at > 0, "the record holds its payment's txid")
            return value[:at] + forged + value[at + len(real):]

        assert_equal(edit_giftcode_record(wallet_file, retarget, codes[0]["id"]), codes[0]["id"])
        node.rpc("loadwallet", "issuer")
        self.wait_for_event("consistency", codes[0]["id"], forged[::-1].hex())
        self.wait_for_event("consistency", codes[0]["id"], first["txid"])
        consistency = issuer.getgiftcodeinfo()["consistency"]
        assert_equal(consistency["clean"], False)

        self.log.info("every kind was told; each line is well-formed and holds no code")
        events = self.events()
        assert_equal(sorted({e["event"] for e in events}), sorted(KINDS))
        # The solvency verdict changed twice, and one more issue was told
        # while it lasted; no payment (their change unconfirmed) made it
        # flap, and the two loads told no burial again (the consistency
        # events of the second load come after its burial checks).
        assert_equal([e["event"] for e in events if e["event"] in ("insolvent", "solvent")],
                     ["insolvent", "insolvent", "solvent"])
        buried = [e["code"] for e in events if e["event"] == "buried"]
        assert_equal(len(buried), len(set(buried)), "a load tells no burial again")
        for e in events:
            assert_equal(e["wallet"], "issuer")
            assert_true(e["code"] == "-" or HEX32.match(e["code"]), e)
            assert_true(e["txid"] == "-" or HEX64.match(e["txid"]), e)
            assert_true(e["reason"], e)
        with open(self.events_file, encoding="utf-8") as f:
            text = f.read()
        for c in secrets:
            assert_true(c["code"] not in text and c["uri"] not in text, "a code in the events file")
        self.log.info("%d events told", len(events))


if __name__ == "__main__":
    NotifyTest().main()
