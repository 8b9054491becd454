// Ledger: every transition and every refused transition, expiry boundaries
// on an injected clock, failures of each port, persistence across reopening,
// the consistency check, and the following of payments after each block
// (replacements, losses, conflicts, writes under way).
#include "ledger.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <chrono>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

struct LedgerFixture {
    MemoryStore store;
    FakeNode node{store};
    std::unique_ptr<Ledger> ledger = node.Open();

    IssuedCode CreateOne(Amount amount = COIN, int64_t expires_at = 0, const std::string& label = "")
    {
        Result<std::vector<IssuedCode>> codes = ledger->Create(amount, 1, label, expires_at);
        BOOST_REQUIRE(codes.ok());
        return codes->at(0);
    }
    CodeState StateOf(const IssuedCode& code)
    {
        Result<CodeView> view = ledger->Get(code.id.ToHex());
        BOOST_REQUIRE(view.ok());
        return view->state;
    }
    size_t Payments() { return FakePayer::RecordedPayments(store).size(); }
};

StatusCode CodeOf(const Status& s) { return s.code(); }

} // namespace

BOOST_FIXTURE_TEST_SUITE(ledger_tests, LedgerFixture)

BOOST_AUTO_TEST_CASE(create_issues_distinct_durable_codes)
{
    Result<std::vector<IssuedCode>> codes = ledger->Create(5 * COIN, 1000, "batch", 0);
    BOOST_REQUIRE(codes.ok());
    BOOST_CHECK_EQUAL(codes->size(), 1000u);
    std::set<CodeId> ids;
    for (const IssuedCode& c : codes.value()) {
        ids.insert(c.id);
        Result<ParsedCode> parsed = ParseCode(c.code, Network::kRegtest);
        BOOST_REQUIRE(parsed.ok());
        BOOST_CHECK(parsed->Id() == c.id);
    }
    BOOST_CHECK_EQUAL(ids.size(), 1000u);
    BOOST_CHECK_EQUAL(store.commits(), 1);
    BOOST_CHECK(store.last_durability() == Durability::kPowerLoss);
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.counts[CodeState::kIssued], 1000u);
    BOOST_CHECK_EQUAL(info.outstanding_liability, 5000 * COIN);
}

BOOST_AUTO_TEST_CASE(store_holds_no_code)
{
    const IssuedCode c = CreateOne();
    std::vector<std::pair<std::string, std::string>> rows;
    BOOST_REQUIRE(store.ReadAll(rows).ok());
    const std::string compact = c.uri.substr(std::string("MONAGIFT:").size());
    Result<ParsedCode> parsed = ParseCode(c.code, Network::kRegtest);
    BOOST_REQUIRE(parsed.ok());
    const std::string secret(parsed->secret.bytes().begin(), parsed->secret.bytes().end());
    for (const auto& [key, value] : rows) {
        for (const std::string* blob : {&key, &value}) {
            BOOST_CHECK(blob->find(compact.substr(3)) == std::string::npos);
            BOOST_CHECK(blob->find(secret) == std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(create_refuses_bad_arguments_and_changes_nothing)
{
    const LedgerPolicy policy = node.policy();
    struct Case {
        Amount amount;
        size_t count;
        std::string label;
        int64_t expires_at;
        StatusCode expected;
    };
    const int64_t now = node.clock.Now();
    const std::vector<Case> cases = {
        {0, 1, "", 0, StatusCode::kInvalidAmount},
        {-COIN, 1, "", 0, StatusCode::kInvalidAmount},
        {policy.min_amount - 1, 1, "", 0, StatusCode::kInvalidAmount},
        {policy.max_money + 1, 1, "", 0, StatusCode::kInvalidAmount},
        {COIN, 0, "", 0, StatusCode::kInvalidParameter},
        {COIN, policy.max_batch + 1, "", 0, StatusCode::kInvalidParameter},
        {COIN, 1, std::string(MAX_LABEL + 1, 'x'), 0, StatusCode::kInvalidParameter},
        {COIN, 1, "", now, StatusCode::kInvalidParameter},
        {COIN, 1, "", now - 1, StatusCode::kInvalidParameter},
        {COIN, 1, "", -5, StatusCode::kInvalidParameter},
    };
    for (const Case& c : cases) {
        Result<std::vector<IssuedCode>> r = ledger->Create(c.amount, c.count, c.label, c.expires_at);
        BOOST_REQUIRE(!r.ok());
        BOOST_CHECK_EQUAL(StatusCodeName(CodeOf(r.status())), StatusCodeName(c.expected));
    }
    BOOST_CHECK_EQUAL(store.commits(), 0);
    BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kIssued], 0u);
    // The edges themselves are accepted.
    BOOST_CHECK(ledger->Create(policy.min_amount, 1, "", now + 1).ok());
    BOOST_CHECK(ledger->Create(policy.max_money, 1, std::string(MAX_LABEL, 'x'), 0).ok());
}

BOOST_AUTO_TEST_CASE(create_store_failure_creates_nothing)
{
    store.FailNextCommits(1);
    Result<std::vector<IssuedCode>> r = ledger->Create(COIN, 10, "", 0);
    BOOST_REQUIRE(!r.ok());
    BOOST_CHECK(r.status().code() == StatusCode::kStoreFailure);
    BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kIssued], 0u);
    BOOST_CHECK_EQUAL(node.Open()->Info().counts[CodeState::kIssued], 0u);
}

BOOST_AUTO_TEST_CASE(redeem_pays_exactly_once)
{
    const IssuedCode c = CreateOne(3 * COIN);
    const Amount before = node.payer.balance();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    BOOST_CHECK(!r->replay);
    BOOST_CHECK(r->broadcast);
    BOOST_CHECK_EQUAL(r->amount, 3 * COIN);
    BOOST_CHECK_EQUAL(r->fee, FakePayer::FEE);
    BOOST_CHECK_EQUAL(node.payer.balance(), before - 3 * COIN - FakePayer::FEE);
    auto payments = FakePayer::RecordedPayments(store);
    BOOST_REQUIRE_EQUAL(payments.size(), 1u);
    BOOST_CHECK(payments.begin()->first == r->txid);
    BOOST_CHECK_EQUAL(payments.begin()->second.amount, 3 * COIN);
    BOOST_CHECK(payments.begin()->second.code == c.id);
    BOOST_CHECK(StateOf(c) == CodeState::kRedeemed);
    BOOST_CHECK(node.chain.GetTxState(r->txid).in_mempool);

    LedgerInfo info = ledger->Info();
    for (Phase phase : {Phase::kBuild, Phase::kCommit, Phase::kAdopt, Phase::kBroadcast}) {
        BOOST_CHECK_EQUAL(info.timings[phase].count, 1u);
        BOOST_CHECK_EQUAL(info.timings[phase].max_us, info.timings[phase].total_us);  // one sample
    }
    BOOST_CHECK_EQUAL(info.redeemed_amount, 3 * COIN);
    BOOST_CHECK_EQUAL(info.redeemed_fees, FakePayer::FEE);
    BOOST_CHECK_EQUAL(info.outstanding_liability, 0);
}

BOOST_AUTO_TEST_CASE(replay_returns_same_txid_and_other_address_is_refused)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> first = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(first.ok());

    // Same address, typed differently and with the code in another form.
    std::string upper = TestAddress(1);
    for (char& ch : upper) ch = char(toupper(ch));
    Result<Redemption> again = ledger->Redeem(c.uri, upper);
    BOOST_REQUIRE(again.ok());
    BOOST_CHECK(again->replay);
    BOOST_CHECK(again->txid == first->txid);
    BOOST_CHECK(again->broadcast);

    Result<Redemption> other = ledger->Redeem(c.code, TestAddress(2));
    BOOST_REQUIRE(!other.ok());
    BOOST_CHECK(other.status().code() == StatusCode::kAlreadyRedeemed);
    BOOST_CHECK_EQUAL(Payments(), 1u);
    BOOST_CHECK_EQUAL(node.payer.adopted(), 1);
}

