#!/usr/bin/python3
"""The claim page in a real browser: headless Chromium drives the page that
giftcode-claim serves, in front of the stand-in node (standin_node.py), and
proves what a holder would notice:

  a  a claim URL opens the code (in every spelling the page accepts, and
     from the code box), the fragment leaves the address bar, the claim pays
     with the node's txid, and the page follows it to "confirmed"; amounts
     show all 8 decimals, exactly up to the money range;
  b  a double click, a second tab and a reload in the middle of a claim make
     exactly one payment;
  c  a code paid before shows "already claimed", with when and the txid;
  d  a code of another network, mistyped and unknown codes, and addresses of
     another network or none at all get their own messages;
  e  an expired code, also one that expires while the page is open;
  f  a cancelled code, likewise;
  g  with the server's queue full the page says "busy, retrying" and then
     completes by itself;
  h  a redemption whose answer is lost, or that meets a full work queue, a
     closed connection or a retryable error, still pays once, with the same
     txid on the page; a lookup without an answer is retried;
  i  a Japanese browser gets the Japanese page, and the switch works;
  j  every response carries the content security policy, and the browser
     logged no CSP violation and no script error in any scenario;
  k  past the server's rate limits the page says so, with the wait;
  l  a claim of another address that a lookup names while the page follows
     its own claim is never shown as the page's outcome (failed, paid or
     under way), whatever the server sends, while its own address in
     another case is its own.

Run it with Debian's Python (which has Selenium):

    /usr/bin/python3 test/claim/browser_test.py --server BUILD/contrib/claim/giftcode-claim \\
        [--screenshots DIR] [--only a,b,...] [--keep]

With --screenshots, each state the page shows a holder is saved in English
and Japanese (en-ready.png, ja-busy.png, ...). Every wait polls with a
timeout; nothing sleeps for a fixed time to let something happen. Child
processes are ended on any exit.
"""

import argparse
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # nothing left behind in the source tree
sys.path.insert(0, HERE)
import standin_node  # noqa: E402  (beside this file)

fmt = standin_node.fmt
WEB_DIR = os.path.join(HERE, "..", "..", "contrib", "claim", "web")
STANDIN = os.path.join(HERE, "standin_node.py")
CSP = ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'",
       "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'")
STATES = ("entry", "checking", "ready", "claiming", "busy", "claimed", "confirmed", "already_claimed",
          "cancelled", "expired", "error")


# --- child processes ------------------------------------------------------------

CHILDREN = []
BROWSERS = []


