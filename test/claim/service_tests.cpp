// The claim service on fake nodes: one payment per code under concurrency,
// retries with the same address, the bounded queue, routing among nodes,
// and what a holder sees.
#include "service_fixture.h"

#include <rpc.h>

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace giftcode;
using namespace giftcode::claim;
using namespace giftcode::claim::test;

namespace {

std::string Key(const Answer& answer) { return answer.body["error"]["key"].get_str(); }
std::string StateOf(const Answer& answer) { return answer.body["claim"]["state"].get_str(); }

//! Claims answered 202 at once, and retried only after a minute.
Config AnswerAtOnceRetryLate()
{
    Config config = TestConfig();
    config.claim_wait_ms = 0;
    config.retry_min_ms = 60000;
    config.retry_max_ms = 60000;
    return config;
}

//! Looks the code up until its claim is in `state` (20 s at most).
bool WaitForClaimState(ServiceFixture& f, const std::string& code, const std::string& state)
{
    for (int i = 0; i < 4000; ++i) {
        const UniValue claim = f.Lookup(code).body["claim"];
        if (claim.isObject() && claim["state"].get_str() == state) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(service_tests)

BOOST_AUTO_TEST_CASE(lookup_shows_a_holder_what_the_node_says_and_no_more)
{
    ServiceFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code, "0.00000546");
    Answer answer = f.Lookup(code);
    BOOST_CHECK_EQUAL(answer.http, 200);
    const UniValue& view = answer.body["code"];
    BOOST_CHECK_EQUAL(view["state"].get_str(), "issued");
    BOOST_CHECK_EQUAL(view["amount"].getValStr(), "0.00000546");
    BOOST_CHECK_EQUAL(view["id"].get_str(), IdOf(code));
    BOOST_CHECK(!view.exists("label"));
    BOOST_CHECK(!view.exists("fee"));
    BOOST_CHECK(answer.body["claim"].isNull());
    std::string compact;
    for (char c : code) if (c != '-') compact += c;
    BOOST_CHECK(answer.body.write().find(compact.substr(3)) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_codes_are_failed_lookups_until_the_client_must_wait)
{
    Config config = TestConfig();
    config.limits.failed_lookups_per_minute = 3;
    ServiceFixture f(config);
    for (int i = 0; i < 3; ++i) {
        BOOST_CHECK_EQUAL(f.service->FailedLookupWait("10.0.0.9"), 0);
        Answer answer = f.Lookup(NewCode(), "10.0.0.9");
        BOOST_CHECK_EQUAL(answer.http, 422);
        BOOST_CHECK_EQUAL(Key(answer), "unknown_code");
        BOOST_CHECK_EQUAL(answer.body["error"]["rpc_code"].get_int(), -404);
    }
    BOOST_CHECK_GT(f.service->FailedLookupWait("10.0.0.9"), 0);
    BOOST_CHECK_EQUAL(f.service->FailedLookupWait("10.0.0.10"), 0);
}

BOOST_AUTO_TEST_CASE(a_claim_pays_once_and_the_same_claim_again_gets_the_same_txid)
{
    ServiceFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    Answer first = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(first.http, 200);
    BOOST_CHECK_EQUAL(StateOf(first), "done");
    BOOST_CHECK_EQUAL(first.body["code"]["state"].get_str(), "redeemed");
    std::string txid = first.body["claim"]["txid"].get_str();
    BOOST_CHECK_EQUAL(first.body["code"]["txid"].get_str(), txid);

    Answer again = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(again.http, 200);
    BOOST_CHECK_EQUAL(again.body["claim"]["txid"].get_str(), txid);
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("redeemgiftcode"), 1u);

    Answer lookup = f.Lookup(code);
    BOOST_CHECK_EQUAL(lookup.body["code"]["state"].get_str(), "redeemed");
    BOOST_CHECK_EQUAL(lookup.body["claim"]["state"].get_str(), "done");
    BOOST_CHECK_EQUAL(first.body["code"]["confirmations"].get_int(), 0);

    Answer elsewhere = f.Claim(code, OTHER_ADDRESS);
    BOOST_CHECK_EQUAL(elsewhere.http, 409);
    BOOST_CHECK_EQUAL(Key(elsewhere), "already_redeemed");
    BOOST_CHECK(!elsewhere.body.exists("claim")); // not the holder's address
    BOOST_CHECK_EQUAL(f.nodes[0].Payments(code), 1u);
    // Answered here: the paid claim stays what a reloaded page finds.
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("redeemgiftcode"), 1u);
    Answer after = f.Lookup(code);
    BOOST_CHECK_EQUAL(after.body["claim"]["state"].get_str(), "done");
    BOOST_CHECK_EQUAL(after.body["claim"]["address"].get_str(), ADDRESS);
}

BOOST_AUTO_TEST_CASE(a_claim_under_way_is_followed_without_asking_the_node_each_time)
{
    ServiceFixture f(AnswerAtOnceRetryLate());
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    // The redemption's answer is lost; the test's own lookups, which may
    // reach the node before it, are answered.
    f.nodes[0].Script({NodeFailure::kTimeout, 0, false, "redeemgiftcode"});
    BOOST_CHECK_EQUAL(f.Claim(code, ADDRESS).http, 202);
    BOOST_REQUIRE(WaitForClaimState(f, code, "retrying"));
    size_t asked = f.nodes[0].CallCount("getgiftcode");
    BOOST_CHECK_GE(asked, 1u);
    for (int i = 0; i < 10; ++i) {
        Answer answer = f.Lookup(code);
        BOOST_CHECK_EQUAL(answer.http, 200);
        BOOST_CHECK_EQUAL(answer.body["code"]["state"].get_str(), "issued");
        BOOST_CHECK_EQUAL(answer.body["claim"]["state"].get_str(), "retrying");
    }
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("getgiftcode"), asked);
}