BOOST_AUTO_TEST_CASE(bad_code_or_address_is_refused_before_anything_happens)
{
    const IssuedCode c = CreateOne();
    std::string typo = c.code;
    typo[10] = typo[10] == 'A' ? 'B' : 'A';
    Result<ParsedCode> other_net_parsed = ParseCode(c.code, Network::kRegtest);
    BOOST_REQUIRE(other_net_parsed.ok());
    const std::string other_net = FormatCode(Network::kMain, other_net_parsed->secret);
    const std::string unknown = FormatCode(Network::kRegtest, CodeSecret(std::array<uint8_t, 16>{1, 2, 3}));

    const std::vector<std::pair<std::pair<std::string, std::string>, StatusCode>> cases = {
        {{"not a code", TestAddress(1)}, StatusCode::kMalformedCode},
        {{typo, TestAddress(1)}, StatusCode::kBadChecksum},
        {{other_net, TestAddress(1)}, StatusCode::kWrongNetwork},
        {{unknown, TestAddress(1)}, StatusCode::kUnknownCode},
        {{c.code, "1BitcoinAddress"}, StatusCode::kInvalidAddress},
        {{c.code, ""}, StatusCode::kInvalidAddress},
    };
    for (const auto& [args, expected] : cases) {
        Result<Redemption> r = ledger->Redeem(args.first, args.second);
        BOOST_REQUIRE(!r.ok());
        BOOST_CHECK_EQUAL(StatusCodeName(r.status().code()), StatusCodeName(expected));
    }
    BOOST_CHECK(StateOf(c) == CodeState::kIssued);
    BOOST_CHECK_EQUAL(Payments(), 0u);
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.failed_redemptions[StatusCode::kMalformedCode], 1u);
    BOOST_CHECK_EQUAL(info.failed_redemptions[StatusCode::kInvalidAddress], 2u);
    BOOST_CHECK_EQUAL(info.failed_redemptions[StatusCode::kUnknownCode], 1u);
}

BOOST_AUTO_TEST_CASE(cancel_transitions)
{
    const IssuedCode issued = CreateOne();
    const IssuedCode redeemed = CreateOne();
    BOOST_REQUIRE(ledger->Redeem(redeemed.code, TestAddress(1)).ok());

    Result<CodeView> cancelled = ledger->Cancel(issued.id.ToHex());
    BOOST_REQUIRE(cancelled.ok());
    BOOST_CHECK(cancelled->state == CodeState::kCancelled);
    BOOST_CHECK_EQUAL(cancelled->record.cancelled_at, node.clock.Now());

    BOOST_CHECK(ledger->Cancel(issued.code).status().code() == StatusCode::kCancelled);
    BOOST_CHECK(ledger->Cancel(redeemed.code).status().code() == StatusCode::kAlreadyRedeemed);
    BOOST_CHECK(ledger->Redeem(issued.code, TestAddress(1)).status().code() == StatusCode::kCancelled);
    BOOST_CHECK(ledger->Cancel(std::string(32, '0')).status().code() == StatusCode::kUnknownCode);
    BOOST_CHECK(ledger->Cancel("garbage").status().code() == StatusCode::kMalformedCode);
    BOOST_CHECK(StateOf(redeemed) == CodeState::kRedeemed);
    BOOST_CHECK_EQUAL(Payments(), 1u);
    BOOST_CHECK_EQUAL(ledger->Info().outstanding_liability, 0);
}

BOOST_AUTO_TEST_CASE(cancel_store_failure_keeps_code_issued)
{
    const IssuedCode c = CreateOne();
    store.FailNextCommits(1);
    BOOST_CHECK(ledger->Cancel(c.code).status().code() == StatusCode::kStoreFailure);
    BOOST_CHECK(StateOf(c) == CodeState::kIssued);
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1)).ok());
}

BOOST_AUTO_TEST_CASE(expiry_boundaries)
{
    const int64_t t0 = node.clock.Now();
    const IssuedCode a = CreateOne(COIN, t0 + 100);
    const IssuedCode b = CreateOne(COIN, t0 + 100);
    const IssuedCode never = CreateOne(COIN, 0);

    node.clock.Set(t0 + 99);  // one second before expiry: still redeemable
    BOOST_CHECK(StateOf(a) == CodeState::kIssued);
    BOOST_CHECK_EQUAL(ledger->Info().outstanding_liability, 3 * COIN);
    BOOST_REQUIRE(ledger->Redeem(a.code, TestAddress(1)).ok());

    node.clock.Set(t0 + 100);  // at the expiry second: expired
    BOOST_CHECK(StateOf(b) == CodeState::kExpired);
    Result<Redemption> late = ledger->Redeem(b.code, TestAddress(1));
    BOOST_CHECK(late.status().code() == StatusCode::kExpired);
    // A code redeemed before expiry stays redeemed; a replay still answers.
    BOOST_CHECK(StateOf(a) == CodeState::kRedeemed);
    BOOST_CHECK(ledger->Redeem(a.code, TestAddress(1)).ok());
    BOOST_CHECK(StateOf(never) == CodeState::kIssued);

    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.counts[CodeState::kExpired], 1u);
    BOOST_CHECK_EQUAL(info.outstanding_liability, COIN);  // only `never`

    // Moving the clock back does not resurrect anything redeemed; an
    // expired code may be cancelled to close it for good.
    BOOST_REQUIRE(ledger->Cancel(b.id.ToHex()).ok());
    node.clock.Set(t0);
    BOOST_CHECK(StateOf(b) == CodeState::kCancelled);
    BOOST_CHECK_EQUAL(Payments(), 1u);
}

BOOST_AUTO_TEST_CASE(commit_failure_sends_nothing_and_keeps_code_issued)
{
    const IssuedCode c = CreateOne();
    store.FailNextCommits(1);
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(!r.ok());
    BOOST_CHECK(r.status().code() == StatusCode::kStoreFailure);
    BOOST_CHECK(StateOf(c) == CodeState::kIssued);
    BOOST_CHECK_EQUAL(Payments(), 0u);
    BOOST_CHECK_EQUAL(node.payer.adopted(), 0);
    BOOST_CHECK_EQUAL(node.payer.broadcasts(), 0);
    BOOST_CHECK_EQUAL(ledger->Info().timings[Phase::kCommit].count, 0u);  // only commits that happened
    // A later attempt, once the database works, pays it.
    Result<Redemption> retry = ledger->Redeem(c.code, TestAddress(2));
    BOOST_REQUIRE(retry.ok());
    BOOST_CHECK_EQUAL(retry->address, TestAddress(2));
    BOOST_CHECK_EQUAL(Payments(), 1u);
}

BOOST_AUTO_TEST_CASE(payer_failures_change_nothing)
{
    const IssuedCode c = CreateOne();
    node.payer.SetLocked(true);
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1)).status().code() == StatusCode::kWalletLocked);
    node.payer.SetLocked(false);
    node.payer.SetUnsupported(true);
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1)).status().code() == StatusCode::kWalletUnsupported);
    node.payer.SetUnsupported(false);

    const IssuedCode big = CreateOne(node.payer.balance());  // fee makes it unaffordable
    BOOST_CHECK(ledger->Redeem(big.code, TestAddress(1)).status().code() == StatusCode::kInsufficientFunds);
    BOOST_CHECK(StateOf(c) == CodeState::kIssued);
    BOOST_CHECK(StateOf(big) == CodeState::kIssued);
    BOOST_CHECK_EQUAL(Payments(), 0u);
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.failed_redemptions[StatusCode::kWalletLocked], 1u);
    BOOST_CHECK_EQUAL(info.failed_redemptions[StatusCode::kInsufficientFunds], 1u);
}

BOOST_AUTO_TEST_CASE(broadcast_failure_keeps_redemption_and_is_retried)
{
    const IssuedCode c = CreateOne();
    node.payer.SetBroadcastFailure("too-long-mempool-chain");
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    BOOST_CHECK(!r->broadcast);
    BOOST_CHECK_EQUAL(r->broadcast_error, "too-long-mempool-chain");
    BOOST_CHECK(StateOf(c) == CodeState::kRedeemed);
    BOOST_CHECK_EQUAL(Payments(), 1u);
    LedgerInfo info = ledger->Info();
    BOOST_REQUIRE_EQUAL(info.unbroadcast.size(), 1u);
    BOOST_CHECK(info.unbroadcast.begin()->first == r->txid);
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK_EQUAL(view->broadcast_error, "too-long-mempool-chain");

    // The replay tells the same story, and pays nothing new.
    Result<Redemption> again = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(again.ok());
    BOOST_CHECK(again->replay && !again->broadcast);
    BOOST_CHECK_EQUAL(again->broadcast_error, "too-long-mempool-chain");

    (void)ledger->FollowPayments();  // still failing
    BOOST_CHECK_EQUAL(ledger->Info().unbroadcast.size(), 1u);
    node.payer.SetBroadcastFailure("");
    (void)ledger->FollowPayments();
    BOOST_CHECK(ledger->Info().unbroadcast.empty());
    BOOST_CHECK(node.chain.GetTxState(r->txid).in_mempool);
    BOOST_CHECK_EQUAL(Payments(), 1u);

    // Once confirmed, it is no longer looked at.
    node.chain.Confirm(r->txid, 1);
    const int before = node.payer.broadcasts();
    (void)ledger->FollowPayments();
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(node.payer.broadcasts(), before);
}