def _die_with_parent():
    """Run in the child: the kernel ends it if this test dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def spawn(argv, log_path):
    log = open(log_path, "wb")
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                               preexec_fn=_die_with_parent)
    CHILDREN.append(process)
    return process


def cleanup():
    for browser in BROWSERS:
        try:
            browser.driver.quit()
        except Exception:
            pass
    BROWSERS.clear()
    for process in CHILDREN:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 5
    for process in CHILDREN:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    CHILDREN.clear()


def on_signal(signum, frame):
    cleanup()
    print("browser_test: interrupted by signal %d" % signum, flush=True)
    os._exit(128 + signum)  # the children are gone; unwinding would only meet them missing


# --- waiting ----------------------------------------------------------------------

def wait_for(what, condition, timeout=20.0, interval=0.05):
    """condition()'s first truthy value, polled until timeout; AssertionError otherwise."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except (OSError, urllib.error.URLError, ValueError) as e:
            last_error = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s%s" % (
                timeout, what, " (last error: %s)" % last_error if last_error else ""))
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=15.0):
    """(status, headers, parsed JSON body or raw bytes) of one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, head, raw = e.code, e.headers, e.read()
    try:
        return status, head, json.loads(raw)
    except ValueError:
        return status, head, raw


# --- the stand-in node and the claim server -----------------------------------------

class Standin:
    def __init__(self, tmp):
        self.password = secrets.token_hex(16)
        self.password_file = os.path.join(tmp, "node.password")
        with open(os.open(self.password_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(self.password + "\n")
        self.log = os.path.join(tmp, "standin.log")
        self.process = spawn([sys.executable, STANDIN, "--port", "0", "--user", "claim", "--password-file",
                              self.password_file, "--network", "regtest", "--rpcthreads", "8"], self.log)
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError("the stand-in node did not start: %r (see %s)" % (line, self.log))
        self.port = int(line)
        self.base = "http://127.0.0.1:%d" % self.port
        self.rpc_user = "claim"
        self.wallet_url = self.base + "/wallet/gifts"
        self.rpc = standin_node.RpcClient(self.wallet_url, self.rpc_user, self.password)

    def control(self, body=None):
        return standin_node.control(self.base, body)

    def create(self, amount="1.5", expires_in=None, label="browser test"):
        expires_at = int(time.time()) + expires_in if expires_in else None
        made = self.rpc.call("creategiftcode", amount, 1, label, expires_at)
        return made["codes"][0]

    def code(self, code_id):
        return self.rpc.call("getgiftcode", code_id)

    def payments(self, code_id):
        return self.control().get("payments", {}).get(code_id, 0)

    def redeem_calls(self, code_id):
        return self.control().get("redeem_calls", {}).get(code_id, 0)


class ClaimServer:
    """giftcode-claim in front of `node`: the stand-in, or anything else with
    a `wallet_url`, an `rpc_user` and a `password_file` (a real node)."""

    def __init__(self, binary, tmp, name, node, connections=4, queue=64, timeout_ms=8000,
                 failed_lookups_per_minute=10000, claims_per_minute=10000):
        self.name = name
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.config = os.path.join(tmp, "claim-%s.conf" % name)
        with open(self.config, "w") as f:
            f.write("\n".join([
                "# giftcode-claim for the browser test (%s)" % name,
                "listen = 127.0.0.1:%d" % self.port,
                "network = regtest",
                "claim_wait_ms = 3000",
                "poll_ms = 500",
                "",
                "[limits]",
                "failed_lookups_per_minute = %d" % failed_lookups_per_minute,
                "claims_per_minute = %d" % claims_per_minute,
                "clients = 100",
                "",
                "[node]",
                "url = %s" % node.wallet_url,
                "user = %s" % node.rpc_user,
                "password_file = %s" % node.password_file,
                "connections = %d" % connections,
                "queue = %d" % queue,
                "timeout_ms = %d" % timeout_ms,
                "",
            ]))
        self.log = os.path.join(tmp, "claim-%s.log" % name)
        self.process = spawn([binary, "--config", self.config], self.log)
        threading.Thread(target=self._drain, daemon=True).start()

        def up():
            if self.process.poll() is not None:
                raise RuntimeError("giftcode-claim (%s) exited with %s:\n%s" % (
                    name, self.process.returncode, tail(self.log)))
            try:
                status, _, body = http("GET", self.base + "/api/status", timeout=2)
            except (OSError, urllib.error.URLError):
                return None
            return status == 200 and isinstance(body, dict) and body
        self.status = wait_for("giftcode-claim (%s) to answer /api/status" % name, up, timeout=20)

    def _drain(self):
        with open(self.log + ".out", "wb") as out:
            shutil.copyfileobj(self.process.stdout, out)

    def api(self, path, body):
        return http("POST", self.base + path, body)


def note_missing_japanese_font():
    fonts = subprocess.run(["fc-list", ":lang=ja"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True).stdout if shutil.which("fc-list") else ""
    if not fonts.strip():
        print("note: no Japanese font is installed (fonts-ipafont-gothic, fonts-noto-cjk): "
              "the ja-*.png screenshots will show empty boxes", flush=True)


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


# --- the browser -------------------------------------------------------------------------

IGNORED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of (4|5)\d\d"
                             r"|favicon\.ico")


class Browser:
    """One headless Chromium, with helpers to read and drive the claim page."""

    def __init__(self, args, tmp, lang):
        self.lang = lang
        accept = {"en": "en-US,en", "ja": "ja,en-US"}[lang]
        options = webdriver.ChromeOptions()
        if args.chromium:
            options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1000,1100",
                     "--lang=" + accept.split(",")[0], "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"intl.accept_languages": accept})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=args.chromedriver, log_path=os.path.join(tmp, "chromedriver-%s.log" % lang))
        self.driver = webdriver.Chrome(service=service, options=options)
        BROWSERS.append(self)
        self.console_problems = []

    # -- reading --

    def state(self):
        return self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")

    def text(self, element_id):
        return (self.driver.find_element(By.ID, element_id).get_attribute("textContent") or "").strip()

    def visible(self, element_id):
        return self.driver.find_element(By.ID, element_id).is_displayed()

    def attr(self, element_id, name):
        return self.driver.find_element(By.ID, element_id).get_attribute(name)

    def html_lang(self):
        return self.driver.execute_script("return document.documentElement.lang")

    def wait_state(self, *states, timeout=20):
        for s in states:
            assert s in STATES, s
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: self.state() in states)
        except TimeoutException:
            raise AssertionError("waited %d s for the page to be %s; it is %r: %r" % (
                timeout, " or ".join(states), self.state(), self.text("message")))
        return self.state()

    def wait_until(self, what, condition, timeout=20):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: condition())
        except TimeoutException:
            raise AssertionError("waited %d s for %s; the page is %r: %r" % (
                timeout, what, self.state(), self.text("message")))

    # -- driving --

    def open(self, url):
        """Loads the page and waits until it has drawn its text."""
        self.driver.get(url)
        self.wait_until("the page to draw its text", lambda: self.text("state-text"))

    def reload(self):
        self.driver.refresh()
        self.wait_until("the page to draw its text", lambda: self.text("state-text"))

    def type(self, element_id, text):
        field = self.driver.find_element(By.ID, element_id)
        field.clear()
        field.send_keys(text)

    def click(self, element_id):
        self.driver.find_element(By.ID, element_id).click()

    def enter_address(self, address, expect_valid=True):
        self.type("address-input", address)
        want = "true" if expect_valid else "false"
        self.wait_until("the address to be checked", lambda: self.attr("address-hint", "data-valid") == want)

    def set_language(self, lang):
        self.click("lang-" + lang)
        self.wait_until("the page in %s" % lang, lambda: self.html_lang() == lang)

    # -- the console --

    def check_console(self):
        """Log entries that are CSP violations or script errors (expected HTTP errors aside)."""
        problems = []
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            if IGNORED_CONSOLE.search(message):
                continue
            if entry.get("level") == "SEVERE" or "Content Security Policy" in message or "Refused to" in message:
                problems.append("%s %s" % (entry.get("level"), message))
        self.console_problems.extend(problems)
        return problems


# --- the scenarios -------------------------------------------------------------------------

class Context:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.shots = args.screenshots
        self.standin = Standin(tmp)
        self.servers = {}
        self._browsers = {}
        with open(os.path.join(WEB_DIR, "messages.json"), encoding="utf-8") as f:
            self.messages = json.load(f)

    def server(self, name):
        if name not in self.servers:
            options = {
                "main": {},
                "tight": {"connections": 1, "queue": 1},
                "short": {"timeout_ms": 1500},
                "few_lookups": {"failed_lookups_per_minute": 2},
                "few_claims": {"claims_per_minute": 1},
            }[name]
            self.servers[name] = ClaimServer(self.args.server, self.tmp, name, self.standin, **options)
        return self.servers[name]

    def browser(self, lang="en"):
        if lang not in self._browsers:
            self._browsers[lang] = Browser(self.args, self.tmp, lang)
        return self._browsers[lang]

    def ui(self, key, lang="en"):
        return self.messages[lang]["ui"][key]

    def error(self, key, lang="en"):
        return self.messages[lang]["errors"][key]

    def shoot(self, page, name):
        """Saves the page as it is now in English and in Japanese."""
        if not self.shots:
            return
        before = page.html_lang()
        state = page.state()
        for lang in ("en", "ja"):
            page.set_language(lang)
            page.driver.save_screenshot(os.path.join(self.shots, "%s-%s.png" % (lang, name)))
        page.set_language(before)
        now = page.state()
        assert now == state, "the page changed from %s to %s while its screenshots were taken" % (state, now)


def regtest_address():
    return standin_node.regtest_address()


def open_ready(ctx, page, server, code):
    page.open(server.base + "/#" + code["code"])
    page.wait_state("ready")


def assert_equal(got, want, what):
    assert got == want, "%s: got %r, want %r" % (what, got, want)


def scenario_claim_url(ctx):
    """a: claim URL -> ready -> claimed with the node's txid -> confirmed."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    code = standin.create("1.5", expires_in=7 * 86400)
    page.open(server.base + "/#" + code["code"])
    page.wait_state("ready")
    assert_equal(page.driver.execute_script("return location.hash"), "", "the fragment after the lookup")
    assert "#" not in page.driver.current_url, page.driver.current_url
    assert_equal(page.text("amount"), "1.50000000 MONA", "the amount shown")
    assert page.text("expires") and page.text("expires") != ctx.ui("expires_never"), page.text("expires")
    assert_equal(page.text("state-text"), ctx.ui("state_ready"), "the state text")
    assert page.attr("claim-button", "disabled"), "the claim button is enabled without an address"
    ctx.shoot(page, "ready")
    if ctx.shots:
        page.driver.set_window_size(390, 844)
        page.driver.save_screenshot(os.path.join(ctx.shots, "en-ready-narrow.png"))
        page.driver.set_window_size(1000, 1100)

    address = regtest_address()
    page.enter_address(address)
    assert_equal(page.text("address-hint"), ctx.ui("address_valid"), "the address hint")
    expires = page.text("expires")
    page.click("claim-button")
    page.wait_state("claimed")
    assert_equal(page.text("expires"), expires, "the expiry shown once claimed")
    assert_equal(page.text("amount"), "1.50000000 MONA", "the amount shown once claimed")
    assert_equal(page.text("code-state"), ctx.ui("code_state_redeemed"), "the code's state once claimed")
    paid = standin.code(code["id"])
    assert_equal(page.text("txid"), paid["txid"], "the txid shown")
    assert_equal(page.text("vout"), str(paid["vout"]), "the output shown")
    assert_equal(page.text("paid-to"), address, "the address paid")
    assert page.text("confirmations").startswith("0"), page.text("confirmations")
    ctx.shoot(page, "claimed")
    standin.control({"mine": 1})
    page.wait_state("confirmed")
    assert_equal(page.text("confirmations"), "1", "the confirmations after a block")
    assert_equal(page.text("txid"), paid["txid"], "the txid once confirmed")
    ctx.shoot(page, "confirmed")
    assert_equal(standin.payments(code["id"]), 1, "payments")

    # Nothing of the code stays in the browser.
    stored = page.driver.execute_script(
        "return [localStorage.length, sessionStorage.length, document.cookie, location.href]")
    assert stored[:3] == [0, 0, ""], stored
    assert code["code"].replace("-", "") not in stored[3].replace("-", "").upper(), stored[3]


