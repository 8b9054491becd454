#!/usr/bin/env python3
"""Unit tests of giftcodekit (contrib/giftcodekit), the package the tools
and the functional tests share: exact amounts in JSON both ways, the RPC
client against a stand-in node on loopback (results, error replies, a full
work queue, timeouts, wallet endpoints), the statistics with known values,
the tables' formatting and argument types, a plot drawn here or by
Debian's python3 in a child process; and contrib/giftcode_rpcauth.py's
lines and password file.

    python3 test/toolbox_tests.py [-v]
"""

import argparse
import base64
import hashlib
import hmac
import io
import http.client
import http.server
import json
import os
import sys
import tempfile
import threading
import unittest
from decimal import Decimal
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "contrib"))

import giftcode_rpcauth  # noqa: E402
from giftcodekit import cli, codeformat, plot, render, stats  # noqa: E402
from giftcodekit.node import build_id, find_binary  # noqa: E402
from giftcodekit.rpc import (ERR_ALREADY_REDEEMED, NodeError, RpcClient, RpcError, WorkQueueFull,  # noqa: E402
                             from_json, to_json)


class StandinNode(http.server.ThreadingHTTPServer):
    """Answers JSON-RPC on 127.0.0.1 as a node would, per method:
    echo (the params and the path back), fail (error -405), busy (HTTP 500
    "Work queue depth exceeded" the first `busy_left` times, then a result),
    slow (answers after 1 s), garbage (a body that is not JSON)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StandinHandler)
        self.requests = []
        self.busy_left = 0
        self.lock = threading.Lock()


class StandinHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        request = from_json(raw)
        server = self.server
        with server.lock:
            server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "raw": raw})
        method = request["method"]
        if method == "busy":
            with server.lock:
                busy = server.busy_left > 0
                server.busy_left -= 1
            if busy:
                return self.answer(500, b"Work queue depth exceeded")
            return self.answer(200, to_json({"result": "done", "error": None, "id": request["id"]}).encode())
        if method == "slow":
            threading.Event().wait(1.0)
        if method == "garbage":
            return self.answer(200, b"<html>no</html>")
        if method == "fail":
            body = {"result": None, "error": {"code": ERR_ALREADY_REDEEMED, "message": "code already redeemed"},
                    "id": request["id"]}
            return self.answer(500, to_json(body).encode())
        body = {"result": {"params": request["params"], "path": self.path}, "error": None, "id": request["id"]}
        self.answer(200, to_json(body).encode())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class JsonTests(unittest.TestCase):
    def test_amounts_are_written_exactly(self):
        self.assertEqual(to_json(Decimal("0.1")), "0.1")
        self.assertEqual(to_json(Decimal("1E-8")), "0.00000001")
        self.assertEqual(to_json(Decimal("105120000.12345678")), "105120000.12345678")
        self.assertEqual(to_json({"a": [Decimal("0.30000000"), 1, "x", None, True]}),
                         '{"a":[0.30000000,1,"x",null,true]}')

    def test_amounts_are_read_exactly(self):
        value = from_json(b'{"amount": 0.1, "fee": 0.00000001, "n": 3}')
        self.assertEqual(value["amount"], Decimal("0.1"))
        self.assertIsInstance(value["amount"], Decimal)
        self.assertEqual(value["fee"], Decimal("0.00000001"))
        self.assertIsInstance(value["n"], int)

    def test_round_trip(self):
        amounts = [Decimal("0.1"), Decimal("0.2"), Decimal("0.00000546"), Decimal("105119999.99999999"),
                   Decimal("-0.00000001"), Decimal("21000000")]
        self.assertEqual(from_json(to_json({"amounts": amounts}))["amounts"], amounts)
        self.assertEqual(sum(from_json(to_json(amounts[:2]))), Decimal("0.3"))

    def test_no_infinite_amount(self):
        with self.assertRaises(ValueError):
            to_json(Decimal("Infinity"))
        with self.assertRaises(ValueError):
            to_json([Decimal("NaN")])


class RpcClientTests(unittest.TestCase):
    def setUp(self):
        self.server = StandinNode()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.client = RpcClient(self.server.server_address[1], "alice", "secret", rpc_timeout=5)

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def test_result_with_exact_amounts_and_auth(self):
        result = self.client.rpc("echo", Decimal("0.10000000"), "x")
        self.assertEqual(result, {"params": [Decimal("0.1"), "x"], "path": "/"})
        sent = self.server.requests[-1]
        self.assertIn(b'"params":[0.10000000,"x"]', sent["raw"])
        self.assertEqual(sent["auth"], "Basic " + base64.b64encode(b"alice:secret").decode())

    def test_named_arguments(self):
        self.assertEqual(self.client.rpc("echo", named={"amount": Decimal("2")})["params"], {"amount": Decimal("2")})
        with self.assertRaises(ValueError):
            self.client.rpc("echo", 1, named={"amount": 1})

    def test_error_reply_is_rpc_error(self):
        with self.assertRaises(RpcError) as caught:
            self.client.rpc("fail", "RGC-...")
        self.assertEqual(caught.exception.code, ERR_ALREADY_REDEEMED)
        self.assertEqual(caught.exception.message, "code already redeemed")
        self.assertEqual(caught.exception.method, "fail")
        outcome = self.client.call_or_error("fail", [])
        self.assertIsInstance(outcome, RpcError)
        self.assertEqual(outcome.code, ERR_ALREADY_REDEEMED)

    def test_work_queue_full(self):
        self.server.busy_left = 1
        with self.assertRaises(WorkQueueFull):
            self.client.post("/", self.client.request_body("busy", []), timeout=5)
        self.server.busy_left = 3
        self.assertEqual(self.client.rpc("busy"), "done")
        self.assertEqual(sum(1 for r in self.server.requests if b'"busy"' in r["raw"]), 5)

    def test_work_queue_full_past_the_timeout(self):
        self.server.busy_left = 10 ** 6
        with self.assertRaises(NodeError):
            self.client.rpc("busy", timeout=0.3)

    def test_timeout(self):
        with self.assertRaises(TimeoutError):
            self.client.post("/", self.client.request_body("slow", []), timeout=0.05)

    def test_not_json(self):
        with self.assertRaises(http.client.HTTPException):
            self.client.rpc("garbage")

    def test_wallet_endpoint(self):
        self.assertEqual(self.client.wallet("hot wallet/1").echo(1)["path"], "/wallet/hot%20wallet%2F1")
        self.assertEqual(self.client.rpc("echo", wallet="")["path"], "/wallet/")
        self.assertEqual(self.client.wallet("w").echo(amount=Decimal("0.5"))["params"], {"amount": Decimal("0.5")})

    def test_call_with_retries(self):
        self.server.busy_left = 2
        outcome, attempts = self.client.call_with_retries("busy", [], attempt_timeout=5, deadline=30,
                                                          backoff=(0.001, 0.01))
        self.assertEqual((outcome, attempts), ("done", 3))
        outcome, attempts = self.client.call_with_retries("fail", [], attempt_timeout=5)
        self.assertEqual((outcome.code, attempts), (ERR_ALREADY_REDEEMED, 1))


class StatsTests(unittest.TestCase):
    def test_percentile_nearest_rank(self):
        values = list(range(1, 11))
        self.assertEqual([stats.percentile(values, p) for p in (0, 10, 50, 51, 90, 99, 100)], [1, 1, 5, 6, 9, 10, 10])
        self.assertEqual(stats.percentile([7], 99), 7)
        self.assertIsNone(stats.percentile([], 50))

    def test_latency_summary(self):
        summary = stats.latency_summary([0.003, 0.001, 0.002, 0.004], scale=1000.0, suffix="_ms")
        self.assertEqual(summary["n"], 4)
        self.assertAlmostEqual(summary["p50_ms"], 2.0)
        self.assertAlmostEqual(summary["p99_ms"], 4.0)
        self.assertAlmostEqual(summary["max_ms"], 4.0)
        self.assertAlmostEqual(summary["min_ms"], 1.0)
        self.assertAlmostEqual(summary["mean_ms"], 2.5)
        seconds = stats.latency_summary([0.5, 0.25], points=(50, 90))
        self.assertEqual((seconds["p50"], seconds["p90"], seconds["max"]), (0.25, 0.5, 0.5))
        empty = stats.latency_summary([])
        self.assertEqual((empty["n"], empty["p50"], empty["mean"]), (0, None, None))

    def test_corrected_latencies(self):
        got = stats.corrected_latencies([0.25, 0.05], 0.1)
        self.assertEqual(len(got), 4)
        for a, b in zip(got, [0.25, 0.05, 0.15, 0.05]):
            self.assertAlmostEqual(a, b)

    def test_rates_and_ratios(self):
        self.assertEqual(stats.rate_over_first([4.0, 1.0, 2.0], 2), 1.0)
        self.assertIsNone(stats.rate_over_first([1.0], 2))
        self.assertEqual(stats.ratio(3, 2), 1.5)
        self.assertIsNone(stats.ratio(3, 0))
        self.assertIsNone(stats.ratio(None, 2))
        self.assertEqual(stats.mean([1, 2, 6]), 3)
        self.assertIsNone(stats.mean([]))


class RenderTests(unittest.TestCase):
    def test_numbers(self):
        self.assertEqual(render.fmt(None), "-")
        self.assertEqual(render.fmt(1.25, "%.2f"), "1.25")
        self.assertEqual(render.fmt(0.0), "0.0")
        self.assertEqual(render.fmt_seconds(0.2), "0.200 s")
        self.assertEqual(render.fmt_pct(0.1234), "12.3%")
        self.assertEqual(render.fmt_pct(None), "-")
        self.assertEqual(render.fmt_counts({"-6": 2, "-405": 1}), "-405:1, -6:2")
        self.assertEqual(render.fmt_counts({}), "0")

    def test_amounts(self):
        self.assertEqual(render.fmt_amount(Decimal("1.5")), "1.50000000")
        self.assertEqual(render.fmt_amount("0.00000001"), "0.00000001")
        self.assertEqual(render.fmt_amount(Decimal("105120000")), "105120000.00000000")

    def test_rows_and_json(self):
        self.assertEqual(render.label_row("codes", 5), "  codes" + " " * 26 + "5")
        text = render.json_text({"amount": Decimal("0.1"), "rows": [{"a": 1}, {"b": [Decimal("2.5")]}]})
        self.assertEqual(text, '{\n "amount": 0.1,\n "rows": [\n  {"a":1},\n  {"b":[2.5]}\n ]\n}')
        self.assertEqual(json.loads(text, parse_float=Decimal)["amount"], Decimal("0.1"))


class CliTests(unittest.TestCase):
    def test_amount_arg(self):
        self.assertEqual(cli.amount_arg("0.1"), Decimal("0.1"))
        self.assertEqual(str(cli.amount_arg("0.1")), "0.10000000")
        for bad in ("0", "-1", "0.000000001", "abc", "inf"):
            with self.assertRaises(argparse.ArgumentTypeError, msg=bad):
                cli.amount_arg(bad)

    def test_numbers(self):
        self.assertEqual(cli.positive_int("3"), 3)
        self.assertEqual(cli.nonnegative_int("0"), 0)
        self.assertEqual(cli.positive_float("0.05"), 0.05)
        for fn, bad in ((cli.positive_int, "0"), (cli.nonnegative_int, "-1"), (cli.positive_float, "0"),
                        (cli.positive_float, "nan"), (cli.positive_float, "inf")):
            with self.assertRaises(argparse.ArgumentTypeError, msg=bad):
                fn(bad)


class CodeFormatTests(unittest.TestCase):
    """The command that makes codes for an integrator's tests."""

    def run_main(self, *argv):
        out = tempfile.TemporaryFile("w+")
        with mock.patch("sys.stdout", out):
            status = codeformat.main(list(argv))
        out.seek(0)
        return status, out.read().strip()

    def test_random_code_of_another_network(self):
        status, code = self.run_main("random", "MGC")
        self.assertEqual(status, 0)
        prefix, version, secret = codeformat.parse_code(code)
        self.assertEqual((prefix, version, len(secret)), ("MGC", 0, 16))
        self.assertNotEqual(self.run_main("random", "MGC")[1], code)
        self.assertEqual(codeformat.parse_code(self.run_main("random")[1])[0], "RGC")

    def test_mistype_breaks_the_checksum_and_id_matches(self):
        code = codeformat.format_code("RGC", bytes(range(16)))
        status, wrong = self.run_main("mistype", code, "--position", "31")
        self.assertEqual(status, 0)
        self.assertNotEqual(wrong, code)
        self.assertEqual(len(wrong), len(code))
        with self.assertRaises(codeformat.BadChecksum):
            codeformat.parse_code(wrong)
        self.assertEqual(self.run_main("id", code)[1], "e5e7d45bae4fa457beb7471d728de4b8")
        self.assertEqual(self.run_main("self-test"), (0, "codeformat self-test passed"))

    def test_bad_input_exits_2(self):
        for argv in (("mistype", "not a code"), ("id", "RGC-0000"), ("mistype", "x", "--position", "32")):
            with mock.patch("sys.stderr", tempfile.TemporaryFile("w+")), self.assertRaises(SystemExit) as caught:
                self.run_main(*argv)
            self.assertEqual(caught.exception.code, 2, argv)