BOOST_AUTO_TEST_CASE(replay_during_first_broadcast_reports_its_outcome)
{
    // A retry that arrives between the commit and the end of the first
    // broadcast must not report the payment as unsent.
    const IssuedCode c = CreateOne();
    node.payer.SetBroadcastDelayMicros(300000);
    std::optional<Result<Redemption>> first;
    std::thread payer_thread([&] { first.emplace(ledger->Redeem(c.code, TestAddress(1))); });
    while (node.payer.adopted() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Result<Redemption> replay = ledger->Redeem(c.code, TestAddress(1));
    payer_thread.join();
    BOOST_REQUIRE(first->ok() && replay.ok());
    BOOST_CHECK(replay->replay);
    BOOST_CHECK(replay->txid == (*first)->txid);
    BOOST_CHECK(replay->broadcast);
    BOOST_CHECK(replay->broadcast_error.empty());
}

BOOST_AUTO_TEST_CASE(states_survive_reopening)
{
    const IssuedCode issued = CreateOne(COIN, 0, "keep");
    const IssuedCode redeemed = CreateOne();
    const IssuedCode cancelled = CreateOne();
    Result<Redemption> r = ledger->Redeem(redeemed.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    BOOST_REQUIRE(ledger->Cancel(cancelled.code).ok());

    ledger.reset();
    ledger = node.Open();
    BOOST_CHECK(StateOf(issued) == CodeState::kIssued);
    BOOST_CHECK(StateOf(redeemed) == CodeState::kRedeemed);
    BOOST_CHECK(StateOf(cancelled) == CodeState::kCancelled);
    Result<CodeView> view = ledger->Get(issued.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK_EQUAL(view->record.label, "keep");
    Result<Redemption> again = ledger->Redeem(redeemed.code, TestAddress(1));
    BOOST_REQUIRE(again.ok());
    BOOST_CHECK(again->replay);
    BOOST_CHECK(again->txid == r->txid);
    BOOST_CHECK(ledger->Info().consistency.clean());
}

BOOST_AUTO_TEST_CASE(every_block_announces_payments_in_the_mempool_again)
{
    // A payment may have reached no peer (none connected, or the node lost
    // power right after the broadcast): each block announces every payment
    // still in the mempool, also after a restart, and none once confirmed.
    const IssuedCode pending = CreateOne();
    const IssuedCode confirmed = CreateOne();
    Result<Redemption> p = ledger->Redeem(pending.code, TestAddress(1));
    Result<Redemption> c = ledger->Redeem(confirmed.code, TestAddress(2));
    BOOST_REQUIRE(p.ok() && c.ok());
    node.chain.Confirm(c->txid, 1);
    std::vector<Txid> announced;
    node.payer.SetWhileBroadcasting([&](const Payment& payment) { announced.push_back(payment.txid); });
    (void)ledger->FollowPayments();
    (void)ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(announced.size(), 2u);
    BOOST_CHECK(announced[0] == p->txid && announced[1] == p->txid);

    ledger.reset();
    ledger = node.Open();
    BOOST_CHECK_EQUAL(announced.size(), 2u);  // nothing before the first block
    (void)ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(announced.size(), 3u);
    BOOST_CHECK(announced[2] == p->txid);
    node.chain.Confirm(p->txid, 1);
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(announced.size(), 3u);
    node.payer.SetWhileBroadcasting({});
    BOOST_CHECK_EQUAL(Payments(), 2u);
}

BOOST_AUTO_TEST_CASE(open_refuses_corruption_and_unreadable_store)
{
    CodeId id;
    id.bytes[0] = 1;
    store.PutRaw(EncodeCodeKey(id), std::string("\x09garbage"));
    Result<std::unique_ptr<Ledger>> opened = Ledger::Open(node.ports(), node.policy());
    BOOST_REQUIRE(!opened.ok());
    BOOST_CHECK(opened.status().code() == StatusCode::kCorruption);

    MemoryStore other;
    FakeNode other_node(other);
    other.FailReads(true);
    BOOST_CHECK(Ledger::Open(other_node.ports(), other_node.policy()).status().code() == StatusCode::kStoreFailure);
}

BOOST_AUTO_TEST_CASE(consistency_check_reports_mismatches_without_repairing)
{
    const IssuedCode paid = CreateOne();
    Result<Redemption> r = ledger->Redeem(paid.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    BOOST_CHECK(ledger->Info().consistency.clean());

    // A redeemed record whose payment the wallet lost, planted directly.
    CodeRecord orphan;
    orphan.id.bytes[0] = 0x42;
    orphan.state = StoredState::kRedeemed;
    orphan.amount = COIN;
    orphan.sequence = 1000;
    orphan.txid[0] = 0x99;
    orphan.address = TestAddress(3);
    store.PutRaw(EncodeCodeKey(orphan.id), EncodeCodeRecord(orphan));
    // And a tagged payment for a code that is merely issued.
    const IssuedCode unpaid = CreateOne();
    const Payment stray = node.payer.MakePayment({unpaid.id, TestAddress(4), COIN, "key:not-the-code-s"});
    BOOST_REQUIRE(node.payer.RestorePayment(unpaid.id, stray.serialized_tx).ok());

    ledger = node.Open();
    const ConsistencyReport report = ledger->Info().consistency;
    BOOST_CHECK(report.checked);
    BOOST_CHECK(!report.clean());
    BOOST_REQUIRE_EQUAL(report.redeemed_without_payment.size(), 1u);
    BOOST_CHECK(report.redeemed_without_payment[0] == orphan.id);
    BOOST_REQUIRE_EQUAL(report.payment_without_redemption.size(), 1u);
    BOOST_CHECK(report.payment_without_redemption[0].code == unpaid.id);
    // Nothing was released or changed by the check.
    BOOST_CHECK(StateOf(unpaid) == CodeState::kIssued);
    BOOST_CHECK(ledger->Redeem(paid.code, TestAddress(1))->replay);
}

BOOST_AUTO_TEST_CASE(cancel_redeem_race_has_one_consistent_winner)
{
    Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, 200, "", 0);
    BOOST_REQUIRE(codes.ok());
    node.payer.SetLatencyMicros(200);
    int redeemed = 0, cancelled = 0;
    for (const IssuedCode& c : codes.value()) {
        std::optional<Result<Redemption>> redeem;
        std::optional<Result<CodeView>> cancel;
        std::thread a([&] { redeem.emplace(ledger->Redeem(c.code, TestAddress(1))); });
        std::thread b([&] { cancel.emplace(ledger->Cancel(c.id.ToHex())); });
        a.join();
        b.join();
        BOOST_REQUIRE(redeem->ok() != cancel->ok());
        if (redeem->ok()) {
            ++redeemed;
            BOOST_CHECK(cancel->status().code() == StatusCode::kAlreadyRedeemed);
            BOOST_CHECK(StateOf(c) == CodeState::kRedeemed);
        } else {
            ++cancelled;
            BOOST_CHECK(redeem->status().code() == StatusCode::kCancelled);
            BOOST_CHECK(StateOf(c) == CodeState::kCancelled);
        }
    }
    BOOST_CHECK_EQUAL(Payments(), size_t(redeemed));
    BOOST_TEST_MESSAGE("race outcomes: " << redeemed << " redeemed, " << cancelled << " cancelled");
}

BOOST_AUTO_TEST_CASE(list_filters_and_pages)
{
    BOOST_REQUIRE(ledger->Create(COIN, 5, "a", 0).ok());
    node.clock.Advance(10);
    Result<std::vector<IssuedCode>> b = ledger->Create(2 * COIN, 3, "b", 0);
    BOOST_REQUIRE(b.ok());
    BOOST_REQUIRE(ledger->Redeem(b->at(0).code, TestAddress(1)).ok());

    ListFilter all;
    Result<CodePage> page = ledger->List(all);
    BOOST_REQUIRE(page.ok());
    BOOST_CHECK_EQUAL(page->total, 8u);
    BOOST_CHECK_EQUAL(page->codes.front().record.label, "a");  // oldest first
    BOOST_CHECK_EQUAL(page->codes.back().record.label, "b");

    ListFilter by_label;
    by_label.label = "b";
    BOOST_CHECK_EQUAL(ledger->List(by_label)->total, 3u);

    ListFilter by_state;
    by_state.state = CodeState::kRedeemed;
    page = ledger->List(by_state);
    BOOST_REQUIRE_EQUAL(page->total, 1u);
    BOOST_CHECK(page->codes[0].record.id == b->at(0).id);
    BOOST_CHECK(page->codes[0].payment.in_mempool);

    ListFilter paged;
    paged.skip = 6;
    paged.count = 5;
    page = ledger->List(paged);
    BOOST_CHECK_EQUAL(page->total, 8u);
    BOOST_CHECK_EQUAL(page->codes.size(), 2u);
    paged.skip = 100;
    BOOST_CHECK(ledger->List(paged)->codes.empty());
    paged.count = 0;
    BOOST_CHECK(ledger->List(paged).status().code() == StatusCode::kInvalidParameter);
}

BOOST_AUTO_TEST_CASE(list_totals_each_label_by_state_over_every_matching_code)
{
    Result<std::vector<IssuedCode>> a = ledger->Create(COIN, 4, "spring", 0);
    Result<std::vector<IssuedCode>> b = ledger->Create(3 * COIN, 2, "autumn", node.clock.Now() + 100);
    BOOST_REQUIRE(a.ok() && b.ok());
    BOOST_REQUIRE(ledger->Redeem(a->at(0).code, TestAddress(1)).ok());
    BOOST_REQUIRE(ledger->Redeem(a->at(1).code, TestAddress(2)).ok());
    BOOST_REQUIRE(ledger->Cancel(a->at(2).id.ToHex()).ok());
    node.clock.Advance(200); // autumn's codes expire

    ListFilter one_page;
    one_page.count = 1;
    Result<CodePage> page = ledger->List(one_page);
    BOOST_REQUIRE(page.ok());
    BOOST_CHECK_EQUAL(page->codes.size(), 1u);
    BOOST_REQUIRE_EQUAL(page->totals.size(), 2u);
    const LabelTotals& autumn = page->totals[0]; // byte order
    const LabelTotals& spring = page->totals[1];
    BOOST_CHECK_EQUAL(autumn.label, "autumn");
    BOOST_CHECK_EQUAL(autumn.by_state[size_t(CodeState::kExpired)].count, 2u);
    BOOST_CHECK_EQUAL(autumn.by_state[size_t(CodeState::kExpired)].amount, 6 * COIN);
    BOOST_CHECK_EQUAL(autumn.by_state[size_t(CodeState::kIssued)].count, 0u);
    BOOST_CHECK_EQUAL(spring.by_state[size_t(CodeState::kIssued)].count, 1u);
    BOOST_CHECK_EQUAL(spring.by_state[size_t(CodeState::kIssued)].amount, COIN);
    BOOST_CHECK_EQUAL(spring.by_state[size_t(CodeState::kRedeemed)].count, 2u);
    BOOST_CHECK_EQUAL(spring.by_state[size_t(CodeState::kRedeemed)].amount, 2 * COIN);
    BOOST_CHECK_EQUAL(spring.by_state[size_t(CodeState::kCancelled)].count, 1u);

    ListFilter by_label;
    by_label.label = "spring";
    by_label.state = CodeState::kRedeemed;
    page = ledger->List(by_label);
    BOOST_REQUIRE_EQUAL(page->totals.size(), 1u);
    BOOST_CHECK_EQUAL(page->totals[0].by_state[size_t(CodeState::kRedeemed)].count, 2u);
    BOOST_CHECK_EQUAL(page->totals[0].by_state[size_t(CodeState::kIssued)].count, 0u);
}

BOOST_AUTO_TEST_CASE(list_is_in_creation_order_and_pages_stay_stable)
{
    // Every code created in the same second: ids sort in another order.
    Result<std::vector<IssuedCode>> first = ledger->Create(COIN, 50, "", 0);
    BOOST_REQUIRE(first.ok());
    ListFilter page_filter;
    page_filter.count = 20;
    Result<CodePage> page1 = ledger->List(page_filter);
    BOOST_REQUIRE(page1.ok());
    // Codes created between two pages come after every older one.
    BOOST_REQUIRE(ledger->Create(COIN, 30, "", 0).ok());
    page_filter.skip = 20;
    Result<CodePage> page2 = ledger->List(page_filter);
    BOOST_REQUIRE(page2.ok());
    for (size_t i = 0; i < 20; ++i) {
        BOOST_CHECK(page1->codes[i].record.id == first->at(i).id);
        BOOST_CHECK(page2->codes[i].record.id == first->at(20 + i).id);
    }
    // And the order survives reopening.
    ledger = node.Open();
    page_filter.skip = 0;
    page_filter.count = 50;
    Result<CodePage> again = ledger->List(page_filter);
    BOOST_REQUIRE(again.ok());
    for (size_t i = 0; i < 50; ++i) BOOST_CHECK(again->codes[i].record.id == first->at(i).id);
}

BOOST_AUTO_TEST_CASE(label_with_nul_is_refused)
{
    Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, 1, std::string("a\0b", 3), 0);
    BOOST_REQUIRE(!codes.ok());
    BOOST_CHECK(codes.status().code() == StatusCode::kInvalidParameter);
    BOOST_CHECK_EQUAL(store.commits(), 0);
}

BOOST_AUTO_TEST_CASE(expired_code_stays_expired_when_the_clock_goes_back)
{
    const int64_t t0 = node.clock.Now();
    const IssuedCode c = CreateOne(COIN, t0 + 100);
    node.clock.Set(t0 + 200);
    BOOST_CHECK(StateOf(c) == CodeState::kExpired);
    node.clock.Set(t0 + 50);  // the host's clock went back
    BOOST_CHECK(StateOf(c) == CodeState::kExpired);
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1)).status().code() == StatusCode::kExpired);
    BOOST_CHECK_EQUAL(Payments(), 0u);
}

