// Crash and power loss: a child process redeems codes against a real
// LevelDB store (the payment in the same WriteBatch as the redeemed record,
// written with sync) and is killed with SIGKILL at random moments. After a
// plain SIGKILL the disk keeps everything the child wrote; in the power-loss
// cases the test then cuts the power (fault_env.h): only what was synced
// stays, and some cuts come while the child is still opening the database.
// After every round the database must show at most one payment per
// code, no payment without its redeemed code, no redeemed code without its
// payment, every redemption the child acknowledged, every payment it sent
// out, and every code it said it created. A negative control runs the same
// rounds over a store that syncs nothing, and must be caught.
#include "ledger.h"

#include "fakes.h"
#include "fault_env.h"
#include "leveldb_store.h"

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
constexpr int POWER_CUTS = 300;
//! One power cut in this many comes while the child starts, so that LevelDB's
//! recovery (new log, manifest, CURRENT) is cut too.
constexpr int POWER_CUTS_PER_START_CUT = 10;
//! The negative control stops at its first catch, or after this many cuts.
constexpr int UNSYNCED_CUTS_MAX = 100;
constexpr size_t CODES = 500;

//! How a round ends.
enum class Fault {
    kSigkill,           //!< SIGKILL: the disk keeps every write
    kPowerLoss,         //!< SIGKILL, then a power cut: only synced writes stay
    kPowerLossUnsynced, //!< the same, over a store that syncs no commit
};

//! The child's mode argument, or nullptr for none.
const char* ChildMode(Fault fault)
{
    switch (fault) {
    case Fault::kSigkill: return nullptr;
    case Fault::kPowerLoss: return "powerloss";
    case Fault::kPowerLossUnsynced: return "powerloss-nosync";
    }
    return nullptr;
}

enum class Violation {
    kPaidTwice,            //!< two payments of one code, recorded or sent
    kPaymentWithoutCode,   //!< a recorded payment whose code does not read redeemed by it
    kCodeWithoutPayment,   //!< a redeemed code without its recorded payment
    kAcknowledgedLost,     //!< a redemption reported committed is not in the database
    kSentLost,             //!< a payment that left the node is not in the database
    kCreatedLost,          //!< a code reported created is not in the database
};

//! When in a child's life the kill comes.
enum class KillMoment {
    kWhileRedeeming,  //!< within 40 ms after READY, amid commits and broadcasts
    kWhileStarting,   //!< within 30 ms of the spawn: LevelDB's recovery, the ledger's load
};

struct Finding {
    Violation violation;
    std::string what;
};

//! What the children said, over every round so far.
struct Claims {
    std::map<CodeId, Txid> acknowledged;
    std::map<CodeId, Txid> sent;
    std::set<CodeId> created;
};

//! One round's reading of the database against the claims.
struct Audit {
    size_t redeemed{0};
    size_t payments{0};      //!< codes paid, counted once per code
    size_t transactions{0};  //!< payments, counted once per transaction
    size_t batched{0};       //!< transactions that pay several codes
    std::vector<Finding> findings;

    size_t Count(std::initializer_list<Violation> violations) const
    {
        return size_t(std::count_if(findings.begin(), findings.end(), [&](const Finding& f) {
            return std::find(violations.begin(), violations.end(), f.violation) != violations.end();
        }));
    }
};

struct Child {
    pid_t pid;
    int out;
};

Child Spawn(const fs::path& db, const fs::path& codes, int seed, Fault fault, const fs::path& journal)
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
        const char* mode = ChildMode(fault);
        if (mode) {
            execl(CRASH_CHILD_PATH, CRASH_CHILD_PATH, db.c_str(), codes.c_str(), s.c_str(), mode, journal.c_str(), nullptr);
        } else {
            execl(CRASH_CHILD_PATH, CRASH_CHILD_PATH, db.c_str(), codes.c_str(), s.c_str(), nullptr);
        }
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

