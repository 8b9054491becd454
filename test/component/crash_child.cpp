// The process the crash test kills. It opens the LevelDB store, prints
// READY, then until it is killed: one thread creates codes in small batches,
// printing "NEW <id>" for each once Create returned, and REDEEMERS threads
// redeem codes (mostly fresh ones, some old ones again; those that arrive
// while a payment is being made are paid together), printing
// "SENT <id> <txid>" for each code of a payment the ledger hands to the
// payer's Broadcast (it has left the node) and "ACK <id> <txid>" after each
// redemption the ledger reported as committed.
// Usage:
//   crash_child DB_DIR CODES_FILE SEED [MODE JOURNAL]
// MODE "powerloss" opens the store through the power-loss Env journalling to
// JOURNAL (see fault_env.h), so that the parent can cut the power after the
// kill; "powerloss-nosync" does too, over a store that syncs no commit.
#include "ledger.h"

#include "fakes.h"
#include "fault_env.h"
#include "leveldb_store.h"

#include <unistd.h>

#include <leveldb/env.h>

#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

//! Enough threads that payments of several codes are common.
constexpr int REDEEMERS = 8;

void WriteLine(const std::string& line)
{
    // One write() per line: lines from several threads never interleave,
    // and nothing sits in a buffer when the kill comes.
    const std::string out = line + "\n";
    if (write(STDOUT_FILENO, out.data(), out.size()) != ssize_t(out.size())) _exit(4);
}

} // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc == 6 ? argv[4] : "";
    if ((argc != 4 && argc != 6) || (argc == 6 && mode != "powerloss" && mode != "powerloss-nosync")) {
        std::cerr << "usage: crash_child DB_DIR CODES_FILE SEED [powerloss|powerloss-nosync JOURNAL]\n";
        return 2;
    }
    std::vector<std::string> codes;
    std::ifstream in(argv[2]);
    for (std::string line; std::getline(in, line);) codes.push_back(line);
    if (codes.empty()) return 2;
    const uint64_t seed = std::stoull(argv[3]);

    std::unique_ptr<leveldb::Env> env;
    if (!mode.empty()) env = MakePowerLossEnv(argv[5]);
    LevelDbStore store(argv[1], env.get(), mode == "powerloss-nosync" ? SyncedCommits::kNone : SyncedCommits::kAsAsked);
    FakeNode node(store, 1000000 * COIN, seed + 1000000);
    node.payer.SetLatencyMicros(500);
    // The ledger broadcasts a payment only after its commit returned.
    node.payer.SetWhileBroadcasting(
        [](const Payment& p) { WriteLine("SENT " + p.code.ToHex() + " " + TxidToHex(p.txid)); });
    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(node.ports(), node.policy());
    if (!ledger.ok()) {
        std::cerr << "open failed: " << ledger.status().message() << "\n";
        return 3;
    }
    // Each child starts without the state the ledger keeps beside the
    // database, as a node moved to a new data directory does: new payments
    // wait for a block mined since, which arrives now.
    node.chain.SetTipTime(node.clock.Now());
    WriteLine("READY");
    std::mutex pool_mutex;
    std::vector<std::string>& pool = codes;
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
        while (true) {
            Result<std::vector<IssuedCode>> fresh = ledger.value()->Create(COIN, 20, "child", 0);
            if (!fresh.ok()) {
                std::cerr << "create failed: " << fresh.status().message() << "\n";
                _exit(5);
            }
            for (const IssuedCode& c : fresh.value()) WriteLine("NEW " + c.id.ToHex());
            {
                std::lock_guard<std::mutex> lock(pool_mutex);
                for (const IssuedCode& c : fresh.value()) pool.push_back(c.code);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(3));
        }
    });
    for (int t = 0; t < REDEEMERS; ++t) {
        threads.emplace_back([&, t] {
            std::mt19937_64 rng(seed * 31 + uint64_t(t));
            while (true) {
                std::string code;
                size_t i;
                {
                    std::lock_guard<std::mutex> lock(pool_mutex);
                    const size_t recent = std::min<size_t>(pool.size(), 100);
                    i = rng() % 10 < 7 ? pool.size() - 1 - rng() % recent : rng() % pool.size();
                    code = pool[i];
                }
                const std::string address = TestAddress(int(i * 2 + rng() % 2));
                Result<Redemption> r = ledger.value()->Redeem(code, address);
                if (r.ok() && !r->replay) WriteLine("ACK " + r->id.ToHex() + " " + TxidToHex(r->txid));
                if (!r.ok() && r.status().code() != StatusCode::kAlreadyRedeemed) {
                    std::cerr << "unexpected failure: " << r.status().message() << "\n";
                    _exit(5);
                }
            }
        });
    }
    for (std::thread& t : threads) t.join();
    return 0;
}