def scenario_url_forms(ctx):
    """a: every spelling of a claim URL, the code box (typed and pasted), amounts."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    code = standin.create("0.25")
    text = code["code"]
    compact = text.replace("-", "")
    forms = [
        code["uri"],                                   # MONAGIFT:RGC...
        "code=" + text.lower(),
        "code=" + urllib.request.quote(text, safe=""),  # percent-encoded
        urllib.request.quote(text.replace("-", " "), safe=""),
        compact.lower(),
        "MONAGIFT:" + text,
    ]
    for form in forms:
        page.open(server.base + "/#" + form)
        page.wait_state("ready")
        assert_equal(page.text("amount"), "0.25000000 MONA", "the amount for #%s" % form)
        assert_equal(page.driver.execute_script("return location.hash"), "", "the fragment of #%s" % form)

    # The code box: a pasted claim URL, then a code typed in lower case.
    page.open(server.base + "/")
    page.wait_state("entry")
    assert_equal(page.text("state-text"), ctx.ui("state_entry"), "the first state text")
    page.type("code-input", server.base + "/#" + text)
    page.wait_state("ready")
    page.open(server.base + "/")
    page.wait_state("entry")
    page.type("code-input", text.lower().replace("-", " ")[:-1])
    assert_equal(page.state(), "entry", "the state before the code is complete")
    page.driver.find_element(By.ID, "code-input").send_keys(text[-1].lower())
    page.wait_state("ready")
    page.type("code-input", "RGC-1234")
    page.click("lookup-button")
    page.wait_state("error")
    assert_equal(page.text("message"), ctx.error("malformed_code"), "the message for a short code")
    page.type("code-input", code["uri"])
    page.driver.find_element(By.ID, "code-input").send_keys(Keys.ENTER)
    page.wait_state("ready")
    assert_equal(standin.payments(code["id"]), 0, "payments")

    # Amounts show all 8 decimals; the last is exact where a double could
    # not tell it from its neighbours.
    for amount, shown in (("0.00000546", "0.00000546 MONA"), ("1234.5", "1,234.50000000 MONA"),
                          ("105119999.99999901", "105,119,999.99999901 MONA")):
        page.open(server.base + "/#" + standin.create(amount)["code"])
        page.wait_state("ready")
        assert_equal(page.text("amount"), shown, "the amount of a code of %s" % amount)


def scenario_double_click(ctx):
    """b: double clicks, a second tab and a reload during a claim pay once."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    try:
        standin.control({"delay_ms": 1200, "method": "redeemgiftcode"})
        # A real double click, then two clicks from script in one go.
        for how in ("double_click", "script"):
            code = standin.create("2")
            open_ready(ctx, page, server, code)
            page.enter_address(regtest_address())
            button = page.driver.find_element(By.ID, "claim-button")
            if how == "double_click":
                ActionChains(page.driver).double_click(button).perform()
            else:
                page.driver.execute_script("const b = arguments[0]; b.click(); b.click(); b.click();", button)
            assert page.attr("claim-button", "disabled"), "the claim button is enabled during the claim"
            page.wait_state("claimed")
            assert_equal(page.text("txid"), standin.code(code["id"])["txid"], "the txid after a %s" % how)
            assert_equal(standin.payments(code["id"]), 1, "payments after a %s" % how)
            assert_equal(standin.redeem_calls(code["id"]), 1, "redemptions asked of the node after a %s" % how)

        # A reload, and a second tab, while the node takes its time.
        standin.control({"delay_ms": 4000, "method": "redeemgiftcode"})
        code = standin.create("3")
        open_ready(ctx, page, server, code)
        address = regtest_address()
        page.enter_address(address)
        page.click("claim-button")
        page.wait_state("claiming")
        # The claim must have left the page: a reload can cancel a request
        # not yet sent, and then there is nothing to find.
        wait_for("the claim to reach the node", lambda: standin.redeem_calls(code["id"]) >= 1)
        first = page.driver.current_window_handle
        page.driver.switch_to.new_window("tab")
        try:
            page.open(server.base + "/#" + code["code"])
            state = page.wait_state("claiming", "claimed")
            assert_equal(state, "claiming", "a second tab during the claim")
            assert_equal(page.attr("address-input", "value"), address, "the address the second tab follows")
            assert page.attr("claim-button", "disabled"), "the second tab's claim button"
            page.wait_state("claimed", timeout=30)
            second_txid = page.text("txid")
        finally:
            page.driver.close()
            page.driver.switch_to.window(first)
        # The first tab meanwhile: reload it, then enter the code again.
        standin.control({"delay_ms": 4000, "method": "redeemgiftcode"})
        code2 = standin.create("3")
        open_ready(ctx, page, server, code2)
        page.enter_address(address)
        page.click("claim-button")
        page.wait_state("claiming")
        wait_for("the claim to reach the node", lambda: standin.redeem_calls(code2["id"]) >= 1)
        page.reload()
        page.wait_state("entry")
        assert_equal(page.attr("code-input", "value"), "", "the code box after a reload")
        page.type("code-input", code2["code"])
        assert_equal(page.wait_state("claiming", "claimed", "busy"), "claiming", "the reloaded page")
        page.wait_state("claimed", timeout=30)
        assert_equal(page.text("txid"), standin.code(code2["id"])["txid"], "the txid after a reload")
        assert_equal(second_txid, standin.code(code["id"])["txid"], "the second tab's txid")
        for c in (code, code2):
            assert_equal(standin.payments(c["id"]), 1, "payments")
            assert_equal(standin.redeem_calls(c["id"]), 1, "redemptions asked of the node")
    finally:
        standin.control({"reset": True})