//! Adds one child's output to `claims`. A code acknowledged or sent with a
//! second txid was paid twice.
void ReadClaims(const std::string& out, Claims& claims, std::vector<Finding>& findings)
{
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string kind, id_hex, txid_hex;
        fields >> kind >> id_hex >> txid_hex;
        if (kind != "NEW" && kind != "ACK" && kind != "SENT") continue;
        Result<CodeId> id = CodeId::FromHex(id_hex);
        BOOST_REQUIRE_MESSAGE(id.ok(), "bad line from the child: " << line);
        if (kind == "NEW") {
            claims.created.insert(id.value());
            continue;
        }
        Txid txid;
        BOOST_REQUIRE_MESSAGE(TxidFromHex(txid_hex, txid), "bad line from the child: " << line);
        const bool ack = kind == "ACK";
        auto& said = ack ? claims.acknowledged : claims.sent;
        auto [it, fresh] = said.emplace(id.value(), txid);
        if (!fresh && it->second != txid) {
            findings.push_back({Violation::kPaidTwice, "code " + id->ShortHex() + (ack ? " acknowledged" : " sent") +
                                                           " with a second payment"});
            it->second = txid;
        } else if (!fresh && ack) {
            findings.push_back({Violation::kPaidTwice, "code " + id->ShortHex() + " acknowledged twice"});
        }
    }
}

//! Reads the database and lists every way it contradicts itself or the
//! claims. Asserts only that the database opens and decodes.
Audit Check(const fs::path& db, const Claims& claims)
{
    LevelDbStore store(db.string());
    std::vector<std::pair<std::string, std::string>> rows;
    BOOST_REQUIRE(store.ReadAll(rows).ok());
    std::map<CodeId, CodeRecord> records;
    for (const auto& [key, value] : rows) {
        if (IsStateKey(key)) {
            BOOST_REQUIRE(DecodeLedgerState(value).ok());
            continue;
        }
        Result<CodeId> id = DecodeCodeKey(key);
        BOOST_REQUIRE(id.ok());
        Result<CodeRecord> r = DecodeCodeRecord(id.value(), value);
        BOOST_REQUIRE(r.ok());
        records.emplace(id.value(), r.value());
    }
    Audit audit;
    const auto payments = FakePayer::RecordedPayments(store);
    std::map<CodeId, Txid> paid;
    for (const auto& [txid, p] : payments) {
        if (!paid.emplace(p.code, txid).second) {
            audit.findings.push_back({Violation::kPaidTwice, "code " + p.code.ShortHex() + " paid twice"});
        }
        auto it = records.find(p.code);
        if (it == records.end() || it->second.state != StoredState::kRedeemed || it->second.txid != txid) {
            audit.findings.push_back({Violation::kPaymentWithoutCode, "payment " + TxidToHex(txid) + " without its redeemed code"});
        }
    }
    for (const auto& [id, r] : records) {
        if (r.state != StoredState::kRedeemed) continue;
        ++audit.redeemed;
        auto it = paid.find(id);
        if (it == paid.end() || it->second != r.txid) {
            audit.findings.push_back({Violation::kCodeWithoutPayment, "code " + id.ShortHex() + " redeemed without its payment"});
        }
    }
    const auto redeemed_by = [&records](const CodeId& id, const Txid& txid) {
        auto it = records.find(id);
        return it != records.end() && it->second.state == StoredState::kRedeemed && it->second.txid == txid;
    };
    for (const auto& [id, txid] : claims.acknowledged) {
        if (!redeemed_by(id, txid)) {
            audit.findings.push_back({Violation::kAcknowledgedLost, "acknowledged redemption of " + id.ShortHex() + " lost"});
        }
    }
    for (const auto& [id, txid] : claims.sent) {
        if (!redeemed_by(id, txid)) {
            audit.findings.push_back({Violation::kSentLost, "payment of " + id.ShortHex() + " sent, then lost"});
        }
    }
    for (const CodeId& id : claims.created) {
        if (!records.count(id)) audit.findings.push_back({Violation::kCreatedLost, "created code " + id.ShortHex() + " lost"});
    }
    audit.payments = payments.size();
    // A payment of several codes is all in the database or not at all:
    // every code it pays reads redeemed with it (checked above, both ways).
    std::map<Txid, size_t> codes_per_payment;
    for (const auto& [txid, p] : payments) ++codes_per_payment[txid];
    audit.transactions = codes_per_payment.size();
    for (const auto& [txid, n] : codes_per_payment) audit.batched += n > 1 ? 1 : 0;
    return audit;
}

