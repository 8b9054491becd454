// Crash: a child process redeems codes against a real LevelDB store (the
// payment in the same WriteBatch as the redeemed record, written with sync)
// and is killed with SIGKILL at random moments, 200 times. After every kill
// the database must show at most one payment per code, no payment without
// its redeemed code, no redeemed code without its payment, every
// redemption the child acknowledged, and every code it said it created.
#include "ledger.h"

#include "fakes.h"
#include "leveldb_store.h"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

using namespace giftcode;
using namespace giftcode::testing;
namespace fs = std::filesystem;

namespace {

constexpr int KILLS = 200;
constexpr size_t CODES = 500;

struct Child {
    pid_t pid;
    int out;
};

Child Spawn(const fs::path& db, const fs::path& codes, int seed)
{
    int fds[2];
    BOOST_REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        const std::string s = std::to_string(seed);
        execl(CRASH_CHILD_PATH, CRASH_CHILD_PATH, db.c_str(), codes.c_str(), s.c_str(), nullptr);
        _exit(127);
    }
    close(fds[1]);
    return {pid, fds[0]};
}

//! Reads whatever the child wrote until `deadline` (or EOF); returns false on EOF.
bool ReadUntil(int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline)
{
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, int(left.count())) <= 0) continue;
        char chunk[4096];
        const ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0) return false;
        buffer.append(chunk, size_t(n));
    }
}

struct Audit {
    size_t redeemed{0};
    size_t payments{0};
};

Audit Check(const fs::path& db, const std::map<std::string, std::string>& acked, const std::set<std::string>& created)
{
    LevelDbStore store(db.string());
    std::vector<std::pair<std::string, std::string>> rows;
    BOOST_REQUIRE(store.ReadAll(rows).ok());
    std::map<CodeId, CodeRecord> records;
    for (const auto& [key, value] : rows) {
        Result<CodeId> id = DecodeCodeKey(key);
        BOOST_REQUIRE(id.ok());
        Result<CodeRecord> r = DecodeCodeRecord(id.value(), value);
        BOOST_REQUIRE(r.ok());
        records.emplace(id.value(), r.value());
    }
    const auto payments = FakePayer::RecordedPayments(store);
    std::map<CodeId, Txid> paid;
    for (const auto& [txid, p] : payments) {
        BOOST_CHECK_MESSAGE(paid.emplace(p.code, txid).second, "code " << p.code.ShortHex() << " paid twice");
        auto it = records.find(p.code);
        BOOST_CHECK_MESSAGE(it != records.end() && it->second.state == StoredState::kRedeemed && it->second.txid == txid,
                            "payment " << TxidToHex(txid) << " without its redeemed code");
    }
    Audit audit;
    for (const auto& [id, r] : records) {
        if (r.state != StoredState::kRedeemed) continue;
        ++audit.redeemed;
        auto it = paid.find(id);
        BOOST_CHECK_MESSAGE(it != paid.end() && it->second == r.txid, "code " << id.ShortHex() << " redeemed without its payment");
    }
    for (const auto& [id_hex, txid_hex] : acked) {
        Result<CodeId> id = CodeId::FromHex(id_hex);
        BOOST_REQUIRE(id.ok());
        auto it = records.find(id.value());
        BOOST_CHECK_MESSAGE(it != records.end() && it->second.state == StoredState::kRedeemed &&
                                TxidToHex(it->second.txid) == txid_hex,
                            "acknowledged redemption of " << id_hex.substr(0, 8) << " lost");
    }
    for (const std::string& id_hex : created) {
        Result<CodeId> id = CodeId::FromHex(id_hex);
        BOOST_REQUIRE(id.ok());
        BOOST_CHECK_MESSAGE(records.count(id.value()), "created code " << id_hex.substr(0, 8) << " lost");
    }
    audit.payments = payments.size();
    return audit;
}

} // namespace

BOOST_AUTO_TEST_SUITE(crash_tests)

BOOST_AUTO_TEST_CASE(sigkill_never_loses_or_doubles_a_payment)
{
    const fs::path dir = fs::temp_directory_path() / ("giftcode-crash-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path db = dir / "db";
    const fs::path codes_file = dir / "codes.txt";
    {
        LevelDbStore store(db.string());
        FakeNode node(store);
        std::unique_ptr<Ledger> ledger = node.Open();
        Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, CODES, "crash", 0);
        BOOST_REQUIRE(codes.ok());
        std::ofstream out(codes_file);
        for (const IssuedCode& c : codes.value()) out << c.code << "\n";
    }

    std::mt19937 rng(20180901);
    std::map<std::string, std::string> acked;
    std::set<std::string> created;
    int killed_running = 0;
    Audit audit;
    for (int round = 0; round < KILLS; ++round) {
        Child child = Spawn(db, codes_file, round + 1);
        std::string out;
        const auto start = std::chrono::steady_clock::now();
        bool open = true;
        while (open && out.find("READY\n") == std::string::npos &&
               std::chrono::steady_clock::now() - start < std::chrono::seconds(30)) {
            open = ReadUntil(child.out, out, std::chrono::steady_clock::now() + std::chrono::milliseconds(5));
        }
        BOOST_REQUIRE_MESSAGE(out.find("READY\n") != std::string::npos, "child did not start: " << out);
        // Kill at a random moment within the next 40 ms of redemptions.
        const auto kill_at = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 40000);
        open = ReadUntil(child.out, out, kill_at);
        kill(child.pid, SIGKILL);
        while (ReadUntil(child.out, out, std::chrono::steady_clock::now() + std::chrono::seconds(10))) {
        }
        close(child.out);
        int status = 0;
        waitpid(child.pid, &status, 0);
        BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                              "child ended on its own (status " << status << ")");
        if (open) ++killed_running;

        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind("NEW ", 0) == 0) created.insert(line.substr(4));
            if (line.rfind("ACK ", 0) != 0) continue;
            std::istringstream fields(line.substr(4));
            std::string id, txid;
            fields >> id >> txid;
            BOOST_CHECK_MESSAGE(acked.emplace(id, txid).second, "code " << id.substr(0, 8) << " acknowledged twice");
        }
        audit = Check(db, acked, created);
    }
    {
        // The ledger itself agrees after the last crash.
        LevelDbStore store(db.string());
        FakeNode node(store);
        std::unique_ptr<Ledger> ledger = node.Open();
        BOOST_CHECK(ledger->Info().consistency.clean());
        BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kRedeemed], audit.redeemed);
    }
    BOOST_TEST_MESSAGE(KILLS << " SIGKILLs (" << killed_running << " mid-run): " << acked.size()
                             << " acknowledged redemptions, " << created.size() << " codes created, " << audit.redeemed << " codes redeemed, "
                             << audit.payments << " payments recorded");
    BOOST_CHECK_GE(acked.size(), size_t(KILLS));
    BOOST_CHECK_EQUAL(audit.payments, audit.redeemed);
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
