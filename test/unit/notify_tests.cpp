// Telling the operator: the command made of an event, the queue that runs
// commands, the refusal watch, every event the ledger raises, and the
// solvency check.
#include "notify.h"

#include "fakes.h"
#include "ledger.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

CodeId IdOf(uint8_t first)
{
    CodeId id;
    id.bytes.fill(0x11);
    id.bytes[0] = first;
    return id;
}

Txid TxidOf(uint8_t first)
{
    Txid txid{};
    txid.fill(0x22);
    txid[0] = first;
    return txid;
}

struct NotifyFixture {
    MemoryStore store;
    FakeNode node{store};
    std::unique_ptr<Ledger> ledger;

    NotifyFixture()
    {
        node.refusal_alert = 5;
        ledger = node.Open();
    }
    IssuedCode CreateOne(Amount amount = COIN, const std::string& label = "", int64_t expires_at = 0)
    {
        Result<std::vector<IssuedCode>> codes = ledger->Create(amount, 1, label, expires_at);
        BOOST_REQUIRE(codes.ok());
        return codes->at(0);
    }
    Redemption Redeem(const IssuedCode& code, int payee)
    {
        Result<Redemption> r = ledger->Redeem(code.code, TestAddress(payee));
        BOOST_REQUIRE(r.ok());
        return r.value();
    }
    std::vector<Event> Events(EventKind kind) { return node.notifier.events(kind); }
};

