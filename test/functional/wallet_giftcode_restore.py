#!/usr/bin/env python3
"""A wallet put back from a backup older than its redemptions pays no code
twice: the payments made since are recognised on the chain and in the
mempool by the codes' payment keys before any redemption is served.

Two nodes: the issuing node and a peer that mines and holds the payees'
wallet. In each scenario the issuer gets a fresh wallet, 16 MONA in 8 coins,
and 60 codes of 0.1 MONA; the wallet is backed up (one more code is issued
after that, which the restored wallet must not know); 40 codes are redeemed,
each to its own payee address: 20 whose payments are then mined, and 20
whose payments stay unconfirmed and are relayed to the peer. Then the backup
is put in the wallet's place and the wallet is loaded again:

- same node: the node stops, the backup file replaces wallet.dat, and the
  node starts (its mempool file brings back the unconfirmed payments). The
  node starts with -giftcodestartdelay=15: until then a new payment is
  refused with -10.
- -zapwallettxes=2: the same, and the wallet's transactions are dropped too.
- -salvagewallet: the same, and the wallet is rebuilt from its keys and the
  gift-code records (which the salvage keeps). Berkeley DB's aggressive
  salvage gives up on some wallet files whatever they hold (the node then
  refuses to start, as upstream's does); the scenario is then run again
  with a new wallet, up to 4 times, each give-up logged.
- fresh node: the original wallet is unloaded; a new node with an empty data
  directory gets the backup, learns the chain from the peer, and the
  unconfirmed payments from the peer's mempool (relayed by the test: a node
  does not ask its peers for their mempool).

After each: the restore is reported (getgiftcodeinfo restore.detected; on
the fresh node there is no state file to compare with) and new payments
wait for the next block (-10 until then); the mined payments are found at
load, the unconfirmed ones from the mempool (same node, fresh node) or from
the peer's next block (-zapwallettxes and -salvagewallet empty the
mempool); then all 40 codes read
redeemed with their payments' txids and found_on_chain; redeeming each again
to its address replays the same txid and to another address gives -405,
with nothing sent; the other 20 codes pay once; after mining, each of the
60 payee addresses holds exactly one output of 0.1 MONA, the payee wallet
received exactly 6 MONA from them, and the consistency check is clean.
"""

import os
import shutil
import time
from decimal import Decimal

from test_framework.chain import flush_chain, outputs_to
from test_framework.giftcode import ERR_ALREADY_REDEEMED, ERR_CATCHING_UP, ERR_UNKNOWN, NodeError, RpcError
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_raises_rpc_error, assert_true, wait_until

AMOUNT = Decimal("0.1")
CODES = 60
CONFIRMED = 20
UNCONFIRMED = 20
START_DELAY = 15
#: What Berkeley DB's aggressive salvage logs when it gives up on a file.
SALVAGE_GAVE_UP = "Number of keys in data does not match number of values"
SALVAGE_ATTEMPTS = 4


