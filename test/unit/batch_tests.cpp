// Group commit: redemptions that arrive while a payment is being made are
// paid together by the next payment, one output each, their records in one
// commit; a lone redemption is paid alone; a batch that cannot be funded or
// built splits so that every payable code is paid; one request's refusal
// never fails the others; codes paid together are followed, moved and
// recognised after a restore together.
#include "ledger.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

using Request = std::pair<std::string, std::string>;  // code, address

struct BatchFixture {
    MemoryStore store;
    std::unique_ptr<FakeNode> node;
    std::unique_ptr<Ledger> ledger;

    explicit BatchFixture(size_t max_payment_codes = MAX_TAGS, Amount balance = 1000000 * COIN)
    {
        node = std::make_unique<FakeNode>(store, balance);
        node->max_payment_codes = max_payment_codes;
        ledger = node->Open();
    }

    std::vector<IssuedCode> Create(size_t count)
    {
        Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, count, "batch", 0);
        BOOST_REQUIRE(codes.ok());
        return codes.value();
    }

    //! Redeems `first`; while its payment is being made, `others` arrive
    //! (each on its own thread, in order) and wait. `during` runs once
    //! they all wait, still inside the first payment. Returns the first's
    //! result, then the others' in order.
    std::vector<Result<Redemption>> RedeemTogether(const Request& first, const std::vector<Request>& others,
                                                   const std::function<void()>& during = {})
    {
        std::vector<std::optional<Result<Redemption>>> results(others.size());
        std::vector<std::thread> threads;
        bool started = false;
        node->payer.SetWhilePaying([&] {
            if (started) return;
            started = true;
            for (size_t i = 0; i < others.size(); ++i) {
                threads.emplace_back([&, i] { results[i] = ledger->Redeem(others[i].first, others[i].second); });
                // Arrival order is the order of the requests.
                WaitForWaiting(i + 1);
            }
            if (during) during();
        });
        Result<Redemption> lead = ledger->Redeem(first.first, first.second);
        node->payer.SetWhilePaying({});
        for (std::thread& t : threads) t.join();
        std::vector<Result<Redemption>> out{lead};
        for (auto& r : results) out.push_back(std::move(*r));
        return out;
    }

    //! Polls, from another thread (the caller may hold the write lock),
    //! until `n` redemptions wait for the payment under way.
    void WaitForWaiting(size_t n)
    {
        std::thread poll([&] {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (ledger->Info().waiting < n && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        });
        poll.join();
        BOOST_REQUIRE_EQUAL(ledger->Info().waiting, n);
    }

    CodeView View(const IssuedCode& code)
    {
        Result<CodeView> view = ledger->Get(code.id.ToHex());
        BOOST_REQUIRE(view.ok());
        return view.value();
    }
};

//! Codes [from, to), code i to payee i.
std::vector<Request> RequestsFor(const std::vector<IssuedCode>& codes, size_t from, size_t to)
{
    std::vector<Request> requests;
    for (size_t i = from; i < to; ++i) requests.push_back({codes[i].code, TestAddress(int(i))});
    return requests;
}

TxChainState Confirmed(int confirmations)
{
    TxChainState state;
    state.known = true;
    state.confirmations = confirmations;
    return state;
}

} // namespace

BOOST_AUTO_TEST_SUITE(batch_tests)

BOOST_AUTO_TEST_CASE(a_lone_redemption_is_paid_alone)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(2);
    Result<Redemption> r = f.ledger->Redeem(codes[0].code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    BOOST_CHECK_EQUAL(r->vout, 0u);
    BOOST_CHECK_EQUAL(r->fee, FakePayer::FEE);
    BOOST_CHECK(f.node->payer.payment_sizes() == std::vector<size_t>{1});
    const LedgerInfo info = f.ledger->Info();
    BOOST_CHECK_EQUAL(info.batches.payments, 1u);
    BOOST_CHECK_EQUAL(info.batches.codes, 1u);
    BOOST_CHECK_EQUAL(info.batches.largest, 1u);
    BOOST_CHECK_EQUAL(info.waiting, 0u);
}

