// The circuit breaker: limits per window, wallet-wide and per label, that
// admit exactly what fits even under concurrent redemptions; the pause; the
// settings record; and what survives a reopen.
#include "breaker.h"
#include "ledger.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

WindowLimit Limit(int64_t window, Amount amount, uint64_t count = 0, std::optional<std::string> label = std::nullopt)
{
    WindowLimit l;
    l.window = window;
    l.max_amount = amount;
    l.max_count = count;
    l.label = std::move(label);
    return l;
}

struct BreakerFixture {
    MemoryStore store;
    FakeNode node{store};
    std::unique_ptr<Ledger> ledger = node.Open();

    std::vector<IssuedCode> Create(size_t n, Amount amount = COIN, const std::string& label = "")
    {
        Result<std::vector<IssuedCode>> codes = ledger->Create(amount, n, label, 0);
        BOOST_REQUIRE(codes.ok());
        return codes.value();
    }
    StatusCode RedeemStatus(const IssuedCode& code, int payee)
    {
        Result<Redemption> r = ledger->Redeem(code.code, TestAddress(payee));
        return r.ok() ? StatusCode::kOk : r.status().code();
    }
    std::vector<Event> Events() { return node.notifier.events(EventKind::kBreaker); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(breaker_tests)

BOOST_AUTO_TEST_CASE(settings_round_trip_and_malformed_ones_are_corruption)
{
    BreakerSettings s;
    s.own_limits = true;
    s.limits = {Limit(3600, 5 * COIN), Limit(86400, 0, 7, std::string("spring \xe6\x98\xa5"))};
    s.paused = true;
    s.pause_reason = "investigating";
    s.paused_at = 1700000000;
    const std::string encoded = EncodeBreakerSettings(s);
    Result<BreakerSettings> decoded = DecodeBreakerSettings(encoded);
    BOOST_REQUIRE(decoded.ok());
    BOOST_CHECK(decoded.value() == s);
    BOOST_CHECK(IsBreakerKey(EncodeBreakerKey()));
    BOOST_CHECK(!IsBreakerKey("s"));
    for (size_t cut = 0; cut < encoded.size(); ++cut) {
        BOOST_CHECK(DecodeBreakerSettings(encoded.substr(0, cut)).status().code() == StatusCode::kCorruption);
    }
    BOOST_CHECK(DecodeBreakerSettings(encoded + "x").status().code() == StatusCode::kCorruption);
    std::string bad_version = encoded;
    bad_version[0] = 2;
    BOOST_CHECK(!DecodeBreakerSettings(bad_version).ok());
    std::string bad_flags = encoded;
    bad_flags[1] = 4;
    BOOST_CHECK(!DecodeBreakerSettings(bad_flags).ok());
    // A stored limit that could not be set is refused too.
    BreakerSettings zero;
    zero.limits = {Limit(0, COIN)};
    BOOST_CHECK(!DecodeBreakerSettings(EncodeBreakerSettings(zero)).ok());
}

BOOST_AUTO_TEST_CASE(limits_are_checked)
{
    BOOST_CHECK(CheckLimit(Limit(1, 1)).ok());
    BOOST_CHECK(CheckLimit(Limit(MAX_LIMIT_WINDOW, 0, 1)).ok());
    BOOST_CHECK(!CheckLimit(Limit(0, 1)).ok());
    BOOST_CHECK(!CheckLimit(Limit(MAX_LIMIT_WINDOW + 1, 1)).ok());
    BOOST_CHECK(!CheckLimit(Limit(60, 0, 0)).ok());
    BOOST_CHECK(!CheckLimit(Limit(60, -1, 1)).ok());
    BOOST_CHECK(!CheckLimit(Limit(60, 1, 0, std::string(MAX_LABEL + 1, 'x'))).ok());
    BOOST_CHECK(!CheckLimit(Limit(60, 1, 0, std::string("a\0b", 3))).ok());
    BOOST_CHECK_EQUAL(DescribeLimit(Limit(3600, 5 * COIN, 3)), "wallet: per 1 h at most 5.00000000 and at most 3 redemptions");
    BOOST_CHECK_EQUAL(DescribeLimit(Limit(86400, 0, 3, std::string("x"))), "label \"x\": per 1 d at most 3 redemptions");
    BOOST_CHECK_EQUAL(DescribeLimit(Limit(90, COIN)), "wallet: per 90 s at most 1.00000000");
}

BOOST_AUTO_TEST_CASE(a_window_admits_what_fits_and_says_when_the_rest_will)
{
    RedemptionWindow w;
    const int64_t t = 1000000;
    w.Add(t - 50, 3 * COIN, "a");
    w.Add(t - 100, 2 * COIN, "b");  // out of order: kept sorted
    w.Add(t - 10, 1 * COIN, "a");
    const std::vector<WindowLimit> amount{Limit(60, 5 * COIN)};
    // 4 in the last 60 s (the 2 at t-100 has left): 1 more fits, 2 do not.
    BOOST_CHECK(!w.Admit(t, COIN, "c", amount, {}));
    std::optional<LimitRefusal> r = w.Admit(t, 2 * COIN, "c", amount, {});
    BOOST_REQUIRE(r);
    BOOST_CHECK_EQUAL(r->fits_at, t - 50 + 60);  // when the 3 leaves
    BOOST_CHECK_NE(r->message.find("4.00000000 in 2 redemptions"), std::string::npos);
    // Admitted but not yet added counts too.
    BOOST_CHECK(w.Admit(t, COIN, "c", amount, {{COIN, "z"}}));
    // Alone over the limit: it never fits.
    r = w.Admit(t, 6 * COIN, "c", amount, {});
    BOOST_REQUIRE(r);
    BOOST_CHECK_EQUAL(r->fits_at, 0);
    BOOST_CHECK_NE(r->message.find("alone exceeds"), std::string::npos);
    // A count, and a label's own limit that only its codes feel.
    BOOST_CHECK(w.Admit(t, COIN, "x", {Limit(60, 0, 2)}, {}));
    BOOST_CHECK(!w.Admit(t, COIN, "x", {Limit(60, 0, 3)}, {}));
    const std::vector<WindowLimit> label_a{Limit(60, 0, 2, std::string("a"))};
    BOOST_CHECK(w.Admit(t, COIN, "a", label_a, {}));
    BOOST_CHECK(!w.Admit(t, COIN, "b", label_a, {}));
    // The admitted ones leave last: only after a window from now.
    r = w.Admit(t, COIN, "x", {Limit(60, 0, 1)}, {{COIN, "x"}});
    BOOST_REQUIRE(r);
    // The states a getgiftcodeinfo shows.
    const std::vector<LimitState> states = w.States(t, {Limit(60, 5 * COIN), Limit(200, 0, 9, std::string("b"))});
    BOOST_CHECK_EQUAL(states[0].amount, 4 * COIN);
    BOOST_CHECK_EQUAL(states[0].count, 2u);
    BOOST_CHECK_EQUAL(states[0].next_release, t - 50 + 60);
    BOOST_CHECK_EQUAL(states[1].amount, 2 * COIN);
    BOOST_CHECK_EQUAL(states[1].next_release, t - 100 + 200);
    w.Prune(t + MAX_LIMIT_WINDOW);
    BOOST_CHECK_EQUAL(w.size(), 0u);
}

BOOST_FIXTURE_TEST_CASE(concurrent_redemptions_never_overshoot_a_limit, BreakerFixture)
{
    // 64 threads, 200 codes of 1 MONA, a limit of 37 MONA per hour: exactly
    // 37 are paid, whatever the interleaving, and each other is refused
    // with the limit, its code still issued.
    node.max_payment_codes = 7;
    ledger = node.Open();
    BOOST_REQUIRE(ledger->SetLimits(std::vector<WindowLimit>{Limit(3600, 37 * COIN)}).ok());
    const std::vector<IssuedCode> codes = Create(200);
    std::atomic<size_t> next{0}, paid{0}, limited{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 64; ++t) {
        threads.emplace_back([&, t] {
            for (size_t i; (i = next++) < codes.size();) {
                const StatusCode s = RedeemStatus(codes[i], int(i));
                (s == StatusCode::kOk ? paid : s == StatusCode::kLimitReached ? limited : other)++;
            }
            (void)t;
        });
    }
    for (std::thread& t : threads) t.join();
    BOOST_CHECK_EQUAL(paid.load(), 37u);
    BOOST_CHECK_EQUAL(limited.load(), 163u);
    BOOST_CHECK_EQUAL(other.load(), 0u);
    const LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.counts.at(CodeState::kRedeemed), 37u);
    BOOST_CHECK_EQUAL(info.counts.at(CodeState::kIssued), 163u);
    BOOST_CHECK_EQUAL(info.failed_redemptions.at(StatusCode::kLimitReached), 163u);
    BOOST_REQUIRE_EQUAL(info.breaker.limits.size(), 1u);
    BOOST_CHECK_EQUAL(info.breaker.limits[0].amount, 37 * COIN);
    BOOST_CHECK(info.breaker.tripped);
    // Told once, however many were refused.
    const std::vector<Event> events = Events();
    size_t trips = 0;
    for (const Event& e : events) trips += e.reason.rfind("tripped: ", 0) == 0;
    BOOST_CHECK_EQUAL(trips, 1u);
}

BOOST_FIXTURE_TEST_CASE(counts_labels_and_the_window_sliding_on, BreakerFixture)
{
    BOOST_REQUIRE(ledger->SetLimits(std::vector<WindowLimit>{Limit(3600, 0, 3), Limit(60, 0, 1, std::string("spring"))}).ok());
    const std::vector<IssuedCode> spring = Create(3, COIN, "spring");
    const std::vector<IssuedCode> plain = Create(4);
    BOOST_CHECK(RedeemStatus(spring[0], 1) == StatusCode::kOk);
    BOOST_CHECK(RedeemStatus(spring[1], 2) == StatusCode::kLimitReached);  // the label's 1 a minute
    BOOST_CHECK(RedeemStatus(plain[0], 3) == StatusCode::kOk);             // others are not held by it
    BOOST_CHECK(RedeemStatus(plain[1], 4) == StatusCode::kOk);
    BOOST_CHECK(RedeemStatus(plain[2], 5) == StatusCode::kLimitReached);   // the wallet's 3 an hour
    // A replay is answered while the breaker is tripped.
    Result<Redemption> replay = ledger->Redeem(plain[0].code, TestAddress(3));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(replay->replay);
    BreakerInfo b = ledger->Breaker();
    BOOST_REQUIRE(b.tripped);
    BOOST_CHECK_EQUAL(b.tripped->fits_at, node.clock.Now() + 3600);
    // An hour on, the window has room again; the breaker closes.
    node.clock.Advance(3601);
    BOOST_CHECK(RedeemStatus(plain[2], 5) == StatusCode::kOk);
    BOOST_CHECK(!ledger->Breaker().tripped);
    const std::vector<Event> events = Events();
    BOOST_REQUIRE(!events.empty());
    BOOST_CHECK_EQUAL(events.back().reason.rfind("closed: ", 0), 0u);
}

BOOST_FIXTURE_TEST_CASE(limits_pause_and_windows_survive_a_reopen, BreakerFixture)
{
    const std::vector<IssuedCode> codes = Create(5);
    BOOST_CHECK(RedeemStatus(codes[0], 1) == StatusCode::kOk);
    BOOST_CHECK(RedeemStatus(codes[1], 2) == StatusCode::kOk);
    BOOST_REQUIRE(ledger->SetLimits(std::vector<WindowLimit>{Limit(3600, 3 * COIN)}).ok());
    ledger = node.Open();
    // The two redeemed before count in the window read back from records.
    BreakerInfo b = ledger->Breaker();
    BOOST_CHECK(b.own_limits);
    BOOST_REQUIRE_EQUAL(b.limits.size(), 1u);
    BOOST_CHECK_EQUAL(b.limits[0].amount, 2 * COIN);
    BOOST_CHECK(RedeemStatus(codes[2], 3) == StatusCode::kOk);
    BOOST_CHECK(RedeemStatus(codes[3], 4) == StatusCode::kLimitReached);

    BOOST_REQUIRE(ledger->Pause("looking into a leak").ok());
    ledger = node.Open();
    b = ledger->Breaker();
    BOOST_CHECK(b.paused);
    BOOST_CHECK_EQUAL(b.pause_reason, "looking into a leak");
    BOOST_CHECK_EQUAL(b.paused_at, node.clock.Now());
    node.clock.Advance(7200);
    Result<Redemption> refused = ledger->Redeem(codes[3].code, TestAddress(4));
    BOOST_REQUIRE(!refused.ok());
    BOOST_CHECK(refused.status().code() == StatusCode::kPaused);
    BOOST_CHECK_NE(refused.status().message().find("looking into a leak"), std::string::npos);
    // Replays still answer while paused.
    BOOST_CHECK(ledger->Redeem(codes[0].code, TestAddress(1)).ok());
    BOOST_REQUIRE(ledger->Resume().ok());
    BOOST_CHECK(RedeemStatus(codes[3], 4) == StatusCode::kOk);

    // Back to the node's limits (none here), then the node's apply.
    BOOST_REQUIRE(ledger->SetLimits(std::nullopt).ok());
    BOOST_CHECK(!ledger->Breaker().own_limits);
    BOOST_CHECK(ledger->Breaker().limits.empty());
    node.limits = {Limit(60, 0, 1)};
    ledger = node.Open();
    BOOST_CHECK(RedeemStatus(codes[4], 5) == StatusCode::kLimitReached);  // codes[3], a moment ago
    node.clock.Advance(61);
    BOOST_CHECK(RedeemStatus(codes[4], 5) == StatusCode::kOk);
    const std::vector<IssuedCode> more = Create(1);
    BOOST_CHECK(RedeemStatus(more[0], 6) == StatusCode::kLimitReached);
    std::vector<std::string> reasons;
    for (const Event& e : Events()) reasons.push_back(e.reason.substr(0, e.reason.find(':')));
    BOOST_CHECK_EQUAL(reasons.front(), "limits set");
}

BOOST_FIXTURE_TEST_CASE(bad_settings_change_nothing, BreakerFixture)
{
    BOOST_CHECK(ledger->SetLimits(std::vector<WindowLimit>{Limit(0, COIN)}).status().code() ==
                StatusCode::kInvalidParameter);
    BOOST_CHECK(ledger->SetLimits(std::vector<WindowLimit>(MAX_LIMITS + 1, Limit(60, COIN))).status().code() ==
                StatusCode::kInvalidParameter);
    BOOST_CHECK(ledger->Pause(std::string(MAX_LABEL + 1, 'r')).status().code() == StatusCode::kInvalidParameter);
    BOOST_CHECK(ledger->Pause(std::string("a\0b", 3)).status().code() == StatusCode::kInvalidParameter);
    store.FailNextCommits(1);
    BOOST_CHECK(ledger->Pause("x").status().code() == StatusCode::kStoreFailure);
    BOOST_CHECK(!ledger->Breaker().paused);
    BOOST_CHECK(ledger->Breaker().limits.empty());
    BOOST_CHECK(Events().empty());
}

BOOST_AUTO_TEST_SUITE_END()