def scenario_already_claimed(ctx):
    """c: a code paid before (by the node directly, and by another claim meanwhile)."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    code = standin.create("4")
    address = regtest_address()
    paid = standin.rpc.call("redeemgiftcode", code["code"], address)
    page.open(server.base + "/#" + code["code"])
    page.wait_state("already_claimed")
    assert_equal(page.text("txid"), paid["txid"], "the txid shown")
    assert_equal(page.text("paid-to"), address, "the address shown")
    assert page.text("redeemed-at"), "no time of the claim shown"
    assert page.text("redeemed-at") in page.text("message"), page.text("message")
    assert_equal(page.text("code-state"), ctx.ui("code_state_redeemed"), "the code's state")
    assert not page.visible("claim-form"), "the claim form shows for a paid code"
    ctx.shoot(page, "already_claimed")

    # Someone else claims it between the lookup and the click.
    code = standin.create("4")
    open_ready(ctx, page, server, code)
    status, _, body = server.api("/api/claim", {"code": code["code"], "address": regtest_address()})
    assert status == 200 and body["claim"]["state"] == "done", (status, body)
    page.enter_address(regtest_address())
    page.click("claim-button")
    page.wait_state("already_claimed")
    assert_equal(page.text("txid"), body["claim"]["txid"], "the txid of the other claim")
    assert_equal(standin.payments(code["id"]), 1, "payments")


def scenario_wrong_network(ctx):
    """d: codes and addresses of another network, mistyped and unknown codes."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    cases = [
        (fmt.random_code("TGC"), "wrong_network"),
        (fmt.substitute(standin.create("1")["code"], 7), "bad_checksum"),
        (fmt.random_code("RGC"), "unknown_code"),
    ]
    for text, key in cases:
        page.open(server.base + "/#" + text)
        page.wait_state("error")
        assert_equal(page.text("message"), ctx.error(key), "the message for a code that is %s" % key)
        assert_equal(page.text("state-text"), ctx.ui("state_error"), "the state text")
        if key == "wrong_network":
            ctx.shoot(page, "error")
    code = standin.create("1")
    open_ready(ctx, page, server, code)
    for address, key in [
        (fmt.segwit_address("tmona", 0, os.urandom(20)), "address_wrong_network"),
        (standin_node.base58_address(50, os.urandom(20)), "address_wrong_network"),
        ("notanaddress", "invalid_address"),
    ]:
        page.enter_address(address, expect_valid=False)
        assert_equal(page.text("address-hint"), ctx.error(key), "the hint for %s" % address)
        assert page.attr("claim-button", "disabled"), "the claim button is enabled for %s" % address
        if address.startswith("tmona1"):
            ctx.shoot(page, "address-wrong-network")
    page.enter_address(regtest_address())
    assert not page.attr("claim-button", "disabled"), "the claim button stays disabled for a good address"
    assert_equal(standin.payments(code["id"]), 0, "payments")