BOOST_AUTO_TEST_CASE(adoption_failure_keeps_the_code_redeemed)
{
    // The commit succeeded but the wallet did not take the payment: the
    // index says redeemed at once, and the same payment goes back.
    const IssuedCode c = CreateOne();
    node.payer.FailAdoptions(1);
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    BOOST_CHECK(StateOf(c) == CodeState::kRedeemed);
    BOOST_CHECK_EQUAL(node.payer.restored(), 1);
    BOOST_CHECK(node.chain.GetTxState(r->txid).known);
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(2)).status().code() == StatusCode::kAlreadyRedeemed);
    BOOST_CHECK_EQUAL(Payments(), 1u);
}

BOOST_AUTO_TEST_CASE(unadopted_payment_stops_new_payments_until_it_is_back)
{
    const IssuedCode a = CreateOne();
    const IssuedCode b = CreateOne();
    node.payer.FailAdoptions(1);
    node.payer.FailRestores(true);
    Result<Redemption> ra = ledger->Redeem(a.code, TestAddress(1));
    BOOST_REQUIRE(ra.ok());
    BOOST_CHECK(!node.chain.GetTxState(ra->txid).known);
    // b could be paid with a's coins: refused, nothing changes.
    Result<Redemption> rb = ledger->Redeem(b.code, TestAddress(2));
    BOOST_REQUIRE(!rb.ok());
    BOOST_CHECK(rb.status().code() == StatusCode::kPaymentFailed);
    BOOST_CHECK(StateOf(b) == CodeState::kIssued);
    BOOST_CHECK_EQUAL(Payments(), 1u);
    // The follow-up reports it.
    (void)ledger->FollowPayments();
    LedgerInfo info = ledger->Info();
    BOOST_REQUIRE_EQUAL(info.attention.size(), 1u);
    BOOST_CHECK(info.attention[0].state == PaymentState::kMissing);
    node.payer.FailRestores(false);
    rb = ledger->Redeem(b.code, TestAddress(2));
    BOOST_REQUIRE(rb.ok());
    BOOST_CHECK(node.chain.GetTxState(ra->txid).known);
    BOOST_CHECK_EQUAL(Payments(), 2u);
}

BOOST_AUTO_TEST_CASE(lost_payment_is_put_back_before_anything_is_served)
{
    // As after -zapwallettxes: the wallet lost an unconfirmed payment.
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    ledger.reset();
    store.EraseWalletRecords();
    node.chain.Forget(r->txid);
    ledger = node.Open();
    BOOST_CHECK_EQUAL(node.payer.restored(), 1);
    BOOST_CHECK(node.chain.GetTxState(r->txid).known);
    BOOST_CHECK_EQUAL(Payments(), 1u);  // the same transaction, not a new one
    BOOST_CHECK(FakePayer::RecordedPayments(store).count(r->txid));
    BOOST_CHECK(ledger->Info().consistency.clean());
    Result<Redemption> replay = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(replay->txid == r->txid);
    // Nothing was broadcast at open; the first block does it.
    BOOST_CHECK(replay->payment_state == PaymentState::kNotInMempool);
    (void)ledger->FollowPayments();
    BOOST_CHECK(node.chain.GetTxState(r->txid).in_mempool);
}

