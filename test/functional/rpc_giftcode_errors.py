#!/usr/bin/env python3
"""Every bad input to the gift-code RPCs gets its exact documented error code
(doc/rpc.md) and changes nothing.

For each refused call the test compares the wallet before and after --
balances, getgiftcodeinfo (without failed_redemptions), every code as
listgiftcodes shows it, the wallet's transactions and the mempool -- and,
for a refused redemption, checks that failed_redemptions counted exactly
one more refusal under the documented reason name and nothing else.

Covered: malformed codes (-401, including an unknown format version),
mistyped codes (-402: every kind of single substitution, an adjacent
transposition, an edited prefix), codes of another network (-403, made with
contrib/giftcodekit/codeformat.py), well-formed codes never issued and unknown ids (-404),
codes redeemed to another address or cancelling a redeemed code (-405),
cancelled codes (-406), expired codes via setmocktime (-407, with the
boundary second), invalid addresses (-5, including valid addresses of other
networks), bad amounts (-3: zero, negative, dust 0.00000545, over the money
range 105120000.00000001, nine decimals, not a number), insufficient funds
(-6, including a code worth exactly the whole balance, since the wallet pays
the fee on top), a locked wallet (-13), bad parameters (-8: count, label,
expiry, state, paging, argument types) and a wrong number of arguments (the
node's usual -1 with the RPC's help text). The
boundaries that must be accepted (0.00000546, 105120000, a 256-byte label,
10,000 codes in one call) are accepted.
"""

import time
from decimal import Decimal

from test_framework.giftcode import (DUST_LIMIT, ERR_ALREADY_REDEEMED, ERR_BAD_CHECKSUM, ERR_CANCELLED, ERR_EXPIRED,
                                     ERR_INSUFFICIENT_FUNDS, ERR_INVALID_ADDRESS, ERR_INVALID_AMOUNT,
                                     ERR_INVALID_PARAMETER, ERR_MALFORMED, ERR_MISC, ERR_UNKNOWN, ERR_WALLET_LOCKED,
                                     ERR_WRONG_NETWORK, MAX_MONEY, REASON_FOR_CODE, SATOSHI, assert_snapshot_equal,
                                     snapshot)
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true
from giftcodekit import codeformat as fmt

PASSPHRASE = "correct horse battery staple"


class ErrorsTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def refused(self, code, method, *args, wallet="issuer", counted=None):
        """Calls method(*args) on `wallet`; it must fail with `code` and change nothing.

        counted: for redeemgiftcode, whether the refusal must show in
        failed_redemptions (default: yes, when both arguments are strings)."""
        node = self.node
        if counted is None:
            counted = method == "redeemgiftcode" and len(args) == 2 and all(isinstance(a, str) for a in args)
        before = snapshot(node, wallet)
        failed_before = node.rpc("getgiftcodeinfo", wallet=wallet)["failed_redemptions"]
        err = assert_raises_rpc_error(code, None, node.rpc, method, *args, wallet=wallet)
        after = snapshot(node, wallet)
        assert_snapshot_equal(before, after, "%s%r refused with %d" % (method, args, code))
        failed_after = node.rpc("getgiftcodeinfo", wallet=wallet)["failed_redemptions"]
        if counted:
            reason = REASON_FOR_CODE[code]
            expected = dict(failed_before)
            expected[reason] = expected.get(reason, 0) + 1
            assert_equal(failed_after, expected, "failed_redemptions after %s%r" % (method, args))
        elif method != "redeemgiftcode":
            assert_equal(failed_after, failed_before, "failed_redemptions after %s%r" % (method, args))
        self.log.debug("%s%r -> %d %s", method, args, code, err.message)
        self.checked += 1
        return err

    def lookups_refused(self, code, text, wallet="issuer"):
        """getgiftcode, cancelgiftcode and redeemgiftcode all refuse `text` with `code`."""
        self.refused(code, "getgiftcode", text, wallet=wallet)
        self.refused(code, "cancelgiftcode", text, wallet=wallet)
        self.refused(code, "redeemgiftcode", text, self.payee_address, wallet=wallet)

    def run_test(self):
        self.checked = 0
        node = self.node = self.nodes[0]
        for name in ("miner", "issuer", "poor", "locked", "payee"):
            node.rpc("createwallet", name)
        issuer, poor, locked, payee = (node.wallet(n) for n in ("issuer", "poor", "locked", "payee"))
        self.payee_address = payee.getnewaddress()

        # A fixed clock: expiry is judged against the node's (mockable) time.
        t0 = int(time.time())
        node.rpc("setmocktime", t0)

        self.log.info("fund: issuer 100 MONA, poor exactly 1 MONA, locked 10 MONA")
        node.mine(110, wallet="miner")
        miner = node.wallet("miner")
        miner_address = miner.getnewaddress()
        miner.sendtoaddress(issuer.getnewaddress(), Decimal("100"))
        miner.sendtoaddress(poor.getnewaddress(), Decimal("1"))
        miner.sendtoaddress(locked.getnewaddress(), Decimal("10"))
        node.mine(1, miner_address)
        assert_equal(poor.getbalance(), Decimal("1"))

        self.log.info("issue the codes the cases need")
        ok_code = issuer.creategiftcode(Decimal("1"))["codes"][0]["code"]
        redeemed = issuer.creategiftcode(Decimal("1"))["codes"][0]
        to_cancel = issuer.creategiftcode(Decimal("1"))["codes"][0]
        expiring = issuer.creategiftcode(Decimal("1"), 1, "expiring", t0 + 1000)["codes"][0]
        big = issuer.creategiftcode(Decimal("1000"))["codes"][0]["code"]
        exact = poor.creategiftcode(Decimal("1"))["codes"][0]["code"]
        half = poor.creategiftcode(Decimal("0.5"))["codes"][0]["code"]
        locked_codes = locked.creategiftcode(Decimal("1"), 2)["codes"]
        first_address = payee.getnewaddress()
        paid = issuer.redeemgiftcode(redeemed["code"], first_address)
        issuer.cancelgiftcode(to_cancel["id"])
        node.mine(1, miner_address)
        # The block's follow-up (the consistency check) runs before any
        # snapshot: a refusal must be all that happens between two.
        node.sync_callbacks()

        self.log.info("-401 malformed: length, characters, prefix, format version, type")
        compact = fmt.normalise(ok_code)
        version1 = fmt.format_code("RGC", fmt.random_secret(), version=1)
        assert fmt.checksum_ok(version1), "a version-1 code has a valid checksum"
        malformed = [
            "", " ", "hello", "RGC", "RGC-", "MONAGIFT:", "RGC-1234-5678",
            ok_code[:-1],                          # one symbol short
            ok_code + "Q",                         # one symbol too many
            compact[:10] + "U" + compact[11:],     # U is not a Crockford symbol
            compact[:10] + "!" + compact[11:],     # nor is "!"
            compact[:10] + "." + compact[11:],
            "XGC" + compact[3:],                   # unknown prefix
            "GC" + compact[3:] + "0",
            "MONAGIFT:" + "XGC" + compact[3:],
            ok_code + "-" + "0" * 100,             # far too long
            "R" * 2000,
            version1,                              # unknown format version
            "ＲＧＣ" + compact[3:],                   # full-width letters
        ]
        for text in malformed:
            self.lookups_refused(ERR_MALFORMED, text)
        self.refused(ERR_MALFORMED, "redeemgiftcode", 12345, self.payee_address)
        self.refused(ERR_MALFORMED, "redeemgiftcode", None, self.payee_address)

        self.log.info("-402 wrong checksum: every single substitution kind, a transposition, an edited prefix")
        mistyped = [fmt.substitute(ok_code, pos, off) for pos, off in ((0, 1), (7, 5), (13, 31), (25, 16),
                                                                         (26, 1), (31, 9))]
        for pos in range(31):
            try:
                mistyped.append(fmt.transpose(ok_code, pos))
                break
            except ValueError:
                continue
        mistyped.append("TGC" + ok_code[3:])                    # prefix edited: checksum, not network
        mistyped.append("MGC" + ok_code[3:])
        mistyped.append(fmt.substitute(ok_code, 3).lower())
        for text in mistyped:
            assert not fmt.checksum_ok(text), text
            self.lookups_refused(ERR_BAD_CHECKSUM, text)

        self.log.info("-403 valid codes of mainnet and testnet")
        for prefix in ("MGC", "TGC"):
            other = fmt.random_code(prefix)
            self.lookups_refused(ERR_WRONG_NETWORK, other)
            self.lookups_refused(ERR_WRONG_NETWORK, fmt.normalise(other).lower())
        # the issued code's own secret, on another network
        _, _, secret = fmt.parse_code(ok_code)
        self.lookups_refused(ERR_WRONG_NETWORK, fmt.format_code("MGC", secret))

        self.log.info("-404 well-formed codes never issued, unknown ids, a code of another wallet")
        self.lookups_refused(ERR_UNKNOWN, fmt.random_code("RGC"))
        self.lookups_refused(ERR_UNKNOWN, fmt.format_uri("RGC", fmt.random_secret()))
        self.refused(ERR_UNKNOWN, "getgiftcode", "0" * 32)
        self.refused(ERR_UNKNOWN, "cancelgiftcode", "f" * 32)
        self.refused(ERR_UNKNOWN, "getgiftcode", fmt.code_id("RGC", fmt.random_secret()))
        self.lookups_refused(ERR_UNKNOWN, exact)  # issued by "poor", not by "issuer"

        self.log.info("-405 a redeemed code to another address; cancelling a redeemed code")
        self.refused(ERR_ALREADY_REDEEMED, "redeemgiftcode", redeemed["code"], self.payee_address)
        self.refused(ERR_ALREADY_REDEEMED, "redeemgiftcode", redeemed["code"], issuer.getnewaddress())
        self.refused(ERR_ALREADY_REDEEMED, "cancelgiftcode", redeemed["code"])
        self.refused(ERR_ALREADY_REDEEMED, "cancelgiftcode", redeemed["id"])
        again = issuer.redeemgiftcode(redeemed["code"], first_address)
        assert_equal((again["txid"], again["replay"]), (paid["txid"], True))

        self.log.info("-406 a cancelled code: redeem it, cancel it again")
        self.refused(ERR_CANCELLED, "redeemgiftcode", to_cancel["code"], self.payee_address)
        self.refused(ERR_CANCELLED, "cancelgiftcode", to_cancel["code"])
        self.refused(ERR_CANCELLED, "cancelgiftcode", to_cancel["id"])
        assert_equal(issuer.getgiftcode(to_cancel["id"])["state"], "cancelled")

        self.log.info("-5 invalid addresses, with a valid code")
        regtest_address = payee.getnewaddress()
        bad_addresses = [
            "", "notanaddress", " " + regtest_address, regtest_address + "x",
            regtest_address[:-1] + ("q" if regtest_address[-1] != "q" else "p"),  # bech32 checksum broken
            fmt.segwit_address("mona", 0, bytes(20)),      # valid mainnet address
            fmt.segwit_address("tmona", 0, bytes(20)),     # valid testnet address
            fmt.segwit_address("bc", 0, bytes(20)),        # a bitcoin address
            "MHgrkJsr3kiVqTAVsZfZAFhfkjuqQN5uZt",
        ]
        for address in bad_addresses:
            self.refused(ERR_INVALID_ADDRESS, "redeemgiftcode", ok_code, address)
        self.refused(ERR_INVALID_ADDRESS, "redeemgiftcode", ok_code, 42)
        self.refused(ERR_INVALID_ADDRESS, "redeemgiftcode", ok_code, None)
        assert_equal(issuer.getgiftcode(ok_code)["state"], "issued")
        # The same address, valid, as a control: the rmona address of 20 zero bytes.
        assert_equal(node.rpc("validateaddress", fmt.segwit_address("rmona", 0, bytes(20)))["isvalid"], True)

        self.log.info("-3 amounts: zero, negative, dust, over the money range, too many decimals, not numbers")
        bad_amounts = [
            0, Decimal("0"), "0", "0.00000000", -1, Decimal("-0.5"), "-1", Decimal("-0.00000001"),
            DUST_LIMIT - SATOSHI, "0.00000545", SATOSHI,
            MAX_MONEY + SATOSHI, "105120000.00000001", MAX_MONEY + 1, Decimal("1e20"), "21000000000000000000",
            Decimal("0.000000001"), "1.000000001", "0.123456789",
            "abc", "", "1.2.3", "1,5", "0x10", True, None, [1], {"a": 1},
        ]
        for amount in bad_amounts:
            self.refused(ERR_INVALID_AMOUNT, "creategiftcode", amount)
            self.refused(ERR_INVALID_AMOUNT, "creategiftcode", amount, 3, "x")

        self.log.info("-8 bad count, label, expiry")
        for count in (0, -1, 10001, 100000, "abc", Decimal("1.5"), "1.5", True, [2]):
            self.refused(ERR_INVALID_PARAMETER, "creategiftcode", Decimal("1"), count)
        self.refused(ERR_INVALID_PARAMETER, "creategiftcode", Decimal("1"), 1, "x" * 257)
        self.refused(ERR_INVALID_PARAMETER, "creategiftcode", Decimal("1"), 1, "\u3042" * 86)  # 258 bytes
        self.refused(ERR_INVALID_PARAMETER, "creategiftcode", Decimal("1"), 1, 5)
        self.refused(ERR_INVALID_PARAMETER, "creategiftcode", Decimal("1"), 1, ["x"])
        for expires_at in (t0 - 1, t0, 1, -1, -t0, "soon", Decimal("1.5"), "x" + str(t0 + 100)):
            self.refused(ERR_INVALID_PARAMETER, "creategiftcode", Decimal("1"), 1, "", expires_at)

        self.log.info("-8 bad listgiftcodes filters and paging")
        for args in (("bogus",), ("ISSUED",), ("issued ",), (5,), ("", 5), ("", None, -1), ("", None, "x"),
                     ("", None, 0, 0), ("", None, 0, 10001), ("", None, 0, -5), ("", None, 0, "many")):
            self.refused(ERR_INVALID_PARAMETER, "listgiftcodes", *args)

        self.log.info("-8 bad argument types of getgiftcode and cancelgiftcode")
        for method in ("getgiftcode", "cancelgiftcode"):
            self.refused(ERR_INVALID_PARAMETER, method, 12345)
            self.refused(ERR_INVALID_PARAMETER, method, None)
            self.refused(ERR_INVALID_PARAMETER, method, [ok_code])

        self.log.info("-1 wrong number of arguments: the node's help text, before anything else")
        wrong_arity = [
            ("creategiftcode",),
            ("creategiftcode", Decimal("1"), 1, "", 0, "extra"),
            ("getgiftcode",),
            ("getgiftcode", ok_code, "extra"),
            ("listgiftcodes", "", None, 0, 10, "extra"),
            ("redeemgiftcode",),
            ("redeemgiftcode", ok_code),
            ("redeemgiftcode", ok_code, self.payee_address, "extra"),
            ("cancelgiftcode",),
            ("cancelgiftcode", ok_code, "extra"),
            ("getgiftcodeinfo", "extra"),
        ]
        for call in wrong_arity:
            err = self.refused(ERR_MISC, *call, counted=False)
            assert_true(err.message.startswith(call[0]), "the help text of %s: %r" % (call[0], err.message[:80]))
        assert_equal(issuer.getgiftcode(ok_code)["state"], "issued")

        self.log.info("-6 insufficient funds: more than the balance; exactly the balance (fee on top)")
        self.refused(ERR_INSUFFICIENT_FUNDS, "redeemgiftcode", big, self.payee_address)
        self.refused(ERR_INSUFFICIENT_FUNDS, "redeemgiftcode", exact, self.payee_address, wallet="poor")
        assert_equal(poor.getgiftcode(exact)["state"], "issued")
        self.log.info("control: the poor wallet can pay a code of half its balance")
        half_paid = poor.redeemgiftcode(half, self.payee_address)
        assert_equal((half_paid["amount"], half_paid["replay"], half_paid["broadcast"]), (Decimal("0.5"), False, True))
        assert_equal(poor.getbalance(), Decimal("0.5") - half_paid["fee"])
        self.refused(ERR_INSUFFICIENT_FUNDS, "redeemgiftcode", exact, payee.getnewaddress(), wallet="poor")

        self.log.info("-13 an encrypted, locked wallet")
        locked.encryptwallet(PASSPHRASE)
        for entry in locked_codes:
            assert_equal(locked.getgiftcode(entry["id"])["state"], "issued")  # encryption kept the codes
        self.refused(ERR_WALLET_LOCKED, "redeemgiftcode", locked_codes[0]["code"], self.payee_address,
                     wallet="locked")
        locked.walletpassphrase(PASSPHRASE, 600)
        locked.walletlock()
        self.refused(ERR_WALLET_LOCKED, "redeemgiftcode", locked_codes[1]["code"], self.payee_address,
                     wallet="locked")
        self.log.info("control: unlocked, the wallet pays")
        locked.walletpassphrase(PASSPHRASE, 600)
        r = locked.redeemgiftcode(locked_codes[0]["code"], self.payee_address)
        assert_equal((r["replay"], r["broadcast"]), (False, True))
        locked.walletlock()
        # A replay needs no key: it sends nothing.
        again = locked.redeemgiftcode(locked_codes[0]["code"], self.payee_address)
        assert_equal((again["txid"], again["replay"]), (r["txid"], True))
        self.refused(ERR_ALREADY_REDEEMED, "redeemgiftcode", locked_codes[0]["code"], first_address,
                     wallet="locked")

        self.log.info("-407 expiry: valid one second before, expired at expires_at")
        node.rpc("setmocktime", t0 + 999)
        assert_equal(issuer.getgiftcode(expiring["id"])["state"], "issued")
        node.rpc("setmocktime", t0 + 1000)
        view = issuer.getgiftcode(expiring["code"])
        assert_equal((view["state"], view["expires_at"]), ("expired", t0 + 1000))
        assert_equal(issuer.getgiftcodeinfo()["counts"]["expired"], 1)
        assert_equal([c["id"] for c in issuer.listgiftcodes("expired")["codes"]], [expiring["id"]])
        self.refused(ERR_EXPIRED, "redeemgiftcode", expiring["code"], self.payee_address)
        node.rpc("setmocktime", t0 + 100000)
        self.refused(ERR_EXPIRED, "redeemgiftcode", expiring["code"], issuer.getnewaddress())
        self.log.info("an expired code can be cancelled; then it is -406")
        cancelled = issuer.cancelgiftcode(expiring["id"])
        assert_equal(cancelled["state"], "cancelled")
        self.refused(ERR_CANCELLED, "redeemgiftcode", expiring["code"], self.payee_address)
        self.refused(ERR_CANCELLED, "cancelgiftcode", expiring["code"])

        self.log.info("boundaries that must be accepted")
        liability = issuer.getgiftcodeinfo()["outstanding_liability"]
        smallest = issuer.creategiftcode(DUST_LIMIT)
        assert_equal(smallest["amount"], DUST_LIMIT)
        largest = issuer.creategiftcode("105120000")
        assert_equal(largest["amount"], MAX_MONEY)
        assert_equal(issuer.getgiftcodeinfo()["outstanding_liability"], liability + DUST_LIMIT + MAX_MONEY)
        issuer.cancelgiftcode(smallest["codes"][0]["id"])
        issuer.cancelgiftcode(largest["codes"][0]["id"])
        assert_equal(issuer.getgiftcodeinfo()["outstanding_liability"], liability)
        assert_equal(issuer.creategiftcode(Decimal("1"), 1, "x" * 256)["label"], "x" * 256)
        assert_equal(issuer.creategiftcode(Decimal("1"), 1, "\u3042" * 85)["label"], "\u3042" * 85)  # 255 bytes
        assert_equal(issuer.creategiftcode(Decimal("1"), 1, "", 0)["expires_at"], None)
        assert_equal(issuer.creategiftcode(Decimal("1"), 1, "", None)["expires_at"], None)
        assert_equal(issuer.creategiftcode("1e-2", 1)["amount"], Decimal("0.01"))
        assert_equal(len(issuer.listgiftcodes("", None, 0, 10000)["codes"]), issuer.listgiftcodes()["total"])

        self.log.info("10,000 codes in one call are accepted, all distinct")
        before = issuer.getgiftcodeinfo()["counts"]["issued"]
        many = issuer.creategiftcode(DUST_LIMIT, 10000, "max batch")
        assert_equal(many["count"], 10000)
        assert_equal(len({c["code"] for c in many["codes"]}), 10000)
        assert_equal(len({c["id"] for c in many["codes"]}), 10000)
        assert_equal(issuer.getgiftcodeinfo()["counts"]["issued"], before + 10000)
        assert_equal(issuer.listgiftcodes("", "max batch", 0, 1)["total"], 10000)

        info = issuer.getgiftcodeinfo()
        assert_equal(info["consistency"]["clean"], True)
        self.log.info("%d refused calls checked; failed_redemptions: %s", self.checked, info["failed_redemptions"])


if __name__ == "__main__":
    ErrorsTest().main()