BOOST_AUTO_TEST_CASE(a_redeemed_view_keeps_what_the_redemption_does_not_say)
{
    UniValue before(UniValue::VOBJ);
    before.pushKV("id", "ab");
    before.pushKV("state", "issued");
    before.pushKV("created_at", 1790000000);
    before.pushKV("expires_at", UniValue(UniValue::VNULL));
    UniValue redemption(UniValue::VOBJ);
    redemption.pushKV("id", "ab");
    redemption.pushKV("txid", "cd");
    redemption.pushKV("fee", 0.0001);
    redemption.pushKV("payment_state", "confirmed");
    UniValue view = RedeemedView(before, redemption);
    BOOST_CHECK_EQUAL(view["state"].get_str(), "redeemed");
    BOOST_CHECK_EQUAL(view["created_at"].get_int(), 1790000000);
    BOOST_CHECK(view.exists("expires_at"));
    BOOST_CHECK_EQUAL(view["txid"].get_str(), "cd");
    BOOST_CHECK(!view.exists("fee"));
    BOOST_CHECK(!view.exists("confirmations")); // not known from "confirmed"
    BOOST_CHECK_EQUAL(RedeemedView(UniValue(), redemption)["state"].get_str(), "redeemed");
}

BOOST_AUTO_TEST_CASE(concurrent_claims_of_one_code_make_one_call_and_share_its_outcome)
{
    ServiceFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    f.nodes[0].Hold();
    std::vector<Pending> pending(32);
    f.service->Claim(Parse(code), ADDRESS, "10.0.0.1", pending[0].reply());
    f.nodes[0].WaitForHeld(1);
    std::vector<std::thread> threads;
    for (size_t i = 1; i < pending.size(); ++i) {
        threads.emplace_back([&, i] { f.service->Claim(Parse(code), ADDRESS, "10.0.1." + std::to_string(i), pending[i].reply()); });
    }
    for (auto& t : threads) t.join();
    Pending other;
    f.service->Claim(Parse(code), OTHER_ADDRESS, "10.0.0.2", other.reply());
    Answer refused = other.get();
    BOOST_CHECK_EQUAL(refused.http, 409);
    BOOST_CHECK_EQUAL(Key(refused), "claim_in_progress");
    BOOST_CHECK(!refused.body.exists("claim")); // another holder's claim, address and all
    f.nodes[0].Release();
    std::string txid;
    for (Pending& p : pending) {
        Answer answer = p.get();
        BOOST_CHECK_EQUAL(answer.http, 200);
        if (txid.empty()) txid = answer.body["claim"]["txid"].get_str();
        BOOST_CHECK_EQUAL(answer.body["claim"]["txid"].get_str(), txid);
    }
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("redeemgiftcode"), 1u);
    BOOST_CHECK_EQUAL(f.nodes[0].Payments(code), 1u);
}