BOOST_AUTO_TEST_CASE(redemptions_arriving_during_a_payment_are_paid_together)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(6);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 6));
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 5}));
    const Txid together = results[1]->txid;
    BOOST_CHECK(results[0]->txid != together);
    Amount fees = 0;
    std::set<uint32_t> vouts;
    for (size_t i = 1; i < results.size(); ++i) {
        BOOST_CHECK(results[i]->txid == together);
        BOOST_CHECK(!results[i]->replay);
        BOOST_CHECK(results[i]->broadcast);
        BOOST_CHECK(results[i]->payment_state == PaymentState::kMempool);
        // In the order they arrived, one output each.
        BOOST_CHECK_EQUAL(results[i]->vout, uint32_t(i - 1));
        vouts.insert(results[i]->vout);
        fees += results[i]->fee;
    }
    BOOST_CHECK_EQUAL(vouts.size(), 5u);
    // The payment's fee is shared: it is paid once.
    BOOST_CHECK_EQUAL(fees, FakePayer::FEE + 4 * FakePayer::FEE_PER_CODE);
    const LedgerInfo info = f.ledger->Info();
    BOOST_CHECK_EQUAL(info.batches.payments, 2u);
    BOOST_CHECK_EQUAL(info.batches.codes, 6u);
    BOOST_CHECK_EQUAL(info.batches.largest, 5u);
    BOOST_CHECK_EQUAL(info.redeemed_fees, FakePayer::FEE + fees);
    // A replay names the same payment and output.
    Result<Redemption> again = f.ledger->Redeem(codes[3].code, TestAddress(3));
    BOOST_REQUIRE(again.ok());
    BOOST_CHECK(again->replay);
    BOOST_CHECK(again->txid == together);
    BOOST_CHECK_EQUAL(again->vout, 2u);
    // The wallet holds one payment tagged with the five codes, and the
    // check agrees with it.
    (void)f.ledger->FollowPayments();
    BOOST_CHECK(f.ledger->Consistency().clean());
    // Read back from the database, every code keeps its output.
    f.ledger.reset();
    f.ledger = f.node->Open();
    for (size_t i = 1; i < codes.size(); ++i) {
        const CodeView view = f.View(codes[i]);
        BOOST_CHECK(view.record.txid == together);
        BOOST_CHECK_EQUAL(view.record.vout, uint32_t(i - 1));
    }
}

BOOST_AUTO_TEST_CASE(a_payment_is_broadcast_before_the_next_is_built)
{
    // The wallet trusts (and spends) the change of its own unconfirmed
    // payment only once that payment is in the mempool.
    BatchFixture f(/*max_payment_codes=*/2);
    const std::vector<IssuedCode> codes = f.Create(5);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 5));
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 2, 2}));
    BOOST_CHECK(f.node->payer.broadcasts_before_payments() == (std::vector<int>{0, 1, 2}));
}

BOOST_AUTO_TEST_CASE(a_payment_pays_at_most_max_payment_codes)
{
    BatchFixture f(/*max_payment_codes=*/3);
    const std::vector<IssuedCode> codes = f.Create(8);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 8));
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 3, 3, 1}));
    BOOST_CHECK_EQUAL(f.ledger->Info().batches.largest, 3u);
}

BOOST_AUTO_TEST_CASE(a_batch_too_large_splits_until_every_code_is_paid)
{
    BatchFixture f;
    f.node->payer.SetMaxCodesPerPayment(2);
    const std::vector<IssuedCode> codes = f.Create(6);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 6));
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    // 5 fail as a whole; 2 are paid; 3 fail; 1 and 2 are paid.
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 5, 2, 3, 1, 2}));
    const LedgerInfo info = f.ledger->Info();
    BOOST_CHECK_EQUAL(info.batches.splits, 2u);
    BOOST_CHECK_EQUAL(info.batches.payments, 4u);
    BOOST_CHECK_EQUAL(info.counts.at(CodeState::kRedeemed), 6u);
    BOOST_CHECK(info.failed_redemptions.empty());
}

BOOST_AUTO_TEST_CASE(a_batch_that_cannot_be_funded_pays_what_it_can)
{
    // Enough for the first payment and one payment of two codes.
    const Amount balance = (COIN + FakePayer::FEE) + (2 * COIN + FakePayer::FEE + FakePayer::FEE_PER_CODE) + 1000;
    BatchFixture f(MAX_TAGS, balance);
    const std::vector<IssuedCode> codes = f.Create(5);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 5));
    BOOST_REQUIRE(results[0].ok());
    BOOST_REQUIRE(results[1].ok());
    BOOST_REQUIRE(results[2].ok());
    BOOST_CHECK(results[1]->txid == results[2]->txid);
    for (size_t i = 3; i < 5; ++i) {
        BOOST_REQUIRE(!results[i].ok());
        BOOST_CHECK(results[i].status().code() == StatusCode::kInsufficientFunds);
        // Refused: nothing changed, the code can still be redeemed.
        BOOST_CHECK(f.View(codes[i]).state == CodeState::kIssued);
    }
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 4, 2, 2, 1, 1}));
    BOOST_CHECK_EQUAL(f.node->payer.balance(), 1000);
    const LedgerInfo info = f.ledger->Info();
    BOOST_CHECK_EQUAL(info.failed_redemptions.at(StatusCode::kInsufficientFunds), 2u);
    BOOST_CHECK_EQUAL(info.counts.at(CodeState::kRedeemed), 3u);
}

