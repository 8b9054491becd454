#!/usr/bin/env python3
"""Least privilege, as doc/security.md ships it: a claim-only RPC user and
an issuing user, made with contrib/giftcode_rpcauth.py, can do exactly
their role and nothing else, and the operator keeps full access.

The node starts with the lines giftcode_rpcauth.py prints for a `claim`
user and an `issue` user (as command-line options). Then, over HTTP as each
user:

- claim: getgiftcode and redeemgiftcode work (a code is looked up and paid,
  and a retry is a replay); every other RPC the node has, as `help` lists
  it, is refused with HTTP 403 before it runs (sending, issuing,
  cancelling, listing, dumping and importing keys, signing, backing up,
  changing options, stopping the node), on the node endpoint and on the
  wallet's.
- issue: creategiftcode, cancelgiftcode, getgiftcode, listgiftcodes and
  getgiftcodeinfo work; redeemgiftcode and every other RPC get 403.
- the operator (no rpcwhitelist line, rpcwhitelistdefault=0): everything,
  sendtoaddress included.

Every refused call is checked to have changed nothing: the wallet's
balance, its codes and the mempool are the same before and after.

Then giftcode-claim (the default build's, or $GIFTCODE_CLAIM_SERVER) is
started in front of the wallet three times: with the claim user it starts
(and logs that the user cannot send); with the operator's user it refuses
to start, naming the reason; with the operator's user and allow_spending
it starts, with a warning.
"""

import base64
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from decimal import Decimal

from test_framework.chain import mature_coinbases
from test_framework.giftcode import assert_snapshot_equal, find_claim_server, snapshot
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true, wait_until
from giftcode_rpcauth import ROLES, rpcauth_lines
from giftcodekit.node import free_port

ISSUER = "issuer"


