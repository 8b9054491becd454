#!/usr/bin/env python3
"""Each gift-code RPC's help lists exactly the errors it returns, and says
what the node does.

1. help: every RPC's help has an "Errors:" section, generated from the
   module's one table (RpcErrorDocs): the RPC's own errors, one a line,
   then those every gift-code RPC can return. Its curl example names this
   network's RPC port (regtest's 19443), never Bitcoin's 8332.
2. doc: the "RPCs" column of doc/integration.md's error table names, for
   each code, exactly the RPCs whose help lists it, and "every RPC" exactly
   for the codes every RPC can return.
3. behaviour: every error each RPC's help lists as its own is provoked on
   this node, through that RPC, and answers with that code:
   -401..-407 and -5, -3, -8 with bad input; -6 with a code worth more than
   the wallet; -409 with redemptions paused (pausegiftcodes); -408 with
   every coin locked (lockunspent); -10 while the node
   is in initial block download; -13 in a locked encrypted wallet; -4 in a
   wallet without private keys (creategiftcode) and on a node whose
   -maxtxfee no payment fits (redeemgiftcode); -20 with every sync of the
   wallet's log failing (libpowercut.so preloaded, as in
   wallet_giftcode_diskfull.py). A listed error the test cannot provoke
   fails the test, as does a provoked error the help does not list. Of the
   errors every RPC can return, -1 (wrong number of arguments), -18 and -19
   are provoked for each RPC; -22 is rpc_giftcode_arguments.py's
   (corruption); -28 and a ledger that did not open with -20 need a node
   starting or a database failing at load, and are not provoked here.

That no RPC returns an error its help does not list is checked
exhaustively in the unit tests (rpc_tests, each method called with every
kind of argument in every failure state of the wallet).
"""

import os
import re
import sys
import time
from decimal import Decimal

from test_framework.chain import mature_coinbases
from test_framework.giftcode import RpcError, find_powercut_library, preload_powercut
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import REPO_ROOT, assert_equal, assert_true, wait_until
from giftcodekit import codeformat as fmt

sys.path.insert(0, os.path.join(REPO_ROOT, "test", "powercut"))
import powercut  # noqa: E402

SHORT = {"create": "creategiftcode", "get": "getgiftcode", "list": "listgiftcodes", "redeem": "redeemgiftcode",
         "cancel": "cancelgiftcode", "info": "getgiftcodeinfo", "limits": "setgiftcodelimits",
         "pause": "pausegiftcodes", "resume": "resumegiftcodes"}
METHODS = tuple(SHORT.values())
#: Arguments that make each RPC run (for -1: one too many; for -18/-19).
VALID = {"creategiftcode": (Decimal("1"),), "getgiftcode": ("00" * 16,), "listgiftcodes": (),
         "redeemgiftcode": ("RGC-X", "x"), "cancelgiftcode": ("00" * 16,), "getgiftcodeinfo": (),
         "setgiftcodelimits": ([],), "pausegiftcodes": (), "resumegiftcodes": ()}
MAX_ARGS = {"creategiftcode": 4, "getgiftcode": 1, "listgiftcodes": 4, "redeemgiftcode": 2, "cancelgiftcode": 1,
            "getgiftcodeinfo": 0, "setgiftcodelimits": 1, "pausegiftcodes": 1, "resumegiftcodes": 0}
REGTEST_RPC_PORT = 19443
PASSPHRASE = "help test passphrase"


def parse_errors(help_text):
    """(own codes, common codes) of a help text's "Errors:" section."""
    lines = help_text.split("\n")
    assert_true("Errors:" in lines, "an Errors: section")
    own, common, target = [], [], None
    for line in lines[lines.index("Errors:") + 1:]:
        if line == "And, as every gift-code RPC:":
            target = common
            continue
        m = re.match(r"^  +(-\d+)  \S", line)
        if not m:
            break
        (own if target is None else common).append(int(m.group(1)))
    assert_true(common, "the errors every gift-code RPC can return")
    return own, common


def parse_doc_table():
    """{code: (set of RPCs named, says "every RPC")} from doc/integration.md."""
    with open(os.path.join(REPO_ROOT, "doc", "integration.md"), encoding="utf-8") as f:
        text = f.read()
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 8 or not re.match(r"^-\d+(, -\d+)*$", cells[1]):
            continue
        column = cells[3]
        names_part = column.split(";")[0]
        names = set() if "every RPC" in names_part else {
            SHORT[n] for n in re.findall(r"\b(create|get|list|redeem|cancel|info|limits|pause|resume)\b", names_part)}
        for code in cells[1].split(", "):
            table[int(code)] = (names, "every RPC" in column)
    return table


class HelpTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def add_options(self, parser):
        parser.add_argument("--powercut", help="libpowercut.so (default: $GIFTCODE_POWERCUT_LIB, else build/default)")

    def run_test(self):
        node = self.node = self.nodes[0]
        node.stop()
        self.control, _ = preload_powercut(node, find_powercut_library(self.options.powercut))
        node.start()

        self.log.info("help: an Errors: section per RPC, and this network's port in the examples")
        self.own, self.common = {}, None
        for method in METHODS:
            text = node.rpc("help", method)
            own, common = parse_errors(text)
            self.own[method] = own
            if self.common is None:
                self.common = common
            assert_equal(common, self.common, "%s: the errors every RPC returns" % method)
            assert_true("8332" not in text, "%s: Bitcoin's port in the help" % method)
            assert_true("http://127.0.0.1:%d/" % REGTEST_RPC_PORT in text, "%s: the regtest RPC port" % method)
            self.log.info("  %s: %s; and %s", method, " ".join(map(str, own)) or "none of its own",
                          " ".join(map(str, common)))
        for code in (-1, -18, -19, -28, -22, -20):
            assert_true(code in self.common, "%d among the errors every RPC returns" % code)

        self.log.info("doc: doc/integration.md names the same RPCs for each code")
        table = parse_doc_table()
        every = {code for own in self.own.values() for code in own} | set(self.common)
        for code in sorted(every):
            assert_true(code in table, "doc/integration.md has no row for %d" % code)
        for code, (names, says_every) in sorted(table.items()):
            expected = {m for m in METHODS if code in self.own[m]}
            assert_equal(names, expected, "doc/integration.md, RPCs of %d" % code)
            assert_equal(says_every, code in self.common, "doc/integration.md, %d for every RPC" % code)

        self.log.info("behaviour: each listed error, provoked through its RPC")
        self.provoked = {}
        self.provoke_all()
        for method in METHODS:
            assert_equal(sorted(self.provoked.get(method, set())), sorted(self.own[method]),
                         "%s: errors provoked against errors listed" % method)
        self.log.info("  %d errors provoked, every one its help lists", sum(map(len, self.provoked.values())))

    def expect(self, code, method, *args, wallet="issuer"):
        """Calls `method`; it must fail with `code`, which its help lists."""
        try:
            self.node.rpc(method, *args, wallet=wallet)
        except RpcError as e:
            assert_equal(e.code, code, "%s%r: %s" % (method, args, e.message))
            assert_true(e.code in self.own[method], "%s returned %d, which its help does not list" % (method, e.code))
            assert_true(e.message, "a message")
            self.provoked.setdefault(method, set()).add(code)
            self.log.debug("  %s -> %d %s", method, code, e.message)
            return e
        raise AssertionError("%s%r succeeded; expected error %d" % (method, args, code))

    def provoke_all(self):
        node = self.node
        node.rpc("createwallet", "issuer")
        issuer = node.wallet("issuer")

        # -10: before the first block the node is in initial block download.
        assert_equal(node.rpc("getblockchaininfo")["initialblockdownload"], True)
        early = issuer.creategiftcode(Decimal("1"))["codes"][0]
        self.expect(-10, "redeemgiftcode", early["code"], issuer.getnewaddress())

        mature_coinbases(node, "issuer", 5)
        node.rpc("createwallet", "payee")
        payee = node.wallet("payee").getnewaddress()
        codes = issuer.creategiftcode(Decimal("1"), 6, "help")["codes"]
        redeemed, cancelled, typo_of, spare = codes[0], codes[1], codes[2], codes[3]
        issuer.redeemgiftcode(redeemed["code"], payee)
        issuer.cancelgiftcode(cancelled["id"])
        now = int(time.time())
        node.rpc("setmocktime", now)
        expired = issuer.creategiftcode(Decimal("1"), 1, "", now + 10)["codes"][0]
        node.rpc("setmocktime", now + 11)
        typo = fmt.substitute(typo_of["code"], 6)
        other_net = fmt.random_code(fmt.TESTNET)
        unknown = fmt.random_code(fmt.REGTEST)

        for method in ("getgiftcode", "cancelgiftcode"):
            self.expect(-401, method, "RGC-1234")
            self.expect(-402, method, typo)
            self.expect(-403, method, other_net)
            self.expect(-404, method, unknown)
            self.expect(-8, method, 5)
        self.expect(-401, "redeemgiftcode", "RGC-1234", payee)
        self.expect(-402, "redeemgiftcode", typo, payee)
        self.expect(-403, "redeemgiftcode", other_net, payee)
        self.expect(-404, "redeemgiftcode", unknown, payee)
        self.expect(-405, "redeemgiftcode", redeemed["code"], node.wallet("payee").getnewaddress())
        self.expect(-405, "cancelgiftcode", redeemed["id"])
        self.expect(-406, "redeemgiftcode", cancelled["code"], payee)
        self.expect(-406, "cancelgiftcode", cancelled["id"])
        self.expect(-407, "redeemgiftcode", expired["code"], payee)
        node.rpc("setmocktime", 0)
        self.expect(-5, "redeemgiftcode", spare["code"], "notanaddress")
        self.expect(-3, "creategiftcode", 0)
        self.expect(-8, "creategiftcode", 1, 0)
        self.expect(-8, "listgiftcodes", "spent")

        # -6: a code worth more than the wallet holds (issuing it is allowed,
        # with a warning: a code reserves no funds).
        rich = issuer.creategiftcode(Decimal("100000"))
        assert_equal(rich["solvent"], False)
        self.expect(-6, "redeemgiftcode", rich["codes"][0]["code"], payee)
        issuer.cancelgiftcode(rich["codes"][0]["id"])

        # -408: every coin locked.
        coins = [{"txid": u["txid"], "vout": u["vout"]} for u in issuer.listunspent(0)]
        issuer.lockunspent(False, coins)
        self.expect(-408, "redeemgiftcode", spare["code"], payee)
        issuer.lockunspent(True, coins)

        # -13: an encrypted wallet, locked.
        node.rpc("createwallet", "enc")
        enc = node.wallet("enc")
        enc.encryptwallet(PASSPHRASE)
        enc.walletpassphrase(PASSPHRASE, 600)
        enc_code = enc.creategiftcode(Decimal("1"))["codes"][0]
        enc.walletlock()
        self.expect(-13, "creategiftcode", 1, wallet="enc")
        self.expect(-13, "redeemgiftcode", enc_code["code"], payee, wallet="enc")

        # -409: the breaker, paused by hand; -8 for its own bad arguments.
        issuer.pausegiftcodes("help test")
        self.expect(-409, "redeemgiftcode", spare["code"], payee)
        issuer.resumegiftcodes()
        self.expect(-8, "setgiftcodelimits", [{"window": 0, "amount": 1}])
        self.expect(-8, "pausegiftcodes", "r" * 257)

        # -4 from creategiftcode: a wallet that cannot sign.
        node.rpc("createwallet", "watch", True)
        self.expect(-4, "creategiftcode", 1, wallet="watch")

        # -20: every sync of the issuer's log fails.
        powercut.set_fault(self.control, "eio-sync", "/wallets/issuer/database/log.")
        self.expect(-20, "creategiftcode", 1)
        self.expect(-20, "cancelgiftcode", codes[4]["id"])
        self.expect(-20, "redeemgiftcode", codes[5]["code"], payee)
        self.expect(-20, "setgiftcodelimits", [])
        self.expect(-20, "pausegiftcodes")
        self.expect(-20, "resumegiftcodes")
        powercut.set_fault(self.control, None, "/wallets/")
        assert_equal(issuer.getgiftcode(codes[4]["id"])["state"], "issued")

        # The errors every RPC can return: -1, -19 (several wallets, no
        # name), -18 (no such wallet).
        for method in METHODS:
            args = list(VALID[method]) + [None] * (MAX_ARGS[method] + 1 - len(VALID[method]))
            self.expect_common(-1, method, *args)
            self.expect_common(-19, method, *VALID[method], wallet=None)
            self.expect_common(-18, method, *VALID[method], wallet="nosuchwallet")

        # -4 from redeemgiftcode: the wallet cannot build a payment whose fee
        # stays under -maxtxfee.
        node.restart(["-maxtxfee=0.0001", "-wallet=issuer"])
        wait_until(lambda: node.rpc("getgiftcodeinfo", wallet="issuer")["payments_start_in"] == 0, 60,
                   what="payments to start")
        e = self.expect(-4, "redeemgiftcode", spare["code"], payee)
        self.log.info("  redeemgiftcode with -maxtxfee=0.0001: %d %s", e.code, e.message)
        assert_equal(node.wallet("issuer").getgiftcode(spare["id"])["state"], "issued")

    def expect_common(self, code, method, *args, wallet="issuer"):
        try:
            self.node.rpc(method, *args, wallet=wallet)
        except RpcError as e:
            assert_equal(e.code, code, "%s%r on %s: %s" % (method, args, wallet, e.message))
            assert_true(code in self.common, "%d is not listed for every RPC" % code)
            if code == -1:
                assert_true(e.message.startswith(method), "-1 answers with the help")
            return
        raise AssertionError("%s%r on %s succeeded; expected error %d" % (method, args, wallet, code))


if __name__ == "__main__":
    HelpTest().main()