BOOST_AUTO_TEST_CASE(funds_not_yet_spendable_split_a_batch_too)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(4);
    // All but two lone payments' worth is unconfirmed or locked.
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 4), [&] {
        f.node->payer.SetPendingFunds(f.node->payer.balance() - 2 * (COIN + FakePayer::FEE));
    });
    BOOST_REQUIRE(results[0].ok());
    BOOST_REQUIRE(results[1].ok());
    BOOST_REQUIRE(results[2].ok());
    BOOST_REQUIRE(!results[3].ok());
    BOOST_CHECK(results[3].status().code() == StatusCode::kFundsPending);
    BOOST_CHECK(f.View(codes[3]).state == CodeState::kIssued);
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 3, 1, 2, 1, 1}));
}

BOOST_AUTO_TEST_CASE(an_address_the_wallet_refuses_fails_alone)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(4);
    f.node->payer.SetRefusedAddress(TestAddress(2));
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 4));
    BOOST_REQUIRE(results[0].ok());
    BOOST_REQUIRE(results[1].ok());
    BOOST_REQUIRE(!results[2].ok());
    BOOST_CHECK(results[2].status().code() == StatusCode::kInvalidAddress);
    BOOST_REQUIRE(results[3].ok());
    BOOST_CHECK(f.View(codes[2]).state == CodeState::kIssued);
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 3, 1, 2, 1, 1}));
}

BOOST_AUTO_TEST_CASE(no_part_is_paid_after_a_part_the_wallet_did_not_take)
{
    // A payment split in two: the wallet does not take the first part, and
    // cannot take it back; the second could pick the same coins, so it is
    // not paid.
    BatchFixture f(MAX_TAGS, /*balance=*/COIN + FakePayer::FEE + 2 * COIN + FakePayer::FEE + FakePayer::FEE_PER_CODE);
    const std::vector<IssuedCode> codes = f.Create(5);
    f.node->payer.FailRestores(true);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 5), [&] {
        f.node->payer.FailAdoptions(1);
    });
    BOOST_REQUIRE(results[0].ok());
    BOOST_REQUIRE(results[1].ok());
    BOOST_REQUIRE(results[2].ok());
    for (size_t i = 3; i < 5; ++i) {
        BOOST_REQUIRE(!results[i].ok());
        BOOST_CHECK(results[i].status().code() == StatusCode::kPaymentFailed);
    }
    // The 4 as a whole could not be funded; the first half was committed
    // but not taken; the second half was not tried.
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 4, 2}));
}

BOOST_AUTO_TEST_CASE(a_refusal_in_a_batch_fails_only_its_own_request)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(4);
    // Code 1 twice to different payees, code 2 twice to the same payee,
    // and code 3 once.
    const std::vector<Request> others{{codes[1].code, TestAddress(1)}, {codes[1].code, TestAddress(9)},
                                      {codes[2].code, TestAddress(2)}, {codes[2].code, TestAddress(2)},
                                      {codes[3].code, TestAddress(3)}};
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, others);
    BOOST_REQUIRE(results[1].ok());
    BOOST_CHECK(!results[1]->replay);
    BOOST_REQUIRE(!results[2].ok());
    BOOST_CHECK(results[2].status().code() == StatusCode::kAlreadyRedeemed);
    BOOST_REQUIRE(results[3].ok());
    BOOST_REQUIRE(results[4].ok());
    BOOST_CHECK(results[4]->replay);
    BOOST_CHECK(results[4]->txid == results[3]->txid);
    BOOST_CHECK_EQUAL(results[4]->vout, results[3]->vout);
    BOOST_REQUIRE(results[5].ok());
    BOOST_CHECK(results[5]->txid == results[1]->txid);
    // One payment of the three codes; the second requests were decided by it.
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 3}));
    BOOST_CHECK_EQUAL(FakePayer::RecordedPayments(f.store).size(), 4u);
}

