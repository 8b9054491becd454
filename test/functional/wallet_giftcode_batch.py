#!/usr/bin/env python3
"""Redemptions that arrive together are paid together (group commit).

One node (-rpcthreads=64, so that many calls run at once; -walletrbf=1 for
bumpfee), wallets issuer, small and payee:

1. 40 codes, backed up, then redeemed at once by 40 clients (a barrier),
   each to its own address: every reply names a txid and a vout; fewer
   payments than codes were made (getgiftcodeinfo batches); in each
   payment of n codes, outputs 0..n-1 pay the codes' holders exactly their
   amounts at the vouts the replies named, output n is an OP_RETURN of
   n 4-byte tags, and the wallet transaction is tagged with the n codes;
   a lone payment has no OP_RETURN. Replaying each gives the same txid and
   vout; another address gets -405. The consistency check is clean, and
   after a block every holder has exactly one confirmed output.
2. bumpfee of a payment of several codes, holders sharing addresses in
   pairs: getgiftcode of each code names the replacement, its own output
   in it (the same or the next, in order), and the replaced txid; after a
   block the consistency check is clean and each holder was paid once.
3. a wallet with one coin of 0.35 MONA, 6 codes of 0.1 redeemed at once:
   the codes it can fund are paid, every other caller gets -6 and its code
   stays issued; then none of those can be paid alone either (nothing
   payable was refused), and getgiftcodeinfo counts the split.
4. the backup of round 1 put in the wallet's place (node stopped, file
   copied, node started): the payments made after the backup are found on
   the chain by their tags, so all 40 codes read redeemed with their txid
   and vout and found_on_chain, replay, and nothing is paid again. Then the
   backup taken before round 2's payments: the bumped payment's codes are
   found by their tags too, at their outputs in the replacement.
5. -giftcodemaxbatch=1 pays each redemption alone; -giftcodemaxbatch=0 or
   21 and -giftcodebatchwait=-1 stop the node at startup, naming the option;
   a node that relays smaller OP_RETURNs (-datacarriersize=40) pays at most
   9 codes a payment, one that relays none (-datacarrier=0) pays each alone.
"""

import os
import shutil
import threading
from decimal import Decimal

from test_framework.chain import mature_coinbases, outputs_to
from test_framework.giftcode import ERR_ALREADY_REDEEMED, ERR_INSUFFICIENT_FUNDS, NodeError, RpcError, tag_codes
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true, run_threads, wait_until

AMOUNT = Decimal("0.1")
CODES = 40
NODE_ARGS = ["-rpcthreads=64", "-rpcworkqueue=256", "-walletrbf=1", "-wallet=issuer", "-wallet=small",
             "-wallet=payee"]


class BatchTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [NODE_ARGS]

    def fire(self, wallet, pairs):
        """Redeems every (code, address) on its own client, all released at
        once. Returns the replies (or RpcError) in order."""
        barrier = threading.Barrier(len(pairs))
        results = [None] * len(pairs)

        def client(i, code, address):
            def run():
                barrier.wait(60)
                try:
                    results[i] = self.node.rpc("redeemgiftcode", code, address, wallet=wallet)
                except RpcError as e:
                    results[i] = e
            return run

        run_threads([client(i, c, a) for i, (c, a) in enumerate(pairs)])
        return results

    def check_payment(self, wallet, txid, replies, vouts=None):
        """The payment `txid` pays each reply's holder at its vout (several
        codes: in order from 0, or at `vouts`; a lone one's change goes
        anywhere), with the tags after them when it pays several codes."""
        w = self.node.wallet(wallet)
        tx = w.gettransaction(txid, True, True)["decoded"]
        n = len(replies)
        vouts = vouts or [r["vout"] for r in replies]
        if n > 1 and vouts == [r["vout"] for r in replies]:
            assert_equal(sorted(vouts), list(range(n)), "outputs of %s" % txid)
        for r, vout in zip(replies, vouts):
            out = tx["vout"][vout]
            assert_equal(out["value"], r["amount"], "amount at %s:%d" % (txid, vout))
            assert_equal(out["scriptPubKey"]["addresses"], [r["address"]], "holder at %s:%d" % (txid, vout))
        nulldata = [o for o in tx["vout"] if o["scriptPubKey"]["type"] == "nulldata"]
        if n == 1:
            assert_equal(nulldata, [], "a lone payment carries no tags")
        else:
            assert_equal(len(nulldata), 1, "one OP_RETURN in %s" % txid)
            # After the holders' outputs; the wallet's bumpfee may put the
            # change before it.
            assert_true(nulldata[0]["n"] in (n, n + 1) and nulldata[0]["n"] > max(vouts),
                        "the OP_RETURN follows the holders' outputs")
            data = nulldata[0]["scriptPubKey"]["asm"].split()[1]
            assert_equal(len(data), 8 * n, "one 4-byte tag per code")
        tagged = tag_codes(w.gettransaction(txid)["giftcode"])
        assert_equal(sorted(tagged), sorted(r["id"] for r in replies), "the codes %s is tagged with" % txid)
        return tx

    def run_test(self):
        node = self.node = self.nodes[0]
        issuer, payee = node.wallet("issuer"), node.wallet("payee")
        self.miner = payee.getnewaddress()
        mature_coinbases(node, "issuer", 20)
        first_height = node.height()

        self.log.info("round 1: %d codes, backed up, redeemed at once", CODES)
        codes = issuer.creategiftcode(AMOUNT, CODES, "batch")["codes"]
        backup = os.path.join(node.datadir, "issuer-backup.dat")
        issuer.backupwallet(backup)
        for c in codes:
            c["address"] = payee.getnewaddress()
        replies = self.fire("issuer", [(c["code"], c["address"]) for c in codes])
        for c, r in zip(codes, replies):
            assert_true(not isinstance(r, RpcError), "redemption of %s failed: %r" % (c["id"], r))
            assert_equal((r["id"], r["address"], r["amount"], r["replay"]), (c["id"], c["address"], AMOUNT, False))
        by_tx = {}
        for r in replies:
            by_tx.setdefault(r["txid"], []).append(r)
        info = issuer.getgiftcodeinfo()["batches"]
        self.log.info("%d codes paid by %d payments, the largest paying %d", CODES, len(by_tx), info["largest"])
        assert_equal((info["payments"], info["codes"]), (len(by_tx), CODES))
        assert_true(info["largest"] > 1 and len(by_tx) < CODES, "redemptions that came together were paid together")
        assert_equal(info["largest"], max(len(v) for v in by_tx.values()))
        assert_true(info["largest"] <= info["max_codes"] == 20, "at most -giftcodemaxbatch codes a payment")
        fees = Decimal(0)
        for txid, paid in by_tx.items():
            tx_fee = -issuer.gettransaction(txid)["fee"]
            assert_equal(sum(r["fee"] for r in paid), tx_fee, "the codes of %s share its fee" % txid)
            fees += tx_fee
            self.check_payment("issuer", txid, paid)
        assert_equal(issuer.getgiftcodeinfo()["redeemed_fees"], fees)
        for c, r in zip(codes, replies):
            again = issuer.redeemgiftcode(c["code"], c["address"])
            assert_equal((again["txid"], again["vout"], again["replay"]), (r["txid"], r["vout"], True))
            assert_equal(issuer.getgiftcode(c["id"])["vout"], r["vout"])
        assert_raises_rpc_error(ERR_ALREADY_REDEEMED, None, issuer.redeemgiftcode, codes[0]["code"],
                                payee.getnewaddress())
        assert_equal(node.tagged_payments("issuer"), {r["id"]: {r["txid"]} for r in replies})
        node.mine(1, self.miner)
        node.sync_callbacks()
        assert_true(issuer.getgiftcodeinfo()["consistency"]["clean"], "consistency after the payments")
        received = outputs_to(node, [c["address"] for c in codes], first_height)
        for c, r in zip(codes, replies):
            assert_equal(received[c["address"]], [(r["txid"], AMOUNT, True)], "paid once: %s" % c["id"])
        self.paid = {c["id"]: r for c, r in zip(codes, replies)}
        self.codes = codes
        self.codes_by_id = {}

        self.bumped_payment()
        self.funds_for_some()
        self.restored(backup, first_height)
        self.options_checked()

    def bumped_payment(self):
        node, issuer, payee = self.node, self.node.wallet("issuer"), self.node.wallet("payee")
        self.log.info("round 2: bumpfee of a payment of several codes")
        txids = set()
        for attempt in range(5):
            codes = issuer.creategiftcode(AMOUNT, 8, "bumped")["codes"]
            self.bump_backup = os.path.join(node.datadir, "issuer-backup-%d.dat" % attempt)
            issuer.backupwallet(self.bump_backup)
            # Holders share addresses in pairs: their outputs are alike.
            addresses = [a for a in (payee.getnewaddress() for _ in range(len(codes) // 2)) for _ in (0, 1)]
            replies = self.fire("issuer", [(c["code"], a) for c, a in zip(codes, addresses)])
            by_tx = {}
            for r in replies:
                by_tx.setdefault(r["txid"], []).append(r)
            txids |= set(by_tx)
            self.codes_by_id.update({c["id"]: c["code"] for c in codes})
            several = [v for v in by_tx.values() if len(v) > 1]
            if several:
                break
        assert_true(several, "a payment of several codes to bump")
        paid = sorted(several[0], key=lambda r: r["vout"])
        old = paid[0]["txid"]
        bumped = issuer.bumpfee(old)["txid"]
        # The wallet's bumpfee keeps the holders' outputs in order but puts
        # the change anywhere: each code follows its output.
        vouts = []
        for r in paid:
            view = issuer.getgiftcode(r["id"])
            assert_equal((view["txid"], view["replaced_txids"]), (bumped, [old]))
            assert_true(view["vout"] in (r["vout"], r["vout"] + 1), "the holder's output moved at most one place")
            vouts.append(view["vout"])
        assert_equal(vouts, sorted(vouts), "in order")
        assert_equal(len(set(vouts)), len(vouts), "each code its own output")
        self.check_payment("issuer", bumped, paid, vouts)
        self.bumped = [(r, bumped, vout) for r, vout in zip(paid, vouts)]
        first = node.height()
        node.mine(1, self.miner)
        node.sync_callbacks()
        wait_until(lambda: issuer.getgiftcodeinfo()["consistency"]["height"] == node.height(), what="a check")
        assert_true(issuer.getgiftcodeinfo()["consistency"]["clean"], "consistency after bumpfee")
        received = outputs_to(node, [r["address"] for r in paid], first - 1)
        for r in paid:
            # The other holder of a shared address may be paid by another payment.
            alike = sum(1 for other in paid if other["address"] == r["address"])
            mine = [o for o in received[r["address"]] if o[0] in (old, bumped)]
            assert_equal(mine, [(bumped, AMOUNT, True)] * alike, "paid once after bumpfee")

    def funds_for_some(self):
        node, small, payee = self.node, self.node.wallet("small"), self.node.wallet("payee")
        self.log.info("round 3: 6 codes of %s at once from a wallet holding 0.35", AMOUNT)
        node.wallet("issuer").sendtoaddress(small.getnewaddress(), Decimal("0.35"))
        node.mine(1, self.miner)
        wait_until(lambda: small.getbalance() == Decimal("0.35"), what="the small wallet's coin")
        codes = small.creategiftcode(AMOUNT, 6)["codes"]
        replies = self.fire("small", [(c["code"], payee.getnewaddress()) for c in codes])
        paid = [(c, r) for c, r in zip(codes, replies) if not isinstance(r, RpcError)]
        refused = [(c, r) for c, r in zip(codes, replies) if isinstance(r, RpcError)]
        self.log.info("%d paid, %d refused (%s)", len(paid), len(refused), sorted({"%d %s" % (r.code, r) for _, r in refused}))
        # Whatever the grouping, parts that cannot be funded are halved
        # down to single codes: three codes and their fees fit in 0.35.
        assert_equal(len(paid), 3, "codes paid out of 0.35")
        for c, r in refused:
            assert_equal(r.code, ERR_INSUFFICIENT_FUNDS, "a code the wallet cannot fund")
            assert_equal(small.getgiftcode(c["id"])["state"], "issued")
        for c, r in paid:
            assert_equal(small.getgiftcode(c["id"])["state"], "redeemed")
        # Nothing payable was refused: no refused code can be paid alone now.
        for c, _ in refused:
            assert_raises_rpc_error(ERR_INSUFFICIENT_FUNDS, None, small.redeemgiftcode, c["code"],
                                    payee.getnewaddress())
        info = small.getgiftcodeinfo()
        self.log.info("payments %d, splits %d", info["batches"]["payments"], info["batches"]["splits"])
        assert_equal(info["failed_redemptions"].get("insufficient_funds", 0), 2 * len(refused))
        node.mine(1, self.miner)
        node.sync_callbacks()
        wait_until(lambda: small.getgiftcodeinfo()["consistency"]["height"] == node.height(), what="a check")
        assert_true(small.getgiftcodeinfo()["consistency"]["clean"], "consistency of the small wallet")

    def restored(self, backup, first_height):
        node = self.node
        self.log.info("round 4: the backup taken before round 1 put in the wallet's place")
        issuer = node.wallet("issuer")
        count_before = len(issuer.listtransactions("*", 100000))
        node.mine(1, self.miner)
        node.stop()
        shutil.copyfile(backup, os.path.join(node.walletdir, "issuer", "wallet.dat"))
        node.start()
        issuer = node.wallet("issuer")
        info = issuer.getgiftcodeinfo()
        assert_true(info["restore"]["detected"], "the restore is detected")
        assert_equal(info["restore"]["found_on_chain"], CODES, "every code of round 1 found by key or tag")
        for c in self.codes:
            r = self.paid[c["id"]]
            view = issuer.getgiftcode(c["id"])
            assert_equal((view["state"], view["txid"], view["vout"], view["address"], view["found_on_chain"]),
                         ("redeemed", r["txid"], r["vout"], c["address"], True), "code %s" % c["id"])
            again = issuer.redeemgiftcode(c["code"], c["address"])
            assert_equal((again["txid"], again["vout"], again["replay"]), (r["txid"], r["vout"], True))
        assert_raises_rpc_error(ERR_ALREADY_REDEEMED, None, issuer.redeemgiftcode, self.codes[1]["code"],
                                node.wallet("payee").getnewaddress())
        node.mine(1, self.miner)
        node.sync_callbacks()
        received = outputs_to(node, [c["address"] for c in self.codes], first_height)
        for c in self.codes:
            assert_equal(len(received[c["address"]]), 1, "paid once after the restore: %s" % c["id"])
        assert_true(len(issuer.listtransactions("*", 100000)) <= count_before, "nothing new was sent")

        self.log.info("round 4b: the backup taken before the bumped payment put in the wallet's place")
        node.stop()
        shutil.copyfile(self.bump_backup, os.path.join(node.walletdir, "issuer", "wallet.dat"))
        node.start()
        issuer = node.wallet("issuer")
        assert_true(issuer.getgiftcodeinfo()["restore"]["detected"], "the restore is detected")
        # Its tags still name the codes though the change moved among
        # their outputs.
        for r, bumped, vout in self.bumped:
            view = issuer.getgiftcode(r["id"])
            assert_equal((view["state"], view["txid"], view["vout"], view["address"], view["found_on_chain"]),
                         ("redeemed", bumped, vout, r["address"], True), "bumped code %s" % r["id"])
            again = issuer.redeemgiftcode(self.codes_by_id[r["id"]], r["address"])
            assert_equal((again["txid"], again["vout"], again["replay"]), (bumped, vout, True))

    def options_checked(self):
        node = self.node
        self.log.info("-giftcodemaxbatch=1 pays each redemption alone")
        node.restart(NODE_ARGS + ["-giftcodemaxbatch=1"])
        issuer, payee = node.wallet("issuer"), node.wallet("payee")
        codes = issuer.creategiftcode(AMOUNT, 12)["codes"]
        replies = self.fire("issuer", [(c["code"], payee.getnewaddress()) for c in codes])
        assert_true(all(not isinstance(r, RpcError) for r in replies), "every redemption paid: %s" % replies)
        assert_equal(len({r["txid"] for r in replies}), 12, "one payment each")
        assert_equal(issuer.getgiftcodeinfo()["batches"]["max_codes"], 1)
        node.stop()
        for bad in ("-giftcodemaxbatch=0", "-giftcodemaxbatch=21", "-giftcodebatchwait=-1", "-giftcodebatchwait=x"):
            try:
                node.start(NODE_ARGS + [bad], timeout=60)
            except NodeError as e:
                assert_true(bad.split("=")[0] in str(e), "the error names the option: %s" % e)
            else:
                raise AssertionError("the node started with %s" % bad)
        node.start(NODE_ARGS + ["-giftcodebatchwait=5"])
        assert_equal(node.wallet("issuer").getgiftcodeinfo()["batches"]["wait_ms"], 5)
        self.log.info("a payment's tags fit what the node relays: -datacarrier, -datacarriersize")
        # OP_RETURN, a push of 4 bytes a code: 2 + 4 x 9 = 38 bytes fit in 40.
        for args, most in ((["-datacarriersize=40"], 9), (["-datacarrier=0"], 1)):
            node.restart(NODE_ARGS + args)
            assert_equal(node.wallet("issuer").getgiftcodeinfo()["batches"]["max_codes"], most, " ".join(args))


if __name__ == "__main__":
    BatchTest().main()