void ExpectNoFindings(const Audit& audit)
{
    for (const Finding& f : audit.findings) BOOST_ERROR(f.what);
}

//! A database with CODES codes, a child to run over it round after round,
//! and everything the children said. Removes its directory when done.
class CrashRig {
public:
    CrashRig(const std::string& name, Fault fault, uint32_t seed)
        : m_dir(fs::temp_directory_path() / ("giftcode-" + name + "-" + std::to_string(getpid()))),
          m_db(m_dir / "db"), m_codes_file(m_dir / "codes.txt"), m_journal(m_dir / "power-loss-journal"),
          m_fault(fault), m_rng(seed)
    {
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
        LevelDbStore store(m_db.string());
        FakeNode node(store);
        std::unique_ptr<Ledger> ledger = node.Open();
        Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, CODES, "crash", 0);
        BOOST_REQUIRE(codes.ok());
        std::ofstream out(m_codes_file);
        for (const IssuedCode& c : codes.value()) out << c.code << "\n";
    }
    ~CrashRig() { fs::remove_all(m_dir); }

    //! Starts a child, kills it at a random moment of `moment`, cuts the
    //! power if the fault says so, and audits.
    Audit Round(KillMoment moment)
    {
        Child child = Spawn(m_db, m_codes_file, m_rounds + 1, m_fault, m_journal);
        ++m_rounds;
        std::string out;
        const auto start = std::chrono::steady_clock::now();
        bool open = true;
        std::chrono::steady_clock::time_point kill_at;
        switch (moment) {
        case KillMoment::kWhileRedeeming:
            while (open && out.find("READY\n") == std::string::npos &&
                   std::chrono::steady_clock::now() - start < std::chrono::seconds(30)) {
                open = ReadUntil(child.out, out, std::chrono::steady_clock::now() + std::chrono::milliseconds(5));
            }
            BOOST_REQUIRE_MESSAGE(out.find("READY\n") != std::string::npos, "child did not start: " << out);
            kill_at = std::chrono::steady_clock::now() + std::chrono::microseconds(m_rng() % 40000);
            break;
        case KillMoment::kWhileStarting:
            kill_at = start + std::chrono::microseconds(m_rng() % 30000);
            break;
        }
        open = ReadUntil(child.out, out, kill_at);
        kill(child.pid, SIGKILL);
        if (out.find("READY\n") == std::string::npos) ++m_killed_starting;
        while (ReadUntil(child.out, out, std::chrono::steady_clock::now() + std::chrono::seconds(10))) {
        }
        close(child.out);
        int status = 0;
        waitpid(child.pid, &status, 0);
        BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                              "child ended on its own (status " << status << ")");
        if (open) ++m_killed_running;
        if (m_fault != Fault::kSigkill) {
            const PowerCutReport cut = PowerCut(m_db.string(), m_journal.string());
            m_discarded.files_removed += cut.files_removed;
            m_discarded.files_truncated += cut.files_truncated;
            m_discarded.bytes_discarded += cut.bytes_discarded;
        }
        std::vector<Finding> said;
        ReadClaims(out, m_claims, said);
        Audit audit = Check(m_db, m_claims);
        audit.findings.insert(audit.findings.begin(), said.begin(), said.end());
        return audit;
    }

    //! The ledger itself, opened after the last round, finds its records
    //! consistent and counts the redeemed codes the audit counted.
    void ExpectLedgerAgrees(const Audit& last)
    {
        LevelDbStore store(m_db.string());
        FakeNode node(store);
        std::unique_ptr<Ledger> ledger = node.Open();
        BOOST_CHECK(ledger->Info().consistency.clean());
        BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kRedeemed], last.redeemed);
    }

    int rounds() const { return m_rounds; }
    int killed_running() const { return m_killed_running; }
    //! Rounds whose child was killed before it said READY.
    int killed_starting() const { return m_killed_starting; }
    const Claims& claims() const { return m_claims; }
    //! Everything the power cuts discarded, over every round.
    const PowerCutReport& discarded() const { return m_discarded; }