BOOST_AUTO_TEST_CASE(a_failing_wallet_fails_every_request_of_the_batch_alike)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(4);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 4),
                                          [&] { f.node->payer.SetLocked(true); });
    BOOST_REQUIRE(results[0].ok());
    for (size_t i = 1; i < 4; ++i) {
        BOOST_REQUIRE(!results[i].ok());
        BOOST_CHECK(results[i].status().code() == StatusCode::kWalletLocked);
        BOOST_CHECK(f.View(codes[i]).state == CodeState::kIssued);
    }
    // Not split: splitting cannot unlock a wallet.
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 3}));
    f.node->payer.SetLocked(false);
    BOOST_CHECK(f.ledger->Redeem(codes[1].code, TestAddress(1)).ok());
}

BOOST_AUTO_TEST_CASE(a_batch_the_wallet_did_not_take_goes_back_with_every_code)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(4);
    f.node->payer.FailRestores(true);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 4),
                                          [&] { f.node->payer.FailAdoptions(1); });
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    // Not taken and not put back: no new payment until it is.
    Result<std::vector<IssuedCode>> more = f.ledger->Create(COIN, 1, "", 0);
    BOOST_REQUIRE(more.ok());
    Result<Redemption> blocked = f.ledger->Redeem(more->front().code, TestAddress(7));
    BOOST_REQUIRE(!blocked.ok());
    BOOST_CHECK(blocked.status().code() == StatusCode::kPaymentFailed);
    f.node->payer.FailRestores(false);
    BOOST_REQUIRE(f.ledger->Redeem(more->front().code, TestAddress(7)).ok());
    // Put back tagged with each of its codes.
    const auto recorded = FakePayer::RecordedPayments(f.store);
    BOOST_CHECK_EQUAL(recorded.count(results[1]->txid), 3u);
    (void)f.ledger->FollowPayments();
    BOOST_CHECK(f.ledger->Consistency().clean());
}

BOOST_AUTO_TEST_CASE(a_replaced_batch_moves_every_code_in_one_commit)
{
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(4);
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 4));
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    const Txid old_txid = results[1]->txid;
    const Payment replacement = f.node->payer.Replace(old_txid, 9000);
    const int commits = f.store.commits();
    (void)f.ledger->FollowPayments();
    BOOST_CHECK_EQUAL(f.store.commits(), commits + 1);
    Amount fees = 0;
    for (size_t i = 1; i < 4; ++i) {
        const CodeView view = f.View(codes[i]);
        BOOST_CHECK(view.record.txid == replacement.txid);
        BOOST_CHECK_EQUAL(view.record.vout, uint32_t(i - 1));
        BOOST_REQUIRE_EQUAL(view.record.replaced.size(), 1u);
        BOOST_CHECK(view.record.replaced[0] == old_txid);
        fees += view.record.fee;
    }
    BOOST_CHECK_EQUAL(fees, 9000);
    BOOST_CHECK(f.ledger->Consistency().clean());
}

BOOST_AUTO_TEST_CASE(alike_outputs_each_keep_their_own_after_a_replacement)
{
    // Two codes of one amount paid to one address; the replacement puts the
    // change first, so every output moves one place on.
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(3);
    const std::vector<Request> others{{codes[1].code, TestAddress(7)}, {codes[2].code, TestAddress(7)}};
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, others);
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    BOOST_REQUIRE(results[1]->txid == results[2]->txid);
    const Payment replacement = f.node->payer.Replace(results[1]->txid, 9000, /*shift=*/1);
    (void)f.ledger->FollowPayments();
    std::set<uint32_t> vouts;
    for (size_t i = 1; i < 3; ++i) {
        const CodeView view = f.View(codes[i]);
        BOOST_CHECK(view.record.txid == replacement.txid);
        vouts.insert(view.record.vout);
    }
    BOOST_CHECK(vouts == (std::set<uint32_t>{1, 2}));
    BOOST_CHECK(f.ledger->Consistency().clean());
}

