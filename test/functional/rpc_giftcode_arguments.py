#!/usr/bin/env python3
"""Arguments and answers the gift-code RPCs must get exactly right.

Sections (each runs even if an earlier one failed; the test fails if any
did, naming every failed section):

1. corruption: a wallet holding a gift-code record that cannot be decoded
   (planted by overwriting the record's value in the unloaded wallet file)
   still loads, but every gift-code RPC on it answers -22 with a message
   saying the ledger did not open; other wallets are unaffected.
2. numbers: count, skip and expires_at given as JSON strings are refused
   with -8; numbers out of range ("9999999999999999999", 2^63, 2^64,
   negative, fractional) are refused with -8 as numbers and
   as strings, and the node keeps answering.
3. cli: every argument form doc/rpc.md documents, through monacoin-cli:
   numbers bare, strings bare, `null` to skip a string argument
   (`listgiftcodes redeemed null 0 10` lists every redeemed code, not those
   labelled "null"), codes in any case and grouping, ids; the same with
   -named (`label=null` too); text that looks like JSON (`Null`, `true`,
   `[1]`) stays a label; and every `monacoin-cli` example in each RPC's
   help, with its placeholder code, id and address replaced by real ones.
4. label: a label containing a NUL byte is refused with -8 and creates
   nothing.
5. order: listgiftcodes returns codes in creation order, even when every
   code has the same created_at second (setmocktime) and their ids sort
   otherwise, for single creations and within a batch.
6. paging: paging through a label with skip/count while codes of that label
   are being created (interleaved, then from a concurrent thread) sees
   every code once, in creation order: new codes come after.
7. expiry: a code that expired stays expired when the node's clock goes
   back before its expiry (setmocktime): getgiftcode, listgiftcodes,
   getgiftcodeinfo and redeemgiftcode (-407) agree.
"""

import json
import os
import re
import shlex
import threading
import time
import traceback
from decimal import Decimal

from test_framework.chain import mature_coinbases
from test_framework.giftcode import ERR_CORRUPTION, ERR_EXPIRED, ERR_INVALID_PARAMETER, corrupt_giftcode_record
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true

PAGE = 7


class ArgumentsTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def section(self, name, fn):
        self.log.info("--- %s", name)
        try:
            fn()
            self.log.info("%s: ok", name)
        except SkipSection as e:
            self.log.info("%s: skipped (%s)", name, e)
        except Exception as e:  # reported with the section's name; the test fails at the end
            self.log.error("%s: FAILED: %s\n%s", name, e, traceback.format_exc())
            self.failed.append("%s: %s" % (name, str(e).splitlines()[0] if str(e) else type(e).__name__))

    def run_test(self):
        self.failed = []
        node = self.node = self.nodes[0]
        for name in ("miner", "issuer", "payee"):
            node.rpc("createwallet", name)
        self.issuer, self.payee = node.wallet("issuer"), node.wallet("payee")
        self.log.info("leave initial block download, and fund the issuer: mine two coinbases to maturity")
        mature_coinbases(node, "issuer", 2)

        self.section("corruption", self.check_corruption)
        self.section("numbers", self.check_numbers)
        self.section("cli", self.check_cli)
        self.section("label", self.check_label)
        self.section("order", self.check_order)
        self.section("paging", self.check_paging)
        self.section("expiry", self.check_expiry)
        node.rpc("setmocktime", 0)
        if self.failed:
            raise AssertionError("%d section(s) failed:\n  %s" % (len(self.failed), "\n  ".join(self.failed)))

    # -- 1 ------------------------------------------------------------------
    def check_corruption(self):
        node = self.node
        node.rpc("createwallet", "broken")
        broken = node.wallet("broken")
        codes = broken.creategiftcode(Decimal("1"), 3, "soon corrupt")["codes"]
        address = broken.getnewaddress()
        self.log.info("unload the wallet, overwrite the record of one code, load it again")
        node.rpc("unloadwallet", "broken")
        wallet_file = os.path.join(node.walletdir, "broken", "wallet.dat")
        assert_equal(corrupt_giftcode_record(wallet_file, codes[1]["id"]), codes[1]["id"])
        node.rpc("loadwallet", "broken")
        assert_equal(broken.getaddressinfo(address)["ismine"], True, "the wallet itself loaded")
        calls = [
            ("creategiftcode", Decimal("1")),
            ("getgiftcode", codes[0]["id"]),
            ("getgiftcode", codes[0]["code"]),
            ("listgiftcodes",),
            ("redeemgiftcode", codes[0]["code"], self.payee.getnewaddress()),
            ("cancelgiftcode", codes[2]["id"]),
            ("getgiftcodeinfo",),
        ]
        for call in calls:
            err = assert_raises_rpc_error(ERR_CORRUPTION, None, node.rpc, *call, wallet="broken")
            assert_true("did not open" in err.message.lower(),
                        "%s: the message says the ledger did not open: %r" % (call[0], err.message))
        self.log.info("other wallets are unaffected")
        assert_equal(self.issuer.getgiftcodeinfo()["consistency"]["clean"], True)
        node.rpc("unloadwallet", "broken")

    # -- 2 ------------------------------------------------------------------
    def check_numbers(self):
        node, issuer = self.node, self.issuer
        future = int(time.time()) + 10 ** 6
        self.log.info("strings for count, skip and expires_at: -8")
        string_calls = [
            ("listgiftcodes", "", None, "0"),
            ("listgiftcodes", "", None, 0, "5"),
            ("listgiftcodes", "", None, "9999999999999999999"),
            ("creategiftcode", Decimal("1"), "2"),
            ("creategiftcode", Decimal("1"), 1, "", str(future)),
        ]
        before = issuer.listgiftcodes()["total"]
        for call in string_calls:
            assert_raises_rpc_error(ERR_INVALID_PARAMETER, None, node.rpc, *call, wallet="issuer")
        self.log.info("numbers out of range, as numbers and as strings: -8")
        out_of_range = [9999999999999999999, 2 ** 63, 2 ** 64, 2 ** 64 + 1, 10 ** 30, -1, -(2 ** 63),
                        -(2 ** 63) - 1, Decimal("1.5")]
        for n in out_of_range:
            for value in (n, str(n)):
                assert_raises_rpc_error(ERR_INVALID_PARAMETER, None, node.rpc, "listgiftcodes", "", None, value,
                                        wallet="issuer")
                assert_raises_rpc_error(ERR_INVALID_PARAMETER, None, node.rpc, "listgiftcodes", "", None, 0, value,
                                        wallet="issuer")
                assert_raises_rpc_error(ERR_INVALID_PARAMETER, None, node.rpc, "creategiftcode", Decimal("1"), value,
                                        wallet="issuer")
                assert_raises_rpc_error(ERR_INVALID_PARAMETER, None, node.rpc, "creategiftcode", Decimal("1"), 1, "",
                                        value, wallet="issuer")
        self.log.info("the node still answers, and nothing was created")
        node.height()
        assert_equal(issuer.listgiftcodes("", None, 0, 5)["skip"], 0)
        assert_equal(issuer.listgiftcodes()["total"], before)
        assert_equal(issuer.creategiftcode(Decimal("1"), 1, "", future)["expires_at"], future)

    # -- 3 ------------------------------------------------------------------
    def check_cli(self):
        node, issuer = self.node, self.issuer
        if not node.cli_binary:
            raise SkipSection("no monacoin-cli given")

        def cli(*args):
            return json.loads(node.cli(*args, wallet="issuer"), parse_float=Decimal)

        self.log.info("numbers, strings and null, by position")
        made = cli("creategiftcode", "0.01", "3", "x", "0")
        assert_equal((made["count"], made["label"], made["expires_at"], len(made["codes"])), (3, "x", None, 3))
        future = int(time.time()) + 10 ** 6
        dated = cli("creategiftcode", "0.01", "1", "y", str(future))
        assert_equal(dated["expires_at"], future)
        skipped = cli("creategiftcode", "0.01", "null", "null", str(future))
        assert_equal((skipped["count"], skipped["label"], skipped["expires_at"]), (1, "", future))
        assert_equal(cli("creategiftcode", "0.02")["count"], 1)
        issuer.redeemgiftcode(made["codes"][0]["code"], self.payee.getnewaddress())
        everything = issuer.listgiftcodes("", None, 0, 10000)["total"]
        redeemed = issuer.listgiftcodes("redeemed", None, 0, 10000)["total"]
        page = cli("listgiftcodes", "", "null", "0", "5")
        assert_equal((page["total"], page["skip"], len(page["codes"])), (everything, 0, 5))
        page = cli("listgiftcodes", "redeemed", "null", "0", "10")
        assert_equal(page["total"], redeemed, "a positional null label filters nothing")
        assert_true(redeemed >= 1, "a redeemed code to list")
        assert_equal(cli("listgiftcodes", "null", "null")["total"], everything)
        assert_equal(cli("listgiftcodes", "null", "x")["total"], 3)
        page = cli("listgiftcodes", "", "x", "1", "2")
        assert_equal([c["id"] for c in page["codes"]], [c["id"] for c in made["codes"][1:3]])
        assert_equal((page["total"], page["skip"]), (3, 1))
        assert_equal(cli("listgiftcodes", "issued", "x")["total"], 2)
        assert_equal(cli("listgiftcodes")["total"], everything)
        code, ident = made["codes"][1]["code"], made["codes"][1]["id"]
        assert_equal(cli("getgiftcode", code)["id"], ident)
        assert_equal(cli("getgiftcode", ident)["id"], ident)
        assert_equal(cli("getgiftcode", code.lower().replace("-", " "))["id"], ident)
        paid = cli("redeemgiftcode", code, self.payee.getnewaddress())
        assert_equal(paid["id"], ident)
        assert_equal(cli("cancelgiftcode", made["codes"][2]["id"])["state"], "cancelled")
        assert_true("counts" in cli("getgiftcodeinfo"))

        self.log.info("the same by name (-named), null included")

        def named(*args):
            return json.loads(node.cli("-named", *args, wallet="issuer"), parse_float=Decimal)

        n = named("creategiftcode", "amount=0.01", "count=2", "label=named", "expires_at=%d" % future)
        assert_equal((n["count"], n["label"], n["expires_at"]), (2, "named", future))
        n0 = named("creategiftcode", "amount=0.01", "label=null", "expires_at=null")
        assert_equal((n0["count"], n0["label"], n0["expires_at"]), (1, "", None))
        assert_equal(named("listgiftcodes", "label=named")["total"], 2)
        assert_equal(named("listgiftcodes", "state=null", "label=null", "count=5")["total"], everything + 3)
        assert_equal(named("listgiftcodes", "state=issued", "label=named", "skip=1", "count=1")["skip"], 1)
        assert_equal(named("getgiftcode", "code_or_id=" + n["codes"][0]["id"])["label"], "named")
        assert_equal(named("redeemgiftcode", "code=" + n["codes"][0]["code"],
                           "address=" + self.payee.getnewaddress())["id"], n["codes"][0]["id"])
        assert_equal(named("cancelgiftcode", "code_or_id=" + n["codes"][1]["id"])["state"], "cancelled")

        self.log.info("other text stays text: a label that merely looks like JSON is a label")
        for label in ("Null", "true", "[1]", "12", "{}"):
            made_label = cli("creategiftcode", "0.01", "1", label)
            assert_equal(made_label["label"], label)
            assert_equal(cli("listgiftcodes", "", label)["total"], 1, "label %r" % label)

        self.log.info("every monacoin-cli example of every RPC's help runs")
        examples = 0
        for method in ("creategiftcode", "getgiftcode", "listgiftcodes", "redeemgiftcode", "cancelgiftcode",
                       "getgiftcodeinfo", "setgiftcodelimits", "pausegiftcodes", "resumegiftcodes"):
            for line in node.rpc("help", method).splitlines():
                if not line.startswith("> monacoin-cli "):
                    continue
                fresh = issuer.creategiftcode(Decimal("0.01"), 1, "example")["codes"][0]
                args = shlex.split(line[len("> monacoin-cli "):])
                args = [fresh["code"] if a.startswith("RGC-") else fresh["id"] if re.match(r"^[0-9a-f]{32}$", a)
                        else self.payee.getnewaddress() if a.startswith("rmona1") else a for a in args]
                result = cli(*args)
                assert_true(isinstance(result, dict), "%s: an object" % line)
                examples += 1
        self.log.info("  %d examples ran", examples)
        assert_true(examples >= 10, "the help has examples for every RPC")

    # -- 4 ------------------------------------------------------------------
    def check_label(self):
        node, issuer = self.node, self.issuer
        before = issuer.getgiftcodeinfo()["counts"]
        for label in ("a\x00b", "\x00", "tail\x00"):
            assert_raises_rpc_error(ERR_INVALID_PARAMETER, None, node.rpc, "creategiftcode", Decimal("1"), 1, label,
                                    wallet="issuer")
        assert_equal(issuer.getgiftcodeinfo()["counts"], before, "nothing created")

    # -- 5 ------------------------------------------------------------------
    def check_order(self):
        node, issuer = self.node, self.issuer
        node.rpc("setmocktime", int(time.time()))
        try:
            created = [issuer.creategiftcode(Decimal("1"), 1, "order")["codes"][0]["id"] for _ in range(25)]
            created += [c["id"] for c in issuer.creategiftcode(Decimal("1"), 20, "order")["codes"]]
            created += [issuer.creategiftcode(Decimal("1"), 1, "order")["codes"][0]["id"] for _ in range(5)]
        finally:
            node.rpc("setmocktime", 0)
        listed = issuer.listgiftcodes("", "order", 0, 1000)["codes"]
        assert_equal(len({c["created_at"] for c in listed}), 1, "every code created in the same second")
        assert_true(sorted(created) != created, "the ids do not happen to sort in creation order")
        assert_same_order([c["id"] for c in listed], created, "listgiftcodes of the label")
        everything = [c["id"] for c in issuer.listgiftcodes("", None, 0, 10000)["codes"]]
        assert_same_order([i for i in everything if i in set(created)], created, "listgiftcodes of all codes")

    # -- 6 ------------------------------------------------------------------
    def page_through(self, label, between=None, creator=None):
        """Pages through `label` PAGE codes at a time until a short page comes
        back after the creator is done; between(page_no) runs after each page."""
        seen = []
        for page_no in range(500):
            done = creator is None or not creator.is_alive()
            page = self.issuer.listgiftcodes("", label, len(seen), PAGE)
            seen += [c["id"] for c in page["codes"]]
            if between is not None:
                done = between(page_no) and done
            if len(page["codes"]) < PAGE and done:
                return seen
        raise AssertionError("paging did not end")

    def check_paging_result(self, label, seen):
        final = [c["id"] for c in self.issuer.listgiftcodes("", label, 0, 10000)["codes"]]
        assert_equal(len(set(seen)), len(seen), "a code was seen twice while paging")
        assert_equal(seen, final, "pages seen while creating vs the final listing")

    def check_paging(self):
        node, issuer = self.node, self.issuer
        node.rpc("setmocktime", int(time.time()))
        try:
            self.log.info("interleaved: 3 codes created after each page")
            issuer.creategiftcode(Decimal("1"), 20, "paging")

            def create_some(page_no):
                if page_no < 8:
                    for _ in range(3):
                        issuer.creategiftcode(Decimal("1"), 1, "paging")
                    return False
                return True

            seen = self.page_through("paging", between=create_some)
            self.check_paging_result("paging", seen)
            assert_equal(len(seen), 44)

            self.log.info("concurrent: a thread creates 40 codes while the pages are read")
            issuer.creategiftcode(Decimal("1"), 20, "paging2")
            errors = []

            def create():
                try:
                    for _ in range(40):
                        issuer.creategiftcode(Decimal("1"), 1, "paging2")
                except Exception as e:  # reported below
                    errors.append(e)

            creator = threading.Thread(target=create, daemon=True)
            creator.start()
            seen = self.page_through("paging2", creator=creator)
            creator.join(120)
            assert_equal(errors, [])
            self.check_paging_result("paging2", seen)
            assert_equal(len(seen), 60)
        finally:
            node.rpc("setmocktime", 0)

    # -- 7 ------------------------------------------------------------------
    def check_expiry(self):
        node, issuer = self.node, self.issuer
        t0 = int(time.time())
        node.rpc("setmocktime", t0)
        code = issuer.creategiftcode(Decimal("1"), 1, "expiry", t0 + 100)["codes"][0]
        expired_before = issuer.getgiftcodeinfo()["counts"]["expired"]
        node.rpc("setmocktime", t0 + 200)
        assert_equal(issuer.getgiftcode(code["id"])["state"], "expired")
        self.log.info("the clock goes back before the expiry: the code stays expired")
        node.rpc("setmocktime", t0 + 50)
        assert_equal(issuer.getgiftcode(code["id"])["state"], "expired", "state after the clock went back")
        assert_equal(issuer.getgiftcodeinfo()["counts"]["expired"], expired_before + 1)
        assert_true(code["id"] in [c["id"] for c in issuer.listgiftcodes("expired", "expiry")["codes"]],
                    "listed as expired")
        assert_raises_rpc_error(ERR_EXPIRED, None, issuer.redeemgiftcode, code["code"], self.payee.getnewaddress())
        node.rpc("setmocktime", t0 + 99)
        assert_equal(issuer.getgiftcode(code["code"])["state"], "expired")


class SkipSection(Exception):
    pass


def assert_same_order(listed, created, what):
    """listed must be created, in the same order; says where they first differ."""
    assert_equal(len(listed), len(created), "%s: number of codes" % what)
    for position, (a, b) in enumerate(zip(listed, created)):
        if a != b:
            raise AssertionError("%s: not in creation order: position %d holds %s, created there was %s "
                                 "(%d codes, all with the same created_at)" % (what, position, a, b, len(created)))


if __name__ == "__main__":
    ArgumentsTest().main()
