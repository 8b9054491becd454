// The gift-code ledger of one wallet: issues codes, redeems each at most
// once, cancels, and reports. It owns the in-memory index of the wallet's
// code records and is the only writer of them.
//
// The redemption protocol (doc/design.md has the states and crash points):
// decide from the record, build the payment, then ONE atomic batch holding
// both the redeemed record and the payment, committed with kPowerLoss
// durability; only after that commit is the payment adopted by the wallet
// and handed to the network. A failed commit leaves the code issued and
// nothing sent. A redeemed code is never made redeemable again.
//
// Thread-safety: every method may be called from any thread, concurrently.
// Writes (create, redeem, cancel) are serialised by one write lock, so
// concurrent redemptions of one code give one payment; reads and the replay
// of a finished redemption take only a short index lock.
#ifndef GIFTCODE_CORE_LEDGER_H
#define GIFTCODE_CORE_LEDGER_H

#include "code.h"
#include "ports.h"
#include "records.h"
#include "status.h"
#include "sync.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <condition_variable>
#include <set>
#include <string>
#include <vector>

namespace giftcode {

constexpr Amount COIN = 100000000;

//! Limits the host sets for its network.
struct LedgerPolicy {
    Network network{Network::kMain};
    //! Smallest amount a code may carry: an output below it would be dust.
    Amount min_amount{546};
    //! The network's money range (MONA: 105,120,000).
    Amount max_money{105120000 * COIN};
    //! Most codes created by one call.
    size_t max_batch{10000};
};

//! The state a user sees. kExpired is derived: an issued code past its expiry.
enum class CodeState { kIssued, kRedeemed, kCancelled, kExpired };
const char* CodeStateName(CodeState state);
//! Parses a state name as printed by CodeStateName.
bool ParseCodeState(const std::string& name, CodeState& state);

//! A code as reported to its issuer or holder.
struct CodeView {
    CodeRecord record;
    CodeState state{CodeState::kIssued};
    //! For redeemed codes: where the payment stands, and the last broadcast
    //! failure still unresolved (empty when none).
    TxChainState payment;
    std::string broadcast_error;
};

//! A freshly created code. `code` and `uri` are the bearer secret, shown
//! once and never stored.
struct IssuedCode {
    CodeId id;
    std::string code;
    std::string uri;
};

struct Redemption {
    CodeId id;
    Txid txid{};
    Amount amount{0};
    Amount fee{0};
    std::string address;
    int64_t redeemed_at{0};
    bool replay{false};  //!< this call found the redemption already done
    //! Accepted into the mempool (or confirmed); otherwise `broadcast_error`
    //! says why, and the payment is retried by RetryBroadcasts.
    bool broadcast{false};
    std::string broadcast_error;
};

struct ListFilter {
    std::optional<CodeState> state;
    std::optional<std::string> label;
    size_t skip{0};
    size_t count{100};
};

struct CodePage {
    size_t total{0};  //!< codes matching the filter, before paging
    std::vector<CodeView> codes;  //!< oldest first
};

//! Result of matching redeemed records against the wallet's tagged payments.
struct ConsistencyReport {
    bool checked{false};
    //! Redeemed records whose payment the wallet does not hold.
    std::vector<CodeId> redeemed_without_payment;
    //! Tagged payments whose code is not redeemed with that very payment.
    std::vector<TaggedPayment> payment_without_redemption;
    std::string error;  //!< set if the check itself could not run
    bool clean() const
    {
        return checked && redeemed_without_payment.empty() && payment_without_redemption.empty();
    }
};

//! Wall time spent in one phase of redemption, over the redemptions since
//! the ledger opened.
struct PhaseTiming {
    uint64_t count{0};
    uint64_t total_us{0};
    uint64_t max_us{0};
    void Add(uint64_t us)
    {
        ++count;
        total_us += us;
        if (us > max_us) max_us = us;
    }
};

//! The phases of a redemption, in order.
enum class Phase { kBuild, kCommit, kAdopt, kBroadcast };
const char* PhaseName(Phase phase);

struct LedgerInfo {
    std::map<CodeState, size_t> counts;
    Amount outstanding_liability{0};  //!< issued, unexpired
    Amount redeemed_amount{0};
    Amount redeemed_fees{0};
    std::map<StatusCode, uint64_t> failed_redemptions;  //!< since the ledger opened
    //! Redeemed payments not (yet) accepted by the mempool, with the reason.
    std::map<Txid, std::string> unbroadcast;
    ConsistencyReport consistency;
    //! Where redemption time goes: building the payment, the durable
    //! commit, adoption by the wallet, broadcast.
    std::map<Phase, PhaseTiming> timings;
};

class Ledger {
public:
    //! Loads every record from the store and checks them against the
    //! payer's tagged payments. Fails with kCorruption if a record cannot be
    //! decoded, kStoreFailure if the store cannot be read. A consistency
    //! mismatch does not fail: it is kept in Info() for the operator.
    [[nodiscard]] static Result<std::unique_ptr<Ledger>> Open(const Ports& ports, const LedgerPolicy& policy);

