// Concurrency: 64 threads redeem the same codes at once through a payer with
// random latency. Proves that each code pays exactly once, that every caller
// naming the winning address gets the winning txid, and that every other
// caller is told the code is already redeemed.
#include "ledger.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <thread>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

struct Outcome {
    size_t code_index;
    std::string address;
    bool ok;
    bool replay;
    Txid txid;
    StatusCode error;
};

void Storm(int threads, int calls_per_thread, int codes_count, int latency_us, uint64_t seed)
{
    MemoryStore store;
    FakeNode node(store);
    node.payer.SetLatencyMicros(latency_us);
    std::unique_ptr<Ledger> ledger = node.Open();
    Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, size_t(codes_count), "storm", 0);
    BOOST_REQUIRE(codes.ok());
    const Amount start_balance = node.payer.balance();

    std::vector<std::vector<Outcome>> outcomes(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::mt19937_64 rng(seed + uint64_t(t));
            for (int i = 0; i < calls_per_thread; ++i) {
                const size_t c = rng() % codes->size();
                // Three candidate payees per code: several callers share each.
                const std::string address = TestAddress(int(c * 3 + rng() % 3));
                Result<Redemption> r = ledger->Redeem(codes->at(c).code, address);
                Outcome o{c, address, r.ok(), r.ok() && r->replay, r.ok() ? r->txid : Txid{},
                          r.ok() ? StatusCode::kOk : r.status().code()};
                outcomes[t].push_back(o);
            }
        });
    }
    for (std::thread& th : pool) th.join();

    // The store is the truth: one payment per code, of the code's amount.
    const auto payments = FakePayer::RecordedPayments(store);
    std::map<CodeId, std::pair<Txid, std::string>> paid;
    for (const auto& [txid, p] : payments) {
        BOOST_CHECK_MESSAGE(paid.emplace(p.code, std::make_pair(txid, p.address)).second,
                            "code " << p.code.ShortHex() << " paid twice");
        BOOST_CHECK_EQUAL(p.amount, COIN);
    }
    // Codes are paid together while a payment is being made: each payment
    // costs its fee once.
    std::map<Txid, Amount> codes_per_payment;
    for (const auto& [txid, p] : payments) ++codes_per_payment[txid];
    Amount fees = 0;
    for (const auto& [txid, n] : codes_per_payment) fees += FakePayer::FEE + (n - 1) * FakePayer::FEE_PER_CODE;
    BOOST_CHECK_EQUAL(node.payer.adopted(), int(codes_per_payment.size()));
    BOOST_CHECK_EQUAL(node.payer.balance(), start_balance - Amount(payments.size()) * COIN - fees);
    const LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.batches.payments, codes_per_payment.size());
    BOOST_CHECK_EQUAL(info.batches.codes, payments.size());
    if (codes_count > 1) BOOST_CHECK_GT(info.batches.largest, 1u);

    size_t first_payments = 0, replays = 0, refusals = 0;
    for (const auto& per_thread : outcomes) {
        for (const Outcome& o : per_thread) {
            const CodeId id = codes->at(o.code_index).id;
            auto it = paid.find(id);
            BOOST_REQUIRE_MESSAGE(it != paid.end(), "a code was asked for but never paid");
            if (o.ok) {
                BOOST_CHECK(o.txid == it->second.first);
                BOOST_CHECK_EQUAL(o.address, it->second.second);
                (o.replay ? replays : first_payments)++;
            } else {
                BOOST_CHECK_EQUAL(StatusCodeName(o.error), StatusCodeName(StatusCode::kAlreadyRedeemed));
                BOOST_CHECK(o.address != it->second.second);
                ++refusals;
            }
        }
    }
    BOOST_CHECK_EQUAL(first_payments, payments.size());
    BOOST_TEST_MESSAGE(threads << " threads, " << threads * calls_per_thread << " calls on " << codes_count
                               << " codes: " << payments.size() << " codes paid by " << codes_per_payment.size()
                               << " payments, " << replays << " replays, "
                               << refusals << " refused as already redeemed");
}

} // namespace

BOOST_AUTO_TEST_SUITE(concurrency_tests)

BOOST_AUTO_TEST_CASE(sixty_four_threads_one_payment_per_code)
{
    Storm(/*threads=*/64, /*calls_per_thread=*/40, /*codes=*/50, /*latency_us=*/1000, /*seed=*/7);
}

BOOST_AUTO_TEST_CASE(sixty_four_threads_on_a_single_code)
{
    Storm(64, 10, 1, 2000, 99);
}

BOOST_AUTO_TEST_CASE(readers_and_cancellers_alongside_redeemers)
{
    MemoryStore store;
    FakeNode node(store);
    node.payer.SetLatencyMicros(300);
    std::unique_ptr<Ledger> ledger = node.Open();
    Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, 40, "", 0);
    BOOST_REQUIRE(codes.ok());
    std::atomic<bool> done{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < 16; ++t) {
        pool.emplace_back([&, t] {
            std::mt19937 rng(t);
            for (int i = 0; i < 60; ++i) {
                const IssuedCode& c = codes->at(rng() % codes->size());
                switch (t % 4) {
                case 0: (void)ledger->Cancel(c.id.ToHex()); break;
                case 1: (void)ledger->Get(c.code); break;
                case 2: (void)ledger->Info(); break;
                default: (void)ledger->Redeem(c.code, TestAddress(t)); break;
                }
            }
        });
    }
    std::thread lister([&] {
        while (!done) (void)ledger->List(ListFilter{});
    });
    for (std::thread& th : pool) th.join();
    done = true;
    lister.join();

    const auto payments = FakePayer::RecordedPayments(store);
    std::set<CodeId> paid;
    for (const auto& [txid, p] : payments) BOOST_CHECK(paid.insert(p.code).second);
    LedgerInfo info = ledger->Info();
    BOOST_CHECK_EQUAL(info.counts[CodeState::kRedeemed], payments.size());
    BOOST_CHECK_EQUAL(info.counts[CodeState::kRedeemed] + info.counts[CodeState::kCancelled] +
                          info.counts[CodeState::kIssued],
                      40u);
    BOOST_CHECK(node.Open()->Info().consistency.clean());
}

BOOST_AUTO_TEST_SUITE_END()
