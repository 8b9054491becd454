#!/usr/bin/env python3
"""Gift codes belong to one wallet, with several wallets loaded.

Proves: each wallet has its own ledger -- a code issued by one wallet is
unknown (-404) to another, by text and by id, for getgiftcode, redeem and
cancel, and the refusal changes neither wallet; a redemption through the
/wallet/<name> endpoint is paid by that wallet only (the issuer's balance
drops by amount + fee, the other wallet's only receives); the node endpoint
without a wallet name is refused with the node's -19 and an unknown wallet
with -18; an encrypted wallet refuses to redeem while locked (-13, nothing
changes) and pays after walletpassphrase; a wallet with private keys
disabled issues no code (-4, nothing changes): none could ever be paid;
unloading a wallet takes its codes
away and loading it brings them back.
"""

from decimal import Decimal

from test_framework.giftcode import (ERR_UNKNOWN, ERR_WALLET, ERR_WALLET_LOCKED, ERR_WALLET_NOT_FOUND,
                                     ERR_WALLET_NOT_SPECIFIED, assert_snapshot_equal, snapshot)
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true
from giftcodekit import codeformat as fmt

PASSPHRASE = "multiwallet passphrase"


class MultiWalletTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def run_test(self):
        node = self.nodes[0]
        for name in ("miner", "alice", "bob", "enc"):
            node.rpc("createwallet", name)
        node.rpc("createwallet", "watch", True)  # private keys disabled
        miner, alice, bob, enc, watch = (node.wallet(n) for n in ("miner", "alice", "bob", "enc", "watch"))

        self.log.info("fund alice, bob and enc with 50 MONA each; watch gets a watch-only coin")
        node.mine(110, wallet="miner")
        miner_address = miner.getnewaddress()
        for w in (alice, bob, enc):
            miner.sendtoaddress(w.getnewaddress(), Decimal("50"))
        watched = miner.getnewaddress()
        watch.importaddress(watched, "", False)
        miner.sendtoaddress(watched, Decimal("20"))
        node.mine(1, miner_address)
        assert_equal(watch.getbalances()["watchonly"]["trusted"], Decimal("20"))

        self.log.info("alice and bob issue codes; each ledger sees only its own")
        a = alice.creategiftcode(Decimal("2"), 3, "alice")["codes"]
        b = bob.creategiftcode(Decimal("3"), 1, "bob")["codes"]
        assert_equal(alice.getgiftcodeinfo()["counts"]["issued"], 3)
        assert_equal(bob.getgiftcodeinfo()["counts"]["issued"], 1)
        assert_equal({c["id"] for c in alice.listgiftcodes()["codes"]}, {c["id"] for c in a})
        assert_equal([c["id"] for c in bob.listgiftcodes()["codes"]], [b[0]["id"]])
        assert_equal(enc.listgiftcodes()["total"], 0)
        assert_equal(alice.getgiftcodeinfo()["outstanding_liability"], Decimal("6"))
        assert_equal(bob.getgiftcodeinfo()["outstanding_liability"], Decimal("3"))

        self.log.info("alice's codes are unknown (-404) to bob and change nothing in either wallet")
        bob_address = bob.getnewaddress()
        alice_before, bob_before = snapshot(node, "alice"), snapshot(node, "bob")
        for text in (a[0]["code"], a[0]["id"], a[0]["uri"]):
            assert_raises_rpc_error(ERR_UNKNOWN, None, bob.getgiftcode, text)
            assert_raises_rpc_error(ERR_UNKNOWN, None, bob.cancelgiftcode, text)
        assert_raises_rpc_error(ERR_UNKNOWN, None, bob.redeemgiftcode, a[0]["code"], bob_address)
        assert_raises_rpc_error(ERR_UNKNOWN, None, alice.redeemgiftcode, b[0]["code"], bob_address)
        assert_raises_rpc_error(ERR_UNKNOWN, None, enc.redeemgiftcode, a[1]["code"], bob_address)
        assert_snapshot_equal(alice_before, snapshot(node, "alice"), "lookups in other wallets (alice)")
        assert_snapshot_equal(bob_before, snapshot(node, "bob"), "lookups in other wallets (bob)")
        assert_equal(bob.getgiftcodeinfo()["failed_redemptions"], {"unknown_code": 1})
        assert_equal(alice.getgiftcodeinfo()["failed_redemptions"], {"unknown_code": 1})

        self.log.info("without a wallet name the node refuses (-19); an unknown wallet is -18")
        for method, args in (("getgiftcodeinfo", []), ("getgiftcode", [a[0]["id"]]),
                             ("redeemgiftcode", [a[0]["code"], bob_address]), ("listgiftcodes", []),
                             ("creategiftcode", [1]), ("cancelgiftcode", [a[0]["id"]])):
            assert_raises_rpc_error(ERR_WALLET_NOT_SPECIFIED, None, node.rpc, method, *args)
            assert_raises_rpc_error(ERR_WALLET_NOT_FOUND, None, node.rpc, method, *args, wallet="nosuchwallet")
        assert_snapshot_equal(alice_before, snapshot(node, "alice"), "calls without a wallet")

        self.log.info("alice's code redeemed through /wallet/alice to a bob address: alice pays, bob receives")
        alice_trusted = alice.getbalances()["mine"]["trusted"]
        bob_trusted = bob.getbalances()["mine"]["trusted"]
        r = node.rpc("redeemgiftcode", a[0]["code"], bob_address, wallet="alice")
        assert_equal((r["id"], r["amount"], r["replay"], r["broadcast"]), (a[0]["id"], Decimal("2"), False, True))
        assert_equal(alice.getbalances()["mine"]["trusted"], alice_trusted - Decimal("2") - r["fee"])
        node.sync_callbacks()  # the payee wallet learns of the payment asynchronously
        bob_balances = bob.getbalances()["mine"]
        assert_equal(bob_balances["trusted"], bob_trusted)
        assert_equal(bob_balances["untrusted_pending"], Decimal("2"))
        assert_equal(bob.getreceivedbyaddress(bob_address, 0), Decimal("2"))
        assert_equal(node.tagged_payments("alice"), {a[0]["id"]: {r["txid"]}})
        assert_equal(node.tagged_payments("bob"), {}, "the payee's wallet carries no code tag")
        assert_equal(bob.getgiftcodeinfo()["counts"], {"issued": 1, "redeemed": 0, "cancelled": 0, "expired": 0})
        assert_raises_rpc_error(ERR_UNKNOWN, None, bob.redeemgiftcode, a[0]["code"], bob_address)
        node.mine(1, miner_address)
        assert_equal(bob.getbalances()["mine"]["trusted"], bob_trusted + Decimal("2"))
        assert_equal(alice.getgiftcode(a[0]["id"])["confirmations"], 1)

        self.log.info("bob redeems his own code to an alice address")
        alice_address = alice.getnewaddress()
        rb = bob.redeemgiftcode(b[0]["code"], alice_address)
        assert_equal((rb["amount"], rb["replay"]), (Decimal("3"), False))
        node.sync_callbacks()  # the payee wallet learns of the payment asynchronously
        assert_equal(alice.getreceivedbyaddress(alice_address, 0), Decimal("3"))
        assert_equal(node.tagged_payments("bob"), {b[0]["id"]: {rb["txid"]}})
        node.mine(1, miner_address)

        self.log.info("encrypted wallet: codes issued unlocked; locked -> -13, nothing changes")
        enc.encryptwallet(PASSPHRASE)
        enc.walletpassphrase(PASSPHRASE, 600)
        e = enc.creategiftcode(Decimal("1.25"), 2, "enc")["codes"]
        enc.walletlock()
        payee_address = bob.getnewaddress()
        before = snapshot(node, "enc")
        assert_raises_rpc_error(ERR_WALLET_LOCKED, None, enc.redeemgiftcode, e[0]["code"], payee_address)
        assert_snapshot_equal(before, snapshot(node, "enc"), "redeem in a locked wallet")
        assert_equal(enc.getgiftcodeinfo()["failed_redemptions"], {"unknown_code": 1, "wallet_locked": 1})
        assert_equal(enc.getgiftcode(e[0]["id"])["state"], "issued")
        self.log.info("after walletpassphrase the redemption pays")
        enc.walletpassphrase(PASSPHRASE, 600)
        re_ = enc.redeemgiftcode(e[0]["code"], payee_address)
        assert_equal((re_["amount"], re_["replay"], re_["broadcast"]), (Decimal("1.25"), False, True))
        node.sync_callbacks()  # the payee wallet learns of the payment asynchronously
        assert_equal(bob.getreceivedbyaddress(payee_address, 0), Decimal("1.25"))
        enc.walletlock()
        assert_equal(enc.redeemgiftcode(e[0]["code"], payee_address)["txid"], re_["txid"])
        assert_raises_rpc_error(ERR_WALLET_LOCKED, None, enc.redeemgiftcode, e[1]["code"], payee_address)

        self.log.info("private keys disabled: the wallet issues no code (-4), since none could be paid")
        before = snapshot(node, "watch")
        err = assert_raises_rpc_error(ERR_WALLET, None, watch.creategiftcode, Decimal("1"), 2, "watch")
        assert_true("cannot sign" in err.message, err.message)
        assert_snapshot_equal(before, snapshot(node, "watch"), "creategiftcode in a wallet without private keys")
        assert_equal(watch.getgiftcodeinfo()["counts"]["issued"], 0)
        assert_raises_rpc_error(ERR_UNKNOWN, None, watch.redeemgiftcode, a[1]["code"], payee_address)

        self.log.info("unloading a wallet takes its codes away; loading brings them back")
        alice_codes = alice.listgiftcodes()["codes"]
        node.rpc("unloadwallet", "alice")
        assert_raises_rpc_error(ERR_WALLET_NOT_FOUND, None, alice.getgiftcode, a[1]["id"])
        assert_raises_rpc_error(ERR_WALLET_NOT_FOUND, None, alice.redeemgiftcode, a[1]["code"], bob_address)
        assert_raises_rpc_error(ERR_UNKNOWN, None, bob.getgiftcode, a[1]["id"])
        node.rpc("loadwallet", "alice")
        assert_equal([{k: v for k, v in c.items() if k != "confirmations"} for c in alice.listgiftcodes()["codes"]],
                     [{k: v for k, v in c.items() if k != "confirmations"} for c in alice_codes])
        assert_equal(alice.getgiftcode(a[0]["code"])["txid"], r["txid"])
        again = alice.redeemgiftcode(a[0]["code"], bob_address)
        assert_equal((again["txid"], again["replay"]), (r["txid"], True))

        self.log.info("every ledger is consistent")
        for name in ("alice", "bob", "enc", "watch"):
            info = node.rpc("getgiftcodeinfo", wallet=name)
            assert_true(info["consistency"]["checked"] and info["consistency"]["clean"], "%s consistency" % name)
        assert_equal(fmt.id_of(a[0]["code"]), a[0]["id"])


if __name__ == "__main__":
    MultiWalletTest().main()
