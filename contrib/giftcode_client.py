#!/usr/bin/env python3
"""The reference client of redeemgiftcode: the retry rule of
doc/integration.md, and nothing else, in one page of standard Python.

    giftcode_client.py redeem CODE ADDRESS --url http://127.0.0.1:9402/wallet/gifts \\
        (--cookie ~/.monacoin/.cookie | --user NAME --password SECRET)

As a module: Client(url, cookie=PATH).redeem(code, address) returns the
node's result (amounts as Decimal) or raises Refused (a final JSON-RPC
error, with its code) or Unresolved (no final answer within give_up_after
seconds: hand the stored pair to an operator; sending it again later is
safe). Store the code's id (or the code) and the address durably before
calling it, and call it again with that same pair after any crash.

The rule: only a JSON-RPC answer says what the node did. Everything else
(timeout, refused or reset connection, the node restarting, HTTP 500 with
the plain-text "Work queue depth exceeded", 401/403, any answer that is not
JSON-RPC) and the errors that changed nothing (-28, -10, -408, -20, -409) are
sent again, the same code to the same address, after 0.5 s, 1 s, 2 s, ...
up to 30 s between tries. Any other error is final. The code is never
logged; the code's id is, once the node has named it.
"""

import argparse
import base64
import http.client
import json
import logging
import sys
import time
import urllib.parse
from decimal import Decimal

#: Errors after which the node changed nothing and the same pair is sent
#: again: warming up, catching up, funds not spendable yet, database refused.
RETRY_LATER = {-28: "node warming up", -10: "node catching up", -408: "funds pending", -20: "store failure",
               -409: "breaker: limit reached or paused"}

log = logging.getLogger("giftcode_client")


class Refused(Exception):
    """A final JSON-RPC error: `code` and `message` as the node sent them."""

    def __init__(self, code, message, attempts):
        super().__init__("redeemgiftcode refused: %s %s" % (code, message))
        self.code, self.message, self.attempts = code, message, attempts


class Unresolved(Exception):
    """No final answer in time: the outcome is unknown; retry the same pair later."""

    def __init__(self, last_reason, attempts):
        super().__init__("no final answer after %d attempts (last: %s): retry the same code and address later"
                         % (attempts, last_reason))
        self.last_reason, self.attempts = last_reason, attempts


class NoAnswer(Exception):
    """This attempt got no JSON-RPC answer."""


class Client:
    """Redeems codes on one node's wallet endpoint; timeout is per attempt."""

    def __init__(self, url, cookie=None, user=None, password=None, timeout=60.0, first_wait=0.5, max_wait=30.0,
                 give_up_after=3600.0):
        self.url = urllib.parse.urlsplit(url)
        self.cookie, self.user, self.password = cookie, user, password
        self.timeout, self.first_wait, self.max_wait, self.give_up_after = timeout, first_wait, max_wait, give_up_after
        self._auth = None  # read again after a 401: the node writes a new cookie at every start

    def _authorization(self):
        if self._auth is None:
            if self.cookie:
                with open(self.cookie) as f:
                    secret = f.readline().strip()
            else:
                secret = "%s:%s" % (self.user, self.password)
            self._auth = "Basic " + base64.b64encode(secret.encode()).decode()
        return self._auth

    def call(self, method, params):
        """One attempt: the result; Refused for any JSON-RPC error; NoAnswer."""
        try:
            authorization = self._authorization()
        except OSError as e:
            raise NoAnswer("cannot read the cookie file (%s)" % e.strerror)
        try:
            body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": params}).encode()
            conn = http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=self.timeout)
            try:
                conn.request("POST", self.url.path or "/", body, {
                    "Authorization": authorization, "Content-Type": "application/json"})
                response = conn.getresponse()
                status, data = response.status, response.read()
            finally:
                conn.close()
        except TimeoutError:
            raise NoAnswer("timeout")
        except ConnectionRefusedError:
            raise NoAnswer("connection refused")
        except (OSError, http.client.HTTPException) as e:
            raise NoAnswer("no complete answer (%s)" % type(e).__name__)
        if status in (401, 403):
            self._auth = None
            raise NoAnswer("HTTP %d: %s" % (status, "credentials refused" if status == 401 else "method not allowed"))
        try:
            reply = json.loads(data, parse_float=Decimal)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or not ("error" in reply and "result" in reply):
            raise NoAnswer("HTTP %d, work queue full" % status if status == 500 else "HTTP %d, not JSON-RPC" % status)
        error = reply["error"]
        if error is not None:
            if not isinstance(error, dict) or type(error.get("code")) is not int:
                raise NoAnswer("HTTP %d, an error without a code" % status)
            raise Refused(error["code"], error.get("message"), 1)
        return reply["result"]

    def redeem(self, code, address, on_retry=None):
        """Pays the code to address, once, whatever happens on the way; on_retry(reason, wait) hears of each retry."""
        give_up_at = time.monotonic() + self.give_up_after
        wait, attempts = self.first_wait, 0
        while True:
            attempts += 1
            try:
                result = self.call("redeemgiftcode", [code, address])
                if isinstance(result, dict) and result.get("txid"):
                    log.info("code %s paid by %s%s", result.get("id"), result["txid"],
                             " (paid before)" if result.get("replay") else "")
                    return result
                reason = "a result without a txid"
            except Refused as e:
                if e.code not in RETRY_LATER:
                    raise Refused(e.code, e.message, attempts)
                reason = "error %d, %s" % (e.code, RETRY_LATER[e.code])
            except NoAnswer as e:
                reason = str(e)
            if time.monotonic() + wait > give_up_at:
                raise Unresolved(reason, attempts)
            log.warning("redeemgiftcode attempt %d: %s; the same code and address again in %.2f s",
                        attempts, reason, wait)
            if on_retry:
                on_retry(reason, wait)
            time.sleep(wait)
            wait = min(wait * 2, self.max_wait)


def to_json(value):
    """JSON text with every Decimal written exactly as it reads."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (json.dumps(k), to_json(v)) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(map(to_json, value)) + "]"
    return json.dumps(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Redeem a gift code, retrying as doc/integration.md says.")
    parser.add_argument("command", choices=["redeem"])
    parser.add_argument("code")
    parser.add_argument("address")
    parser.add_argument("--url", required=True, help="http://HOST:PORT/wallet/NAME")
    parser.add_argument("--cookie", help="the node's .cookie file")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--give-up-after", type=float, default=3600.0, help="seconds (default 3600)")
    args = parser.parse_args(argv)
    if not args.cookie and args.user is None:
        parser.error("give --cookie or --user and --password")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    client = Client(args.url, args.cookie, args.user, args.password, give_up_after=args.give_up_after)
    try:
        result = client.redeem(args.code, args.address)
    except Refused as e:
        print("refused: error %s: %s" % (e.code, e.message), file=sys.stderr)
        return 1
    except Unresolved as e:
        print("UNRESOLVED: %s" % e, file=sys.stderr)
        return 3
    print(to_json(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