BOOST_AUTO_TEST_CASE(a_claim_without_an_answer_is_sent_again_with_the_same_address_until_the_node_answers)
{
    ServiceFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    // The first call pays but its answer is lost; then the node is
    // unreachable, its work queue full, it closes, and asks to wait.
    f.nodes[0].Script({NodeFailure::kTimeout, 0, true});
    f.nodes[0].Script({NodeFailure::kRefused, 0, false});
    f.nodes[0].Script({NodeFailure::kWorkQueue, 0, false});
    f.nodes[0].Script({NodeFailure::kClosed, 0, false});
    f.nodes[0].Script({NodeFailure::kNone, RPC_NODE_IN_INITIAL_DOWNLOAD, false});
    f.nodes[0].Script({NodeFailure::kNone, RPC_NODE_DATABASE_ERROR, false});
    Answer answer = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(answer.http, 200);
    BOOST_CHECK_EQUAL(StateOf(answer), "done");
    BOOST_CHECK(answer.body["claim"]["replay"].get_bool());
    BOOST_CHECK_EQUAL(answer.body["claim"]["attempts"].get_int(), 7);
    BOOST_CHECK_EQUAL(f.nodes[0].Payments(code), 1u);
    for (const auto& call : f.nodes[0].Calls()) {
        BOOST_CHECK_EQUAL(call.method, "redeemgiftcode");
        BOOST_CHECK_EQUAL(call.address, ADDRESS);
        BOOST_CHECK_EQUAL(call.code, code);
    }
}

BOOST_AUTO_TEST_CASE(a_retrying_claim_says_so_and_why)
{
    ServiceFixture f(AnswerAtOnceRetryLate());
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    f.nodes[0].Script({NodeFailure::kNone, RPC_GIFTCODE_FUNDS_PENDING, false, "redeemgiftcode"});
    Answer accepted = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(accepted.http, 202);
    BOOST_REQUIRE(WaitForClaimState(f, code, "retrying"));
    Answer lookup = f.Lookup(code);
    const UniValue& claim = lookup.body["claim"];
    BOOST_CHECK_EQUAL(claim["state"].get_str(), "retrying");
    BOOST_CHECK_EQUAL(claim["error"]["key"].get_str(), "funds_pending");
    BOOST_CHECK_EQUAL(claim["error"]["rpc_code"].get_int(), -408);
    BOOST_CHECK(claim["retry_at"].isNum());
    BOOST_CHECK_EQUAL(lookup.body["code"]["state"].get_str(), "issued");
    BOOST_CHECK_EQUAL(f.nodes[0].Payments(code), 0u);
}

BOOST_AUTO_TEST_CASE(a_final_refusal_fails_the_claim_and_a_later_claim_may_try_again)
{
    ServiceFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    f.nodes[0].Script({NodeFailure::kNone, RPC_NODE_WALLET_INSUFFICIENT_FUNDS, false});
    Answer refused = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(refused.http, 502);
    BOOST_CHECK_EQUAL(Key(refused), "insufficient_funds");
    BOOST_CHECK_EQUAL(StateOf(refused), "failed");
    Answer later = f.Claim(code, OTHER_ADDRESS);
    BOOST_CHECK_EQUAL(later.http, 200);
    BOOST_CHECK_EQUAL(f.nodes[0].Payments(code), 1u);
}

BOOST_AUTO_TEST_CASE(state_refusals_are_conflicts)
{
    ServiceFixture f;
    std::string cancelled = NewCode(), expired = NewCode();
    f.nodes[0].Issue(cancelled, "1.00000000", "cancelled");
    f.nodes[0].Issue(expired, "1.00000000", "expired");
    Answer a = f.Claim(cancelled, ADDRESS);
    BOOST_CHECK_EQUAL(a.http, 409);
    BOOST_CHECK_EQUAL(Key(a), "cancelled");
    Answer b = f.Claim(expired, ADDRESS);
    BOOST_CHECK_EQUAL(Key(b), "expired");
    Answer c = f.Claim(NewCode(), ADDRESS);
    BOOST_CHECK_EQUAL(c.http, 422);
    BOOST_CHECK_EQUAL(Key(c), "unknown_code");
}