class User:
    """An RPC user of the node: raw HTTP calls, so that a 403 is seen as one."""

    def __init__(self, node, name, password):
        self.node, self.name = node, name
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (name, password)).encode()).decode()

    def post(self, method, params, wallet=None):
        """(HTTP status, decoded body or None)."""
        path = "/" if wallet is None else "/wallet/" + wallet
        conn = http.client.HTTPConnection("127.0.0.1", self.node.rpc_port, timeout=60)
        try:
            conn.request("POST", path, body=json.dumps({"jsonrpc": "1.0", "id": 1, "method": method,
                                                        "params": params}),
                         headers={"Authorization": self.auth, "Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        try:
            body = json.loads(data, parse_float=Decimal) if data else None
        except ValueError:
            body = None
        return response.status, body

    def call(self, method, *params, wallet=ISSUER):
        status, body = self.post(method, list(params), wallet)
        assert_true(body is not None and body.get("error") is None,
                    "%s as %s: HTTP %d %r" % (method, self.name, status, body))
        return body["result"]


class PrivilegesTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.passwords = {role: secrets.token_urlsafe(32) for role in ROLES}
        args = ["-wallet=" + ISSUER, "-wallet=payee"]
        for role, password in self.passwords.items():
            args += ["-" + line for line in rpcauth_lines(role, role, password)]
        self.extra_args = [args]

    def run_test(self):
        node = self.node = self.nodes[0]
        operator = node.wallet(ISSUER)
        claim = User(node, "claim", self.passwords["claim"])
        issue = User(node, "issue", self.passwords["issue"])
        mature_coinbases(node, ISSUER, 3)
        payee = node.wallet("payee").getnewaddress()
        methods = sorted({line.split()[0] for line in node.rpc("help").splitlines()
                          if line and not line.startswith("==")})
        assert_true("sendtoaddress" in methods and "redeemgiftcode" in methods, "help lists the wallet's RPCs")
        self.log.info("the node has %d RPCs", len(methods))

        self.log.info("issue: creates, lists, looks up, cancels")
        made = issue.call("creategiftcode", "0.5", 3, "privileges")
        codes = made["codes"]
        assert_equal(issue.call("listgiftcodes", "", "privileges")["total"], 3)
        assert_equal(issue.call("getgiftcode", codes[2]["id"])["state"], "issued")
        assert_equal(issue.call("cancelgiftcode", codes[2]["id"])["state"], "cancelled")
        assert_equal(issue.call("getgiftcodeinfo")["counts"]["cancelled"], 1)

        self.log.info("claim: looks up and redeems; a retry is a replay")
        assert_equal(claim.call("getgiftcode", codes[0]["code"])["state"], "issued")
        paid = claim.call("redeemgiftcode", codes[0]["code"], payee)
        again = claim.call("redeemgiftcode", codes[0]["code"], payee)
        assert_equal((again["txid"], again["replay"]), (paid["txid"], True))

        for user in (claim, issue):
            allowed = set(ROLES[user.name])
            self.log.info("%s: every other RPC is refused with HTTP 403 and changes nothing", user.name)
            before = snapshot(node, ISSUER)
            refused = 0
            for method in methods:
                if method in allowed:
                    continue
                for wallet in (None, ISSUER):
                    status, body = user.post(method, [], wallet)
                    assert_equal((status, body), (403, None), "%s calling %s on %s" % (user.name, method,
                                                                                       wallet or "/"))
                    refused += 1
            # With arguments that would act, for the calls that matter most.
            for method, params in (("sendtoaddress", [payee, 1]), ("redeemgiftcode", [codes[1]["code"], payee]),
                                   ("creategiftcode", [1]), ("cancelgiftcode", [codes[1]["id"]]),
                                   ("dumpprivkey", [payee]), ("backupwallet", ["/tmp/x"]), ("settxfee", [0.1]),
                                   ("stop", [])):
                if method in allowed:
                    continue
                status, _ = user.post(method, params, ISSUER)
                assert_equal(status, 403, "%s calling %s%r" % (user.name, method, params))
                refused += 1
            assert_snapshot_equal(before, snapshot(node, ISSUER), "calls refused to %s" % user.name)
            self.log.info("  %d calls refused", refused)

        self.check_claim_server(node)

        self.log.info("the operator keeps full access")
        txid = operator.sendtoaddress(payee, 1)
        assert_true(txid in node.rpc("getrawmempool"), "the operator's payment is in the mempool")
        assert_equal(operator.getgiftcode(codes[1]["id"])["state"], "issued")

    def check_claim_server(self, node):
        """giftcode-claim starts with the claim user, refuses the operator's
        (a user that can send) unless allow_spending, and then warns."""
        binary = find_claim_server()
        work = tempfile.mkdtemp(prefix="giftcode_claim_")
        cases = (("claim", self.passwords["claim"], False, 0, "this user cannot send"),
                 (node.rpc_user, node.rpc_password, False, 1, "can call sendtoaddress"),
                 (node.rpc_user, node.rpc_password, True, 0, "WARNING"))
        for n, (user, password, allow, status, said) in enumerate(cases):
            password_file = os.path.join(work, "password%d" % n)
            with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(password + "\n")
            config = os.path.join(work, "claim%d.conf" % n)
            with open(config, "w") as f:
                f.write("listen = 127.0.0.1:%d\nnetwork = regtest\nstartup_wait_s = 10\n\n[node]\n"
                        "url = http://127.0.0.1:%d/wallet/%s\nuser = %s\npassword_file = %s\n%s" % (
                            free_port(), node.rpc_port, ISSUER, user, password_file,
                            "allow_spending = true\n" if allow else ""))
            process = subprocess.Popen([binary, "--config", config], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
            try:
                if status == 0:
                    # It started: it listens until stopped.
                    wait_until(lambda: process.poll() is not None or self.listening(config), 30,
                               what="giftcode-claim to listen")
                    assert_true(process.poll() is None, "giftcode-claim as %s exited" % user)
                    process.send_signal(signal.SIGTERM)
                output = process.communicate(timeout=30)[0]
            finally:
                if process.poll() is None:
                    process.kill()
            expected = 0 if status == 0 else 1
            assert_equal(process.returncode, expected, "giftcode-claim as %s (allow_spending %s): %s" % (
                user, allow, output))
            assert_true(said in output, "giftcode-claim as %s says %r: %s" % (user, said, output))
            self.log.info("giftcode-claim as %s%s: %s", user, " (allow_spending)" if allow else "",
                          "started" if status == 0 else "refused to start")
        shutil.rmtree(work, ignore_errors=True)

    @staticmethod
    def listening(config):
        with open(config) as f:
            port = int(f.readline().split(":")[1])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False


if __name__ == "__main__":
    PrivilegesTest().main()