class RestoreTest(GiftCodeTestFramework):
    def set_test_params(self):
        # The peer, then the issuer.
        self.num_nodes = 2
        self.extra_args = [["-wallet=miner", "-wallet=payee", "-listen=1", "-whitelist=127.0.0.1"],
                           self.issuer_args()]

    def setup_nodes(self):
        self.add_nodes(self.num_nodes, self.extra_args, names=["peer", "issuer"])
        self.start_nodes()

    def run_test(self):
        self.peer, self.issuer = self.nodes
        self.connect(self.issuer)
        self.miner_address = self.peer.rpc("getnewaddress", wallet="miner")
        self.peer.mine(110, self.miner_address)
        self.synced(self.issuer)

        self.scenario("same node", "kept", ["-giftcodestartdelay=%d" % START_DELAY])
        self.scenario("-zapwallettxes=2", "zapped", ["-zapwallettxes=2"])
        self.salvage_scenario()
        self.scenario("fresh node", "moved", [], fresh=True)

    def salvage_scenario(self):
        """-salvagewallet runs Berkeley DB's aggressive salvage, which gives up
        on some wallet files whatever they hold: it logs SALVAGE_GAVE_UP and
        the node refuses to start (upstream's behaviour; Bitcoin Core later
        dropped the option for it). Such a run says nothing of the gift-code
        records, so the scenario is run again with a new wallet, and each
        give-up is logged."""
        for attempt in range(1, SALVAGE_ATTEMPTS + 1):
            try:
                return self.scenario("-salvagewallet", "salvaged%d" % attempt, ["-salvagewallet"])
            except NodeError as e:
                if SALVAGE_GAVE_UP not in str(e) or attempt == SALVAGE_ATTEMPTS:
                    raise
            self.log.info("-salvagewallet: Berkeley DB's salvage gave up on this wallet file (%d of %d); "
                          "again with a new wallet", attempt, SALVAGE_ATTEMPTS)
            self.issuer.start(self.issuer_args())
            self.connect(self.issuer)
            self.synced(self.issuer)

    # -- nodes ---------------------------------------------------------------
    @staticmethod
    def issuer_args(wallets=(), extra=()):
        return ["-listen=1", "-whitelist=127.0.0.1"] + ["-wallet=" + w for w in wallets] + list(extra)

    def connect(self, node):
        self.peer.rpc("addnode", "127.0.0.1:%d" % node.p2p_port, "onetry")
        wait_until(lambda: node.rpc("getconnectioncount") > 0, what="%s connected to the peer" % node.name)

    def synced(self, node):
        wait_until(lambda: node.rpc("getbestblockhash") == self.peer.rpc("getbestblockhash"), timeout=120,
                   what="%s at the peer's tip" % node.name)
        node.sync_callbacks()

    def mine(self, node, n=1):
        self.peer.mine(n, self.miner_address)
        self.synced(node)

    # -- one scenario -----------------------------------------------------------
    def scenario(self, title, name, restart_args, fresh=False):
        node, peer = self.issuer, self.peer
        payee = peer.wallet("payee")
        self.log.info("%s: wallet %s, funded, %d codes, backed up", title, name, CODES)
        node.rpc("createwallet", name)
        wallet = node.wallet(name)
        peer.rpc("sendmany", "", {wallet.getnewaddress(): 2 for _ in range(8)}, wallet="miner")
        self.mine(node)
        wait_until(lambda: wallet.getbalance() == Decimal("16"), what="the issuer's 16 MONA")
        first_height = peer.height()
        codes = wallet.creategiftcode(AMOUNT, CODES, title)["codes"]
        for c in codes:
            c["address"] = payee.getnewaddress()
        backup = os.path.join(node.datadir, name + "-backup.dat")
        wallet.backupwallet(backup)
        late = wallet.creategiftcode(AMOUNT, 1, "after the backup")["codes"][0]

        self.log.info("%s: %d redemptions mined, %d left unconfirmed and relayed", title, CONFIRMED, UNCONFIRMED)
        paid = {}
        for c in codes[:CONFIRMED]:
            paid[c["id"]] = wallet.redeemgiftcode(c["code"], c["address"])["txid"]
        wait_until(lambda: set(paid.values()) <= set(peer.rpc("getrawmempool")), what="the peer has the payments")
        self.mine(node)
        assert_true(all(wallet.getgiftcode(c["id"])["confirmations"] == 1 for c in codes[:CONFIRMED]), "mined")
        for c in codes[CONFIRMED:CONFIRMED + UNCONFIRMED]:
            paid[c["id"]] = wallet.redeemgiftcode(c["code"], c["address"])["txid"]
        unconfirmed = {paid[c["id"]] for c in codes[CONFIRMED:CONFIRMED + UNCONFIRMED]}
        wait_until(lambda: unconfirmed <= set(peer.rpc("getrawmempool")), what="the peer has every unconfirmed payment")

        # Blocks mined in a burst are stamped ahead of the clock (each at
        # least one second after the median of the eleven before it). A
        # block stamped after the wallet loads counts as mined since: let
        # the clock pass the tip first, as it has on a real network.
        tip_time = peer.rpc("getblockheader", peer.rpc("getbestblockhash"))["time"]
        wait_until(lambda: time.time() > tip_time + 1, timeout=120, what="the clock past the tip's timestamp")
        if fresh:
            node = self.restore_on_a_fresh_node(name, backup, unconfirmed)
        else:
            self.restore_in_place(node, name, backup, restart_args)
        wallet = node.wallet(name)

        self.log.info("%s: every payment since the backup is found before anything is paid", title)
        info = wallet.getgiftcodeinfo()
        restore = info["restore"]
        if fresh:
            assert_equal((restore["side_file"], restore["detected"]), (False, False), "nothing beside the wallet")
        else:
            assert_true(restore["detected"], "the restore is detected: %r" % restore)
            assert_true(restore["wallet_commits"] < restore["side_file_commits"], "fewer commits in the wallet")
            assert_equal(restore["codes_missing"], 1, "the code issued after the backup is reported missing")
        assert_true(info["payments_wait_for_block"], "new payments wait for the next block")
        unpaid = codes[CONFIRMED + UNCONFIRMED]
        e = assert_raises_rpc_error(ERR_CATCHING_UP, None, wallet.redeemgiftcode, unpaid["code"], unpaid["address"])
        assert_true("next block" in e.message or "after it loads" in e.message, e.message)
        if "-giftcodestartdelay=%d" % START_DELAY in restart_args:
            self.check_start_delay(wallet, unpaid)
        earlier = codes[:CONFIRMED + UNCONFIRMED]

        def found():
            return sum(wallet.getgiftcode(c["id"])["state"] == "redeemed" for c in earlier)
        # The rescan at load finds the mined payments. The unconfirmed ones
        # come from the node's mempool file (same node), or relayed (fresh
        # node); -zapwallettxes and -salvagewallet start with an empty
        # mempool, so the peer's block brings them.
        in_mempool = not any(arg in restart_args for arg in ("-zapwallettxes=2", "-salvagewallet"))
        wait_until(lambda: found() >= (CONFIRMED + UNCONFIRMED if in_mempool else CONFIRMED), timeout=60,
                   what="the earlier redemptions found")
        self.log.info("%s: %d of %d found before the next block", title, found(), len(earlier))
        self.mine(node)
        assert_true(not wallet.getgiftcodeinfo()["payments_wait_for_block"], "a block came")
        wait_until(lambda: found() == len(earlier), timeout=60,
                   what="all %d earlier redemptions read redeemed" % len(earlier))
        for c in earlier:
            view = wallet.getgiftcode(c["id"])
            assert_equal((view["txid"], view["address"], view["found_on_chain"]), (paid[c["id"]], c["address"], True),
                         "code %s" % c["id"])
        assert_equal(wallet.getgiftcodeinfo()["restore"]["found_on_chain"], CONFIRMED + UNCONFIRMED)

        self.log.info("%s: a code issued after the backup is unknown", title)
        assert_raises_rpc_error(ERR_UNKNOWN, None, wallet.getgiftcode, late["id"])
        assert_raises_rpc_error(ERR_UNKNOWN, None, wallet.redeemgiftcode, late["code"], payee.getnewaddress())

        self.log.info("%s: redeeming them again pays nothing", title)
        received = payee.getbalances()["mine"]
        mempool = set(node.rpc("getrawmempool"))
        other = payee.getnewaddress()
        for c in codes[:CONFIRMED + UNCONFIRMED]:
            again = wallet.redeemgiftcode(c["code"], c["address"])
            assert_equal((again["txid"], again["replay"]), (paid[c["id"]], True))
            assert_raises_rpc_error(ERR_ALREADY_REDEEMED, None, wallet.redeemgiftcode, c["code"], other)
        assert_equal(set(node.rpc("getrawmempool")), mempool, "no new transaction")
        assert_equal(payee.getbalances()["mine"], received, "the payees got nothing more")

        self.log.info("%s: the other %d codes pay once", title, CODES - CONFIRMED - UNCONFIRMED)
        for c in codes[CONFIRMED + UNCONFIRMED:]:
            first = wallet.redeemgiftcode(c["code"], c["address"])
            assert_equal((first["replay"], first["broadcast"]), (False, True))
            paid[c["id"]] = first["txid"]
            assert_equal(wallet.redeemgiftcode(c["code"], c["address"])["txid"], first["txid"])
        wait_until(lambda: set(paid.values()) <= set(node.rpc("getrawmempool")) | self.mined(node, first_height),
                   what="every payment in the mempool or mined")

        self.log.info("%s: mined; every payee address holds one output; consistency clean", title)
        for _ in range(10):
            if not node.rpc("getrawmempool"):
                break
            self.mine(node)
        assert_equal(node.rpc("getrawmempool"), [], "every payment mined")
        found = outputs_to(peer, [c["address"] for c in codes], first_height, include_mempool=False)
        for c in codes:
            assert_equal([(txid, value) for txid, value, _ in found[c["address"]]], [(paid[c["id"]], AMOUNT)],
                         "outputs to the holder of %s" % c["id"])
        total = sum(payee.getreceivedbyaddress(c["address"], 1) for c in codes)
        assert_equal(total, AMOUNT * CODES, "the payee wallet received the 60 codes' value, once")
        info = wallet.getgiftcodeinfo()
        assert_equal(info["counts"]["redeemed"], CODES)
        assert_true(info["consistency"]["checked"] and info["consistency"]["clean"],
                    "consistency: %r" % info["consistency"])
        node.rpc("unloadwallet", name)

    def mined(self, node, first_height):
        txids = set()
        for h in range(first_height, node.height() + 1):
            txids.update(node.rpc("getblock", node.rpc("getblockhash", h))["tx"])
        return txids

    def check_start_delay(self, wallet, code):
        info = wallet.getgiftcodeinfo()
        if info["payments_start_in"] > 0:
            self.log.info("a new payment waits for -giftcodestartdelay (%d s left)", info["payments_start_in"])
            assert_raises_rpc_error(ERR_CATCHING_UP, None, wallet.redeemgiftcode, code["code"], code["address"])
            assert_equal(wallet.getgiftcode(code["id"])["state"], "issued")
        wait_until(lambda: wallet.getgiftcodeinfo()["payments_start_in"] == 0, timeout=START_DELAY + 30,
                   what="the start delay to pass")

    # -- the two ways back --------------------------------------------------------
    def restore_in_place(self, node, name, backup, restart_args):
        self.log.info("stop, put the backup in place of %s/wallet.dat, start with %s", name, restart_args or "nothing")
        flush_chain(node)
        node.stop()
        shutil.copyfile(backup, os.path.join(node.walletdir, name, "wallet.dat"))
        node.start(self.issuer_args([name], restart_args))
        self.connect(node)
        self.synced(node)

    def restore_on_a_fresh_node(self, name, backup, unconfirmed):
        self.issuer.rpc("unloadwallet", name)
        self.log.info("a fresh node gets the backup, the chain and the peer's mempool")
        fresh, = self.add_nodes(1, [self.issuer_args()], names=["fresh"])
        os.makedirs(os.path.join(fresh.walletdir, name))
        shutil.copyfile(backup, os.path.join(fresh.walletdir, name, "wallet.dat"))
        fresh.start(self.issuer_args([name]))
        self.connect(fresh)
        self.synced(fresh)
        # Parents first: a payment may spend an earlier one's change.
        waiting = {txid: self.peer.rpc("getrawtransaction", txid) for txid in self.peer.rpc("getrawmempool")}
        while waiting:
            accepted = set()
            for txid, raw in waiting.items():
                try:
                    fresh.rpc("sendrawtransaction", raw)
                    accepted.add(txid)
                except RpcError:
                    pass  # a parent is still to come
            assert_true(accepted, "the peer's mempool could not be relayed: %s" % sorted(waiting))
            for txid in accepted:
                del waiting[txid]
        assert_true(unconfirmed <= set(fresh.rpc("getrawmempool")), "the fresh node has the unconfirmed payments")
        return fresh


if __name__ == "__main__":
    RestoreTest().main()