BOOST_AUTO_TEST_CASE(codes_paid_together_are_found_after_a_restore)
{
    BatchFixture f;
    const std::vector<IssuedCode> old_codes = f.Create(4);
    const MemoryStore::Snapshot backup = f.store.TakeSnapshot();
    // A code issued after the backup is the first of the payment: its key
    // gets the change, and the restored wallet does not know that key.
    const std::vector<IssuedCode> new_codes = f.Create(1);
    std::vector<Request> others{{new_codes[0].code, TestAddress(10)}};
    for (const Request& r : RequestsFor(old_codes, 1, 4)) others.push_back(r);
    const auto results = f.RedeemTogether({old_codes[0].code, TestAddress(0)}, others);
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    const Txid together = results[1]->txid;
    const std::vector<Payment> parts = f.node->payer.PaymentsOf(together);
    BOOST_REQUIRE_EQUAL(parts.size(), 4u);
    const std::vector<Payment> lone = f.node->payer.PaymentsOf(results[0]->txid);

    // The wallet is put back; its node learns both payments from the chain.
    f.ledger.reset();
    f.store.RestoreSnapshot(backup);
    f.node = std::make_unique<FakeNode>(f.store);
    f.node->payer.LearnFromChain(lone, Confirmed(1));
    f.node->payer.LearnFromChain(parts, Confirmed(1));
    f.ledger = f.node->Open();
    const LedgerInfo info = f.ledger->Info();
    BOOST_CHECK(info.restore.detected);
    BOOST_CHECK_EQUAL(info.restore.found_on_chain, 4u);
    for (size_t i = 1; i < 4; ++i) {
        const CodeView view = f.View(old_codes[i]);
        BOOST_CHECK(view.state == CodeState::kRedeemed);
        BOOST_CHECK(view.record.found_on_chain);
        BOOST_CHECK(view.record.txid == together);
        BOOST_CHECK_EQUAL(view.record.vout, uint32_t(i));
        BOOST_CHECK_EQUAL(view.record.address, TestAddress(int(i)));
        // Never paid again.
        Result<Redemption> again = f.ledger->Redeem(old_codes[i].code, TestAddress(int(i)));
        BOOST_REQUIRE(again.ok());
        BOOST_CHECK(again->replay);
        BOOST_CHECK(again->txid == together);
        BOOST_CHECK(!f.ledger->Redeem(old_codes[i].code, TestAddress(99)).ok());
    }
    BOOST_CHECK(f.View(old_codes[0]).record.txid == results[0]->txid);
    // The wallet's copy is tagged with every code it knows.
    (void)f.ledger->FollowPayments();
    BOOST_CHECK(f.ledger->Consistency().clean());
}

BOOST_AUTO_TEST_CASE(a_replaced_batch_is_found_once_after_a_restore)
{
    // Both the payment and its replacement reach the restored wallet: each
    // code is recorded once, with the deeper of the two.
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(3);
    const MemoryStore::Snapshot backup = f.store.TakeSnapshot();
    const auto results = f.RedeemTogether({codes[0].code, TestAddress(0)}, RequestsFor(codes, 1, 3));
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    const std::vector<Payment> original = f.node->payer.PaymentsOf(results[1]->txid);
    const Payment replacement = f.node->payer.Replace(results[1]->txid, 9000);
    const std::vector<Payment> replaced = f.node->payer.PaymentsOf(replacement.txid);
    f.ledger.reset();
    f.store.RestoreSnapshot(backup);
    f.node = std::make_unique<FakeNode>(f.store);
    f.node->payer.LearnFromChain(original, TxChainState{true, 0, false, false, true, 1, std::nullopt});
    f.node->payer.LearnFromChain(replaced, Confirmed(1));
    f.ledger = f.node->Open();
    BOOST_CHECK_EQUAL(f.ledger->Info().restore.found_on_chain, 2u);
    // Both with the replacement, the one mined.
    for (size_t i = 1; i < 3; ++i) {
        const CodeView view = f.View(codes[i]);
        BOOST_CHECK(view.state == CodeState::kRedeemed);
        BOOST_CHECK(view.record.txid == replacement.txid);
        BOOST_CHECK_EQUAL(view.record.vout, uint32_t(i - 1));
    }
}

BOOST_AUTO_TEST_CASE(payment_tags_are_unique_among_the_wallets_codes)
{
    BatchFixture f;
    f.node->payer.SetRepeatingKeys(true);
    f.Create(5);
    f.Create(3);
    f.ledger.reset();
    f.ledger = f.node->Open();
    f.Create(2);
    ListFilter all;
    all.count = 100;
    Result<CodePage> page = f.ledger->List(all);
    BOOST_REQUIRE(page.ok());
    std::set<uint32_t> tags;
    std::set<std::string> keys;
    for (const CodeView& view : page->codes) {
        tags.insert(PaymentTagOf(view.record.payment_key));
        keys.insert(view.record.payment_key);
    }
    BOOST_CHECK_EQUAL(page->codes.size(), 10u);
    BOOST_CHECK_EQUAL(tags.size(), 10u);
    BOOST_CHECK_EQUAL(keys.count("key:repeated"), 1u);
}

