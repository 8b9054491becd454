// Ledger: every transition and every refused transition, expiry boundaries
// on an injected clock, failures of each port, persistence across reopening,
// and the load-time consistency check.
#include "ledger.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <thread>

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
    BOOST_CHECK_EQUAL(node.payer.discarded(), 1);
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

    ledger->RetryBroadcasts();  // still failing
    BOOST_CHECK_EQUAL(ledger->Info().unbroadcast.size(), 1u);
    node.payer.SetBroadcastFailure("");
    ledger->RetryBroadcasts();
    BOOST_CHECK(ledger->Info().unbroadcast.empty());
    BOOST_CHECK(node.chain.GetTxState(r->txid).in_mempool);
    BOOST_CHECK_EQUAL(Payments(), 1u);

    // Once confirmed, it is no longer looked at.
    node.chain.Confirm(r->txid, 1);
    const int before = node.payer.broadcasts();
    ledger->RetryBroadcasts();
    ledger->RetryBroadcasts();
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
    orphan.txid[0] = 0x99;
    orphan.address = TestAddress(3);
    store.PutRaw(EncodeCodeKey(orphan.id), EncodeCodeRecord(orphan));
    // And a tagged payment for a code that is merely issued.
    const IssuedCode unpaid = CreateOne();
    auto batch = store.NewBatch();
    Payment stray;
    stray.code = unpaid.id;
    stray.txid[0] = 0x77;
    stray.amount = COIN;
    BOOST_REQUIRE(node.payer.StagePayment(*batch, stray).ok());
    BOOST_REQUIRE(store.Commit(*batch, Durability::kPowerLoss).ok());

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

BOOST_AUTO_TEST_SUITE_END()
