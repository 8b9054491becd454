"""Chain helpers of the functional tests: maturing coins, flushing the
chain to disk, mining the mempool empty, finding the outputs that paid an
address."""

from decimal import Decimal

from giftcodekit.rpc import RpcError

COINBASE_MATURITY = 100
BLOCK_REWARD = Decimal("50")


def mature_coinbases(node, wallet, count):
    """Mines count + 100 blocks to `wallet`: afterwards it holds at least
    `count` more mature coinbase outputs of 50 MONA (one coin each)."""
    node.mine(count + COINBASE_MATURITY, wallet=wallet)


def flush_chain(node):
    """Makes the chain durable now. The node writes its block index and
    chainstate only from time to time: blocks mined since the last flush
    are gone after a SIGKILL. gettxoutsetinfo flushes first."""
    node.rpc("gettxoutsetinfo")


def mine_until_mempool_empty(node, address, max_blocks=20, settled=None):
    """Mines one block at a time to `address` until, with the block's
    callbacks done, the mempool is empty and settled() (if given) is
    true. Returns the number of blocks mined; raises AssertionError when
    max_blocks were not enough."""
    for mined in range(1, max_blocks + 1):
        node.rpc("generatetoaddress", 1, address)
        node.sync_callbacks()
        if not node.rpc("getrawmempool") and (settled is None or settled()):
            return mined
    raise AssertionError("the mempool still holds %d transactions after %d blocks" % (
        len(node.rpc("getrawmempool")), max_blocks))


def wallet_txids(node, wallet):
    """The sorted txids of every transaction of the wallet."""
    txs = node.rpc("listtransactions", "*", 1000000, 0, True, wallet=wallet)
    return sorted({t["txid"] for t in txs})


def outputs_to(node, addresses, first_height=0, include_mempool=True):
    """{address: [(txid, amount, confirmed)]} of every output paying one of
    `addresses` in the active chain from first_height on (and the mempool)."""
    wanted = set(addresses)
    found = {a: [] for a in wanted}

    def scan(tx, confirmed):
        for out in tx["vout"]:
            spk = out["scriptPubKey"]
            for a in spk.get("addresses", []) + ([spk["address"]] if "address" in spk else []):
                if a in wanted:
                    found[a].append((tx["txid"], out["value"], confirmed))

    tip = node.rpc("getblockcount")
    for h in range(first_height, tip + 1):
        block = node.rpc("getblock", node.rpc("getblockhash", h), 2)
        for tx in block["tx"]:
            scan(tx, True)
    if include_mempool:
        for txid in node.rpc("getrawmempool"):
            try:
                scan(node.rpc("getrawtransaction", txid, True), False)
            except RpcError:
                pass  # left the mempool meanwhile
    return found