class NodeTests(unittest.TestCase):
    def test_build_id_is_the_script_s(self):
        value = build_id()
        self.assertRegex(value, r"^[0-9a-f]{16}$")

    def test_find_binary(self):
        self.assertEqual(find_binary(sys.executable, "UNSET_VARIABLE"), os.path.abspath(sys.executable))
        self.assertIsNone(find_binary(None, "UNSET_VARIABLE", required=False))
        with self.assertRaises(NodeError):
            find_binary(None, "UNSET_VARIABLE")
        with self.assertRaises(NodeError):
            find_binary(os.path.abspath(__file__ + ".missing"), "UNSET_VARIABLE")


FIGURE = {"size": [4, 3], "grid": [1, 2], "dpi": 50, "suptitle": ["test", {"fontsize": 8}],
          "axes": [[["bar", [[1, 2, 3], [1, 2, 1]], {"color": ["tab:green", "tab:red", "tab:green"]}],
                    ["axhline", [1], {"linestyle": "--"}], ["integer_y", [], {}]],
                   [["plot", [[1, 4, 16], [3.5, 2.0, 1.0]], {"marker": "o", "label": "x"}],
                    ["annotate", ["a", [4, 2.0]], {"textcoords": "offset points", "xytext": [5, 5]}],
                    ["set_xscale", ["log"], {"base": 2}], ["ylim_from_zero", [1.25], {}], ["legend", [], {}]]]}