BOOST_AUTO_TEST_CASE(payments_are_followed_until_buried)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    BOOST_CHECK(r->payment_state == PaymentState::kMempool);
    node.chain.Confirm(r->txid, 1);
    (void)ledger->FollowPayments();
    BOOST_CHECK(ledger->Get(c.code)->payment_state == PaymentState::kConfirmed);
    // A reorg takes it out of the chain and it is not in the mempool: the
    // next block notices and resubmits it.
    TxChainState reorged;
    reorged.known = true;
    node.chain.Set(r->txid, reorged);
    BOOST_CHECK(ledger->Get(c.code)->payment_state == PaymentState::kNotInMempool);
    const int before = node.payer.broadcasts();
    node.payer.SetBroadcastFailure("missing-inputs");
    std::vector<PaymentNotice> notices = ledger->FollowPayments();
    BOOST_CHECK_EQUAL(node.payer.broadcasts(), before + 1);
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].state == PaymentState::kNotInMempool);
    BOOST_CHECK_EQUAL(ledger->Info().attention.size(), 1u);
    BOOST_CHECK_EQUAL(ledger->Info().unbroadcast.size(), 1u);
    node.payer.SetBroadcastFailure("");
    notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);  // resolved
    BOOST_CHECK(notices[0].reason.empty());
    BOOST_CHECK(ledger->Info().attention.empty());
    BOOST_CHECK(node.chain.GetTxState(r->txid).in_mempool);
    // Buried: followed no more.
    node.chain.Confirm(r->txid, BURIED_DEPTH);
    (void)ledger->FollowPayments();
    BOOST_CHECK(ledger->Get(c.code)->payment_state == PaymentState::kBuried);
    node.chain.Set(r->txid, reorged);
    const int after_burial = node.payer.broadcasts();
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(node.payer.broadcasts(), after_burial);
}

BOOST_AUTO_TEST_CASE(replaced_payment_is_followed_to_its_replacement)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    (void)ledger->FollowPayments();
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.txid == bumped.txid);
    BOOST_CHECK_EQUAL(view->record.fee, 5000);
    BOOST_REQUIRE_EQUAL(view->record.replaced.size(), 1u);
    BOOST_CHECK(view->record.replaced[0] == r->txid);
    BOOST_CHECK(view->payment_state == PaymentState::kMempool);
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.redeemed_fees, 5000);
    BOOST_CHECK(info.unbroadcast.empty() && info.attention.empty());
    BOOST_CHECK(info.consistency.clean());
    Result<Redemption> replay = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(replay->txid == bumped.txid);
    BOOST_CHECK(replay->broadcast);
    // Durable: the same after reopening.
    ledger = node.Open();
    BOOST_CHECK(ledger->Get(c.code)->record.txid == bumped.txid);
    BOOST_CHECK(ledger->Info().consistency.clean());
    // Bumped again: followed again.
    const Payment twice = node.payer.Replace(bumped.txid, 9000);
    (void)ledger->FollowPayments();
    view = ledger->Get(c.code);
    BOOST_CHECK(view->record.txid == twice.txid);
    BOOST_CHECK_EQUAL(view->record.replaced.size(), 2u);
    BOOST_CHECK_EQUAL(ledger->Info().redeemed_fees, 9000);
}

BOOST_AUTO_TEST_CASE(the_mined_one_of_original_and_replacement_pays)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    (void)ledger->FollowPayments();
    // The original was mined after all; the replacement conflicts with it.
    node.chain.Confirm(r->txid, 1);
    TxChainState loser;
    loser.known = true;
    loser.conflicted = true;
    loser.conflict_depth = 1;
    node.chain.Set(bumped.txid, loser);
    (void)ledger->FollowPayments();
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_CHECK(view->record.txid == r->txid);
    BOOST_CHECK(view->payment_state == PaymentState::kConfirmed);
    BOOST_CHECK_EQUAL(view->record.fee, FakePayer::FEE);
    BOOST_CHECK(ledger->Info().attention.empty());
    BOOST_CHECK(ledger->Info().consistency.clean());
}

BOOST_AUTO_TEST_CASE(conflicted_dead_and_abandoned_are_reported_never_paid_again)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    TxChainState state;
    state.known = true;
    state.conflicted = true;
    state.conflict_depth = 2;
    node.chain.Set(r->txid, state);
    std::vector<PaymentNotice> notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].state == PaymentState::kConflicted);
    state.conflict_depth = BURIED_DEPTH;
    node.chain.Set(r->txid, state);
    notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].state == PaymentState::kDead);
    BOOST_CHECK(notices[0].reason.find("never pays a code twice") != std::string::npos);
    BOOST_CHECK(ledger->FollowPayments().empty());  // told once per change
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(2)).status().code() == StatusCode::kAlreadyRedeemed);
    Result<Redemption> replay = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(!replay->broadcast);
    BOOST_CHECK(replay->payment_state == PaymentState::kDead);

    const IssuedCode d = CreateOne();
    Result<Redemption> rd = ledger->Redeem(d.code, TestAddress(3));
    BOOST_REQUIRE(rd.ok());
    TxChainState abandoned;
    abandoned.known = true;
    abandoned.abandoned = true;
    node.chain.Set(rd->txid, abandoned);
    const int before = node.payer.broadcasts();
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(node.payer.broadcasts(), before);  // the operator's decision stands
    replay = ledger->Redeem(d.code, TestAddress(3));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(!replay->broadcast);
    BOOST_CHECK(replay->broadcast_error.find("abandoned") != std::string::npos);
    BOOST_CHECK_EQUAL(ledger->Info().attention.size(), 2u);
    BOOST_CHECK_EQUAL(Payments(), 2u);
}

BOOST_AUTO_TEST_CASE(record_without_its_payment_is_reported_missing)
{
    // A redemption recorded by version 1 holds no copy of its payment.
    CodeRecord old;
    old.id.bytes[0] = 0x51;
    old.state = StoredState::kRedeemed;
    old.amount = COIN;
    old.txid[0] = 0x52;
    old.address = TestAddress(1);
    store.PutRaw(EncodeCodeKey(old.id), EncodeCodeRecord(old));
    ledger = node.Open();
    LedgerInfo info = ledger->Info();
    BOOST_REQUIRE_EQUAL(info.attention.size(), 1u);
    BOOST_CHECK(info.attention[0].state == PaymentState::kMissing);
    BOOST_CHECK(info.attention[0].reason.find("no copy") != std::string::npos);
    BOOST_REQUIRE_EQUAL(info.consistency.redeemed_without_payment.size(), 1u);
}

BOOST_AUTO_TEST_CASE(funds_pending_and_catching_up_change_nothing)
{
    const IssuedCode c = CreateOne();
    node.payer.SetCatchingUp(true);
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1)).status().code() == StatusCode::kNodeCatchingUp);
    node.payer.SetCatchingUp(false);
    node.payer.SetPendingFunds(node.payer.balance());
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1)).status().code() == StatusCode::kFundsPending);
    BOOST_CHECK(StateOf(c) == CodeState::kIssued);
    BOOST_CHECK_EQUAL(Payments(), 0u);
    node.payer.SetPendingFunds(0);
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1)).ok());
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.failed_redemptions[StatusCode::kNodeCatchingUp], 1u);
    BOOST_CHECK_EQUAL(info.failed_redemptions[StatusCode::kFundsPending], 1u);
}

BOOST_AUTO_TEST_CASE(consistency_is_checked_after_every_block)
{
    const IssuedCode c = CreateOne();
    BOOST_REQUIRE(ledger->Redeem(c.code, TestAddress(1)).ok());
    node.chain.SetTipHeight(120);
    (void)ledger->FollowPayments();
    ConsistencyReport report = ledger->Info().consistency;
    BOOST_CHECK(report.clean());
    BOOST_CHECK_EQUAL(report.height, 120);
    // A stray tagged payment appears between two blocks.
    const IssuedCode unpaid = CreateOne();
    const Payment stray = node.payer.MakePayment({unpaid.id, TestAddress(4), COIN, "key:not-the-code-s"});
    BOOST_REQUIRE(node.payer.RestorePayment(unpaid.id, stray.serialized_tx).ok());
    node.chain.SetTipHeight(121);
    (void)ledger->FollowPayments();
    report = ledger->Info().consistency;
    BOOST_CHECK(!report.clean());
    BOOST_CHECK_EQUAL(report.height, 121);
    BOOST_CHECK_EQUAL(report.payment_without_redemption.size(), 1u);
}

