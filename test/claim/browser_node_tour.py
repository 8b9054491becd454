#!/usr/bin/python3
"""The claim page in front of a real patched monacoind, end to end: a tour
to run by hand before a release (it is not part of CI). browser_test.py
proves the page against the stand-in node; this shows that the node, the
server and the page agree on the same things.

It starts monacoind on regtest in a temporary data directory (with
contrib/giftcodekit, on loopback and free ports), mines 110 blocks
to a wallet `gifts`, issues codes there, starts giftcode-claim in front of
it, and walks headless Chromium through what a holder sees, in English and
in Japanese:

  ready                       a claim URL (/#<code>) opened
  address of another network  a mainnet address typed: the hint, no claim
  claimed                     an address of the wallet `holder` typed and
                              claimed: the node's txid on the page
  confirmed                   a block mined: the page follows the payment
  already claimed             a code redeemed by RPC beforehand
  claimed meanwhile           another claim pays the code between the
                              page's lookup and its click
  wrong network               a testnet (TGC) code
  expired                     a code whose expiry has passed (polled on the
                              node until it says so)
  busy                        the node slow to pay (-giftcodebatchwait=1000),
                              a server with one connection and no queue, and
                              other claims in flight: "busy, retrying", then
                              paid by itself

After every claim the node is asked whether the code is redeemed with the
txid the page shows, and whether the holder's address received the code's
amount exactly once. The tour prints a table (scenario, language, state
reached, txid, checks passed) and, with --screenshots, saves each state as
<lang>-<state>.png.

Run it with Debian's Python (which has Selenium):

    /usr/bin/python3 test/claim/browser_node_tour.py --monacoind PATH/monacoind \\
        --server BUILD/contrib/claim/giftcode-claim [--screenshots DIR] [--keep]

Every wait polls with a timeout. The node, the servers and the browsers are
stopped on any exit: success, failure, Ctrl-C or SIGTERM.
"""

import argparse
import json
import os
import shutil
import secrets
import signal
import sys
import tempfile
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # nothing left behind in the source tree
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "contrib"))
import browser_test  # noqa: E402  (beside this file)
from giftcodekit.node import ENV_MONACOIND, Node, find_binary  # noqa: E402  (contrib/giftcodekit)
from giftcodekit.rpc import NodeError, RpcError  # noqa: E402
from giftcode_rpcauth import rpcauth_lines  # noqa: E402  (contrib/)
from browser_test import Browser, ClaimServer, Claimant, assert_equal, http, wait_for  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402

fmt = browser_test.fmt
LANGUAGES = ("en", "ja")
RPC_THREADS = 8
# Each payment waits this long for more redemptions to pay with it, so a
# claim keeps the server's one connection to the node for a second.
BATCH_WAIT_MS = 1000
OTHER_CLAIMS = 6