BOOST_AUTO_TEST_CASE(a_full_queue_answers_busy_at_once_and_accepted_claims_still_finish)
{
    Config config = TestConfig();
    config.nodes[0].connections = 1;
    config.nodes[0].queue = 1;
    ServiceFixture f(config);
    std::string a = NewCode(), b = NewCode(), c = NewCode();
    for (const auto& code : {a, b, c}) f.nodes[0].Issue(code);
    f.nodes[0].Hold();
    Pending pa, pb;
    f.service->Claim(Parse(a), ADDRESS, "10.0.0.1", pa.reply());
    f.nodes[0].WaitForHeld(1);
    f.service->Claim(Parse(b), ADDRESS, "10.0.0.2", pb.reply());
    Answer busy = f.Claim(c, ADDRESS, "10.0.0.3");
    BOOST_CHECK_EQUAL(busy.http, 503);
    BOOST_CHECK_EQUAL(Key(busy), "busy");
    BOOST_CHECK_EQUAL(*busy.retry_after, 2);
    Answer lookup_busy = f.Lookup(c);
    BOOST_CHECK_EQUAL(Key(lookup_busy), "busy");
    UniValue status = f.service->Status();
    BOOST_CHECK_EQUAL(status["nodes"][0]["running"].get_int(), 1);
    BOOST_CHECK_EQUAL(status["nodes"][0]["queue"].get_int(), 1);
    BOOST_CHECK_EQUAL(status["claims_active"].get_int(), 2);
    f.nodes[0].Release();
    BOOST_CHECK_EQUAL(pa.get().http, 200);
    BOOST_CHECK_EQUAL(pb.get().http, 200);
    BOOST_CHECK_EQUAL(f.Claim(c, ADDRESS, "10.0.0.3").http, 200);
    BOOST_CHECK_EQUAL(f.nodes[0].Payments(c), 1u);
}

BOOST_AUTO_TEST_CASE(retries_go_ahead_of_new_requests_and_ignore_the_bound)
{
    Config config = TestConfig();
    config.nodes[0].connections = 1;
    config.nodes[0].queue = 0;
    ServiceFixture f(config);
    std::string a = NewCode();
    f.nodes[0].Issue(a);
    f.nodes[0].Script({NodeFailure::kTimeout, 0, false});
    f.nodes[0].Script({NodeFailure::kTimeout, 0, false});
    Answer answer = f.Claim(a, ADDRESS);
    BOOST_CHECK_EQUAL(answer.http, 200);
    BOOST_CHECK_EQUAL(answer.body["claim"]["attempts"].get_int(), 3);
}

BOOST_AUTO_TEST_CASE(a_claim_that_takes_long_is_answered_202_and_followed_by_lookup)
{
    Config config = TestConfig();
    config.claim_wait_ms = 50;
    ServiceFixture f(config);
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    f.nodes[0].Hold();
    Answer accepted = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(accepted.http, 202);
    BOOST_CHECK_EQUAL(StateOf(accepted), "sending");
    BOOST_CHECK(accepted.body["claim"]["txid"].isNull());
    f.nodes[0].Release();
    BOOST_CHECK(WaitForClaimState(f, code, "done"));
}

BOOST_AUTO_TEST_CASE(claims_per_client_are_limited_and_joining_is_free)
{
    Config config = TestConfig();
    config.limits.claims_per_minute = 2;
    ServiceFixture f(config);
    std::vector<std::string> codes;
    for (int i = 0; i < 3; ++i) {
        codes.push_back(NewCode());
        f.nodes[0].Issue(codes.back());
    }
    BOOST_CHECK_EQUAL(f.Claim(codes[0], ADDRESS, "10.1.1.1").http, 200);
    BOOST_CHECK_EQUAL(f.Claim(codes[0], ADDRESS, "10.1.1.1").http, 200); // the same claim: no new token
    BOOST_CHECK_EQUAL(f.Claim(codes[1], ADDRESS, "10.1.1.1").http, 200);
    Answer limited = f.Claim(codes[2], ADDRESS, "10.1.1.1");
    BOOST_CHECK_EQUAL(limited.http, 429);
    BOOST_CHECK_EQUAL(Key(limited), "rate_limited");
    BOOST_CHECK_GE(*limited.retry_after, 1);
    BOOST_CHECK_EQUAL(f.Claim(codes[2], ADDRESS, "10.1.1.2").http, 200);
}