class PlotTests(unittest.TestCase):
    def draw(self, **patches):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "figure.png")
            plot.write(FIGURE, path, **patches)
            with open(path, "rb") as f:
                return f.read(8)

    def test_drawn_here_or_by_debian_python(self):
        try:
            plot.where()
        except plot.PlotUnavailable as e:
            self.skipTest(str(e))
        self.assertEqual(self.draw(), b"\x89PNG\r\n\x1a\n")

    def test_drawn_in_a_child_process(self):
        if not plot._matplotlib_in(plot.SYSTEM_PYTHON):
            self.skipTest("%s has no matplotlib" % plot.SYSTEM_PYTHON)
        with mock.patch.object(plot, "_matplotlib_here", return_value=False):
            self.assertEqual(plot.where(), plot.SYSTEM_PYTHON)
            self.assertEqual(self.draw(), b"\x89PNG\r\n\x1a\n")

    def test_unknown_operation_is_refused(self):
        try:
            where = plot.where()
        except plot.PlotUnavailable as e:
            self.skipTest(str(e))
        bad = dict(FIGURE, axes=[[["savefig", ["/tmp/x.png"], {}]]])
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(plot.PlotUnavailable if where != "here" else ValueError):
                plot.write(bad, os.path.join(tmp, "x.png"))

    def test_no_matplotlib_names_the_package(self):
        with mock.patch.object(plot, "_matplotlib_here", return_value=False):
            with self.assertRaises(plot.PlotUnavailable) as caught:
                plot.where(system_python="/nonexistent/python3")
        self.assertIn("python3-matplotlib", str(caught.exception))


