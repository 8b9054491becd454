#!/usr/bin/env python3
"""Unit tests of the reference client, contrib/giftcode_client.py, against a
stand-in node on loopback that answers from a script: every kind of missing
answer and every retry-later error is retried with the same code and
address and a doubling wait, every other error is final after one request,
a 401 makes it read the cookie again, it gives up loudly, never logs the
code, and its command line prints exact amounts.

    python3 test/giftcode_client_tests.py [-v]
"""

import base64
import http.server
import io
import json
import os
import sys
import tempfile
import threading
import unittest
from contextlib import redirect_stderr, redirect_stdout
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "contrib"))

import giftcode_client  # noqa: E402
from giftcode_client import Client, Refused, Unresolved  # noqa: E402

CODE = "RGC-0004-1061-050R-3GG2-8A1C-60T3-GFFR-W3WB"
ADDRESS = "rmona1qeyuydp23vvxprfxz9938llaunaca7dzzvhd3dp"
PAID = ('{"result": {"id": "3acc0cfbf2c11b11f77cf2413345810d", "txid": "%s", "vout": 0, "amount": 0.10000000, '
        '"replay": false}, "error": null, "id": 1}' % ("ab" * 32))
WORK_QUEUE = (500, "Work queue depth exceeded", "text/html")


def rpc_error(code, status=500):
    return status, '{"result": null, "error": {"code": %d, "message": "m"}, "id": 1}' % code, "application/json"


class StandinNode(http.server.ThreadingHTTPServer):
    """Answers each request with the next step of `script`: (status, body,
    content type), "close" (no answer), "slow" (an answer after 1 s);
    the last step repeats. Requests whose credentials are not `auth` get 401."""

    daemon_threads = True

    def __init__(self, script, auth="Basic " + base64.b64encode(b"u:p").decode()):
        super().__init__(("127.0.0.1", 0), Handler)
        self.script, self.auth, self.requests = list(script), auth, []

    def handle_error(self, request, client_address):
        pass  # a client that timed out has left: nothing to report


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        server = self.server
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != server.auth:
            return self.answer((401, "", "text/html"))
        server.requests.append((self.path, request["method"], request["params"]))
        step = server.script.pop(0) if len(server.script) > 1 else server.script[0]
        if step == "close":
            return self.connection.close()
        if step == "slow":
            threading.Event().wait(1.0)
            step = (200, PAID, "application/json")
        self.answer(step)

    def answer(self, step):
        status, body, content_type = step
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())


class ClientTests(unittest.TestCase):
    def serve(self, script, **client_args):
        self.server = StandinNode(script)
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        args = dict(user="u", password="p", timeout=0.5, first_wait=0.01, max_wait=0.04, give_up_after=5)
        args.update(client_args)
        return Client("http://127.0.0.1:%d/wallet/gifts" % self.server.server_address[1], **args)

    def redeem(self, client):
        self.waits, self.reasons = [], []
        with self.assertLogs("giftcode_client", "INFO") as logs:
            try:
                return client.redeem(CODE, ADDRESS, on_retry=lambda reason, wait: (
                    self.reasons.append(reason), self.waits.append(wait)))
            finally:
                self.assertNotIn(CODE, "\n".join(logs.output))
                self.assertNotIn(CODE[4:], "\n".join(logs.output))

    def test_paid_at_once_with_exact_amounts(self):
        result = self.redeem(self.serve([(200, PAID, "application/json")]))
        self.assertEqual((result["amount"], result["txid"]), (Decimal("0.10000000"), "ab" * 32))
        self.assertEqual(self.server.requests, [("/wallet/gifts", "redeemgiftcode", [CODE, ADDRESS])])

    def test_every_missing_answer_and_retry_later_error_is_retried_with_the_same_pair(self):
        script = [WORK_QUEUE, (503, "<html>shutting down</html>", "text/html"), "close", "slow",
                  (200, "not json", "text/plain"), (200, '{"result": {}, "error": null, "id": 1}', "application/json"),
                  rpc_error(-28), rpc_error(-10), rpc_error(-408), rpc_error(-20), rpc_error(-409),
                  (200, PAID, "application/json")]
        result = self.redeem(self.serve(script))
        self.assertEqual(result["txid"], "ab" * 32)
        self.assertEqual(len(self.server.requests), 12)
        self.assertEqual({tuple(r[2]) for r in self.server.requests}, {(CODE, ADDRESS)})
        self.assertEqual(self.waits, [0.01, 0.02, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04])
        self.assertIn("work queue", self.reasons[0])
        self.assertIn("timeout", self.reasons[3])
        self.assertEqual([r.split(",")[0] for r in self.reasons[6:]], ["error -28", "error -10", "error -408",
                                                                       "error -20", "error -409"])

    def test_every_other_error_is_final_at_once(self):
        client = self.serve([])
        for code in (-401, -402, -403, -404, -405, -406, -407, -5, -3, -8, -6, -13, -4, -22, -1, -18, -19, -32601):
            with self.subTest(code=code):
                self.server.script, self.server.requests = [rpc_error(code, 404 if code == -32601 else 500)], []
                with self.assertRaises(Refused) as caught:
                    self.redeem(client)
                self.assertEqual((caught.exception.code, caught.exception.attempts), (code, 1))
                self.assertEqual(len(self.server.requests), 1)

    def test_a_401_reads_the_cookie_again(self):
        with tempfile.TemporaryDirectory() as folder:
            cookie = os.path.join(folder, ".cookie")
            with open(cookie, "w") as f:
                f.write("__cookie__:before-the-restart\n")
            client = self.serve([(200, PAID, "application/json")], cookie=cookie)
            client._authorization()
            with open(cookie, "w") as f:
                f.write("__cookie__:after-the-restart\n")
            self.server.auth = "Basic " + base64.b64encode(b"__cookie__:after-the-restart").decode()
            self.assertEqual(self.redeem(client)["txid"], "ab" * 32)
        self.assertEqual(len(self.reasons), 1)
        self.assertIn("HTTP 401", self.reasons[0])

    def test_gives_up_loudly(self):
        client = self.serve([WORK_QUEUE], give_up_after=0.3)
        with self.assertRaises(Unresolved) as caught:
            self.redeem(client)
        self.assertGreater(caught.exception.attempts, 3)
        self.assertIn("work queue", caught.exception.last_reason)

    def test_connection_refused_is_retried(self):
        client = self.serve([WORK_QUEUE], give_up_after=0.2)
        self.server.shutdown()
        self.server.server_close()
        with self.assertRaises(Unresolved) as caught:
            self.redeem(client)
        self.assertIn("connection refused", self.reasons[0])
        self.assertGreater(caught.exception.attempts, 1)

    def test_command_line(self):
        url = "http://127.0.0.1:%d/wallet/gifts"
        self.serve([(200, PAID, "application/json")])
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            args = ["redeem", CODE, ADDRESS, "--url", url % self.server.server_address[1], "--user", "u",
                    "--password", "p", "--give-up-after", "1"]
            self.assertEqual(giftcode_client.main(args), 0)
            self.server.script = [rpc_error(-405)]
            self.assertEqual(giftcode_client.main(args), 1)
        self.assertIn('"amount": 0.10000000', out.getvalue())
        self.assertIn("error -405", err.getvalue())


if __name__ == "__main__":
    unittest.main()