BOOST_AUTO_TEST_CASE(state_names_are_the_documented_ones)
{
    // These names are RPC fields (doc/rpc.md): a frontend matches on them.
    const std::vector<std::pair<PaymentState, std::string>> payment_states = {
        {PaymentState::kMempool, "mempool"},       {PaymentState::kConfirmed, "confirmed"},
        {PaymentState::kBuried, "buried"},         {PaymentState::kNotInMempool, "not_in_mempool"},
        {PaymentState::kConflicted, "conflicted"}, {PaymentState::kDead, "dead"},
        {PaymentState::kAbandoned, "abandoned"},   {PaymentState::kMissing, "missing"},
    };
    for (const auto& [state, name] : payment_states) {
        BOOST_CHECK_EQUAL(PaymentStateName(state), name);
        const bool needs_human = state != PaymentState::kMempool && state != PaymentState::kConfirmed &&
                                 state != PaymentState::kBuried;
        BOOST_CHECK_MESSAGE(NeedsAttention(state) == needs_human, name);
    }
    const std::vector<std::pair<CodeState, std::string>> code_states = {
        {CodeState::kIssued, "issued"},
        {CodeState::kRedeemed, "redeemed"},
        {CodeState::kCancelled, "cancelled"},
        {CodeState::kExpired, "expired"},
    };
    for (const auto& [state, name] : code_states) {
        BOOST_CHECK_EQUAL(CodeStateName(state), name);
        CodeState parsed = CodeState::kIssued;
        BOOST_REQUIRE(ParseCodeState(name, parsed));
        BOOST_CHECK(parsed == state);
    }
    CodeState untouched = CodeState::kCancelled;
    BOOST_CHECK(!ParseCodeState("spent", untouched));
    BOOST_CHECK(!ParseCodeState("Issued", untouched));
    BOOST_CHECK(untouched == CodeState::kCancelled);
    BOOST_CHECK_EQUAL(PhaseName(Phase::kBuild), "build");
    BOOST_CHECK_EQUAL(PhaseName(Phase::kCommit), "commit");
    BOOST_CHECK_EQUAL(PhaseName(Phase::kAdopt), "adopt");
    BOOST_CHECK_EQUAL(PhaseName(Phase::kBroadcast), "broadcast");
}

BOOST_AUTO_TEST_CASE(ids_are_read_in_either_case_and_other_text_as_a_code)
{
    const IssuedCode c = CreateOne();
    std::string upper = c.id.ToHex();
    for (char& ch : upper) ch = char(toupper(ch));
    Result<CodeView> view = ledger->Get(upper);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.id == c.id);
    BOOST_REQUIRE(ledger->Cancel(upper).ok());
    BOOST_CHECK(StateOf(c) == CodeState::kCancelled);
    // 32 characters that are not all hex digits are not an id: they are
    // read as a code, which they are not.
    for (char bad : {'/', ':', '@', 'G', '`', 'g'}) {
        std::string text = c.id.ToHex();
        text[31] = bad;
        Result<CodeView> got = ledger->Get(text);
        BOOST_REQUIRE(!got.ok());
        BOOST_CHECK(got.status().code() == StatusCode::kMalformedCode);
    }
}

BOOST_AUTO_TEST_CASE(open_refuses_a_key_of_unknown_shape)
{
    store.PutRaw("x", EncodeCodeRecord(CodeRecord{}));
    Result<std::unique_ptr<Ledger>> opened = Ledger::Open(node.ports(), node.policy());
    BOOST_REQUIRE(!opened.ok());
    BOOST_CHECK(opened.status().code() == StatusCode::kCorruption);
    BOOST_CHECK_EQUAL(opened.status().message(), "gift-code key of unknown shape");
}

BOOST_AUTO_TEST_CASE(a_random_source_that_repeats_itself_creates_nothing)
{
    node.randomness.SetStuck(true);
    const std::string message = "the random source repeated itself; no code was created";
    // Within one batch.
    Result<std::vector<IssuedCode>> batch = ledger->Create(COIN, 2, "", 0);
    BOOST_REQUIRE(!batch.ok());
    BOOST_CHECK(batch.status().code() == StatusCode::kPaymentFailed);
    BOOST_CHECK_EQUAL(batch.status().message(), message);
    BOOST_CHECK_EQUAL(store.commits(), 0);
    // Across calls: the second would be the first code again.
    BOOST_REQUIRE(ledger->Create(COIN, 1, "", 0).ok());
    Result<std::vector<IssuedCode>> again = ledger->Create(COIN, 1, "", 0);
    BOOST_REQUIRE(!again.ok());
    BOOST_CHECK_EQUAL(again.status().message(), message);
    BOOST_CHECK_EQUAL(store.commits(), 1);
    BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kIssued], 1u);
    BOOST_CHECK_EQUAL(ledger->Info().outstanding_liability, COIN);
    node.randomness.SetStuck(false);
    BOOST_CHECK(ledger->Create(COIN, 2, "", 0).ok());
    BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kIssued], 3u);
}

BOOST_AUTO_TEST_CASE(list_count_is_bounded_by_the_batch_limit)
{
    BOOST_REQUIRE(ledger->Create(COIN, 2, "", 0).ok());
    ListFilter filter;
    filter.count = node.policy().max_batch + 1;
    Result<CodePage> refused = ledger->List(filter);
    BOOST_REQUIRE(!refused.ok());
    BOOST_CHECK(refused.status().code() == StatusCode::kInvalidParameter);
    BOOST_CHECK_EQUAL(refused.status().message(), "count must be between 1 and 10000");
    filter.count = node.policy().max_batch;
    Result<CodePage> page = ledger->List(filter);
    BOOST_REQUIRE(page.ok());
    BOOST_CHECK_EQUAL(page->codes.size(), 2u);
}

BOOST_AUTO_TEST_CASE(codes_from_before_the_sequence_list_first_by_time_then_id)
{
    // Version 1 records carry no sequence (0): they come first, oldest
    // first, and by id within one second.
    const IssuedCode fresh = CreateOne();
    const auto plant = [&](uint8_t id_byte, int64_t created_at) {
        CodeRecord r;
        r.id.bytes[0] = id_byte;
        r.amount = COIN;
        r.created_at = created_at;
        store.PutRaw(EncodeCodeKey(r.id), EncodeCodeRecord(r));
        return r.id;
    };
    const CodeId late = plant(0x05, 1600000200);
    const CodeId early_b = plant(0x30, 1600000100);
    const CodeId early_a = plant(0x20, 1600000100);
    ledger = node.Open();
    Result<CodePage> page = ledger->List(ListFilter{});
    BOOST_REQUIRE(page.ok());
    BOOST_REQUIRE_EQUAL(page->codes.size(), 4u);
    BOOST_CHECK(page->codes[0].record.id == early_a);
    BOOST_CHECK(page->codes[1].record.id == early_b);
    BOOST_CHECK(page->codes[2].record.id == late);
    BOOST_CHECK(page->codes[3].record.id == fresh.id);
    // A code created now still comes after every one of them.
    const IssuedCode newest = CreateOne();
    page = ledger->List(ListFilter{});
    BOOST_REQUIRE_EQUAL(page->codes.size(), 5u);
    BOOST_CHECK(page->codes[4].record.id == newest.id);
}

BOOST_AUTO_TEST_CASE(replay_of_a_confirmed_payment_reports_it_paid)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    node.chain.Confirm(r->txid, 2);
    Result<Redemption> replay = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(replay->replay);
    BOOST_CHECK(replay->broadcast);
    BOOST_CHECK(replay->broadcast_error.empty());
    BOOST_CHECK(replay->payment_state == PaymentState::kConfirmed);
}

BOOST_AUTO_TEST_CASE(replay_of_a_payment_the_wallet_lost_says_so)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    node.chain.Forget(r->txid);
    Result<Redemption> replay = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(replay->txid == r->txid);
    BOOST_CHECK(!replay->broadcast);
    BOOST_CHECK(replay->payment_state == PaymentState::kMissing);
    BOOST_CHECK_EQUAL(replay->broadcast_error, "the wallet does not hold the payment and it could not be put back");
    BOOST_CHECK_EQUAL(Payments(), 1u);
}