BOOST_AUTO_TEST_CASE(codes_are_found_on_the_node_that_issued_them)
{
    ServiceFixture f(TestConfig(3));
    std::string code = NewCode();
    f.nodes[2].Issue(code);
    Answer lookup = f.Lookup(code);
    BOOST_CHECK_EQUAL(lookup.http, 200);
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("getgiftcode"), 1u);
    BOOST_CHECK_EQUAL(f.nodes[1].CallCount("getgiftcode"), 1u);
    Answer claim = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(claim.http, 200);
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("redeemgiftcode"), 0u);
    BOOST_CHECK_EQUAL(f.nodes[2].Payments(code), 1u);

    // Claimed without a lookup first: tried on each node in turn.
    std::string second = NewCode();
    f.nodes[1].Issue(second);
    BOOST_CHECK_EQUAL(f.Claim(second, ADDRESS).http, 200);
    BOOST_CHECK_EQUAL(f.nodes[1].Payments(second), 1u);
    BOOST_CHECK_EQUAL(f.nodes[2].CallCount("redeemgiftcode"), 1u);

    BOOST_CHECK_EQUAL(f.Lookup(NewCode()).http, 422);
}

BOOST_AUTO_TEST_CASE(a_claim_follows_the_node_found_to_hold_its_code)
{
    Config config = TestConfig(2);
    config.claim_wait_ms = 0;
    config.retry_min_ms = 1000;
    config.retry_max_ms = 1000;
    ServiceFixture f(config);
    std::string code = NewCode();
    f.nodes[1].Issue(code);
    // Node 1 stays silent, however long anything takes.
    for (int i = 0; i < 100; ++i) f.nodes[0].Script({NodeFailure::kRefused, 0, false});
    BOOST_CHECK_EQUAL(f.Claim(code, ADDRESS).http, 202);
    // Its first try goes to node 1 (no lookup has told the service where
    // the code is yet), and is retried.
    for (int i = 0; i < 4000 && f.nodes[0].CallCount("redeemgiftcode") == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    BOOST_REQUIRE_GE(f.nodes[0].CallCount("redeemgiftcode"), 1u);
    BOOST_REQUIRE(WaitForClaimState(f, code, "retrying"));
    // Meanwhile a lookup finds the code on node 2; the retry goes there.
    BOOST_CHECK(WaitForClaimState(f, code, "done"));
    BOOST_CHECK_EQUAL(f.nodes[1].Payments(code), 1u);
}

BOOST_AUTO_TEST_CASE(a_node_warming_up_changed_nothing)
{
    ServiceFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    f.nodes[0].Script({NodeFailure::kNone, -28, false});
    Answer lookup = f.Lookup(code);
    BOOST_CHECK_EQUAL(lookup.http, 503);
    BOOST_CHECK_EQUAL(Key(lookup), "node_unavailable");
    BOOST_CHECK_EQUAL(lookup.body["error"]["rpc_code"].get_int(), -28);
    f.nodes[0].Script({NodeFailure::kNone, -28, false});
    Answer claim = f.Claim(code, ADDRESS);
    BOOST_CHECK_EQUAL(claim.http, 200);
    BOOST_CHECK_EQUAL(claim.body["claim"]["attempts"].get_int(), 2);
}

BOOST_AUTO_TEST_CASE(a_lookup_for_the_next_node_is_a_new_request_bounded_like_any)
{
    Config config = TestConfig(2);
    config.nodes[1].connections = 1;
    config.nodes[1].queue = 0;
    ServiceFixture f(config);
    std::string a = NewCode(), b = NewCode();
    f.nodes[1].Issue(a);
    f.nodes[1].Issue(b);
    f.nodes[1].Hold();
    Pending first;
    int wait = 0;
    BOOST_REQUIRE(f.service->TakeLookupToken("10.0.0.1", wait));
    f.service->Lookup(Parse(a), "10.0.0.1", first.reply());
    f.nodes[1].WaitForHeld(1);
    Answer busy = f.Lookup(b);
    BOOST_CHECK_EQUAL(busy.http, 503);
    BOOST_CHECK_EQUAL(Key(busy), "busy");
    UniValue status = f.service->Status();
    BOOST_CHECK_EQUAL(status["nodes"][1]["queue"].get_int(), 0);
    f.nodes[1].Release();
    BOOST_CHECK_EQUAL(first.get().http, 200);
    BOOST_CHECK_EQUAL(f.service->FailedLookupWait("10.0.0.1"), 0); // found and busy lookups gave their tokens back
}

BOOST_AUTO_TEST_CASE(a_claim_of_a_code_no_node_knows_is_a_failed_lookup_and_is_not_kept)
{
    Config config = TestConfig();
    config.limits.failed_lookups_per_minute = 2;
    ServiceFixture f(config);
    BOOST_CHECK_EQUAL(Key(f.Claim(NewCode(), ADDRESS, "10.7.7.7")), "unknown_code");
    BOOST_CHECK_EQUAL(Key(f.Claim(NewCode(), ADDRESS, "10.7.7.7")), "unknown_code");
    BOOST_CHECK_GT(f.service->FailedLookupWait("10.7.7.7"), 0);
    BOOST_CHECK_EQUAL(f.service->Status()["claims_active"].get_int(), 0);
}

BOOST_AUTO_TEST_CASE(an_unknown_code_is_not_called_unknown_while_a_node_is_silent)
{
    ServiceFixture f(TestConfig(2));
    std::string code = NewCode();
    f.nodes[0].Script({NodeFailure::kRefused, 0, false});
    Answer answer = f.Lookup(code);
    BOOST_CHECK_EQUAL(answer.http, 503);
    BOOST_CHECK_EQUAL(answer.body["error"]["key"].get_str(), "node_unavailable");
    BOOST_CHECK_EQUAL(f.service->FailedLookupWait("10.0.0.1"), 0);
    UniValue status = f.service->Status();
    BOOST_CHECK(!status["nodes"][0]["reachable"].get_bool());
    BOOST_CHECK(status["nodes"][1]["reachable"].get_bool());

    ServiceFixture one;
    one.nodes[0].Script({NodeFailure::kTimeout, 0, false});
    BOOST_CHECK_EQUAL(one.Lookup(code).body["error"]["key"].get_str(), "node_unavailable");
}

BOOST_AUTO_TEST_CASE(a_finished_claim_is_forgotten_after_its_time)
{
    Config config = TestConfig();
    config.keep_finished_s = 1;
    ServiceFixture f(config);
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    BOOST_CHECK_EQUAL(f.Claim(code, ADDRESS).http, 200);
    BOOST_CHECK(f.Lookup(code).body["claim"].isObject());
    bool forgotten = false;
    for (int i = 0; i < 400 && !forgotten; ++i) {
        forgotten = f.Lookup(code).body["claim"].isNull();
        if (!forgotten) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_CHECK(forgotten);
    BOOST_CHECK_EQUAL(f.Lookup(code).body["code"]["state"].get_str(), "redeemed");
}

BOOST_AUTO_TEST_CASE(status_names_the_network_and_the_queues)
{
    ServiceFixture f(TestConfig(2));
    UniValue status = f.service->Status();
    BOOST_CHECK_EQUAL(status["network"].get_str(), "regtest");
    BOOST_CHECK_EQUAL(status["prefix"].get_str(), "RGC");
    BOOST_CHECK_EQUAL(status["poll_ms"].get_int(), 5000);
    BOOST_CHECK_EQUAL(status["nodes"].size(), 2u);
    BOOST_CHECK_EQUAL(status["nodes"][1]["queue_limit"].get_int(), 8);
}

BOOST_AUTO_TEST_CASE(a_stopped_service_answers_busy)
{
    ServiceFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    f.service->Stop();
    BOOST_CHECK_EQUAL(f.Claim(code, ADDRESS).body["error"]["key"].get_str(), "busy");
    BOOST_CHECK_EQUAL(f.Lookup(code).body["error"]["key"].get_str(), "busy");
}

BOOST_AUTO_TEST_SUITE_END()