//! A runner that blocks until released, counting what it ran.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open{false};
    std::vector<std::string> ran;
    void Run(const std::string& command)
    {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [this] { return open; });
        ran.push_back(command);
    }
    void Open()
    {
        {
            std::lock_guard<std::mutex> lock(mutex);
            open = true;
        }
        cv.notify_all();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(notify_tests)

BOOST_AUTO_TEST_CASE(event_names_are_the_documented_ones)
{
    const std::vector<std::pair<EventKind, std::string>> names = {
        {EventKind::kRedeemed, "redeemed"},       {EventKind::kNotAccepted, "not_accepted"},
        {EventKind::kAttention, "attention"},     {EventKind::kReplaced, "replaced"},
        {EventKind::kBuried, "buried"},           {EventKind::kConsistency, "consistency"},
        {EventKind::kRestore, "restore"},         {EventKind::kInsolvent, "insolvent"},
        {EventKind::kSolvent, "solvent"},         {EventKind::kRefusals, "refusals"},
    };
    for (const auto& [kind, name] : names) BOOST_CHECK_EQUAL(EventName(kind), name);
    BOOST_CHECK_EQUAL(EventName(EventKind(99)), "unknown");
}

BOOST_AUTO_TEST_CASE(amounts_have_eight_decimals)
{
    BOOST_CHECK_EQUAL(FormatAmount(0), "0.00000000");
    BOOST_CHECK_EQUAL(FormatAmount(150000000), "1.50000000");
    BOOST_CHECK_EQUAL(FormatAmount(1), "0.00000001");
    BOOST_CHECK_EQUAL(FormatAmount(-250000001), "-2.50000001");
}

BOOST_AUTO_TEST_CASE(text_is_made_safe_for_the_shell)
{
    BOOST_CHECK_EQUAL(SafeText("a'b\"c$(rm -rf /);`x` 1.5 (ok) @: ?,_-"),
                      "a%27b%22c%24(rm -rf /);%60x%60 1.5 (ok) @: ?,_-");
    BOOST_CHECK_EQUAL(SafeText(std::string("a\0b\nc", 5)), "a%00b%0Ac");
    // UTF-8 is kept, byte by byte: "春" (spring).
    BOOST_CHECK_EQUAL(SafeText("\xe6\x98\xa5 100%"), "%E6%98%A5 100%25");
    BOOST_CHECK_EQUAL(ShellQuote("plain"), "'plain'");
    BOOST_CHECK_EQUAL(ShellQuote("it's"), "'it'\"'\"'s'");
    BOOST_CHECK_EQUAL(ShellQuote(""), "''");
}

BOOST_AUTO_TEST_CASE(command_gets_every_field_once)
{
    const Event event{EventKind::kRedeemed, IdOf(0xab), TxidOf(0xcd), "paid 1.00000000 to 'x' $(y)"};
    const std::string command = NotifyCommand("notify %e %c %s %w %r 100%% %x %", "shop's", event);
    BOOST_CHECK_EQUAL(command, "notify redeemed " + IdOf(0xab).ToHex() + " " + TxidToHex(TxidOf(0xcd)) +
                                   " 'shop'\"'\"'s' 'paid 1.00000000 to %27x%27 %24(y)' 100% %x %");
    // Text put in is not read again: a wallet named "%s" stays so.
    BOOST_CHECK_EQUAL(NotifyCommand("%w %s", "%s", Event{EventKind::kRestore, std::nullopt, std::nullopt, ""}),
                      "'%s' -");
    BOOST_CHECK_EQUAL(NotifyCommand("%c|%r", "", Event{EventKind::kInsolvent, std::nullopt, std::nullopt, ""}),
                      "-|''");
    BOOST_CHECK_EQUAL(NotifyCommand("", "w", event), "");
}

BOOST_AUTO_TEST_CASE(queue_runs_commands_in_order_on_its_own_thread)
{
    std::vector<std::string> ran;
    std::thread::id runner_thread;
    std::mutex mutex;
    CommandQueue queue(
        [&](const std::string& command) {
            std::lock_guard<std::mutex> lock(mutex);
            ran.push_back(command);
            runner_thread = std::this_thread::get_id();
        },
        10);
    for (int i = 0; i < 5; ++i) BOOST_CHECK(queue.Push("c" + std::to_string(i)));
    queue.WaitIdle();
    std::lock_guard<std::mutex> lock(mutex);
    BOOST_CHECK_EQUAL(ran.size(), 5u);
    for (int i = 0; i < 5; ++i) BOOST_CHECK_EQUAL(ran[i], "c" + std::to_string(i));
    BOOST_CHECK(runner_thread != std::this_thread::get_id());
    BOOST_CHECK_EQUAL(queue.run(), 5u);
    BOOST_CHECK_EQUAL(queue.dropped(), 0u);
}

BOOST_AUTO_TEST_CASE(a_full_queue_drops_and_a_slow_command_never_blocks_a_push)
{
    Gate gate;
    std::atomic<int> started{0};
    std::unique_ptr<CommandQueue> queue(new CommandQueue(
        [&](const std::string& c) {
            ++started;
            gate.Run(c);
        },
        2));
    BOOST_CHECK(queue->Push("first"));
    while (started == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // The worker waits at the gate with the first; two may wait behind it,
    // and every further push is dropped at once.
    BOOST_CHECK(queue->Push("second"));
    BOOST_CHECK(queue->Push("third"));
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK(!queue->Push("dropped"));
    BOOST_CHECK(!queue->Push("dropped too"));
    BOOST_CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    BOOST_CHECK_EQUAL(queue->dropped(), 2u);
    gate.Open();
    queue->WaitIdle();
    BOOST_CHECK((gate.ran == std::vector<std::string>{"first", "second", "third"}));
    BOOST_CHECK_EQUAL(queue->run(), 3u);
}

BOOST_AUTO_TEST_CASE(destroying_the_queue_drops_what_waits)
{
    Gate gate;
    std::atomic<int> started{0};
    auto queue = std::make_unique<CommandQueue>(
        [&](const std::string& c) {
            ++started;
            gate.Run(c);
        },
        10);
    BOOST_CHECK(queue->Push("running"));
    while (started == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    BOOST_CHECK(queue->Push("waiting"));
    CommandQueue* const stopping = queue.get();
    std::thread opener([&] {
        // The running command ends only once the destructor has begun.
        while (!stopping->stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        gate.Open();
    });
    queue.reset();  // waits for "running", drops "waiting"
    opener.join();
    BOOST_CHECK_EQUAL(gate.ran.size(), 1u);
    BOOST_CHECK_EQUAL(gate.ran.at(0), "running");
}

BOOST_AUTO_TEST_CASE(command_notifier_formats_and_tells_of_drops)
{
    Gate gate;
    CommandQueue queue([&](const std::string& c) { gate.Run(c); }, 1);
    std::vector<EventKind> dropped;
    CommandNotifier notifier(queue, "run %e %w", "w1", [&](const Event& e) { dropped.push_back(e.kind); });
    for (int i = 0; i < 200 && dropped.empty(); ++i) {
        notifier.Notify(Event{EventKind::kBuried, std::nullopt, std::nullopt, ""});
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    BOOST_REQUIRE(!dropped.empty());
    BOOST_CHECK(dropped[0] == EventKind::kBuried);
    gate.Open();
    queue.WaitIdle();
    BOOST_REQUIRE(!gate.ran.empty());
    BOOST_CHECK_EQUAL(gate.ran[0], "run buried 'w1'");
    // Without a drop callback a drop is only counted.
    Gate gate2;
    CommandQueue small([&](const std::string& c) { gate2.Run(c); }, 0);
    CommandNotifier quiet_small(small, "x", "w", nullptr);
    quiet_small.Notify(Event{});
    BOOST_CHECK_EQUAL(small.dropped(), 1u);
    gate2.Open();
}

BOOST_AUTO_TEST_CASE(refusal_watch_tells_a_rate_once_a_window)
{
    RefusalWatch off(0);
    for (int i = 0; i < 100; ++i) BOOST_CHECK(!off.Note("unknown_code", 1000));

    RefusalWatch watch(3);
    BOOST_CHECK(!watch.Note("unknown_code", 1000));
    BOOST_CHECK(!watch.Note("replay", 1010));
    std::optional<Event> storm = watch.Note("unknown_code", 1059);
    BOOST_REQUIRE(storm);
    BOOST_CHECK(storm->kind == EventKind::kRefusals);
    BOOST_CHECK(!storm->code && !storm->txid);
    BOOST_CHECK_EQUAL(storm->reason, "3 requests for codes paid or found nothing within 60 s (replay 1, "
                                     "unknown_code 2): codes are being guessed or replayed");
    // While it lasts, told once a window.
    for (int64_t t = 1059; t < 1119; ++t) BOOST_CHECK(!watch.Note("unknown_code", t));
    BOOST_CHECK(watch.Note("unknown_code", 1119));
    // Three that straddle a minute boundary are within a minute: told.
    RefusalWatch sliding(3);
    BOOST_CHECK(!sliding.Note("bad_checksum", 1050));
    BOOST_CHECK(!sliding.Note("bad_checksum", 1070));
    BOOST_CHECK(sliding.Note("bad_checksum", 1100));
    // Spread wider than a minute: never.
    RefusalWatch slow(3);
    for (int64_t t = 0; t < 1000; t += 30) BOOST_CHECK(!slow.Note("expired", t));
    // A clock that goes back starts afresh, and may tell again at once.
    BOOST_CHECK(!watch.Note("expired", 900));
    BOOST_CHECK(!watch.Note("expired", 900));
    BOOST_CHECK(watch.Note("expired", 901));
}

BOOST_FIXTURE_TEST_CASE(a_redemption_is_told_once_with_its_payment, NotifyFixture)
{
    const IssuedCode code = CreateOne(2 * COIN);
    const Redemption r = Redeem(code, 1);
    std::vector<Event> redeemed = Events(EventKind::kRedeemed);
    BOOST_REQUIRE_EQUAL(redeemed.size(), 1u);
    BOOST_CHECK(*redeemed[0].code == code.id);
    BOOST_CHECK(*redeemed[0].txid == r.txid);
    BOOST_CHECK_EQUAL(redeemed[0].reason, "committed: 2.00000000 to " + TestAddress(1));
    // The event never holds the code itself.
    BOOST_CHECK_EQUAL(redeemed[0].reason.find(code.code), std::string::npos);
    // A replay pays nothing and tells nothing new.
    BOOST_CHECK(ledger->Redeem(code.code, TestAddress(1))->replay);
    BOOST_CHECK_EQUAL(Events(EventKind::kRedeemed).size(), 1u);
}

BOOST_FIXTURE_TEST_CASE(codes_paid_together_are_each_told, NotifyFixture)
{
    Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, 3, "", 0);
    BOOST_REQUIRE(codes.ok());
    // Redemptions that arrive while a payment is being made share the next one.
    std::atomic<bool> hold{true};
    node.payer.SetWhilePaying([&] {
        while (hold) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    std::vector<std::thread> threads;
    const IssuedCode first = CreateOne();
    threads.emplace_back([&] { (void)ledger->Redeem(first.code, TestAddress(9)); });
    while (node.payer.payment_sizes().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back([&, i] { (void)ledger->Redeem(codes->at(i).code, TestAddress(i + 1)); });
    }
    while (ledger->Info().waiting < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    hold = false;
    for (std::thread& t : threads) t.join();
    const std::vector<Event> redeemed = Events(EventKind::kRedeemed);
    BOOST_REQUIRE_EQUAL(redeemed.size(), 4u);
    size_t together = 0;
    for (const Event& e : redeemed) together += e.reason.find("one of 3 codes paid together") != std::string::npos;
    BOOST_CHECK_EQUAL(together, 3u);
}

BOOST_FIXTURE_TEST_CASE(a_refused_broadcast_is_told_once_per_reason, NotifyFixture)
{
    const IssuedCode code = CreateOne();
    node.payer.SetBroadcastFailure("too-long-mempool-chain");
    const Redemption r = Redeem(code, 1);
    BOOST_CHECK(!r.broadcast);
    std::vector<Event> refused = Events(EventKind::kNotAccepted);
    BOOST_REQUIRE_EQUAL(refused.size(), 1u);
    BOOST_CHECK(*refused[0].code == code.id && *refused[0].txid == r.txid);
    BOOST_CHECK_NE(refused[0].reason.find("too-long-mempool-chain"), std::string::npos);
    // Resubmitted on every block: the same reason is not told again...
    TxChainState outside;
    outside.known = true;
    node.chain.Set(r.txid, outside);
    (void)ledger->FollowPayments();
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(Events(EventKind::kNotAccepted).size(), 1u);
    // ...another reason is.
    node.payer.SetBroadcastFailure("missing-inputs");
    (void)ledger->FollowPayments();
    refused = Events(EventKind::kNotAccepted);
    BOOST_REQUIRE_EQUAL(refused.size(), 2u);
    BOOST_CHECK_NE(refused[1].reason.find("missing-inputs"), std::string::npos);
    // Accepted at last, then refused for the first reason again: told.
    node.payer.SetBroadcastFailure("");
    (void)ledger->FollowPayments();
    node.chain.Set(r.txid, outside);
    node.payer.SetBroadcastFailure("missing-inputs");
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(Events(EventKind::kNotAccepted).size(), 3u);
}

BOOST_FIXTURE_TEST_CASE(attention_replacement_and_burial_are_told, NotifyFixture)
{
    const IssuedCode code = CreateOne();
    const Redemption r = Redeem(code, 1);
    TxChainState abandoned;
    abandoned.known = true;
    abandoned.abandoned = true;
    node.chain.Set(r.txid, abandoned);
    (void)ledger->FollowPayments();
    (void)ledger->FollowPayments();  // no change, nothing told
    std::vector<Event> attention = Events(EventKind::kAttention);
    BOOST_REQUIRE_EQUAL(attention.size(), 1u);
    BOOST_CHECK(*attention[0].code == code.id && *attention[0].txid == r.txid);
    BOOST_CHECK_EQUAL(attention[0].reason.rfind("abandoned: the payment was abandoned", 0), 0u);
    // Back in the mempool: the need ends, and that is told too.
    TxChainState mempool;
    mempool.known = true;
    mempool.in_mempool = true;
    node.chain.Set(r.txid, mempool);
    (void)ledger->FollowPayments();
    attention = Events(EventKind::kAttention);
    BOOST_REQUIRE_EQUAL(attention.size(), 2u);
    BOOST_CHECK_EQUAL(attention[1].reason, "mempool: needs nothing any more");

    const Payment bumped = node.payer.Replace(r.txid, 5000);
    (void)ledger->FollowPayments();
    const std::vector<Event> replaced = Events(EventKind::kReplaced);
    BOOST_REQUIRE_EQUAL(replaced.size(), 1u);
    BOOST_CHECK(*replaced[0].code == code.id && *replaced[0].txid == bumped.txid);
    BOOST_CHECK_NE(replaced[0].reason.find(TxidToHex(r.txid)), std::string::npos);

    node.chain.Confirm(bumped.txid, BURIED_DEPTH - 1);
    (void)ledger->FollowPayments();
    BOOST_CHECK(Events(EventKind::kBuried).empty());
    node.chain.Confirm(bumped.txid, BURIED_DEPTH);
    (void)ledger->FollowPayments();
    (void)ledger->FollowPayments();
    const std::vector<Event> buried = Events(EventKind::kBuried);
    BOOST_REQUIRE_EQUAL(buried.size(), 1u);
    BOOST_CHECK(*buried[0].code == code.id && *buried[0].txid == bumped.txid);
    BOOST_CHECK_EQUAL(buried[0].reason, "6 confirmations: final, no longer followed");
    // A load does not tell it again, nor a payment buried while the wallet
    // was not loaded.
    const IssuedCode later = CreateOne();
    const Redemption paid_later = Redeem(later, 2);
    node.chain.Confirm(paid_later.txid, BURIED_DEPTH + 3);
    ledger = node.Open();
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(Events(EventKind::kBuried).size(), 1u);
}

BOOST_FIXTURE_TEST_CASE(consistency_problems_are_told_when_they_appear, NotifyFixture)
{
    const IssuedCode paid = CreateOne();
    (void)Redeem(paid, 1);
    // A redeemed record whose payment the wallet does not hold, planted.
    CodeRecord orphan;
    orphan.id = IdOf(0x42);
    orphan.state = StoredState::kRedeemed;
    orphan.amount = COIN;
    orphan.sequence = 1000;
    orphan.txid = TxidOf(0x99);
    orphan.address = TestAddress(3);
    store.PutRaw(EncodeCodeKey(orphan.id), EncodeCodeRecord(orphan));
    // And a tagged payment of a code that is merely issued.
    const IssuedCode unpaid = CreateOne();
    const Payment stray = node.payer.MakePayment({unpaid.id, TestAddress(4), COIN, "key:not-the-code-s"});
    BOOST_REQUIRE(node.payer.RestorePayment(unpaid.id, stray.serialized_tx).ok());
    node.notifier.Clear();
    ledger = node.Open();
    std::vector<Event> problems = Events(EventKind::kConsistency);
    BOOST_REQUIRE_EQUAL(problems.size(), 2u);
    BOOST_CHECK(*problems[0].code == orphan.id && *problems[0].txid == orphan.txid);
    BOOST_CHECK_NE(problems[0].reason.find("does not hold"), std::string::npos);
    BOOST_CHECK(*problems[1].code == unpaid.id && *problems[1].txid == stray.txid);
    // The same problems on the next block are not told again.
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(Events(EventKind::kConsistency).size(), 2u);
    // A check that cannot run is told once.
    node.payer.FailListing(true);
    (void)ledger->FollowPayments();
    (void)ledger->FollowPayments();
    problems = Events(EventKind::kConsistency);
    BOOST_REQUIRE_EQUAL(problems.size(), 3u);
    BOOST_CHECK(!problems[2].code && !problems[2].txid);
    BOOST_CHECK_EQUAL(problems[2].reason.rfind("the consistency check could not run", 0), 0u);
    // When it runs again, the problems it finds are new to it: told again.
    node.payer.FailListing(false);
    (void)ledger->FollowPayments();
    BOOST_CHECK_EQUAL(Events(EventKind::kConsistency).size(), 5u);
}

BOOST_FIXTURE_TEST_CASE(a_restore_is_told_at_open, NotifyFixture)
{
    (void)CreateOne();
    BOOST_CHECK(Events(EventKind::kRestore).empty());
    store.SetSideState({true, 10, 50});
    ledger = node.Open();
    const std::vector<Event> restore = Events(EventKind::kRestore);
    BOOST_REQUIRE_EQUAL(restore.size(), 1u);
    BOOST_CHECK(!restore[0].code && !restore[0].txid);
    BOOST_CHECK_NE(restore[0].reason.find("the state file beside it 10"), std::string::npos);
    BOOST_CHECK_NE(restore[0].reason.find("48 codes issued after the backup"), std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_payment_found_on_the_chain_is_told, NotifyFixture)
{
    const IssuedCode code = CreateOne();
    const MemoryStore::Snapshot backup = store.TakeSnapshot();
    const Redemption r = Redeem(code, 1);
    const Payment payment = node.payer.PaymentOf(r.txid);
    ledger.reset();
    store.RestoreSnapshot(backup);
    FakeNode restored(store);
    TxChainState confirmed;
    confirmed.known = true;
    confirmed.confirmations = 1;
    restored.payer.LearnFromChain(payment, confirmed);
    ledger = restored.Open();
    const std::vector<Event> found = restored.notifier.events(EventKind::kRedeemed);
    BOOST_REQUIRE_EQUAL(found.size(), 1u);
    BOOST_CHECK(*found[0].code == code.id && *found[0].txid == r.txid);
    BOOST_CHECK_EQUAL(found[0].reason.rfind("found on the chain", 0), 0u);
    ledger.reset();
}

BOOST_FIXTURE_TEST_CASE(a_storm_of_refusals_and_replays_is_told, NotifyFixture)
{
    const IssuedCode code = CreateOne();
    (void)Redeem(code, 1);
    // The wallet's own failures are not a storm.
    const IssuedCode poor = CreateOne();
    node.payer.SetLocked(true);
    for (int i = 0; i < 10; ++i) BOOST_CHECK(!ledger->Redeem(poor.code, TestAddress(2)).ok());
    node.payer.SetLocked(false);
    BOOST_CHECK(Events(EventKind::kRefusals).empty());
    // Found codes are not guesses.
    BOOST_CHECK(ledger->Get(code.code).ok() && ledger->Get(poor.id.ToHex()).ok());
    // Four that pay or find nothing: below the threshold of 5.
    BOOST_CHECK(ledger->Redeem(code.code, TestAddress(1))->replay);
    BOOST_CHECK(ledger->Redeem(code.code, TestAddress(2)).status().code() == StatusCode::kAlreadyRedeemed);
    BOOST_CHECK(ledger->Redeem("not a code", TestAddress(2)).status().code() == StatusCode::kMalformedCode);
    BOOST_CHECK(ledger->Redeem(poor.code, "nonsense").status().code() == StatusCode::kInvalidAddress);
    BOOST_CHECK(Events(EventKind::kRefusals).empty());
    BOOST_CHECK(ledger->Redeem(code.code, TestAddress(1))->replay);
    std::vector<Event> storm = Events(EventKind::kRefusals);
    BOOST_REQUIRE_EQUAL(storm.size(), 1u);
    BOOST_CHECK_NE(storm[0].reason.find("(already_redeemed 1, invalid_address 1, malformed_code 1, replay 2)"),
                   std::string::npos);
    // A minute on, look-ups that resolve to nothing count as well.
    node.clock.Advance(REFUSAL_WINDOW);
    BOOST_CHECK(ledger->Get("not a code").status().code() == StatusCode::kMalformedCode);
    BOOST_CHECK(ledger->Get(IdOf(0x77).ToHex()).status().code() == StatusCode::kUnknownCode);
    for (int i = 0; i < 3; ++i) (void)ledger->Redeem(code.code, TestAddress(3));
    storm = Events(EventKind::kRefusals);
    BOOST_REQUIRE_EQUAL(storm.size(), 2u);
    BOOST_CHECK_NE(storm[1].reason.find("(already_redeemed 3, lookup_malformed_code 1, lookup_unknown_code 1)"),
                   std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(solvency_counts_outstanding_codes_per_label, NotifyFixture)
{
    node.payer.SetPendingFunds(node.payer.balance() - 10 * COIN);  // 10 spendable
    Solvency s = ledger->CheckSolvency();
    BOOST_CHECK(s.checked && s.solvent);
    BOOST_CHECK_EQUAL(s.liability, 0);
    BOOST_CHECK_EQUAL(s.spendable, 10 * COIN);
    BOOST_CHECK(s.labels.empty());

    BOOST_REQUIRE(ledger->Create(3 * COIN, 2, "spring", 0).ok());
    BOOST_REQUIRE(ledger->Create(1 * COIN, 1, "", 0).ok());
    // Expired and cancelled codes owe nothing.
    (void)CreateOne(50 * COIN, "old", node.clock.Now() + 10);
    const IssuedCode cancelled = CreateOne(70 * COIN, "old");
    BOOST_REQUIRE(ledger->Cancel(cancelled.id.ToHex()).ok());
    node.clock.Advance(20);
    // The 50 MONA code, while it was valid, and the 70 MONA one issued on
    // top: each creation past the balance is told.
    BOOST_CHECK_EQUAL(Events(EventKind::kInsolvent).size(), 2u);
    s = ledger->CheckSolvency();
    BOOST_CHECK(s.solvent);
    BOOST_CHECK_EQUAL(s.liability, 7 * COIN);
    BOOST_CHECK_EQUAL(s.shortfall, 0);
    BOOST_REQUIRE_EQUAL(s.labels.size(), 2u);
    BOOST_CHECK_EQUAL(s.labels[0].label, "");
    BOOST_CHECK_EQUAL(s.labels[0].liability, 1 * COIN);
    BOOST_CHECK_EQUAL(s.labels[1].label, "spring");
    BOOST_CHECK_EQUAL(s.labels[1].liability, 6 * COIN);
    BOOST_CHECK(s.labels[0].covered && s.labels[1].covered);
    BOOST_REQUIRE_EQUAL(Events(EventKind::kSolvent).size(), 1u);  // told when the big code expired

    // A campaign that alone outgrows the wallet.
    BOOST_REQUIRE(ledger->Create(5 * COIN, 1, "summer", 0).ok());
    const std::vector<Event> insolvent = Events(EventKind::kInsolvent);
    BOOST_REQUIRE_EQUAL(insolvent.size(), 3u);
    BOOST_CHECK_EQUAL(insolvent[2].reason, "outstanding codes are worth 12.00000000, the wallet can spend "
                                           "10.00000000 (short by 2.00000000); labels it cannot cover alone: none");
    const LedgerInfo info = ledger->Info();
    BOOST_CHECK(!info.solvency.solvent);
    BOOST_CHECK_EQUAL(info.solvency.shortfall, 2 * COIN);
    BOOST_REQUIRE(ledger->Create(11 * COIN, 1, "summer", 0).ok());
    s = ledger->CheckSolvency();
    BOOST_REQUIRE_EQUAL(s.labels.size(), 3u);
    BOOST_CHECK(!s.labels[2].covered);
    BOOST_CHECK(s.labels[1].covered);
    // Told for the creation; a later check while it lasts is not.
    BOOST_CHECK_EQUAL(Events(EventKind::kInsolvent).size(), 4u);

    // Funds arrive: told once.
    node.payer.SetPendingFunds(node.payer.balance() - 100 * COIN);
    (void)ledger->CheckSolvency();
    (void)ledger->CheckSolvency();
    const std::vector<Event> solvent = Events(EventKind::kSolvent);
    BOOST_REQUIRE_EQUAL(solvent.size(), 2u);
    BOOST_CHECK_EQUAL(solvent[1].reason,
                      "the wallet can pay every outstanding code again: 23.00000000 owed, 100.00000000 spendable");
    // Funds leave: every label the rest cannot cover alone is named.
    node.payer.SetPendingFunds(node.payer.balance() - 5 * COIN);
    (void)ledger->CheckSolvency();
    BOOST_REQUIRE_EQUAL(Events(EventKind::kInsolvent).size(), 5u);
    BOOST_CHECK_EQUAL(Events(EventKind::kInsolvent)[4].reason,
                      "outstanding codes are worth 23.00000000, the wallet can spend 5.00000000 (short by "
                      "18.00000000); labels it cannot cover alone: summer, spring");
}

BOOST_FIXTURE_TEST_CASE(an_insolvent_event_names_at_most_twenty_labels, NotifyFixture)
{
    node.payer.SetPendingFunds(node.payer.balance());  // nothing spendable
    for (int i = 0; i < 25; ++i) {
        BOOST_REQUIRE(ledger->Create(COIN + i, 1, "order-" + std::to_string(100 + i), 0).ok());
    }
    const std::vector<Event> insolvent = Events(EventKind::kInsolvent);
    BOOST_REQUIRE_EQUAL(insolvent.size(), 25u);  // each creation past the balance
    node.payer.SetPendingFunds(0);
    (void)ledger->CheckSolvency();
    node.payer.SetPendingFunds(node.payer.balance());
    (void)ledger->CheckSolvency();
    BOOST_REQUIRE_EQUAL(Events(EventKind::kSolvent).size(), 1u);
    const std::string reason = Events(EventKind::kInsolvent).at(25).reason;
    // The largest first: order-124 down to order-105, then a count.
    BOOST_CHECK_NE(reason.find("cannot cover alone: order-124, order-123, "), std::string::npos);
    BOOST_CHECK_NE(reason.find(", order-105 and 5 more"), std::string::npos);
    BOOST_CHECK_EQUAL(reason.find("order-104"), std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(solvency_that_cannot_be_read_is_said_so, NotifyFixture)
{
    (void)CreateOne(5 * COIN);
    node.payer.FailBalance(true);
    const Solvency s = ledger->CheckSolvency();
    BOOST_CHECK(!s.checked);
    BOOST_CHECK(s.solvent);
    BOOST_CHECK_EQUAL(s.liability, 5 * COIN);
    BOOST_CHECK_EQUAL(s.error, "the wallet's balance cannot be read");
    BOOST_CHECK(!ledger->Info().solvency.checked);
    BOOST_CHECK(Events(EventKind::kInsolvent).empty());
}

BOOST_AUTO_TEST_CASE(a_ledger_without_a_listener_works)
{
    MemoryStore store;
    FakeNode node(store);
    Ports ports = node.ports();
    ports.notifier = nullptr;
    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(ports, node.policy());
    BOOST_REQUIRE(ledger.ok());
    Result<std::vector<IssuedCode>> codes = ledger.value()->Create(COIN, 1, "", 0);
    BOOST_REQUIRE(codes.ok());
    BOOST_CHECK(ledger.value()->Redeem(codes->at(0).code, TestAddress(1)).ok());
    BOOST_CHECK(ledger.value()->CheckSolvency().solvent);
}

BOOST_AUTO_TEST_SUITE_END()