BOOST_AUTO_TEST_CASE(replacement_is_followed_when_the_code_is_read)
{
    // A bumpfee between two blocks: the reply already names the
    // transaction that pays.
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    Result<CodeView> view = ledger->Get(c.id.ToHex());
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.txid == bumped.txid);
    BOOST_CHECK_EQUAL(view->record.fee, 5000);
    BOOST_CHECK(view->payment_state == PaymentState::kMempool);
    BOOST_REQUIRE_EQUAL(view->record.replaced.size(), 1u);
    BOOST_CHECK(view->record.replaced[0] == r->txid);
    ledger = node.Open();
    BOOST_CHECK(ledger->Get(c.code)->record.txid == bumped.txid);
}

BOOST_AUTO_TEST_CASE(replaced_payment_that_confirms_anyway_stays_the_codes_payment)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    (void)node.payer.Replace(r->txid, 5000);
    node.chain.Confirm(r->txid, 1);  // mined before the replacement spread
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.txid == r->txid);
    BOOST_CHECK(view->payment_state == PaymentState::kConfirmed);
    BOOST_CHECK(ledger->FollowPayments().empty());
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.redeemed_fees, FakePayer::FEE);
    BOOST_CHECK(info.attention.empty());
}

BOOST_AUTO_TEST_CASE(only_the_newest_replaced_txids_are_kept_when_following)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    // A record that already lists as many replaced payments as it keeps.
    CodeRecord full = ledger->Get(c.code)->record;
    full.replaced.assign(MAX_REPLACED, Txid{});
    for (size_t i = 0; i < full.replaced.size(); ++i) full.replaced[i][0] = uint8_t(i);
    store.PutRaw(EncodeCodeKey(full.id), EncodeCodeRecord(full));
    ledger = node.Open();
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    (void)ledger->FollowPayments();
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.txid == bumped.txid);
    BOOST_REQUIRE_EQUAL(view->record.replaced.size(), MAX_REPLACED);
    BOOST_CHECK(view->record.replaced.front() == full.replaced[1]);
    BOOST_CHECK(view->record.replaced.back() == r->txid);
}

BOOST_AUTO_TEST_CASE(a_long_chain_of_replacements_is_followed_over_two_blocks)
{
    // One block's follow-up takes at most MAX_REPLACED + 1 steps.
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    Txid txid = r->txid;
    std::vector<Payment> chain;
    for (size_t i = 0; i < MAX_REPLACED + 2; ++i) {
        chain.push_back(node.payer.Replace(txid, FakePayer::FEE + 1 + Amount(i)));
        txid = chain.back().txid;
    }
    BOOST_CHECK(ledger->FollowPayments().empty());
    BOOST_CHECK_EQUAL(ledger->Info().redeemed_fees, chain[MAX_REPLACED].fee);
    BOOST_CHECK(ledger->FollowPayments().empty());
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.redeemed_fees, chain.back().fee);
    BOOST_CHECK(info.attention.empty());
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.txid == chain.back().txid);
    BOOST_CHECK_EQUAL(view->record.replaced.size(), MAX_REPLACED);
    BOOST_CHECK_EQUAL(Payments(), chain.size() + 1);
}

BOOST_AUTO_TEST_CASE(replacement_that_does_not_pay_the_holder_is_reported_not_followed)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    // The wallet replaced it with a transaction paying someone else.
    const Payment elsewhere = node.payer.MakePayment({c.id, TestAddress(9), COIN}, 9000);
    TxChainState elsewhere_state;
    elsewhere_state.known = true;
    elsewhere_state.in_mempool = true;
    node.chain.Set(elsewhere.txid, elsewhere_state);
    TxChainState replaced;
    replaced.known = true;
    replaced.replaced_by = elsewhere.txid;
    node.chain.Set(r->txid, replaced);
    const std::string reason = "replaced by " + TxidToHex(elsewhere.txid) +
                               ", which is not followed: does not pay the holder";

    // Told at load already, before any block.
    ledger = node.Open();
    LedgerInfo info = ledger->Info();
    BOOST_REQUIRE_EQUAL(info.attention.size(), 1u);
    BOOST_CHECK(info.attention[0].id == c.id);
    BOOST_CHECK(info.attention[0].txid == r->txid);
    BOOST_CHECK_EQUAL(info.attention[0].reason, reason);
    // And after each block; the code keeps its payment.
    (void)ledger->FollowPayments();
    info = ledger->Info();
    BOOST_REQUIRE_EQUAL(info.attention.size(), 1u);
    BOOST_CHECK_EQUAL(info.attention[0].reason, reason);
    BOOST_CHECK_EQUAL(info.redeemed_fees, FakePayer::FEE);
    BOOST_CHECK(ledger->Get(c.code)->record.txid == r->txid);
}

BOOST_AUTO_TEST_CASE(replacement_that_cannot_be_recorded_is_reported_and_retried)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    store.FailNextCommits(1);
    std::vector<PaymentNotice> notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].txid == r->txid);
    BOOST_CHECK_EQUAL(notices[0].reason, "replaced by " + TxidToHex(bumped.txid) +
                                             ", but recording that failed: injected commit failure");
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.attention.size(), 1u);
    BOOST_CHECK_EQUAL(info.redeemed_fees, FakePayer::FEE);
    // The next block records it, and the alarm ends.
    notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].txid == bumped.txid);
    BOOST_CHECK(notices[0].reason.empty());
    info = ledger->Info();
    BOOST_CHECK(info.attention.empty());
    BOOST_CHECK_EQUAL(info.redeemed_fees, 5000);
    BOOST_CHECK(info.consistency.clean());
}

BOOST_AUTO_TEST_CASE(follow_during_a_write_leaves_the_move_and_the_check_to_the_next_block)
{
    // The host may follow payments while a redemption holds the write
    // lock: nothing waits for it, nothing is reported, and the next block
    // does what was left.
    const IssuedCode a = CreateOne();
    const IssuedCode b = CreateOne();
    Result<Redemption> ra = ledger->Redeem(a.code, TestAddress(1));
    BOOST_REQUIRE(ra.ok());
    const Payment bumped = node.payer.Replace(ra->txid, 5000);
    const int height_before = ledger->Info().consistency.height;
    node.chain.SetTipHeight(height_before + 1);
    std::vector<PaymentNotice> during;
    int broadcasts_during = -1;
    node.payer.SetWhilePaying([&] {
        const int before = node.payer.broadcasts();
        std::thread block([&] { during = ledger->FollowPayments(); });
        block.join();
        broadcasts_during = node.payer.broadcasts() - before;
    });
    Result<Redemption> rb = ledger->Redeem(b.code, TestAddress(2));
    node.payer.SetWhilePaying(nullptr);
    BOOST_REQUIRE(rb.ok());
    BOOST_CHECK(during.empty());
    // The replaced transaction is not resubmitted meanwhile.
    BOOST_CHECK_EQUAL(broadcasts_during, 0);
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.redeemed_fees, 2 * FakePayer::FEE);  // a not moved yet
    BOOST_CHECK_EQUAL(info.consistency.height, height_before);  // not checked mid-write
    BOOST_CHECK(info.attention.empty());

    BOOST_CHECK(ledger->FollowPayments().empty());
    info = ledger->Info();
    BOOST_CHECK_EQUAL(info.redeemed_fees, 5000 + FakePayer::FEE);
    BOOST_CHECK_EQUAL(info.consistency.height, height_before + 1);
    BOOST_CHECK(info.consistency.clean());
    BOOST_CHECK(ledger->Get(a.code)->record.txid == bumped.txid);
}

BOOST_AUTO_TEST_CASE(conflicted_payment_is_not_moved_to_an_earlier_one_that_did_not_confirm)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    (void)ledger->FollowPayments();
    TxChainState conflicted;
    conflicted.known = true;
    conflicted.conflicted = true;
    conflicted.conflict_depth = 1;
    node.chain.Set(bumped.txid, conflicted);
    std::vector<PaymentNotice> notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].txid == bumped.txid);
    BOOST_CHECK(notices[0].state == PaymentState::kConflicted);
    BOOST_CHECK(ledger->Get(c.code)->record.txid == bumped.txid);
}