class TourNode:
    """monacoind on regtest, and what giftcode-claim needs to reach its wallet
    `gifts` (the attributes ClaimServer reads: wallet_url, rpc_user,
    password_file)."""

    def __init__(self, binary, tmp, keep):
        # The server gets a claim-only user, as doc/security.md recommends
        # (it refuses to start with one that can send).
        self.rpc_user = "claim"
        password = secrets.token_urlsafe(32)
        self.node = Node(binary, name="tour", keep_datadir=keep, extra_args=[
            "-fallbackfee=0.0002", "-rpcthreads=%d" % RPC_THREADS, "-giftcodebatchwait=%d" % BATCH_WAIT_MS] +
            ["-" + line for line in rpcauth_lines("claim", self.rpc_user, password)])
        self.node.start()
        self.wallet_url = "http://127.0.0.1:%d/wallet/gifts" % self.node.rpc_port
        self.password_file = os.path.join(tmp, "node.password")
        with open(os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(password + "\n")
        self.node.rpc("createwallet", "gifts")
        self.node.rpc("createwallet", "holder")
        self.gifts = self.node.wallet("gifts")
        self.holder = self.node.wallet("holder")
        self.node.mine(110, wallet="gifts")

    def issue(self, amount, expires_at=None):
        """A new code of `amount` MONA: {code, id, uri, amount}."""
        made = self.gifts.creategiftcode(Decimal(amount), 1, "claim tour", expires_at)
        return dict(made["codes"][0], amount=made["amount"])

    def mine_block(self):
        self.node.mine(1, wallet="gifts")

    def stop(self):
        try:
            if self.node.running:
                self.node.stop(timeout=60)
        except (NodeError, OSError) as e:
            print("tour: the node did not stop cleanly (%s); killing it" % e, flush=True)
        finally:
            self.node.cleanup()


def amount_text(amount):
    """An amount as the page shows it: all 8 decimals, grouped thousands."""
    return "{:,.8f} MONA".format(amount)


class Row:
    """One line of the table: a scenario in one language and what it showed."""

    def __init__(self, scenario, lang):
        self.scenario, self.lang = scenario, lang
        self.state = "-"
        self.txid = "-"
        self.passed = 0
        self.error = None

    def check(self, what, got, want):
        assert_equal(got, want, what)
        self.passed += 1

    def ok(self, what, condition):
        assert condition, what
        self.passed += 1


class Tour:
    def __init__(self, args, tmp, node):
        self.args = args
        self.tmp = tmp
        self.node = node
        self.rows = []
        with open(os.path.join(browser_test.WEB_DIR, "messages.json"), encoding="utf-8") as f:
            self.messages = json.load(f)
        gifts = self.node.gifts
        self.main = ClaimServer(args.server, tmp, "main", self.node, connections=4, queue=16)
        self.tight = ClaimServer(args.server, tmp, "tight", self.node, connections=1, queue=0)

        # Shown in both languages: a code paid beforehand, one of another
        # network, one that expires a few seconds from now.
        self.paid_before = self.node.issue("3")
        self.paid_before_address = self.node.holder.getnewaddress()
        self.paid_before_txid = gifts.redeemgiftcode(self.paid_before["code"], self.paid_before_address)["txid"]
        self.testnet_code = fmt.random_code("TGC")
        self.expiring = self.node.issue("1", expires_at=int(time.time()) + 5)
        # Claimed in one language each.
        self.codes = {
            lang: {
                "claim": self.node.issue(amount),
                "meanwhile": self.node.issue("4"),
                "busy": self.node.issue("5"),
                "others": [self.node.issue("1") for _ in range(OTHER_CLAIMS)],
            } for lang, amount in (("en", "12.5"), ("ja", "0.12345678"))
        }

    def ui(self, key, lang):
        return self.messages[lang]["ui"][key]

    def error(self, key, lang):
        return self.messages[lang]["errors"][key]

    def shoot(self, page, lang, name):
        if not self.args.screenshots:
            return
        state = page.state()
        page.driver.save_screenshot(os.path.join(self.args.screenshots, "%s-%s.png" % (lang, name)))
        assert_equal(page.state(), state, "the page's state while its screenshot was taken")

    def run(self, scenario, lang, page, steps):
        row = Row(scenario, lang)
        self.rows.append(row)
        try:
            steps(row)
            problems = page.check_console()
            row.ok("the browser console: %s" % problems, not problems)
        except (AssertionError, WebDriverException, RpcError, NodeError, RuntimeError,
                KeyError, TypeError) as e:
            row.error = "%s: %s" % (type(e).__name__, e)
        except (KeyboardInterrupt, SystemExit):
            row.error = "interrupted"
            raise
        mark = "ok" if row.error is None else "FAILED: %s" % row.error
        print("tour: %-28s %s  %s" % (scenario, lang, mark), flush=True)

    def check_paid(self, row, code, address, txid):
        """The node's word on a claim: the code is redeemed to `address` with
        `txid`, and `address` received the code's amount exactly once."""
        view = self.node.gifts.getgiftcode(code["id"])
        row.check("the code's state on the node", view["state"], "redeemed")
        row.check("the txid on the node", view["txid"], txid)
        row.check("the address on the node", view["address"], address)
        holder = self.node.holder
        row.check("received by %s" % address, holder.getreceivedbyaddress(address, 0), code["amount"])
        receipts = [(t["txid"], t["amount"]) for t in holder.listtransactions("*", 10000, 0, True)
                    if t["category"] == "receive" and t.get("address") == address]
        row.check("payments to %s" % address, receipts, [(txid, code["amount"])])

    def open(self, page, server, code_text, *states):
        page.open(server.base + "/#" + code_text)
        return page.wait_state(*states, timeout=30)

    # --- the scenarios of one language ---------------------------------------------

    def language(self, lang):
        page = Browser(self.args, self.tmp, lang)
        codes = self.codes[lang]
        code = codes["claim"]
        claim = {}

        def ready(row):
            row.state = self.open(page, self.main, code["code"], "ready", "error")
            row.check("the state", row.state, "ready")
            row.check("<html lang>", page.html_lang(), lang)
            row.check("the state text", page.text("state-text"), self.ui("state_ready", lang))
            row.check("the amount shown", page.text("amount"), amount_text(code["amount"]))
            row.check("the fragment after the lookup", page.driver.execute_script("return location.hash"), "")
            row.ok("the claim button is disabled without an address", page.attr("claim-button", "disabled"))
            self.shoot(page, lang, "ready")

        def address_of_another_network(row):
            mainnet = browser_test.standin_node.base58_address(50, os.urandom(20))
            row.ok("a mainnet address: %s" % mainnet, mainnet.startswith("M"))
            page.enter_address(mainnet, expect_valid=False)
            row.state = page.state()
            row.check("the hint", page.text("address-hint"), self.error("address_wrong_network", lang))
            row.ok("the claim button is disabled", page.attr("claim-button", "disabled"))
            self.shoot(page, lang, "ready-address_wrong_network")
            status, _, body = self.main.api("/api/claim", {"code": code["code"], "address": mainnet})
            row.check("the server's answer to a claim to it", (status, body["error"]["key"]),
                      (422, "address_wrong_network"))
            row.check("the code on the node", self.node.gifts.getgiftcode(code["id"])["state"], "issued")

        def claimed(row):
            address = self.node.holder.getnewaddress()
            page.enter_address(address)
            page.click("claim-button")
            row.state = page.wait_state("claimed", "confirmed", "error", timeout=30)
            row.check("the state", row.state, "claimed")
            row.txid = page.text("txid")
            row.check("the state text", page.text("state-text"), self.ui("state_claimed", lang))
            row.check("the address shown", page.text("paid-to"), address)
            self.check_paid(row, code, address, row.txid)
            self.shoot(page, lang, "claimed")
            claim.update(address=address, txid=row.txid)

        def confirmed(row):
            row.ok("a claim to confirm", claim)
            self.node.mine_block()
            row.state = page.wait_state("confirmed", timeout=30)
            row.txid = page.text("txid")
            row.check("the txid", row.txid, claim["txid"])
            row.check("the confirmations shown", page.text("confirmations"), "1")
            row.check("the confirmations on the node", self.node.gifts.getgiftcode(code["id"])["confirmations"], 1)
            self.check_paid(row, code, claim["address"], row.txid)
            self.shoot(page, lang, "confirmed")

        def already_claimed(row):
            paid = self.paid_before
            row.state = self.open(page, self.main, paid["code"], "already_claimed", "ready", "error")
            row.check("the state", row.state, "already_claimed")
            row.txid = page.text("txid")
            row.check("the txid shown", row.txid, self.paid_before_txid)
            row.check("the address shown", page.text("paid-to"), self.paid_before_address)
            row.check("the code's state shown", page.text("code-state"), self.ui("code_state_redeemed", lang))
            row.ok("the claim form is hidden", not page.visible("claim-form"))
            self.check_paid(row, paid, self.paid_before_address, row.txid)
            self.shoot(page, lang, "already_claimed")

        def claimed_meanwhile(row):
            other = codes["meanwhile"]
            row.check("the state", self.open(page, self.main, other["code"], "ready", "error"), "ready")
            elsewhere = self.node.holder.getnewaddress()
            status, _, body = self.main.api("/api/claim", {"code": other["code"], "address": elsewhere})
            row.check("the other claim", (status, body.get("claim", {}).get("state")), (200, "done"))
            mine = self.node.holder.getnewaddress()
            page.enter_address(mine)
            page.click("claim-button")
            row.state = page.wait_state("already_claimed", "claimed", "confirmed", "error", timeout=30)
            row.check("the state", row.state, "already_claimed")
            row.txid = page.text("txid")
            row.check("the txid shown", row.txid, body["claim"]["txid"])
            row.check("the address shown", page.text("paid-to"), elsewhere)
            self.check_paid(row, other, elsewhere, row.txid)
            row.check("received by the page's address", self.node.holder.getreceivedbyaddress(mine, 0), Decimal(0))

        def wrong_network(row):
            row.state = self.open(page, self.main, self.testnet_code, "error", "ready", "entry")
            row.check("the state", row.state, "error")
            row.check("the message", page.text("message"), self.error("wrong_network", lang))
            self.shoot(page, lang, "error")

        def expired(row):
            code_id = self.expiring["id"]
            wait_for("the node to say the code is expired",
                     lambda: self.node.gifts.getgiftcode(code_id)["state"] == "expired", timeout=60, interval=0.2)
            row.state = self.open(page, self.main, self.expiring["code"], "expired", "ready", "error")
            row.check("the state", row.state, "expired")
            row.check("the message", page.text("message"), self.error("expired", lang))
            row.check("the code's state shown", page.text("code-state"), self.ui("code_state_expired", lang))
            status, _, body = self.main.api("/api/claim", {"code": self.expiring["code"],
                                                           "address": self.node.holder.getnewaddress()})
            row.check("the server's answer to a claim of it", (status, body["error"]["key"]), (409, "expired"))
            row.check("the code on the node", self.node.gifts.getgiftcode(code_id)["state"], "expired")
            self.shoot(page, lang, "expired")

        def busy(row):
            mine = codes["busy"]
            row.check("the state", self.open(page, self.tight, mine["code"], "ready", "error"), "ready")
            address = self.node.holder.getnewaddress()
            page.enter_address(address)
            others = [Claimant(self.tight, c) for c in codes["others"]]
            for other in others:
                other.address = self.node.holder.getnewaddress()
                other.start()

            def in_flight():
                _, _, status = http("GET", self.tight.base + "/api/status")
                return status["nodes"][0]["running"] >= 1 and status["claims_active"] >= 1
            wait_for("another claim to hold the server's one connection", in_flight, timeout=15)
            page.click("claim-button")
            row.state = page.wait_state("busy", "claimed", "error", timeout=15)
            row.check("the state while the others are paid", row.state, "busy")
            row.check("the state text", page.text("state-text"), self.ui("state_busy", lang))
            row.ok("the message: %r" % page.text("message"), page.text("message").startswith(self.error("busy", lang)))
            self.shoot(page, lang, "busy")
            row.state = page.wait_state("claimed", "confirmed", "error", timeout=120)
            row.check("the state at the end", row.state, "claimed")
            row.txid = page.text("txid")
            self.check_paid(row, mine, address, row.txid)
            for other in others:
                other.join(timeout=120)
                outcome = other.outcome or {}
                row.check("another holder's claim", outcome.get("state"), "done")
                self.check_paid(row, other.code, other.address, outcome.get("txid"))
            row.ok("the others met a full queue too", any(other.busy_answers for other in others))
            # Confirms the change, for the claims that follow.
            self.node.mine_block()

        for scenario, steps in (("ready", ready),
                                ("address of another network", address_of_another_network),
                                ("claimed", claimed),
                                ("confirmed", confirmed),
                                ("already claimed", already_claimed),
                                ("claimed meanwhile", claimed_meanwhile),
                                ("wrong network", wrong_network),
                                ("expired", expired),
                                ("busy", busy)):
            self.run(scenario, lang, page, steps)

    def table(self):
        head = ("scenario", "lang", "state reached", "txid", "checks passed")
        lines = [(r.scenario, r.lang, r.state, r.txid,
                  "%d, all" % r.passed if r.error is None else "%d, then FAILED" % r.passed) for r in self.rows]
        widths = [max(len(line[i]) for line in [head] + lines) for i in range(len(head))]
        for line in [head, tuple("-" * w for w in widths)] + lines:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
        for r in self.rows:
            if r.error is not None:
                print("FAILED %s (%s): %s" % (r.scenario, r.lang, r.error))


def raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--monacoind", default=os.environ.get(ENV_MONACOIND),
                        help="the patched node (default: $%s)" % ENV_MONACOIND)
    parser.add_argument("--server", required=True, help="the giftcode-claim binary")
    parser.add_argument("--screenshots", help="save <lang>-<state>.png of each state here")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default=None, help="the browser binary (default: chromedriver's choice)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory and the node's data directory")
    args = parser.parse_args()
    try:
        args.monacoind = find_binary(args.monacoind, ENV_MONACOIND)
    except NodeError as e:
        parser.error(str(e))
    args.server = os.path.abspath(args.server)
    if not os.access(args.server, os.X_OK):
        parser.error("no executable at %s" % args.server)
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
        browser_test.note_missing_japanese_font()

    # SIGTERM and SIGHUP unwind like Ctrl-C, through the cleanup below.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, raise_exit)
    tmp = tempfile.mkdtemp(prefix="claim-tour-")
    node = tour = None
    status = 1
    try:
        print("tour: starting monacoind and mining 110 blocks", flush=True)
        # A node that fails half-way through its start is ended by
        # giftcodekit's exit hook.
        node = TourNode(args.monacoind, tmp, args.keep)
        tour = Tour(args, tmp, node)
        for lang in LANGUAGES:
            tour.language(lang)
        status = 0 if all(r.error is None for r in tour.rows) else 1
    except KeyboardInterrupt:
        print("tour: interrupted", flush=True)
        status = 130
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        browser_test.cleanup()
        if node is not None:
            node.stop()
        if args.keep:
            print("tour: logs and configuration kept in", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        if tour is not None and tour.rows:
            print()
            tour.table()
    return status


if __name__ == "__main__":
    sys.exit(main())
