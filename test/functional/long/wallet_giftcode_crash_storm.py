#!/usr/bin/env python3
"""The crash test at scale: 200 SIGKILLs spread over a redemption storm,
then the full audit. Zero double payments, zero lost acknowledged
redemptions.

One node holds three wallets: "issuer" (funded with a few hundred confirmed
coins, it issues the codes and pays them), "miner" (mines every block) and
"attacker" (owns every payee address). Codes are issued in rounds of 56,
each with a few attacker addresses of its own; a new round is issued
whenever fewer than half a round of codes is still unredeemed, so the storm
has codes to fight over until the last kill.

The storm: 32 client threads pick jobs at random and keep going until the
end of the test:

- redeem an unredeemed code to one of its addresses (several threads often
  pick the same code with different addresses at once);
- attack a redeemed code: the same address again (must be a replay with the
  same txid) or another of its addresses (must be refused with -405);
- now and then creategiftcode for one to three codes (they join the pool
  at the next restart).

Each request gives up on an answer after 0.2 s and is sent again, the same
request, until an answer comes: across timeouts, a full work queue, the
node's death and its restart. Each request has a bounded deadline
(counting only the time the storm is running); missing it fails the test.

The kills: the storm runs for a random time, then the node is SIGKILLed in
whatever it is doing, the storm is held at a gate (clients still retry the
request they were on, once the gate opens), the node is restarted on the
same data directory, and checked while no request is on the wire:

- getgiftcodeinfo.consistency is checked and clean;
- every redemption acknowledged so far (a reply with a txid was received)
  is there, redeemed, with the same txid and address (listgiftcodes for
  all; getgiftcode for those acknowledged since the last check and for a
  sample of older ones);
- every creation acknowledged so far exists;
- no code has two payments tagged with it; a redeemed code has exactly its
  recorded payment tagged, an issued one none; a redeemed code never goes
  back to issued nor changes its txid;
- codes nobody holds the text of (created without an acknowledgement)
  stay issued and unpaid.

Then a block is mined and the chain flushed (blocks mined since the last
flush vanish after a SIGKILL), fresh codes are issued if needed, and the
gate opens again. The node is killed --kills times (default 200).

The audit, after the storm has drained and blocks were mined until the
mempool is empty: per code at most one payment (wallet transactions tagged
with it, and outputs to its addresses on chain, all from issuer
transactions); every redeemed code's payment is confirmed, on chain once
with exactly the code's amount and to the address of its record; what the
attacker received equals getgiftcodeinfo's redeemed_amount; no
acknowledged redemption was lost. A clean restart at the end must still be
consistent. The figures are logged in a summary block at the end.
"""

import http.client
import os
import random
import sys
import threading
import time
from collections import Counter
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from test_framework.chain import COINBASE_MATURITY, flush_chain, outputs_to, wallet_txids
from test_framework.giftcode import (CODE_RE, ERR_ALREADY_REDEEMED, ERR_IN_WARMUP, ID_RE, TXID_RE, WorkQueueFull,
                                     all_gift_codes)
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_true

ISSUER, MINER, ATTACKER = "issuer", "miner", "attacker"

#: A client gives up on an answer after this long and sends the request again.
ATTEMPT_TIMEOUT = 0.2
#: Seconds of running storm (time held at the gate not counted) a request
#: may take to get an answer before the test fails.
REQUEST_DEADLINE = 120
#: Random pause between attempts: below min(BACKOFF_MAX, BACKOFF_FIRST * 2**n).
BACKOFF_FIRST, BACKOFF_MAX = 0.01, 0.3
#: Attacker addresses per code.
ADDRESSES_PER_CODE = 3
#: Share of jobs that are creategiftcode calls, share of redemption jobs
#: aimed at codes already redeemed, and share of those that replay the
#: winning address (the others try another address).
CREATE_SHARE = 0.03
ATTACK_SHARE = 0.3
REPLAY_SHARE = 0.4
#: The storm runs at least this long before a kill.
MIN_DELAY = 0.02
#: The issuer's confirmed coins: a payment spends one, its change is
#: confirmed by the block mined after each restart.
FUNDING_COINS = 300
FUNDING_COIN = Decimal("2")
FUNDING_BATCH = 30
#: Amount of the codes created by the storm's clients.
STORM_AMOUNT = Decimal("0.00777")
#: Older acknowledged redemptions read back with getgiftcode after each
#: restart, besides the new ones (listgiftcodes covers all of them).
RECHECKED_ACKS = 20
#: Blocks mined at most at the end to empty the mempool.
FINAL_BLOCKS = 20


class StormTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1
        self.extra_args = [["-rpcthreads=16", "-rpcworkqueue=512",
                             "-wallet=" + ISSUER, "-wallet=" + MINER, "-wallet=" + ATTACKER]]

    def add_options(self, parser):
        parser.add_argument("--kills", type=int, default=200, help="SIGKILLs during the storm (default: 200)")
        parser.add_argument("--clients", type=int, default=32, help="client threads (default: 32)")
        parser.add_argument("--codes-per-round", dest="codes_per_round", type=int, default=56,
                            help="codes issued per round (default: 56)")
        parser.add_argument("--max-delay", dest="max_delay", type=float, default=1.0,
                            help="longest storm (seconds) between a restart and the next kill (default: 1.0)")

    # -- shared state --------------------------------------------------------------
    def setup_state(self):
        self.cond = threading.Condition()
        self.gate_open = False     # clients send requests only while it is open
        self.finishing = False     # clients take no new jobs, finish the one they are on
        self.abort = False         # the test failed: clients stop at once
        self.inflight = 0          # requests on the wire
        self.codes = {}            # id -> {id, code, amount, addresses, origin}
        self.open_ids = set()      # codes not known to be redeemed
        self.taken = []            # codes known to be redeemed (attack targets)
        self.winner = {}           # id -> address the code is known to be paid to
        self.acks = {}             # id -> (txid, address): acknowledged redemptions
        self.fresh = Counter()     # id -> replies with replay false
        self.new_acks = []         # acknowledged since the last check
        self.created_pending = []  # acknowledged creations not yet in the pool
        self.created_ids = set()   # every acknowledged creation
        self.errors = []
        self.stats = Counter()
        self.not_broadcast = Counter()  # broadcast_error of replies with broadcast false
        self.seen_redeemed = {}    # id -> (txid, address) as the checks saw it
        self.max_tags = 0
        self.without_reply = 0
        self.rounds = 0

    def fail(self, message):
        """Records a client-side violation (called with self.cond held)."""
        self.errors.append(message)
        self.abort = True
        self.cond.notify_all()

    # -- the clients ---------------------------------------------------------------
    def pick(self):
        """A job, or None (called with self.cond held)."""
        if random.random() < CREATE_SHARE:
            count = random.randint(1, 3)
            return {"kind": "create", "method": "creategiftcode", "params": [STORM_AMOUNT, count, "storm"],
                    "amount": STORM_AMOUNT, "count": count}
        if self.open_ids and (not self.taken or random.random() >= ATTACK_SHARE):
            cid = random.choice(tuple(self.open_ids))
            address = random.choice(self.codes[cid]["addresses"])
        elif self.taken:
            cid = random.choice(self.taken)
            winner = self.winner[cid]
            if random.random() < REPLAY_SHARE:
                address = winner
            else:
                address = random.choice([a for a in self.codes[cid]["addresses"] if a != winner])
        else:
            return None
        return {"kind": "redeem", "method": "redeemgiftcode", "params": [self.codes[cid]["code"], address],
                "id": cid, "address": address}

    def client(self):
        while True:
            with self.cond:
                if self.finishing or self.abort:
                    return
                job = self.pick()
            if job is None:
                time.sleep(0.01)
                continue
            self.perform(job)

    def perform(self, job):
        """Sends job's request until an answer comes (or the test aborts)."""
        node = self.node
        path = node.wallet_path(ISSUER)
        budget_end = time.monotonic() + REQUEST_DEADLINE
        attempts = 0
        with self.cond:
            self.stats["requests_" + job["kind"]] += 1
        while True:
            with self.cond:
                if not self.gate_open and not self.abort:
                    held = time.monotonic()
                    self.cond.wait_for(lambda: self.gate_open or self.abort)
                    budget_end += time.monotonic() - held
                if self.abort:
                    return
                self.inflight += 1
            attempts += 1
            reply, kind = None, None
            try:
                reply = node.post(path, node.request_body(job["method"], job["params"]), ATTEMPT_TIMEOUT)
            except WorkQueueFull:
                kind = "attempts_queue_full"
            except TimeoutError:
                kind = "attempts_timed_out"
            except (OSError, http.client.HTTPException):
                kind = "attempts_node_down"
            with self.cond:
                self.inflight -= 1
                self.cond.notify_all()
                self.stats["attempts"] += 1
                answered = False
                if reply is not None:
                    answered = self.record(job, reply)
                else:
                    self.stats[kind] += 1
                if answered:
                    if attempts > 1:
                        self.stats["requests_retried"] += 1
                    return
                if time.monotonic() > budget_end:
                    self.fail("no answer to %s %s after %d attempts in %d s" % (
                        job["method"], job.get("id", ""), attempts, REQUEST_DEADLINE))
                    return
            time.sleep(random.uniform(0, min(BACKOFF_MAX, BACKOFF_FIRST * (2 ** min(attempts - 1, 10)))))

    def record(self, job, reply):
        """Books an answer (self.cond held). False if it is no answer yet."""
        err = reply.get("error")
        if err is not None and err.get("code") == ERR_IN_WARMUP:
            self.stats["attempts_warmup"] += 1
            return False
        if job["kind"] == "create":
            self.record_create(job, reply.get("result"), err)
        else:
            self.record_redeem(job, reply.get("result"), err)
        return True

    def record_create(self, job, result, err):
        if err is not None:
            self.fail("creategiftcode failed: %r" % (err,))
            return
        codes = result.get("codes") if isinstance(result, dict) else None
        if not isinstance(codes, list) or len(codes) != job["count"]:
            self.fail("creategiftcode reply: %r" % (result,))
            return
        for c in codes:
            if not (CODE_RE.match(str(c.get("code"))) and ID_RE.match(str(c.get("id")))):
                self.fail("creategiftcode gave a malformed code: %r" % (c,))
                return
            self.created_pending.append({"id": c["id"], "code": c["code"], "amount": job["amount"]})
            self.created_ids.add(c["id"])
        self.stats["creates_acknowledged"] += 1

    def record_redeem(self, job, result, err):
        cid, address = job["id"], job["address"]
        code = self.codes[cid]
        if err is None:
            r = result if isinstance(result, dict) else {}
            if (r.get("id"), r.get("address"), r.get("amount")) != (cid, address, code["amount"]) or \
                    not TXID_RE.match(str(r.get("txid"))) or not isinstance(r.get("replay"), bool):
                self.fail("redemption reply for %s to %s does not fit: %r" % (cid, address, r))
                return
            ack = (r["txid"], address)
            previous = self.acks.get(cid)
            if previous is not None and previous != ack:
                self.fail("two acknowledged payments for %s: %r and %r" % (cid, previous, ack))
                return
            if cid in self.winner and self.winner[cid] != address:
                self.fail("%s paid to %s, known paid to %s" % (cid, address, self.winner[cid]))
                return
            if cid in self.seen_redeemed and self.seen_redeemed[cid][0] != r["txid"]:
                self.fail("%s acknowledged with txid %s, its record says %s" % (cid, r["txid"],
                                                                               self.seen_redeemed[cid][0]))
                return
            if not r["replay"]:
                self.fresh[cid] += 1
                if self.fresh[cid] > 1:
                    self.fail("%s: a second reply with replay false" % cid)
                    return
            self.stats["replies_replay" if r["replay"] else "replies_fresh"] += 1
            if r.get("broadcast") is False:
                self.stats["replies_not_broadcast"] += 1
                self.not_broadcast[str(r.get("broadcast_error"))] += 1
            if previous is None:
                self.acks[cid] = ack
                self.new_acks.append(cid)
                self.open_ids.discard(cid)
                if cid not in self.winner:
                    self.winner[cid] = address
                    self.taken.append(cid)
        elif err.get("code") == ERR_ALREADY_REDEEMED:
            if self.winner.get(cid) == address:
                self.fail("%s refused (-405) to %s, the address it is paid to" % (cid, address))
                return
            self.open_ids.discard(cid)
            self.stats["replies_already_redeemed"] += 1
        else:
            self.fail("redeemgiftcode %s to %s: unexpected error %r" % (cid, address, err))

    # -- pool ------------------------------------------------------------------------
    def add_codes(self, entries, origin):
        """Gives each code its attacker addresses and puts it in the pool (clients held)."""
        attacker = self.node.wallet(ATTACKER)
        for e in entries:
            e = dict(e, origin=origin, addresses=[attacker.getnewaddress() for _ in range(ADDRESSES_PER_CODE)])
            with self.cond:
                self.codes[e["id"]] = e
                # Nobody could redeem it before it joined the pool.
                assert_true(e["id"] not in self.seen_redeemed, "code %s redeemed before it was handed out" % e["id"])
                self.open_ids.add(e["id"])

    def refill(self):
        with self.cond:
            pending, self.created_pending = self.created_pending, []
            low = len(self.open_ids) < self.options.codes_per_round // 2
        if pending:
            self.add_codes(pending, "storm")
        if low:
            amount = Decimal("0.01") + Decimal(self.rounds) * Decimal("0.0001")
            got = self.node.wallet(ISSUER).creategiftcode(amount, self.options.codes_per_round,
                                                          "round-%d" % self.rounds)
            self.add_codes([{"id": c["id"], "code": c["code"], "amount": amount} for c in got["codes"]],
                           "round-%d" % self.rounds)
            self.rounds += 1

    # -- checks --------------------------------------------------------------------
    def check(self, what):
        """The state after a restart (no request on the wire). Returns
        (redeemed codes, newly redeemed, of which without a reply)."""
        node, w = self.node, self.node.wallet(ISSUER)
        with self.cond:
            assert_equal(self.errors, [], "%s: client-side violations" % what)
            acks = dict(self.acks)
            new_acks, self.new_acks = self.new_acks, []
            codes = dict(self.codes)
            created_ids = set(self.created_ids)
        info = w.getgiftcodeinfo()
        c = info["consistency"]
        assert_true(c["checked"], "%s: consistency check did not run: %s" % (what, c.get("error")))
        assert_equal((c["redeemed_without_payment"], c["payment_without_redemption"], c["clean"]),
                     ([], [], True), "%s: consistency" % what)
        views = {v["id"]: v for v in all_gift_codes(node, ISSUER)}
        missing = created_ids - set(views)
        assert_equal(missing, set(), "%s: acknowledged creations missing" % what)
        for cid, (txid, address) in acks.items():
            v = views.get(cid)
            assert_true(v is not None, "%s: acknowledged redemption of %s: the code is gone" % (what, cid))
            assert_equal((v["state"], v.get("txid"), v.get("address")), ("redeemed", txid, address),
                         "%s: acknowledged redemption of %s" % (what, cid))
        fresh = set(new_acks)
        older = [cid for cid in acks if cid not in fresh]
        for cid in new_acks + random.sample(older, min(len(older), RECHECKED_ACKS)):
            v = w.getgiftcode(codes[cid]["code"])
            assert_equal((v["id"], v["state"], v["txid"], v["address"]), (cid, "redeemed") + acks[cid],
                         "%s: getgiftcode of acknowledged %s" % (what, cid))
        tags = node.tagged_payments(ISSUER)
        if tags:
            self.max_tags = max(self.max_tags, max(len(t) for t in tags.values()))
        doubles = {cid: t for cid, t in tags.items() if len(t) > 1}
        assert_equal(doubles, {}, "%s: codes with two tagged payments" % what)
        unknown_tags = set(tags) - set(views)
        assert_equal(unknown_tags, set(), "%s: payments tagged with ids that are no code" % what)
        redeemed, newly, without_reply = 0, 0, 0
        learned = []
        for cid, v in views.items():
            if v["state"] == "redeemed":
                redeemed += 1
                pair = (v["txid"], v["address"])
                assert_equal(tags.get(cid), {v["txid"]}, "%s: payments tagged with %s" % (what, cid))
                assert_true(cid in codes, "%s: %s was redeemed but nobody holds its text" % (what, cid))
                assert_equal(v["amount"], codes[cid]["amount"], "%s: amount of %s" % (what, cid))
                assert_true(v["address"] in codes[cid]["addresses"], "%s: %s paid to a stranger" % (what, cid))
                known = self.seen_redeemed.get(cid)
                if known is None:
                    newly += 1
                    if cid not in acks:
                        without_reply += 1
                    learned.append((cid, pair))
                else:
                    assert_equal(pair, known, "%s: the payment of %s changed" % (what, cid))
            else:
                assert_equal(v["state"], "issued", "%s: state of %s" % (what, cid))
                assert_true(cid not in self.seen_redeemed, "%s: %s is issued again" % (what, cid))
                assert_true(cid not in tags, "%s: issued code %s has a payment" % (what, cid))
        assert_equal(info["counts"]["redeemed"], redeemed, "%s: counts.redeemed" % what)
        with self.cond:
            for cid, pair in learned:
                self.seen_redeemed[cid] = pair
                self.open_ids.discard(cid)
                if cid not in self.winner:
                    self.winner[cid] = pair[1]
                    self.taken.append(cid)
                assert_equal(self.winner[cid], pair[1], "%s: winner of %s" % (what, cid))
        self.without_reply += without_reply
        self.stats["unbroadcast_after_restart"] += len(info["unbroadcast"])
        return redeemed, newly, without_reply, len(views)

    def audit(self, start_height):
        """The final audit. Returns (figures, violations)."""
        node, w = self.node, self.node.wallet(ISSUER)
        violations = []
        info = w.getgiftcodeinfo()
        c = info["consistency"]
        if not (c["checked"] and c["clean"]):
            violations.append("consistency: %r" % (c,))
        if info["unbroadcast"]:
            violations.append("unbroadcast payments: %r" % (info["unbroadcast"],))
        views = {v["id"]: v for v in all_gift_codes(node, ISSUER)}
        tags = node.tagged_payments(ISSUER)
        issuer_txs = set(wallet_txids(node, ISSUER))
        address_code = {a: cid for cid, code in self.codes.items() for a in code["addresses"]}
        found = outputs_to(node, list(address_code), first_height=start_height + 1, include_mempool=True)
        on_chain = {}
        received = Decimal("0")
        for address, outs in found.items():
            for txid, value, confirmed in outs:
                on_chain.setdefault(address_code[address], []).append((txid, address, value, confirmed))
                received += value
                if txid not in issuer_txs:
                    violations.append("output to %s in %s, not an issuer transaction" % (address, txid))
        max_payments = 0
        double_paid, unconfirmed, lost = [], [], []
        redeemed, paid_amount = 0, Decimal("0")
        for cid, v in views.items():
            code_tags = tags.get(cid, set())
            chain = on_chain.get(cid, [])
            payments = max(len(code_tags), len({t for t, _, _, _ in chain}), len(chain))
            max_payments = max(max_payments, payments)
            if payments > 1:
                double_paid.append(cid)
                violations.append("%s paid more than once: tags %r, outputs %r" % (cid, code_tags, chain))
            if v["state"] == "redeemed":
                redeemed += 1
                paid_amount += v["amount"]
                expected = [(v["txid"], v["address"], self.codes[cid]["amount"], True)]
                if code_tags != {v["txid"]} or chain != expected:
                    violations.append("payment of %s: record %s to %s, tags %r, outputs %r" % (
                        cid, v["txid"], v["address"], code_tags, chain))
                if not (v["confirmations"] >= 1) or v["in_mempool"]:
                    unconfirmed.append(cid)
                    violations.append("payment of %s not confirmed: %r" % (cid, v))
            elif code_tags or chain:
                violations.append("%s is %s but paid: tags %r, outputs %r" % (cid, v["state"], code_tags, chain))
        for cid, (txid, address) in self.acks.items():
            v = views.get(cid)
            if v is None or (v["state"], v.get("txid"), v.get("address")) != ("redeemed", txid, address):
                lost.append(cid)
                violations.append("acknowledged redemption of %s (%s to %s) lost: %r" % (cid, txid, address, v))
        balances = node.rpc("getbalances", wallet=ATTACKER)["mine"]
        attacker_balance = balances["trusted"] + balances["untrusted_pending"] + balances["immature"]
        by_address = sum((r["amount"] for r in node.rpc("listreceivedbyaddress", 0, False, wallet=ATTACKER)),
                         Decimal("0"))
        if not (received == attacker_balance == by_address == info["redeemed_amount"] == paid_amount):
            violations.append("amounts: on chain to the attacker %s, attacker balance %s, received by address "
                              "%s, redeemed_amount %s, sum of redeemed codes %s" % (
                                  received, attacker_balance, by_address, info["redeemed_amount"], paid_amount))
        if info["counts"]["redeemed"] != redeemed:
            violations.append("counts.redeemed %s, %d codes redeemed" % (info["counts"]["redeemed"], redeemed))
        figures = {
            "codes": len(views),
            "unknown_codes": len(set(views) - set(self.codes)),
            "redeemed": redeemed,
            "redeemed_amount": info["redeemed_amount"],
            "redeemed_fees": info["redeemed_fees"],
            "received": received,
            "max_payments": max_payments,
            "double_paid": len(double_paid),
            "unconfirmed": len(unconfirmed),
            "lost": len(lost),
            "failed_redemptions": info["failed_redemptions"],
        }
        # Payments that pay several codes (group commit), from the tags.
        codes_per_payment = {}
        for txids in tags.values():
            for txid in txids:
                codes_per_payment[txid] = codes_per_payment.get(txid, 0) + 1
        figures["payments"] = len(codes_per_payment)
        figures["payments_of_several"] = sum(1 for n in codes_per_payment.values() if n > 1)
        figures["most_codes_per_payment"] = max(codes_per_payment.values(), default=0)
        return figures, violations

    # -- the test ------------------------------------------------------------------
    def run_test(self):
        wall_start = time.monotonic()
        opts = self.options
        assert_true(opts.kills >= 1 and opts.clients >= 1 and opts.codes_per_round >= 2, "bad options")
        self.setup_state()
        node = self.node = self.nodes[0]
        issuer, miner = node.wallet(ISSUER), node.wallet(MINER)
        miner_address = miner.getnewaddress()

        self.log.info("fund: %d confirmed coins of %s MONA for the issuer; flush the chain",
                      FUNDING_COINS, FUNDING_COIN)
        node.mine(COINBASE_MATURITY + 20, miner_address)
        for first in range(0, FUNDING_COINS, FUNDING_BATCH):  # batches: the fee of one huge tx is refused
            batch = min(FUNDING_BATCH, FUNDING_COINS - first)
            miner.sendmany("", {issuer.getnewaddress(): FUNDING_COIN for _ in range(batch)})
        node.mine(1, miner_address)
        flush_chain(node)
        start_height = node.height()
        self.refill()
        self.log.info("setup took %.1f s; storm: %d clients, %.1f s per attempt, %d kills, %.2f-%.2f s between "
                      "a restart and the next kill", time.monotonic() - wall_start, opts.clients, ATTEMPT_TIMEOUT,
                      opts.kills, MIN_DELAY, opts.max_delay)

        threads = [threading.Thread(target=self.client, daemon=True, name="client%d" % i)
                   for i in range(opts.clients)]
        restart_times, delays = [], []
        kills_in_flight = 0
        storm_start = time.monotonic()
        try:
            with self.cond:
                self.gate_open = True
            for t in threads:
                t.start()
            for k in range(1, opts.kills + 1):
                delay = random.uniform(MIN_DELAY, max(MIN_DELAY, opts.max_delay))
                delays.append(delay)
                time.sleep(delay)
                with self.cond:
                    self.gate_open = False
                    in_flight = self.inflight
                    acked_before = len(self.acks)
                node.kill()
                kills_in_flight += 1 if in_flight else 0
                t0 = time.monotonic()
                node.start()
                restart_times.append(time.monotonic() - t0)
                with self.cond:
                    quiet = self.cond.wait_for(lambda: self.inflight == 0, timeout=60)
                assert_true(quiet, "requests still on the wire a minute after the restart")
                redeemed, newly, without_reply, ncodes = self.check("kill %d" % k)
                self.log.info("kill %d/%d after %.0f ms, %d requests in flight; restarted in %.1f s; %d codes, %d "
                              "redeemed (+%d, %d of them without a reply), %d acknowledged; clean",
                              k, opts.kills, delay * 1000, in_flight, restart_times[-1], ncodes, redeemed, newly,
                              without_reply, acked_before)
                node.mine(1, miner_address)
                flush_chain(node)
                if k < opts.kills:
                    self.refill()
                    with self.cond:
                        self.gate_open = True
                        self.cond.notify_all()
            storm_time = time.monotonic() - storm_start

            self.log.info("the storm drains: clients finish the request they are on, take no new one")
            with self.cond:
                self.finishing = True
                self.gate_open = True
                self.cond.notify_all()
            for t in threads:
                t.join(REQUEST_DEADLINE + 60)
                assert_true(not t.is_alive(), "a client thread hangs")
        finally:
            with self.cond:
                self.abort = self.abort or any(t.is_alive() for t in threads)
                self.cond.notify_all()
        self.check("after the storm")

        self.log.info("mine until the mempool is empty (at most %d blocks)", FINAL_BLOCKS)
        for _ in range(FINAL_BLOCKS):
            if not node.rpc("getrawmempool"):
                break
            node.mine(1, miner_address)
        flush_chain(node)
        assert_equal(node.rpc("getrawmempool"), [], "mempool after %d blocks" % FINAL_BLOCKS)

        self.log.info("the full audit")
        figures, violations = self.audit(start_height)
        self.log.info("a clean restart: still consistent, nothing lost")
        node.restart()
        self.check("the clean restart")
        wall = time.monotonic() - wall_start

        s = self.stats
        acked = len(self.acks)
        storm_codes = sum(1 for c in self.codes.values() if c["origin"] == "storm")
        rows = [
            ("kills (SIGKILL)", "%d (%d with requests on the wire)" % (opts.kills, kills_in_flight)),
            ("restart after a kill", "min %.1f s, mean %.1f s, max %.1f s" % (
                min(restart_times), sum(restart_times) / len(restart_times), max(restart_times))),
            ("storm before a kill", "min %.0f ms, mean %.0f ms, max %.0f ms" % (
                min(delays) * 1000, sum(delays) / len(delays) * 1000, max(delays) * 1000)),
            ("clients", "%d threads, %.1f s per attempt, %d attacker addresses per code" % (
                opts.clients, ATTEMPT_TIMEOUT, ADDRESSES_PER_CODE)),
            ("codes", "%d in the wallet: %d rounds of %d, %d created in the storm (acknowledged), %d created "
                      "without a reply" % (figures["codes"], self.rounds, opts.codes_per_round, storm_codes,
                                           figures["unknown_codes"])),
            ("requests", "%d redemptions, %d creations; %d attempts (%d timed out, %d node down, %d queue full, "
                         "%d warming up); %d requests needed more than one attempt" % (
                             s["requests_redeem"], s["requests_create"], s["attempts"], s["attempts_timed_out"],
                             s["attempts_node_down"], s["attempts_queue_full"], s["attempts_warmup"],
                             s["requests_retried"])),
            ("replies", "%d paid (replay false), %d replays, %d refused -405, %d not broadcast%s" % (
                s["replies_fresh"], s["replies_replay"], s["replies_already_redeemed"],
                s["replies_not_broadcast"], " (%s)" % ", ".join(
                    "%s: %d" % kv for kv in sorted(self.not_broadcast.items())) if self.not_broadcast else "")),
            ("unbroadcast after restarts", "%d payments listed in getgiftcodeinfo.unbroadcast, summed over "
                                           "the checks" % s["unbroadcast_after_restart"]),
            ("redeemed codes", "%d, %s MONA, fees %s MONA" % (figures["redeemed"], figures["redeemed_amount"],
                                                            figures["redeemed_fees"])),
            ("payments", "%d, of which %d paid several codes (at most %d)" % (
                figures["payments"], figures["payments_of_several"], figures["most_codes_per_payment"])),
            ("acknowledged redemptions", "%d codes" % acked),
            ("committed without a reply", "%d (found redeemed after a kill before any reply)" % self.without_reply),
            ("attacker received", "%s MONA (redeemed_amount %s)" % (figures["received"],
                                                                    figures["redeemed_amount"])),
            ("max payments per code", "%d (tagged in the wallet after every restart: max %d)" % (
                figures["max_payments"], self.max_tags)),
            ("double payments", "%d" % figures["double_paid"]),
            ("lost acknowledged", "%d" % figures["lost"]),
            ("unconfirmed payments", "%d" % figures["unconfirmed"]),
            ("audit violations", "%d" % len(violations)),
            ("wall time", "%.1f s (storm %.1f s)" % (wall, storm_time)),
        ]
        width = max(len(k) for k, _ in rows)
        bar = "=" * 78
        self.log.info("summary\n%s\n%s\n%s\n%s", bar, "  crash storm: %d SIGKILLs, then the full audit" % opts.kills,
                      "\n".join("  %-*s  %s" % (width, k, v) for k, v in rows), bar)
        assert_equal(violations, [], "audit violations")
        assert_equal((figures["double_paid"], figures["lost"], figures["max_payments"] <= 1), (0, 0, True))
        # The storm ran with group commit: kills landed amid payments of several codes.
        assert_true(figures["payments_of_several"] > 0, "no payment paid several codes")


if __name__ == "__main__":
    StormTest().main()