BOOST_AUTO_TEST_CASE(confirmed_transaction_that_does_not_pay_the_holder_is_not_taken_for_the_payment)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    // The record lists an earlier transaction the wallet cannot show pays
    // the holder; it is mined, and the payment conflicts with it.
    CodeRecord record = ledger->Get(c.code)->record;
    Txid foreign{};
    foreign[0] = 0xee;
    record.replaced = {foreign};
    store.PutRaw(EncodeCodeKey(record.id), EncodeCodeRecord(record));
    node.chain.Confirm(foreign, 1);
    TxChainState conflicted;
    conflicted.known = true;
    conflicted.conflicted = true;
    conflicted.conflict_depth = 1;
    node.chain.Set(r->txid, conflicted);
    ledger = node.Open();
    LedgerInfo info = ledger->Info();
    BOOST_REQUIRE_EQUAL(info.attention.size(), 1u);
    BOOST_CHECK(info.attention[0].txid == r->txid);
    BOOST_CHECK(info.attention[0].state == PaymentState::kConflicted);
    BOOST_CHECK(ledger->FollowPayments().empty());  // no change since the load
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.txid == r->txid);
    BOOST_CHECK(view->payment_state == PaymentState::kConflicted);
}

BOOST_AUTO_TEST_CASE(mined_original_that_cannot_be_recorded_is_recorded_on_the_next_block)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    (void)ledger->FollowPayments();
    node.chain.Confirm(r->txid, 1);
    TxChainState loser;
    loser.known = true;
    loser.conflicted = true;
    loser.conflict_depth = 1;
    node.chain.Set(bumped.txid, loser);
    store.FailNextCommits(1);
    std::vector<PaymentNotice> notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].txid == bumped.txid);
    BOOST_CHECK(notices[0].state == PaymentState::kConflicted);
    BOOST_CHECK_EQUAL(ledger->Info().redeemed_fees, 5000);
    notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].txid == r->txid);
    BOOST_CHECK(notices[0].state == PaymentState::kConfirmed);
    BOOST_CHECK(notices[0].reason.empty());
    LedgerInfo info = ledger->Info();
    BOOST_CHECK(info.attention.empty());
    BOOST_CHECK_EQUAL(info.redeemed_fees, FakePayer::FEE);
}

BOOST_AUTO_TEST_CASE(lost_buried_payment_is_put_back_by_the_consistency_check)
{
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    node.chain.Confirm(r->txid, BURIED_DEPTH);
    (void)ledger->FollowPayments();  // buried: followed no more
    store.EraseWalletRecords();
    node.chain.Forget(r->txid);
    node.payer.FailRestores(true);
    (void)ledger->FollowPayments();
    ConsistencyReport report = ledger->Info().consistency;
    BOOST_CHECK(report.checked);
    BOOST_CHECK(!report.clean());
    BOOST_REQUIRE_EQUAL(report.redeemed_without_payment.size(), 1u);
    BOOST_CHECK(report.redeemed_without_payment[0] == c.id);
    BOOST_CHECK_EQUAL(node.payer.restored(), 0);
    node.payer.FailRestores(false);
    (void)ledger->FollowPayments();
    BOOST_CHECK(ledger->Info().consistency.clean());
    BOOST_CHECK_EQUAL(node.payer.restored(), 1);
    auto payments = FakePayer::RecordedPayments(store);
    BOOST_REQUIRE_EQUAL(payments.size(), 1u);  // the same transaction, not a new one
    BOOST_CHECK(payments.begin()->first == r->txid);
}

BOOST_AUTO_TEST_CASE(consistency_check_that_cannot_run_is_reported)
{
    const IssuedCode c = CreateOne();
    BOOST_REQUIRE(ledger->Redeem(c.code, TestAddress(1)).ok());
    node.payer.FailListing(true);
    (void)ledger->FollowPayments();
    ConsistencyReport report = ledger->Info().consistency;
    BOOST_CHECK(!report.checked);
    BOOST_CHECK(!report.clean());
    BOOST_CHECK_EQUAL(report.error, "injected listing failure");
    // At load too; the ledger still opens and serves.
    ledger = node.Open();
    BOOST_CHECK_EQUAL(ledger->Info().consistency.error, "injected listing failure");
    BOOST_CHECK(ledger->Redeem(c.code, TestAddress(1))->replay);
    node.payer.FailListing(false);
    (void)ledger->FollowPayments();
    report = ledger->Info().consistency;
    BOOST_CHECK(report.clean());
    BOOST_CHECK(report.error.empty());
}

BOOST_AUTO_TEST_CASE(tagged_payments_of_unknown_or_other_payments_are_reported)
{
    const IssuedCode paid = CreateOne();
    Result<Redemption> r = ledger->Redeem(paid.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    // A second payment tagged with a redeemed code, and one tagged with a
    // code this wallet never issued.
    const Payment second = node.payer.MakePayment({paid.id, TestAddress(1), COIN});
    BOOST_REQUIRE(node.payer.RestorePayment(paid.id, second.serialized_tx).ok());
    CodeId stranger;
    stranger.bytes[0] = 0x77;
    const Payment foreign = node.payer.MakePayment({stranger, TestAddress(2), COIN});
    BOOST_REQUIRE(node.payer.RestorePayment(stranger, foreign.serialized_tx).ok());
    (void)ledger->FollowPayments();
    ConsistencyReport report = ledger->Info().consistency;
    BOOST_CHECK(report.checked);
    BOOST_CHECK(report.redeemed_without_payment.empty());
    BOOST_REQUIRE_EQUAL(report.payment_without_redemption.size(), 2u);
    std::set<Txid> unexplained;
    for (const TaggedPayment& p : report.payment_without_redemption) unexplained.insert(p.txid);
    BOOST_CHECK(unexplained.count(second.txid) == 1);
    BOOST_CHECK(unexplained.count(foreign.txid) == 1);
    // Nothing is released or paid because of it.
    BOOST_CHECK(ledger->Redeem(paid.code, TestAddress(1))->txid == r->txid);
}

BOOST_AUTO_TEST_CASE(attention_follows_the_payment_to_its_replacement)
{
    // The operator is told when the transaction to look at changes, even
    // if what is wrong with it does not.
    const IssuedCode c = CreateOne();
    node.payer.SetBroadcastFailure("min relay fee not met");
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    std::vector<PaymentNotice> notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].txid == r->txid);
    BOOST_CHECK(notices[0].state == PaymentState::kNotInMempool);
    const Payment bumped = node.payer.Replace(r->txid, 5000);
    TxChainState outside;
    outside.known = true;
    node.chain.Set(bumped.txid, outside);  // the replacement is refused too
    notices = ledger->FollowPayments();
    BOOST_REQUIRE_EQUAL(notices.size(), 1u);
    BOOST_CHECK(notices[0].txid == bumped.txid);
    BOOST_CHECK(notices[0].state == PaymentState::kNotInMempool);
    LedgerInfo info = ledger->Info();
    BOOST_REQUIRE_EQUAL(info.attention.size(), 1u);
    BOOST_CHECK(info.attention[0].txid == bumped.txid);
    BOOST_CHECK_EQUAL(info.attention[0].reason,
                      "not in the mempool (min relay fee not met); resubmitted on every block");
    BOOST_CHECK(ledger->FollowPayments().empty());  // unchanged since
}

BOOST_AUTO_TEST_CASE(replacement_moved_by_a_reader_meanwhile_is_recorded_once)
{
    // A block's follow-up puts a lost payment back; before it goes on, the
    // payment is bumped and a reader follows the replacement. The
    // follow-up finds the record moved and writes nothing more.
    const IssuedCode c = CreateOne();
    Result<Redemption> r = ledger->Redeem(c.code, TestAddress(1));
    BOOST_REQUIRE(r.ok());
    node.chain.Forget(r->txid);
    std::optional<Payment> bumped;
    node.payer.SetWhileRestoring([&] {
        bumped = node.payer.Replace(r->txid, 5000);
        Result<CodeView> read = ledger->Get(c.code);
        BOOST_REQUIRE(read.ok());
        BOOST_CHECK(read->record.txid == bumped->txid);
    });
    const int commits_before = store.commits();
    std::vector<PaymentNotice> notices = ledger->FollowPayments();
    node.payer.SetWhileRestoring(nullptr);
    BOOST_REQUIRE(bumped);
    BOOST_CHECK(notices.empty());
    // The wallet's restore and its bumpfee wrote once each, the move once.
    BOOST_CHECK_EQUAL(store.commits(), commits_before + 3);
    Result<CodeView> view = ledger->Get(c.code);
    BOOST_REQUIRE(view.ok());
    BOOST_CHECK(view->record.txid == bumped->txid);
    BOOST_CHECK_EQUAL(view->record.fee, 5000);
    BOOST_REQUIRE_EQUAL(view->record.replaced.size(), 1u);
    BOOST_CHECK(view->record.replaced[0] == r->txid);
    LedgerInfo info = ledger->Info();
    BOOST_CHECK(info.attention.empty());
    BOOST_CHECK(info.consistency.clean());
}

BOOST_AUTO_TEST_SUITE_END()
