"""One node of a functional test: a monacoind on regtest (giftcodekit.node)
with what a test adds, the cli and the test's logging.

A TestNode is an RpcClient too: node.rpc(method, *params, wallet=...) and
node.wallet(name).method(...) call the node; node.mine(), node.height()
and node.sync_callbacks() are the chain's basic moves. The framework makes
self.nodes from set_test_params() and cleans every node up at the end.
"""

import json
import subprocess

from giftcodekit.node import ENV_MONACOIN_CLI, Node
from giftcodekit.rpc import NodeError
from test_framework.util import SkipTest


class TestNode(Node):
    """Node number `index` of a test (named "node<index>" unless named)."""

    def __init__(self, index, binary, extra_args=(), cli=None, keep_datadir=None, name=None):
        super().__init__(binary, extra_args, name=name or "node%d" % index, cli=cli, keep_datadir=keep_datadir)
        self.index = index
        #: Every code creategiftcode gave this test through rpc() or cli():
        #: at the end the framework checks that no file the node wrote holds
        #: one (test_framework.giftcode.find_codes).
        self.issued_codes = set()

    def note_codes(self, result):
        if isinstance(result, dict) and isinstance(result.get("codes"), list):
            self.issued_codes.update(c["code"] for c in result["codes"] if isinstance(c, dict) and "code" in c)

    def rpc(self, method, *params, **kwargs):
        result = super().rpc(method, *params, **kwargs)
        if method == "creategiftcode":
            self.note_codes(result)
        return result

    def cli(self, *args, wallet=None, timeout=120):
        """Runs monacoin-cli against this node; returns stdout (stripped).
        Skips the test when no cli was given."""
        if not self.cli_binary:
            raise SkipTest("no monacoin-cli given (--monacoin-cli or %s)" % ENV_MONACOIN_CLI)
        done = subprocess.run(self.cli_command(args, wallet), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode != 0:
            raise NodeError("monacoin-cli %s failed (%d): %s" % (" ".join(map(str, args)), done.returncode,
                                                                 done.stderr.strip()))
        if "creategiftcode" in args:
            try:
                self.note_codes(json.loads(done.stdout))
            except ValueError:
                pass
        return done.stdout.strip()
