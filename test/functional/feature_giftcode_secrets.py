#!/usr/bin/env python3
"""No file the node writes holds a gift code, even with every debug log
category on.

The node runs with -debug=all and -giftcodenotify. The codes go through
everything that takes a code's text: creation (one code and a batch),
getgiftcode in every spelling the node accepts (lower case, spaces,
underscores, no separators, the MONAGIFT: URI), redemption and its replay,
a refused redemption (an invalid address), cancelling by the code's text,
monacoin-cli, a restart, an encrypted wallet (redeemed while unlocked,
refused while locked), backupwallet and dumpwallet into the data directory.
Then the node is stopped and every file of its data directory -- blocks,
chainstate, wallets and their database logs, debug.log, the backup, the
dump, the notify command's output -- is searched for every code in every
spelling (test_framework.giftcode.find_codes, the search the framework runs
after every test). The search is first shown to find a code planted in a
file, in each spelling, so that it cannot pass by finding nothing.
"""

import os
import shlex
from decimal import Decimal

from test_framework.chain import mature_coinbases
from test_framework.giftcode import find_codes
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import REPO_ROOT, assert_equal, assert_raises_rpc_error, assert_true
from giftcodekit import codeformat as fmt

PASSPHRASE = "secrets test passphrase"


def spellings(code):
    """The same code as a holder may type it."""
    compact = code.replace("-", "")
    return [code.lower(), code.replace("-", " "), code.replace("-", "_"), compact, compact.lower(),
            fmt.URI_SCHEME + compact, (fmt.URI_SCHEME + compact).lower(), " %s " % code.lower().replace("-", " "),
            code[:4] + code[4:].replace("0", "O").replace("1", "l")]


class SecretsTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def setup_nodes(self):
        self.add_nodes(1)
        node = self.nodes[0]
        self.events = os.path.join(node.datadir, "events.tsv")
        notify = "%s %s %%e %%c %%s %%w %%r" % (shlex.quote(os.path.join(REPO_ROOT, "contrib", "giftcode-notify.sh")),
                                                shlex.quote(self.events))
        self.start_node(0, ["-debug=all", "-wallet=issuer", "-wallet=payee", "-giftcodenotify=" + notify])

    def run_test(self):
        node = self.nodes[0]
        self.check_the_search_finds_a_planted_code(node)
        issuer, payee = node.wallet("issuer"), node.wallet("payee")
        mature_coinbases(node, "issuer", 3)

        self.log.info("every spelling of a code, through every RPC that takes one")
        codes = issuer.creategiftcode(Decimal("0.5"), 6, "secrets")["codes"]
        one = issuer.creategiftcode(Decimal("0.25"))["codes"][0]
        for text in spellings(codes[0]["code"]):
            assert_equal(issuer.getgiftcode(text)["id"], codes[0]["id"])
        address = payee.getnewaddress()
        paid = issuer.redeemgiftcode(spellings(codes[0]["code"])[5], address)
        again = issuer.redeemgiftcode(codes[0]["code"].lower(), address)
        assert_equal((again["txid"], again["replay"]), (paid["txid"], True))
        assert_raises_rpc_error(-405, None, issuer.redeemgiftcode, codes[0]["code"], payee.getnewaddress())
        assert_raises_rpc_error(-5, None, issuer.redeemgiftcode, codes[1]["code"].replace("-", "_"), "not-an-address")
        assert_equal(issuer.cancelgiftcode(codes[2]["code"].lower())["state"], "cancelled")
        assert_raises_rpc_error(-402, None, issuer.getgiftcode, fmt.substitute(codes[3]["code"], 3))
        issuer.redeemgiftcode(one["uri"], payee.getnewaddress())
        if node.cli_binary:
            self.log.info("through monacoin-cli too")
            node.cli("getgiftcode", codes[3]["code"], wallet="issuer")
            node.cli("redeemgiftcode", codes[3]["code"].replace("-", " "), payee.getnewaddress(), wallet="issuer")
            node.cli("creategiftcode", "0.1", "2", "cli", wallet="issuer")
        node.mine(1, wallet="issuer")

        self.log.info("a restart, then an encrypted wallet")
        node.restart()
        assert_equal(sorted(node.rpc("listwallets")), ["issuer", "payee"])
        issuer.redeemgiftcode(codes[4]["code"], payee.getnewaddress())
        node.rpc("createwallet", "enc")
        enc = node.wallet("enc")
        issuer.sendtoaddress(enc.getnewaddress(), 5)
        node.mine(1, wallet="issuer")
        enc.encryptwallet(PASSPHRASE)
        enc.walletpassphrase(PASSPHRASE, 600)
        enc_codes = enc.creategiftcode(Decimal("0.5"), 2, "enc")["codes"]
        enc.redeemgiftcode(enc_codes[0]["code"], payee.getnewaddress())
        enc.walletlock()
        assert_raises_rpc_error(-13, None, enc.redeemgiftcode, enc_codes[1]["code"], payee.getnewaddress())

        self.log.info("backupwallet and dumpwallet into the data directory")
        issuer.backupwallet(os.path.join(node.datadir, "issuer.backup"))
        issuer.dumpwallet(os.path.join(node.datadir, "issuer.dump"))
        assert_true(os.path.getsize(os.path.join(node.datadir, "issuer.dump")) > 0, "a dump was written")

        self.log.info("stop the node, then search every file it wrote")
        node.stop()
        assert_true(os.path.exists(self.events) and os.path.getsize(self.events) > 0, "the notify command ran")
        files = sum(len(names) for _, _, names in os.walk(node.datadir))
        found = find_codes([node.datadir], node.issued_codes)
        assert_equal(found, [], "files holding a code")
        debug = os.path.getsize(node.debug_log)
        self.log.info("%d codes, %d files (debug.log %d bytes with -debug=all): none holds a code",
                      len(node.issued_codes), files, debug)

    def check_the_search_finds_a_planted_code(self, node):
        code = fmt.random_code(fmt.REGTEST)
        planted = os.path.join(node.datadir, "..", "planted-%s" % os.path.basename(node.datadir.rstrip("/")))
        node.side_files.append(planted)
        for text in spellings(code) + [code]:
            with open(planted, "wb") as f:
                f.write(b"\x00binary\xff" + text.encode() + b"\n tail")
            assert_equal(find_codes([planted], {code}), [(planted, fmt.id_of(code))], "the search finds %r" % text)
        os.unlink(planted)


if __name__ == "__main__":
    SecretsTest().main()
