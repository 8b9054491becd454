"""The base class of the gift-code functional tests, shaped as Bitcoin
Core's BitcoinTestFramework.

A test subclasses GiftCodeTestFramework, says what it needs in
set_test_params() and does its work in run_test():

    class ExampleTest(GiftCodeTestFramework):
        def set_test_params(self):
            self.num_nodes = 1
            self.extra_args = [["-wallet=issuer"]]

        def run_test(self):
            node = self.nodes[0]
            ...

    if __name__ == "__main__":
        ExampleTest().main()

main() parses the options (--monacoind and --monacoin-cli, else $MONACOIND
and $MONACOIN_CLI; --nocleanup, --loglevel, --seed, and the test's own from
add_options()), logs with timestamps to stdout, seeds `random` (the seed is
logged), calls skip_test_if_missing_module(), setup_nodes() (num_nodes
nodes, node i started with extra_args[i]) and run_test(). On a failure it
logs the traceback and the last lines of every node's debug.log. Every node
is stopped at the end; then every file of its data directory (and the
side files of libpowercut) is searched for the codes creategiftcode gave
the test, in every spelling the node accepts, and a test that passed fails
if one holds a code (a gift code is a bearer secret: the node stores its
hash and never logs it). The data directories are then deleted (kept with
--nocleanup), and the process exits TEST_EXIT_PASSED, TEST_EXIT_FAILED or
TEST_EXIT_SKIPPED (raise SkipTest anywhere to skip).

Tests that start or stop nodes in the middle use add_nodes(),
start_node(), stop_node() and restart_node(), or the node's own start(),
stop(), kill() and restart().
"""

import argparse
import logging
import os
import random
import sys
import time
import traceback

from giftcodekit.node import ENV_MONACOIN_CLI, ENV_MONACOIND, find_binary, install_signal_handlers
from test_framework.giftcode import find_codes
from giftcodekit.rpc import NodeError
from test_framework.test_node import TestNode
from test_framework.util import SkipTest

TEST_EXIT_PASSED = 0
TEST_EXIT_FAILED = 1
#: Exit status of a test that skipped itself (as automake uses it).
TEST_EXIT_SKIPPED = 77