def scenario_node_errors(ctx):
    """d: a node error the holder cannot fix, and one the page has no text for."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    try:
        for fault, want in (("error:-6", ctx.error("insufficient_funds")),
                            ("error:-999", None)):
            code = standin.create("1")
            open_ready(ctx, page, server, code)
            page.enter_address(regtest_address())
            standin.control({"fail_next": [fault], "method": "redeemgiftcode"})
            page.click("claim-button")
            page.wait_state("error")
            message = page.text("message")
            if want:
                assert_equal(message, want, "the message after %s" % fault)
            else:
                assert message.startswith(ctx.error("node_error")) and "-999" in message, message
            assert_equal(standin.payments(code["id"]), 0, "payments after %s" % fault)
            # The code is still good: the holder can try again.
            page.click("lookup-button")
            page.wait_state("ready")
    finally:
        standin.control({"reset": True})


def scenario_rate_limited(ctx):
    """k: past the rate limits the page says so, with the wait, and sends nothing."""
    server, page, standin = ctx.server("few_lookups"), ctx.browser("en"), ctx.standin
    state = None
    for _ in range(6):
        page.open(server.base + "/#" + fmt.random_code("RGC"))
        state = page.wait_state("error", "entry")
        if state == "entry":
            break
    assert_equal(state, "entry", "the page after many unknown codes")
    message = page.text("message")
    assert message.startswith(ctx.error("rate_limited")), message
    assert re.search(r"\d+ s", message), message

    # A client past its failed lookups cannot look up good codes either (the
    # server cannot know beforehand); claims have their own limit.
    server = ctx.server("few_claims")
    first, second = standin.create("1"), standin.create("1")
    open_ready(ctx, page, server, first)
    page.enter_address(regtest_address())
    page.click("claim-button")
    page.wait_state("claimed")
    open_ready(ctx, page, server, second)
    page.enter_address(regtest_address())
    page.click("claim-button")
    page.wait_until("the rate-limit message",
                    lambda: page.text("message").startswith(ctx.error("rate_limited")))
    assert_equal(page.state(), "ready", "the page after a refused claim")
    assert page.attr("claim-button", "disabled"), "the claim button during the wait"
    assert_equal(standin.payments(second["id"]), 0, "payments of the refused claim")


def scenario_expired(ctx):
    """e: an expired code, and one that expires while the page shows it."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    code = standin.create("1", expires_in=3600)
    standin.control({"expire": code["id"]})
    page.open(server.base + "/#" + code["code"])
    page.wait_state("expired")
    assert_equal(page.text("code-state"), ctx.ui("code_state_expired"), "the code's state")
    assert_equal(page.text("message"), ctx.error("expired"), "the message")
    ctx.shoot(page, "expired")

    code = standin.create("1", expires_in=3600)
    open_ready(ctx, page, server, code)
    page.enter_address(regtest_address())
    standin.control({"expire": code["id"]})
    page.click("claim-button")
    page.wait_state("expired")
    assert_equal(standin.payments(code["id"]), 0, "payments")