class RpcauthTests(unittest.TestCase):
    """contrib/giftcode_rpcauth.py: the lines a node reads for a user of one role."""

    def test_lines_hold_the_hmac_the_node_checks_and_the_role_s_methods(self):
        lines = giftcode_rpcauth.rpcauth_lines("claim", "frontend", "s3cret", salt="00ff")
        # The node checks HMAC-SHA256 keyed with the salt's text over the password.
        self.assertEqual(lines[0], "rpcauth=frontend:00ff$" +
                         hmac.new(b"00ff", b"s3cret", hashlib.sha256).hexdigest())
        self.assertEqual(lines[1:], ["rpcwhitelist=frontend:getgiftcode,redeemgiftcode", "rpcwhitelistdefault=0"])
        issue = giftcode_rpcauth.rpcauth_lines("issue", "shop", "p")
        self.assertEqual(issue[1], "rpcwhitelist=shop:creategiftcode,cancelgiftcode,getgiftcode,listgiftcodes,"
                                   "getgiftcodeinfo")
        self.assertNotIn("redeemgiftcode", issue[1])
        # A fresh salt each time.
        self.assertNotEqual(giftcode_rpcauth.rpcauth_lines("claim", "c", "p")[0],
                            giftcode_rpcauth.rpcauth_lines("claim", "c", "p")[0])

    def test_bad_names_and_roles_are_refused(self):
        for user in ("", "a:b", "a,b", "a b", "a=b"):
            with self.assertRaises(ValueError):
                giftcode_rpcauth.rpcauth_lines("claim", user, "p")
        with self.assertRaises(ValueError):
            giftcode_rpcauth.rpcauth_lines("admin", "a", "p")

    def test_the_password_file_is_the_owner_s_and_never_overwritten(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "pw")
            out = io.StringIO()
            with mock.patch("sys.stdout", out):
                self.assertEqual(giftcode_rpcauth.main(["claim", "--password-file", path]), 0)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path) as f:
                password = f.read().strip()
            printed = out.getvalue().splitlines()
            self.assertTrue(printed[0].startswith("# claim: "))
            user, rest = printed[1][len("rpcauth="):].split(":")
            salt, digest = rest.split("$")
            self.assertEqual(user, "claim")
            self.assertEqual(digest, hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest())
            with mock.patch("sys.stdout", io.StringIO()), mock.patch("sys.stderr", io.StringIO()):
                self.assertEqual(giftcode_rpcauth.main(["claim", "--password-file", path]), 1)
            with open(path) as f:
                self.assertEqual(f.read().strip(), password)


if __name__ == "__main__":
    unittest.main()