class GiftCodeTestFramework:
    """Base of a functional test: subclass, override set_test_params() and
    run_test(), call main()."""

    def __init__(self):
        self.num_nodes = 1
        #: one list of node arguments per node, or None for none
        self.extra_args = None
        self.nodes = []
        self.log = logging.getLogger("giftcode.test")
        self.options = None
        self.monacoind = None
        self.monacoin_cli = None
        self.set_test_params()

    # -- what a test overrides -------------------------------------------------------
    def set_test_params(self):
        """Sets self.num_nodes and self.extra_args (and the test's own
        parameters)."""
        raise NotImplementedError

    def add_options(self, parser):
        """Adds the test's command-line options to the argparse parser."""

    def skip_test_if_missing_module(self):
        """Raises SkipTest when something the test needs is not here."""

    def setup_nodes(self):
        """Makes and starts the test's nodes."""
        self.add_nodes(self.num_nodes, self.extra_args)
        self.start_nodes()

    def run_test(self):
        raise NotImplementedError

    # -- nodes ---------------------------------------------------------------------------
    def add_nodes(self, num_nodes, extra_args=None, names=None):
        """Makes num_nodes more nodes (not started), node i with
        extra_args[i]. Returns them."""
        extra_args = extra_args or [[]] * num_nodes
        names = names or [None] * num_nodes
        assert len(extra_args) == num_nodes and len(names) == num_nodes
        added = []
        for args, name in zip(extra_args, names):
            node = TestNode(len(self.nodes), self.monacoind, args, cli=self.monacoin_cli,
                            keep_datadir=True if self.options.nocleanup else None, name=name)
            self.nodes.append(node)
            added.append(node)
        return added

    def start_node(self, i, extra_args=None, timeout=180):
        node = self.nodes[i]
        node.start(extra_args, timeout=timeout)
        self.log.info("%s is up (rpc port %d, data in %s)", node.name, node.rpc_port, node.datadir)

    def start_nodes(self):
        for i in range(len(self.nodes)):
            if not self.nodes[i].running:
                self.start_node(i)

    def stop_node(self, i, timeout=180):
        self.nodes[i].stop(timeout=timeout)

    def stop_nodes(self):
        for node in self.nodes:
            node.stop()

    def restart_node(self, i, extra_args=None):
        self.stop_node(i)
        self.start_node(i, extra_args)

    def no_code_in_files(self):
        """Whether no file a node wrote (its data directory, and the side
        files of libpowercut) holds a code the test was given: a gift code is
        a bearer secret, stored only as its hash and never logged. Logs each
        file that does, by the code's id."""
        found = []
        for node in self.nodes:
            found += find_codes([node.datadir] + list(node.side_files), node.issued_codes)
        for path, code_id in found:
            self.log.error("%s holds the gift code %s (in one of its spellings)", path, code_id)
        if not found:
            self.log.debug("no file of %d node(s) holds any of their %d codes", len(self.nodes),
                           sum(len(n.issued_codes) for n in self.nodes))
        return not found

    # -- the run -----------------------------------------------------------------------
    def parse_args(self):
        doc = (sys.modules[self.__class__.__module__].__doc__ or "").strip()
        parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--monacoind", help="node binary (default: $%s)" % ENV_MONACOIND)
        parser.add_argument("--monacoin-cli", dest="monacoin_cli", help="cli binary (default: $%s)" % ENV_MONACOIN_CLI)
        parser.add_argument("--nocleanup", action="store_true", help="keep node data directories")
        parser.add_argument("--loglevel", default="INFO", help="DEBUG, INFO, ...")
        parser.add_argument("--seed", type=int, help="random seed (default: random, logged)")
        self.add_options(parser)
        self.options = parser.parse_args()

    def main(self):
        """Runs the test and exits with its status."""
        self.parse_args()
        logging.basicConfig(level=getattr(logging, self.options.loglevel.upper(), logging.INFO),
                            format="%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s",
                            datefmt="%H:%M:%S", stream=sys.stdout)
        install_signal_handlers()
        seed = self.options.seed if self.options.seed is not None else random.randrange(1 << 32)
        random.seed(seed)
        name = os.path.basename(sys.modules[self.__class__.__module__].__file__ or self.__class__.__name__)
        self.log.info("%s: random seed %d", name, seed)
        try:
            self.monacoind = find_binary(self.options.monacoind, ENV_MONACOIND)
            self.monacoin_cli = find_binary(self.options.monacoin_cli, ENV_MONACOIN_CLI, required=False)
        except NodeError as e:
            self.log.error("%s cannot run: %s", name, e)
            sys.exit(TEST_EXIT_FAILED)
        status = TEST_EXIT_FAILED
        try:
            started = time.monotonic()
            self.skip_test_if_missing_module()
            self.setup_nodes()
            self.run_test()
            self.log.info("%s passed in %.1f s", name, time.monotonic() - started)
            status = TEST_EXIT_PASSED
        except SkipTest as e:
            self.log.info("%s skipped: %s", name, e)
            status = TEST_EXIT_SKIPPED
        except (Exception, KeyboardInterrupt):
            self.log.error("%s FAILED:\n%s", name, traceback.format_exc())
            for node in self.nodes:
                self.log.error("--- last lines of %s debug.log ---\n%s", node.name, node.tail_log(60))
        finally:
            for node in self.nodes:
                try:
                    if node.running:
                        node.stop(timeout=60)
                except Exception as e:
                    self.log.error("stopping %s: %s", node.name, e)
            if status == TEST_EXIT_PASSED and not self.no_code_in_files():
                status = TEST_EXIT_FAILED
            for node in self.nodes:
                node.cleanup()
        logging.shutdown()
        sys.exit(status)
