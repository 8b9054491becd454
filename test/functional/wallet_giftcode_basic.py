#!/usr/bin/env python3
"""The gift-code life cycle on a real node, as doc/rpc.md describes it.

Proves: creategiftcode issues single and batch codes (positional and named
arguments, amounts as numbers and strings) in the documented text format,
whose checksum and id this test recomputes; getgiftcode finds a code by its
text in every accepted spelling and by its id; listgiftcodes filters by
state and label and pages in creation order without ever showing a code;
redeemgiftcode pays exactly the amount to a fresh address of a second
wallet while the issuing wallet pays the fee (its balance drops by amount +
the reported fee, gettransaction agrees and carries the code tag); a repeat
with the same address is a replay with the same txid that sends nothing;
confirmations show after mining; cancelgiftcode works by id and by text;
getgiftcodeinfo counts, liability, redeemed amount and fees match at every
step; and, when monacoin-cli is given, the CLI's string arguments work too.
"""

import json
from decimal import Decimal

from test_framework.giftcode import CODE_RE, ID_RE, PAYMENT_TAG, TXID_RE
from test_framework.test_framework import GiftCodeTestFramework
from test_framework.util import assert_equal, assert_greater_than, assert_true
from giftcodekit import codeformat as fmt


class BasicTest(GiftCodeTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def check_issued_code(self, entry):
        """A creategiftcode entry: format, checksum, id and URI as documented."""
        code, code_id, uri = entry["code"], entry["id"], entry["uri"]
        assert_true(CODE_RE.match(code), "code %r is not RGC + 8 groups of 4" % code)
        assert_true(ID_RE.match(code_id), "id %r is not 32 hex digits" % code_id)
        prefix, version, secret = fmt.parse_code(code)  # checksum recomputed here
        assert_equal((prefix, version), ("RGC", 0))
        assert_equal(fmt.format_code(prefix, secret), code, "re-encoding the secret")
        assert_equal(fmt.code_id(prefix, secret), code_id, "id = SHA-256(domain, prefix, secret)[:16]")
        assert_equal(uri, fmt.format_uri(prefix, secret))

    def check_info(self, w, issued, redeemed, cancelled, expired, liability, redeemed_amount, fees):
        info = w.getgiftcodeinfo()
        assert_equal(info["counts"], {"issued": issued, "redeemed": redeemed, "cancelled": cancelled,
                                      "expired": expired}, "counts")
        assert_equal(info["outstanding_liability"], liability, "outstanding_liability")
        assert_equal(info["redeemed_amount"], redeemed_amount, "redeemed_amount")
        assert_equal(info["redeemed_fees"], fees, "redeemed_fees")
        assert_equal(info["unbroadcast"], [], "unbroadcast")
        assert_equal(info["consistency"]["checked"], True)
        assert_equal(info["consistency"]["clean"], True)
        return info

    def run_test(self):
        node = self.nodes[0]
        for name in ("miner", "issuer", "payee"):
            node.rpc("createwallet", name)
        miner, issuer, payee = node.wallet("miner"), node.wallet("issuer"), node.wallet("payee")

        self.log.info("fund: mine 120 blocks to the miner, send 300 MONA to the issuer")
        node.mine(120, wallet="miner")
        miner_address = miner.getnewaddress()
        for _ in range(2):
            miner.sendtoaddress(issuer.getnewaddress(), Decimal("150"))
        node.mine(1, miner_address)
        assert_equal(issuer.getbalances()["mine"]["trusted"], Decimal("300"))

        self.log.info("getgiftcodeinfo of a wallet without codes")
        info = issuer.getgiftcodeinfo()
        assert_true(isinstance(info["build_id"], str) and len(info["build_id"]) == 16, "build_id is 16 hex digits")
        int(info["build_id"], 16)
        assert_equal(info["network"], "RGC")
        assert_equal(info["failed_redemptions"], {})
        assert_equal(info["consistency"]["redeemed_without_payment"], [])
        assert_equal(info["consistency"]["payment_without_redemption"], [])
        self.check_info(issuer, 0, 0, 0, 0, Decimal("0"), Decimal("0"), Decimal("0"))

        self.log.info("create one code of 1.5 MONA")
        single = issuer.creategiftcode(Decimal("1.5"))
        assert_equal(single["amount"], Decimal("1.5"))
        assert_equal(single["count"], 1)
        assert_equal(single["label"], "")
        assert_equal(single["expires_at"], None)
        assert_equal(len(single["codes"]), 1)
        self.check_issued_code(single["codes"][0])
        code_a, id_a = single["codes"][0]["code"], single["codes"][0]["id"]

        self.log.info("create a batch of 5 codes of 0.25 MONA labelled 'batch'")
        batch = issuer.creategiftcode(Decimal("0.25"), 5, "batch")
        assert_equal((batch["amount"], batch["count"], batch["label"]), (Decimal("0.25"), 5, "batch"))
        assert_equal(len(batch["codes"]), 5)
        for entry in batch["codes"]:
            self.check_issued_code(entry)
        assert_equal(len({e["code"] for e in batch["codes"]}), 5, "distinct codes")
        assert_equal(len({e["id"] for e in batch["codes"]}), 5, "distinct ids")

        self.log.info("create 3 codes with named arguments and the amount as a string")
        named = issuer.creategiftcode(amount="0.1", count=3, label="named")
        assert_equal((named["amount"], named["count"], named["label"]), (Decimal("0.1"), 3, "named"))
        for entry in named["codes"]:
            self.check_issued_code(entry)
        all_ids = {id_a} | {e["id"] for e in batch["codes"]} | {e["id"] for e in named["codes"]}
        assert_equal(len(all_ids), 9)
        self.check_info(issuer, 9, 0, 0, 0, Decimal("3.05"), Decimal("0"), Decimal("0"))

        self.log.info("getgiftcode by id and by code, in every accepted spelling")
        view = issuer.getgiftcode(id_a)
        assert_equal(view["id"], id_a)
        assert_equal(view["state"], "issued")
        assert_equal(view["amount"], Decimal("1.5"))
        assert_equal(view["label"], "")
        assert_equal(view["expires_at"], None)
        assert_true(isinstance(view["created_at"], int) and view["created_at"] > 0, "created_at")
        for absent in ("txid", "address", "redeemed_at", "fee", "confirmations", "cancelled_at", "code"):
            assert_true(absent not in view, "an issued code shows no %s" % absent)
        compact = fmt.normalise(code_a)
        spellings = [
            code_a,
            code_a.lower(),
            compact,
            compact.lower(),
            code_a.replace("-", " "),
            code_a.replace("-", "_"),
            single["codes"][0]["uri"],
            " ".join(compact[i:i + 5] for i in range(0, len(compact), 5)),
            compact[:3] + compact[3:].replace("1", "L").replace("0", "O"),
            compact[:3] + compact[3:].replace("1", "i"),
        ]
        for text in spellings:
            assert_equal(issuer.getgiftcode(text), view, "getgiftcode(%r)" % text)
        assert_equal(issuer.getgiftcode(id_a.upper()), view, "id in upper case")
        assert_equal(issuer.getgiftcode(code_or_id=id_a), view, "named argument")

        self.log.info("listgiftcodes: filters, order, paging, never the codes")
        listing = issuer.listgiftcodes()
        assert_equal(listing["total"], 9)
        assert_equal(listing["skip"], 0)
        assert_equal({c["id"] for c in listing["codes"]}, all_ids)
        assert_equal([c["id"] for c in listing["codes"]],
                     [c["id"] for c in single["codes"] + batch["codes"] + named["codes"]],
                     "oldest first, in the order they were created")
        text = json.dumps(listing, default=str)
        for entry in single["codes"] + batch["codes"] + named["codes"]:
            assert_true(fmt.normalise(entry["code"])[3:] not in fmt.normalise(text), "a code leaked into a listing")
        for c in listing["codes"]:
            assert_true("code" not in c and "uri" not in c, "listing shows a code")
            assert_equal(c, issuer.getgiftcode(c["id"]), "listing entry = getgiftcode")
        assert_equal(issuer.listgiftcodes("issued")["total"], 9)
        assert_equal(issuer.listgiftcodes("redeemed"), {"total": 0, "skip": 0, "codes": [], "totals": []})
        assert_equal(issuer.listgiftcodes("", "batch")["total"], 5)
        assert_equal({c["id"] for c in issuer.listgiftcodes("", "batch")["codes"]}, {e["id"] for e in batch["codes"]})
        assert_equal(issuer.listgiftcodes("issued", "named")["total"], 3)
        assert_equal([c["id"] for c in issuer.listgiftcodes("", "")["codes"]], [id_a], "label '' is a filter")
        assert_equal(issuer.listgiftcodes("", "no such label")["total"], 0)
        for size in (1, 2, 4):
            paged = []
            for skip in range(0, 11, size):
                page = issuer.listgiftcodes("", None, skip, size)
                assert_equal(page["total"], 9)
                assert_equal(page["skip"], skip)
                assert_true(len(page["codes"]) <= size, "page larger than count")
                paged += page["codes"]
            assert_equal(paged, listing["codes"], "pages of %d concatenated" % size)
        assert_equal(issuer.listgiftcodes("", None, 9, 5)["codes"], [])
        assert_equal(issuer.listgiftcodes("", None, 1000)["total"], 9)
        page = issuer.listgiftcodes(label="batch", skip=1, count=2)
        assert_equal(page["total"], 5)
        assert_equal(page["codes"], issuer.listgiftcodes("", "batch")["codes"][1:3], "named paging")

        self.log.info("redeem the 1.5 MONA code to a fresh address of the payee wallet")
        address = payee.getnewaddress()
        trusted_before = issuer.getbalances()["mine"]["trusted"]
        issuer_txs_before = len(issuer.listtransactions("*", 1000))
        r = issuer.redeemgiftcode(code_a, address)
        assert_equal(r["id"], id_a)
        assert_true(TXID_RE.match(r["txid"]), "txid")
        assert_equal(r["amount"], Decimal("1.5"))
        assert_equal(r["address"], address)
        assert_equal(r["replay"], False)
        assert_equal(r["broadcast"], True)
        assert_true("broadcast_error" not in r, "no broadcast_error when broadcast")
        assert_true(isinstance(r["redeemed_at"], int) and r["redeemed_at"] >= view["created_at"], "redeemed_at")
        fee = r["fee"]
        assert_greater_than(fee, Decimal("0"), "fee")
        assert_greater_than(Decimal("0.01"), fee, "fee is sane")
        txid_a = r["txid"]
        assert_true(txid_a in node.rpc("getrawmempool"), "payment is in the mempool")

        self.log.info("the issuer paid amount + fee; gettransaction shows the payment and its tag")
        assert_equal(issuer.getbalances()["mine"]["trusted"], trusted_before - Decimal("1.5") - fee)
        tx = issuer.gettransaction(txid_a)
        assert_equal(tx["amount"], Decimal("-1.5"))
        assert_equal(tx["fee"], -fee)
        assert_equal(tx[PAYMENT_TAG], id_a, "the wallet transaction is tagged with the code id")
        sends = [d for d in tx["details"] if d["category"] == "send"]
        assert_equal([(d["address"], d["amount"]) for d in sends], [(address, Decimal("-1.5"))])
        assert_equal(len(issuer.listtransactions("*", 1000)), issuer_txs_before + 1)
        decoded = node.rpc("decoderawtransaction", tx["hex"])
        paid = [o["value"] for o in decoded["vout"] if address in o["scriptPubKey"].get("addresses", [])]
        assert_equal(paid, [Decimal("1.5")], "exactly one output of exactly the amount to the payee")

        self.log.info("the payee sees exactly the amount")
        node.sync_callbacks()  # the payee wallet learns of the payment asynchronously
        assert_equal(payee.getreceivedbyaddress(address, 0), Decimal("1.5"))
        assert_equal(payee.gettransaction(txid_a)["amount"], Decimal("1.5"))

        self.log.info("getgiftcode of the redeemed code, unconfirmed")
        view = issuer.getgiftcode(code_a)
        assert_equal(view["state"], "redeemed")
        assert_equal(view["txid"], txid_a)
        assert_equal(view["address"], address)
        assert_equal(view["redeemed_at"], r["redeemed_at"])
        assert_equal(view["fee"], fee)
        assert_equal(view["confirmations"], 0)
        assert_equal(view["in_mempool"], True)
        assert_equal(view["abandoned"], False)
        assert_equal(view["conflicted"], False)
        assert_true("broadcast_error" not in view, "no broadcast_error")
        self.check_info(issuer, 8, 1, 0, 0, Decimal("1.55"), Decimal("1.5"), fee)

        self.log.info("a repeat with the same address is a replay: same txid, nothing sent")
        mempool = sorted(node.rpc("getrawmempool"))
        for text in (code_a, code_a.lower(), single["codes"][0]["uri"]):
            again = issuer.redeemgiftcode(text, address)
            assert_equal(again["txid"], txid_a)
            assert_equal(again["replay"], True)
            assert_equal(again["broadcast"], True)
            assert_equal((again["id"], again["amount"], again["fee"], again["address"], again["redeemed_at"]),
                         (id_a, Decimal("1.5"), fee, address, r["redeemed_at"]))
        again = issuer.redeemgiftcode(code=code_a, address=address)
        assert_equal((again["txid"], again["replay"]), (txid_a, True))
        assert_equal(sorted(node.rpc("getrawmempool")), mempool)
        assert_equal(len(issuer.listtransactions("*", 1000)), issuer_txs_before + 1)
        assert_equal(issuer.getbalances()["mine"]["trusted"], trusted_before - Decimal("1.5") - fee)
        node.sync_callbacks()  # the payee wallet learns of the payment asynchronously
        assert_equal(payee.getreceivedbyaddress(address, 0), Decimal("1.5"))

        self.log.info("mine: the payment confirms")
        node.mine(1, miner_address)
        view = issuer.getgiftcode(id_a)
        assert_equal(view["confirmations"], 1)
        assert_equal(view["in_mempool"], False)
        assert_equal(issuer.gettransaction(txid_a)["confirmations"], 1)
        assert_equal(payee.getreceivedbyaddress(address, 1), Decimal("1.5"))
        assert_equal(issuer.getbalances()["mine"]["trusted"], trusted_before - Decimal("1.5") - fee)
        node.mine(2, miner_address)
        assert_equal(issuer.getgiftcode(code_a)["confirmations"], 3)
        again = issuer.redeemgiftcode(code_a, address)
        assert_equal((again["txid"], again["replay"], again["broadcast"]), (txid_a, True, True))

        self.log.info("redeem a batch code with named arguments; listings follow")
        code_b, id_b = batch["codes"][0]["code"], batch["codes"][0]["id"]
        address_b = payee.getnewaddress()
        rb = issuer.redeemgiftcode(code=code_b, address=address_b)
        assert_equal((rb["id"], rb["amount"], rb["replay"], rb["broadcast"]), (id_b, Decimal("0.25"), False, True))
        node.sync_callbacks()  # the payee wallet learns of the payment asynchronously
        assert_equal(payee.getreceivedbyaddress(address_b, 0), Decimal("0.25"))
        assert_equal(issuer.listgiftcodes("redeemed")["total"], 2)
        assert_equal(issuer.listgiftcodes("issued", "batch")["total"], 4)
        assert_equal([c["id"] for c in issuer.listgiftcodes("redeemed", "batch")["codes"]], [id_b])
        self.check_info(issuer, 7, 2, 0, 0, Decimal("1.30"), Decimal("1.75"), fee + rb["fee"])

        self.log.info("cancel one code by id and one by its text")
        id_c, code_d, id_d = batch["codes"][1]["id"], batch["codes"][2]["code"], batch["codes"][2]["id"]
        cancelled = issuer.cancelgiftcode(id_c)
        assert_equal((cancelled["id"], cancelled["state"]), (id_c, "cancelled"))
        assert_true(isinstance(cancelled["cancelled_at"], int), "cancelled_at")
        assert_equal(issuer.getgiftcode(id_c), cancelled)
        cancelled_d = issuer.cancelgiftcode(code_or_id=code_d)
        assert_equal((cancelled_d["id"], cancelled_d["state"]), (id_d, "cancelled"))
        assert_equal(issuer.listgiftcodes("cancelled")["total"], 2)
        self.check_info(issuer, 5, 2, 2, 0, Decimal("0.80"), Decimal("1.75"), fee + rb["fee"])

        self.log.info("listgiftcodes totals: what a campaign paid and still owes, in one call")
        zero = {"count": 0, "amount": Decimal("0")}
        assert_equal(issuer.listgiftcodes("", "batch", 0, 1)["totals"], [{
            "label": "batch",
            "issued": {"count": 2, "amount": Decimal("0.50")},
            "redeemed": {"count": 1, "amount": Decimal("0.25")},
            "cancelled": {"count": 2, "amount": Decimal("0.50")},
            "expired": zero,
        }])
        everything = issuer.listgiftcodes()["totals"]
        labels = [t["label"] for t in everything]
        assert_equal(labels, sorted(labels, key=lambda label: label.encode()), "labels in byte order")
        assert_equal(sum(t[state]["count"] for t in everything for state in ("issued", "redeemed", "cancelled", "expired")),
                     issuer.listgiftcodes()["total"], "totals count every code")

        self.log.info("exactly one tagged payment per redeemed code, none for the others")
        assert_equal(node.tagged_payments("issuer"), {id_a: {txid_a}, id_b: {rb["txid"]}})
        node.mine(1, miner_address)
        assert_equal(payee.getreceivedbyaddress(address_b, 1), Decimal("0.25"))
        assert_equal(issuer.getgiftcode(id_b)["confirmations"], 1)

        if self.monacoin_cli:
            self.log.info("monacoin-cli: the string arguments the CLI sends work")
            out = json.loads(node.cli("creategiftcode", "0.5", "2", "cli", wallet="issuer"), parse_float=Decimal)
            assert_equal((out["amount"], out["count"], out["label"]), (Decimal("0.5"), 2, "cli"))
            for entry in out["codes"]:
                self.check_issued_code(entry)
            got = json.loads(node.cli("getgiftcode", out["codes"][0]["code"], wallet="issuer"), parse_float=Decimal)
            assert_equal((got["id"], got["state"]), (out["codes"][0]["id"], "issued"))
            page = json.loads(node.cli("listgiftcodes", "issued", "cli", "1", "1", wallet="issuer"))
            assert_equal((page["total"], page["skip"], len(page["codes"])), (2, 1, 1))
        else:
            self.log.info("no monacoin-cli given: CLI checks skipped")


if __name__ == "__main__":
    BasicTest().main()