    //! Creates `count` codes of `amount` in one durable batch. expires_at is
    //! unix seconds, 0 for never, else in the future. Fails with
    //! kInvalidAmount, kInvalidParameter or kStoreFailure; then nothing is
    //! created.
    [[nodiscard]] Result<std::vector<IssuedCode>> Create(Amount amount, size_t count, const std::string& label,
                                                        int64_t expires_at);

    //! A code by its text or by its id (32 hex digits).
    [[nodiscard]] Result<CodeView> Get(const std::string& code_or_id);

    [[nodiscard]] Result<CodePage> List(const ListFilter& filter);

    //! Pays the code's amount to `address`, once. Repeated with the same
    //! address after success, returns the same payment with replay = true.
    //! Fails with kMalformedCode, kBadChecksum, kWrongNetwork,
    //! kInvalidAddress, kUnknownCode, kAlreadyRedeemed (other address),
    //! kCancelled, kExpired, the payer's errors, or kStoreFailure; on failure
    //! nothing was paid or changed.
    [[nodiscard]] Result<Redemption> Redeem(const std::string& code, const std::string& address);

    //! Makes an issued (or expired) code unredeemable. Fails with
    //! kAlreadyRedeemed or kCancelled (then nothing changes), kUnknownCode,
    //! or kStoreFailure.
    [[nodiscard]] Result<CodeView> Cancel(const std::string& code_or_id);

    //! Hands every redeemed payment that is neither confirmed nor in the
    //! mempool to the network again. The host calls it when a block connects.
    void RetryBroadcasts();

    LedgerInfo Info();

    const LedgerPolicy& policy() const { return m_policy; }

private:
    Ledger(const Ports& ports, const LedgerPolicy& policy);

    //! What a redemption request meets in the index.
    struct Decision {
        std::optional<Status> refusal;            //!< the request fails
        std::optional<Redemption> replay;         //!< already done for this address
        std::optional<CodeRecord> to_pay;         //!< issued: pay it
    };
    Decision DecideLocked(const CodeId& id, const std::string& address, int64_t now)
        GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
    Result<CodeId> Resolve(const std::string& code_or_id) const;
    CodeView ViewLocked(const CodeRecord& record, int64_t now) GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
    //! Under the write lock: decides again, builds, commits and adopts the
    //! payment. Returns a replay if another caller finished first.
    Result<Redemption> PayOnce(const CodeId& id, const std::string& address) GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! Fills in where a finished redemption's payment stands.
    Redemption Settle(Redemption replay) GC_LOCKS_EXCLUDED(m_mutex);
    //! Keeps a payment's last broadcast failure until it is accepted.
    void NoteBroadcastLocked(const Txid& txid, const BroadcastOutcome& outcome) GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
    //! Counts a failed redemption by reason and returns it.
    Result<Redemption> Refuse(Status status) GC_LOCKS_EXCLUDED(m_mutex);
    ConsistencyReport CheckConsistency() GC_LOCKS_EXCLUDED(m_mutex);

    Ports m_ports;
    const LedgerPolicy m_policy;

    //! Serialises every write to the store: create, redeem and cancel. Held
    //! from the redemption decision to the adoption of its payment, so one
    //! code's record changes at most once per holder, and the wallet never
    //! builds a payment on coins another committed payment spends.
    //! Lock order: m_write_mutex before m_mutex.
    Mutex m_write_mutex GC_ACQUIRED_BEFORE(m_mutex);

    //! Guards the index and counters below; never held across a port call
    //! that waits for I/O.
    Mutex m_mutex;
    std::map<CodeId, CodeRecord> m_records GC_GUARDED_BY(m_mutex);
    std::map<StatusCode, uint64_t> m_failures GC_GUARDED_BY(m_mutex);
    //! Payments of redeemed codes not yet seen confirmed.
    std::set<Txid> m_unsettled GC_GUARDED_BY(m_mutex);
    //! Payments adopted whose first broadcast has not returned yet; a
    //! replay waits for it, so its reply tells where the payment stands.
    std::set<Txid> m_first_broadcast GC_GUARDED_BY(m_mutex);
    std::condition_variable_any m_first_broadcast_done;
    //! Last broadcast failure of a payment, until it is accepted.
    std::map<Txid, std::string> m_broadcast_errors GC_GUARDED_BY(m_mutex);
    ConsistencyReport m_consistency GC_GUARDED_BY(m_mutex);
    std::map<Phase, PhaseTiming> m_timings GC_GUARDED_BY(m_mutex);
    void RecordTiming(Phase phase, uint64_t us) GC_LOCKS_EXCLUDED(m_mutex);
};

//! The build id of this module: a hash of the plugin and patch sources,
//! fixed when it is compiled. Lets tests refuse stale binaries.
const char* BuildId();

} // namespace giftcode

#endif // GIFTCODE_CORE_LEDGER_H