def scenario_cancelled(ctx):
    """f: a cancelled code, and one cancelled while the page shows it."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    code = standin.create("1")
    standin.rpc.call("cancelgiftcode", code["id"])
    page.open(server.base + "/#" + code["code"])
    page.wait_state("cancelled")
    assert_equal(page.text("code-state"), ctx.ui("code_state_cancelled"), "the code's state")
    assert_equal(page.text("message"), ctx.error("cancelled"), "the message")
    ctx.shoot(page, "cancelled")

    code = standin.create("1")
    open_ready(ctx, page, server, code)
    page.enter_address(regtest_address())
    standin.control({"cancel": code["id"]})
    page.click("claim-button")
    page.wait_state("cancelled")
    assert_equal(standin.payments(code["id"]), 0, "payments")


class Claimant(threading.Thread):
    """Another holder claiming through the API as a page would: again after
    503 with the same address, then following the claim to its end."""

    def __init__(self, server, code):
        super().__init__(daemon=True)
        self.server, self.code = server, code
        self.address = regtest_address()
        self.busy_answers = 0
        self.outcome = None

    def run(self):
        deadline = time.monotonic() + 90
        body = {"code": self.code["code"], "address": self.address}
        try:
            while time.monotonic() < deadline:
                status, _, reply = self.server.api("/api/claim", body)
                if status == 503:
                    self.busy_answers += 1
                    time.sleep(0.2)
                    continue
                break
            while time.monotonic() < deadline:
                claim = reply.get("claim") if isinstance(reply, dict) else None
                if claim and claim["state"] in ("done", "failed"):
                    self.outcome = claim
                    return
                time.sleep(0.2)
                status, _, reply = self.server.api("/api/lookup", {"code": self.code["code"]})
        except Exception as e:  # reported by the scenario
            self.outcome = {"state": "exception", "error": repr(e)}


def scenario_busy(ctx):
    """g: a full queue towards the node: "busy, retrying", then done by itself."""
    server, page, standin = ctx.server("tight"), ctx.browser("en"), ctx.standin
    code = standin.create("5")
    others = [standin.create("1") for _ in range(6)]
    try:
        open_ready(ctx, page, server, code)
        address = regtest_address()
        page.enter_address(address)
        standin.control({"delay_ms": 1500, "method": "redeemgiftcode"})
        claimants = [Claimant(server, c) for c in others]
        for c in claimants:
            c.start()

        def queue_full():
            _, _, status = http("GET", server.base + "/api/status")
            node = status["nodes"][0]
            return node["queue"] >= node["queue_limit"] or any(c.busy_answers for c in claimants)
        wait_for("the server's queue to fill", queue_full, timeout=10)
        page.click("claim-button")
        page.wait_state("busy", timeout=15)
        assert_equal(page.text("state-text"), ctx.ui("state_busy"), "the busy state text")
        assert "busy" in page.text("state-text").lower() and "retrying" in page.text("state-text").lower()
        ctx.shoot(page, "busy")
        page.wait_state("claimed", timeout=90)
        for c in claimants:
            c.join(timeout=60)
        paid = standin.code(code["id"])
        assert_equal(paid["address"], address, "the address paid")
        assert_equal(page.text("txid"), paid["txid"], "the txid shown")
        assert_equal(standin.payments(code["id"]), 1, "payments of the page's code")
        for c in claimants:
            assert c.outcome and c.outcome["state"] == "done", c.outcome
            assert_equal(standin.payments(c.code["id"]), 1, "payments of another holder's code")
        counters = standin.control()
        assert counters["max_in_flight"] <= 8, counters["max_in_flight"]
    finally:
        standin.control({"reset": True})


def scenario_lost_answers(ctx):
    """h: lost answers, a full work queue, closed connections, retryable errors."""
    server, page, standin = ctx.server("short"), ctx.browser("en"), ctx.standin
    try:
        for faults in (["timeout"], ["workqueue"], ["close", "error:-10", "lost", "error:-408", "error:-20"]):
            code = standin.create("1")
            open_ready(ctx, page, server, code)
            page.enter_address(regtest_address())
            standin.control({"fail_next": faults, "method": "redeemgiftcode"})
            page.click("claim-button")
            page.wait_state("claimed", timeout=60)
            paid = standin.code(code["id"])
            assert_equal(page.text("txid"), paid["txid"], "the txid after %s" % faults)
            assert_equal(standin.payments(code["id"]), 1, "payments after %s" % faults)
            calls = standin.redeem_calls(code["id"])
            assert calls == len(faults) + 1, "%d redemptions asked after %s" % (calls, faults)
            assert not standin.control()["faults_pending"], "faults left unused"

        # A lookup that gets no answer: "busy", then the page by itself.
        code = standin.create("1")
        standin.control({"fail_next": ["timeout", "close"], "method": "getgiftcode"})
        page.open(server.base + "/#" + code["code"])
        page.wait_state("busy", "ready", timeout=30)
        page.wait_state("ready", timeout=30)
    finally:
        standin.control({"reset": True})


def scenario_japanese(ctx):
    """i: a Japanese browser gets the page in Japanese; the switch works."""
    server, standin = ctx.server("main"), ctx.standin
    page = ctx.browser("ja")
    code = standin.create("0.5")
    page.open(server.base + "/#" + code["code"])
    page.wait_state("ready")
    assert_equal(page.html_lang(), "ja", "<html lang>")
    assert_equal(page.text("state-text"), ctx.ui("state_ready", "ja"), "the state text")
    assert_equal(page.text("lookup-button"), ctx.ui("lookup_button", "ja"), "the lookup button")
    assert_equal(page.text("claim-button"), ctx.ui("claim_button", "ja"), "the claim button")
    assert_equal(page.attr("lang-ja", "aria-pressed"), "true", "the 日本語 button")
    assert re.search(r"[\u3040-\u30ff]", page.text("message")), page.text("message")
    page.enter_address(fmt.segwit_address("tmona", 0, os.urandom(20)), expect_valid=False)
    assert_equal(page.text("address-hint"), ctx.error("address_wrong_network", "ja"), "the hint")
    page.set_language("en")
    assert_equal(page.text("state-text"), ctx.ui("state_ready"), "the state text in English")
    assert_equal(page.text("address-hint"), ctx.error("address_wrong_network"), "the hint in English")
    page.set_language("ja")
    page.enter_address(regtest_address())
    page.click("claim-button")
    page.wait_state("claimed")
    assert_equal(page.text("state-text"), ctx.ui("state_claimed", "ja"), "the claimed state text")
    page.open(server.base + "/#" + fmt.random_code("TGC"))
    page.wait_state("error")
    assert_equal(page.text("message"), ctx.error("wrong_network", "ja"), "the wrong-network message")


# Put before the page's own script by the browser (so the page's content
# security policy does not apply to it): once the page has sent a claim,
# every lookup answer names FORGED, a claim of another address, instead of
# the server's; and the states the page goes through are kept in
# window.pageStates.
OTHER_CLAIM_SCRIPT = """
(() => {
  const forged = FORGED;
  const states = window.pageStates = [];
  new MutationObserver(() => {
    const state = document.body && document.body.getAttribute('data-state');
    if (state && states[states.length - 1] !== state) states.push(state);
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-state']});
  const realFetch = window.fetch;
  let claimSent = false;
  window.fetch = async function (input, init) {
    const path = String(input);
    if (path === '/api/claim') claimSent = true;
    const response = await realFetch.call(this, input, init);
    if (path !== '/api/lookup' || !claimSent || response.status !== 200) return response;
    const body = await response.json();
    body.claim = Object.assign({}, body.claim || {}, forged);
    return new Response(JSON.stringify(body), {status: 200, headers: response.headers});
  };
})();
"""


def scenario_other_address(ctx):
    """l: another address's claim in a lookup is never the page's outcome."""
    server, page, standin = ctx.server("main"), ctx.browser("en"), ctx.standin
    other = regtest_address()
    forgeries = {
        "failed": {"state": "failed", "txid": None, "vout": None,
                   "error": {"key": "insufficient_funds", "rpc_code": -6, "retry_after": None}},
        "done": {"state": "done", "txid": "ab" * 32, "vout": 0, "error": None},
        "sending": {"state": "sending", "txid": None, "vout": None, "error": None},
    }
    try:
        # Long enough that the claim is answered 202 and followed by lookups.
        standin.control({"delay_ms": 4500, "method": "redeemgiftcode"})
        for name, fields in forgeries.items():
            forged = dict(fields, address=other, attempts=1, started_at=int(time.time()), retry_at=None,
                          replay=False)
            script = page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
                "source": OTHER_CLAIM_SCRIPT.replace("FORGED", json.dumps(forged))})
            try:
                code = standin.create("1")
                # A new document, which runs the script (going from the page
                # to its own URL with another fragment would not make one).
                page.driver.get("about:blank")
                open_ready(ctx, page, server, code)
                address = regtest_address()
                page.enter_address(address)
                page.click("claim-button")
                page.wait_state("claimed", timeout=30)
                paid = standin.code(code["id"])
                assert_equal(page.text("txid"), paid["txid"], "the txid with a forged %s claim" % name)
                assert_equal(page.text("paid-to"), address, "the address shown with a forged %s claim" % name)
                states = page.driver.execute_script("return window.pageStates")
                assert "claiming" in states, states
                assert not {"error", "already_claimed"} & set(states), "states with a forged %s claim: %s" % (
                    name, states)
                assert_equal(standin.payments(code["id"]), 1, "payments with a forged %s claim" % name)
                assert_equal(standin.redeem_calls(code["id"]), 1, "redemptions asked with a forged %s claim" % name)
            finally:
                page.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", script)

        # The page's own address in upper case (as a wallet's QR code gives
        # a bech32 address) comes back in lower case: still the page's claim.
        code = standin.create("1")
        page.driver.get("about:blank")  # a document without the script
        open_ready(ctx, page, server, code)
        address = regtest_address()
        page.enter_address(address.upper())
        page.click("claim-button")
        assert_equal(page.wait_state("claimed", "already_claimed", "error", timeout=30), "claimed",
                     "the page after a claim to an upper-case address")
        assert_equal(page.text("txid"), standin.code(code["id"])["txid"], "the txid after an upper-case address")
        assert_equal(page.text("paid-to").lower(), address, "the address shown")
        # Followed to its confirmation as the page's own payment.
        standin.control({"mine": 1})
        assert_equal(page.wait_state("confirmed", "already_claimed", "error"), "confirmed",
                     "the page after a block, for an upper-case address")
        assert_equal(standin.payments(code["id"]), 1, "payments after an upper-case address")
    finally:
        standin.control({"reset": True})


def scenario_csp(ctx):
    """j: the content security policy on every response; a clean console."""
    server = ctx.server("main")
    expected_types = {"/": "text/html", "/claim.js": "javascript", "/claim.css": "text/css",
                      "/messages.json": "application/json", "/api/status": "application/json",
                      "/nonexistent": None}
    for path, content_type in expected_types.items():
        status, headers, body = http("GET", server.base + path)
        policy = headers.get("Content-Security-Policy") or ""
        directives = {d.strip() for d in policy.split(";") if d.strip()}
        missing = [d for d in CSP if d not in directives]
        assert not missing, "%s: the policy %r lacks %s" % (path, policy, missing)
        if content_type:
            assert_equal(status, 200, "GET %s" % path)
            assert content_type in (headers.get("Content-Type") or ""), (path, headers.get("Content-Type"))
        else:
            assert_equal(status, 404, "GET %s" % path)
    status, headers, _ = http("POST", server.base + "/api/lookup", {"code": "x"})
    assert "no-store" in (headers.get("Cache-Control") or ""), headers.get("Cache-Control")
    assert headers.get("Content-Security-Policy"), "no policy on an API error"
    # The served page and files are the ones in contrib/claim/web/.
    for name in ("index.html", "claim.js", "claim.css", "messages.json"):
        with open(os.path.join(WEB_DIR, name), "rb") as f:
            want = f.read()
        path = "/" if name == "index.html" else "/" + name
        with urllib.request.urlopen(server.base + path, timeout=10) as response:
            assert_equal(response.read(), want, "the served %s" % name)
    for running in ctx.servers.values():
        assert running.process.poll() is None, "giftcode-claim (%s) exited with %s" % (
            running.name, running.process.returncode)
    problems = []
    for browser in BROWSERS:
        browser.check_console()
        problems.extend(browser.console_problems)
    assert not problems, "the browser console:\n  " + "\n  ".join(problems)


SCENARIOS = [
    ("a", "claim_url", scenario_claim_url),
    ("a", "url_forms", scenario_url_forms),
    ("b", "double_click", scenario_double_click),
    ("c", "already_claimed", scenario_already_claimed),
    ("d", "wrong_network", scenario_wrong_network),
    ("d", "node_errors", scenario_node_errors),
    ("e", "expired", scenario_expired),
    ("f", "cancelled", scenario_cancelled),
    ("g", "busy", scenario_busy),
    ("h", "lost_answers", scenario_lost_answers),
    ("i", "japanese", scenario_japanese),
    ("k", "rate_limited", scenario_rate_limited),
    ("l", "other_address", scenario_other_address),
    ("j", "csp", scenario_csp),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="the giftcode-claim binary")
    parser.add_argument("--screenshots", help="save PNGs of the page's states here")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default=None, help="the browser binary (default: chromedriver's choice)")
    parser.add_argument("--only", help="comma-separated scenario letters or names")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, configuration)")
    args = parser.parse_args()
    args.server = os.path.abspath(args.server)
    if not os.access(args.server, os.X_OK):
        parser.error("no executable at %s" % args.server)
    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
        note_missing_japanese_font()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    tmp = tempfile.mkdtemp(prefix="claim-browser-")
    wanted = set(args.only.split(",")) if args.only else None
    results = []
    try:
        ctx = Context(args, tmp)
        for letter, name, run in SCENARIOS:
            if wanted and letter not in wanted and name not in wanted:
                continue
            start = time.monotonic()
            error = None
            try:
                run(ctx)
                for browser in BROWSERS:
                    problems = browser.check_console()
                    assert not problems, "the browser console:\n  " + "\n  ".join(problems)
            except (AssertionError, WebDriverException, standin_node.RpcFailure, RuntimeError) as e:
                error = e
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
            elapsed = time.monotonic() - start
            results.append((letter, name, error))
            if error is None:
                print("PASS %s %-16s %5.1f s" % (letter, name, elapsed), flush=True)
            else:
                for server in ctx.servers.values():
                    sys.stderr.write("  --- giftcode-claim (%s), last lines:\n%s" % (server.name, tail(server.log, 15)))
                sys.stderr.flush()
                print("FAIL %s %-16s %5.1f s  %s" % (letter, name, elapsed, error), flush=True)
    finally:
        cleanup()
        if args.keep:
            print("logs and configuration kept in", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = [r for r in results if r[2] is not None]
    print("browser_test: %d passed, %d failed%s" % (len(results) - len(failed), len(failed),
                                                   " (%s)" % ", ".join(n for _, n, _ in failed) if failed else ""))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
