#!/usr/bin/env python3
"""Regtest mining works past the Lyra2REv2 switch at height 60, and a wallet
payment confirms there.

Every other gift-code test mines 100+ blocks to mature coinbases, so this
proves the ground they stand on: blocks before and after height 60 are
accepted, the chain reaches the expected height, coinbases mature after 100
blocks (50 MONA each), and a sendtoaddress confirms in a block past the
switch. It needs no gift-code RPC, so it also runs against an unpatched node.
"""

from decimal import Decimal

from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_greater_than

LYRA2REV2_HEIGHT = 60
COINBASE_MATURITY = 100
BLOCK_REWARD = Decimal("50")


class MiningTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def run_test(self):
        node = self.nodes[0]
        assert_equal(node.height(), 0, "fresh chain")

        self.log.info("mine up to one block before the Lyra2REv2 switch (height %d)", LYRA2REV2_HEIGHT)
        address = node.rpc("getnewaddress")
        node.mine(LYRA2REV2_HEIGHT - 1, address)
        assert_equal(node.height(), LYRA2REV2_HEIGHT - 1)

        self.log.info("mine across the switch: heights %d and %d", LYRA2REV2_HEIGHT, LYRA2REV2_HEIGHT + 1)
        node.mine(2, address)
        assert_equal(node.height(), LYRA2REV2_HEIGHT + 1)
        for h in (LYRA2REV2_HEIGHT - 1, LYRA2REV2_HEIGHT, LYRA2REV2_HEIGHT + 1):
            block = node.rpc("getblock", node.rpc("getblockhash", h))
            assert_equal(block["height"], h)
            assert_equal(block["confirmations"], LYRA2REV2_HEIGHT + 2 - h)

        self.log.info("mine to height 115: the first coinbases mature")
        node.mine(115 - node.height(), address)
        assert_equal(node.height(), 115)
        info = node.rpc("getblockchaininfo")
        assert_equal(info["blocks"], 115)
        assert_equal(info["chain"], "regtest")
        balances = node.rpc("getbalances")["mine"]
        # Blocks 1..15 are mature (>= 100 confirmations), 16..115 are not.
        mature = 115 - COINBASE_MATURITY + 1 - 1
        assert_equal(balances["trusted"], BLOCK_REWARD * mature)
        assert_equal(balances["immature"], BLOCK_REWARD * COINBASE_MATURITY)

        self.log.info("a payment sent past the switch confirms")
        payee = node.rpc("getnewaddress")
        txid = node.rpc("sendtoaddress", payee, Decimal("12.5"))
        assert txid in node.rpc("getrawmempool")
        hashes = node.mine(1, address)
        block = node.rpc("getblock", hashes[0])
        assert txid in block["tx"], "payment not in the next block"
        tx = node.rpc("gettransaction", txid)
        assert_equal(tx["confirmations"], 1)
        assert_equal(tx["blockhash"], hashes[0])
        assert_greater_than(Decimal(0), tx["fee"], "the wallet paid a fee")
        assert_equal(node.rpc("getreceivedbyaddress", payee, 1), Decimal("12.5"))
        assert_equal(node.rpc("getrawmempool"), [])

        self.log.info("the chain survives a restart at height %d", node.height())
        tip = node.rpc("getbestblockhash")
        node.restart()
        assert_equal(node.rpc("getbestblockhash"), tip)
        node.mine(5, address)
        assert_equal(node.height(), 121)


if __name__ == "__main__":
    MiningTest().main()