private:
    const fs::path m_dir;
    const fs::path m_db;
    const fs::path m_codes_file;
    const fs::path m_journal;
    const Fault m_fault;
    std::mt19937 m_rng;
    Claims m_claims;
    int m_rounds{0};
    int m_killed_running{0};
    int m_killed_starting{0};
    PowerCutReport m_discarded;
};

} // namespace

BOOST_AUTO_TEST_SUITE(crash_tests)

BOOST_AUTO_TEST_CASE(sigkill_never_loses_or_doubles_a_payment)
{
    CrashRig rig("crash", Fault::kSigkill, 20180901);
    Audit audit;
    for (int round = 0; round < KILLS; ++round) {
        audit = rig.Round(KillMoment::kWhileRedeeming);
        ExpectNoFindings(audit);
    }
    rig.ExpectLedgerAgrees(audit);
    const Claims& claims = rig.claims();
    BOOST_TEST_MESSAGE(KILLS << " SIGKILLs (" << rig.killed_running() << " mid-run): " << claims.acknowledged.size()
                             << " acknowledged redemptions, " << claims.sent.size() << " payments sent, "
                             << claims.created.size() << " codes created, " << audit.redeemed << " codes redeemed, "
                             << audit.payments << " codes paid by " << audit.transactions << " payments, "
                             << audit.batched << " of them paying several codes");
    BOOST_CHECK_GE(claims.acknowledged.size(), size_t(KILLS));
    BOOST_CHECK_EQUAL(audit.payments, audit.redeemed);
    // Redemptions were paid together, so kills landed amid such payments.
    BOOST_CHECK_GT(audit.batched, 0u);
}

BOOST_AUTO_TEST_CASE(power_loss_never_loses_or_doubles_a_payment)
{
    CrashRig rig("power-loss", Fault::kPowerLoss, 20190315);
    Audit audit;
    for (int round = 1; round <= POWER_CUTS; ++round) {
        audit = rig.Round(round % POWER_CUTS_PER_START_CUT == 0 ? KillMoment::kWhileStarting : KillMoment::kWhileRedeeming);
        ExpectNoFindings(audit);
    }
    rig.ExpectLedgerAgrees(audit);
    const Claims& claims = rig.claims();
    const PowerCutReport& cut = rig.discarded();
    BOOST_TEST_MESSAGE(POWER_CUTS << " power cuts (" << rig.killed_starting() << " before READY, "
                                  << rig.killed_running() << " mid-run) discarded "
                                  << cut.bytes_discarded << " bytes: " << cut.files_removed << " new files removed, "
                                  << cut.files_truncated << " files cut back; " << claims.acknowledged.size()
                                  << " acknowledged redemptions, " << claims.sent.size() << " payments sent, "
                                  << claims.created.size() << " codes created, " << audit.redeemed
                                  << " codes redeemed, " << audit.payments << " codes paid by "
                                  << audit.transactions << " payments, " << audit.batched << " paying several codes");
    // A harness that never discards anything proves nothing.
    BOOST_CHECK_GT(cut.bytes_discarded, 0u);
    BOOST_CHECK_GE(claims.sent.size(), size_t(POWER_CUTS));
    BOOST_CHECK_EQUAL(audit.payments, audit.redeemed);
}

BOOST_AUTO_TEST_CASE(power_loss_harness_catches_an_unsynced_commit)
{
    CrashRig rig("power-loss-unsynced", Fault::kPowerLossUnsynced, 20190316);
    size_t lost = 0;
    size_t findings = 0;
    while (lost == 0 && rig.rounds() < UNSYNCED_CUTS_MAX) {
        const Audit audit = rig.Round(KillMoment::kWhileRedeeming);
        lost = audit.Count({Violation::kAcknowledgedLost, Violation::kSentLost});
        findings = audit.findings.size();
    }
    const Claims& claims = rig.claims();
    BOOST_TEST_MESSAGE("unsynced commits: caught after " << rig.rounds() << " power cuts ("
                                                         << rig.discarded().bytes_discarded << " bytes discarded): "
                                                         << lost << " acknowledged or sent redemptions lost, "
                                                         << findings << " violations in all, of "
                                                         << claims.acknowledged.size() << " acknowledged and "
                                                         << claims.sent.size() << " sent");
    BOOST_CHECK_GT(lost, 0u);
}

BOOST_AUTO_TEST_SUITE_END()