BOOST_AUTO_TEST_CASE(codes_that_share_a_tag_are_paid_alone_and_never_taken_for_each_other)
{
    // Codes made before tags were kept unique may share one: two keys whose
    // tags are the same (found by search).
    const std::string keys[] = {"key:collide:25034", "key:collide:61743"};
    BOOST_REQUIRE_EQUAL(PaymentTagOf(keys[0]), PaymentTagOf(keys[1]));
    BatchFixture f;
    const std::vector<IssuedCode> codes = f.Create(5);
    for (size_t i : {0, 1}) {
        CodeRecord record = f.View(codes[i]).record;
        record.payment_key = keys[i];
        f.store.PutRaw(EncodeCodeKey(record.id), EncodeCodeRecord(record));
    }
    f.ledger.reset();
    f.ledger = f.node->Open();
    // Code 0 arrives with codes 2 and 3 while code 4 is being paid.
    const std::vector<Request> others{{codes[0].code, TestAddress(0)}, {codes[2].code, TestAddress(2)},
                                      {codes[3].code, TestAddress(3)}};
    const auto results = f.RedeemTogether({codes[4].code, TestAddress(4)}, others);
    for (const auto& r : results) BOOST_REQUIRE(r.ok());
    BOOST_CHECK(f.node->payer.payment_sizes() == (std::vector<size_t>{1, 1, 2}));
    BOOST_CHECK(results[1]->txid != results[2]->txid);
    BOOST_CHECK(results[2]->txid == results[3]->txid);
    // Code 1 shares the tag of paid code 0: it is not taken for paid, and
    // is paid once when its holder asks.
    BOOST_CHECK(f.View(codes[1]).state == CodeState::kIssued);
    BOOST_CHECK_EQUAL(f.ledger->Info().restore.found_on_chain, 0u);
    Result<Redemption> own = f.ledger->Redeem(codes[1].code, TestAddress(1));
    BOOST_REQUIRE(own.ok());
    BOOST_CHECK(!own->replay);
}

BOOST_AUTO_TEST_CASE(a_wallet_whose_keys_always_repeat_creates_nothing)
{
    // A payer that hands out the same key whatever it is asked: after a few
    // attempts the ledger gives up rather than loop, and creates nothing.
    struct StuckPayer : FakePayer {
        using FakePayer::FakePayer;
        Status NewPaymentKeys(const std::vector<CodeId>& codes, uint32_t, std::vector<std::string>& keys) override
        {
            keys.assign(codes.size(), "key:stuck");
            return Status::Ok();
        }
    };
    MemoryStore store;
    FakeNode node(store);
    StuckPayer payer(store, node.chain, 1000 * COIN);
    Ports ports{store, payer, node.chain, node.clock, node.randomness, node.addresses};
    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(ports, node.policy());
    BOOST_REQUIRE(ledger.ok());
    Result<std::vector<IssuedCode>> codes = ledger.value()->Create(COIN, 2, "", 0);
    BOOST_REQUIRE(!codes.ok());
    BOOST_CHECK(codes.status().code() == StatusCode::kPaymentFailed);
    BOOST_CHECK_EQUAL(ledger.value()->Info().counts.at(CodeState::kIssued), 0u);
}

BOOST_AUTO_TEST_CASE(a_wait_gathers_redemptions_before_a_payment)
{
    MemoryStore store;
    FakeNode node(store);
    node.payment_wait_ms = 10000;
    node.max_payment_codes = 3;
    std::unique_ptr<Ledger> ledger = node.Open();
    Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, 3, "", 0);
    BOOST_REQUIRE(codes.ok());
    // Three callers at once: the first waits for the others (up to 10 s),
    // and the payment that follows pays all three; it does not wait the
    // full time once three are there.
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    std::vector<std::optional<Result<Redemption>>> results(3);
    for (size_t i = 0; i < 3; ++i) {
        threads.emplace_back([&, i] { results[i] = ledger->Redeem(codes->at(i).code, TestAddress(int(i))); });
    }
    for (std::thread& t : threads) t.join();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    for (auto& r : results) BOOST_REQUIRE(r->ok());
    BOOST_CHECK(node.payer.payment_sizes() == std::vector<size_t>{3});
    BOOST_CHECK(elapsed < std::chrono::seconds(8));
}

BOOST_AUTO_TEST_SUITE_END()
