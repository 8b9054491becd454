// The gift-code ledger of one wallet: issues codes, redeems each at most
// once, cancels, and reports. It owns the in-memory index of the wallet's
// code records and is the only writer of them.
//
// The redemption protocol (doc/design.md has the states and crash points):
// decide from the record, then ONE host operation (Payer::PayAndRecord)
// builds the payment and commits the redeemed record, which holds the signed
// payment, together with the wallet's copy of it, synced to disk, before the
// wallet adopts it. Redemptions that arrive while a payment is being made
// wait, and the next payment pays them all (group commit): one transaction,
// one output per code, one database transaction for all their records; the index follows the moment that commit returns, and
// only then is the payment handed to the network. A failed commit leaves the
// code issued and nothing sent. A redeemed code is never made redeemable
// again, and never paid by a second transaction: after the commit the
// ledger only follows its payment (FollowPayments) until it is buried, puts
// the same transaction back if the wallet loses it, follows it to the
// wallet's replacement (bumpfee), and reports what needs a human.
//
// Thread-safety: every method may be called from any thread, concurrently.
// Writes (create, a payment, cancel) are serialised by one write lock, so
// concurrent redemptions of one code give one payment; reads and the replay
// of a finished redemption take only a short index lock.
#ifndef GIFTCODE_CORE_LEDGER_H
#define GIFTCODE_CORE_LEDGER_H

#include "breaker.h"
#include "code.h"
#include "notify.h"
#include "ports.h"
#include "records.h"
#include "status.h"
#include "sync.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <condition_variable>
#include <deque>
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
    //! Seconds after the ledger opens before it makes a new payment, so
    //! that payments of its codes still in the mempool (relayed by peers,
    //! or reloaded from the node's mempool file) reach the wallet first.
    //! A ledger that opens without an unpaid code does not wait.
    int64_t start_delay{0};
    //! Most codes one payment pays (1 to MAX_TAGS; 1 pays each redemption
    //! alone). Redemptions that arrive while a payment is being made are
    //! paid together by the next one.
    size_t max_payment_codes{MAX_TAGS};
    //! Milliseconds a payment waits for more redemptions to arrive before
    //! it is built, while fewer than max_payment_codes wait; 0: none (a
    //! lone redemption never waits, and batches grow by themselves under
    //! load).
    int64_t payment_wait_ms{0};
    //! Redemptions that pay nothing (refused, or replays of finished ones)
    //! within REFUSAL_WINDOW seconds that raise a kRefusals event; 0: none.
    uint64_t refusal_alert{0};
    //! The breaker's limits of a wallet that has none of its own
    //! (-giftcodelimit); none: no limit.
    std::vector<WindowLimit> limits;
};

//! How redemptions were grouped into payments since the ledger opened.
struct BatchStats {
    uint64_t payments{0};  //!< payments made
    uint64_t codes{0};     //!< codes they paid
    size_t largest{0};     //!< most codes one payment paid
    uint64_t splits{0};    //!< payments that could not be built as a whole and were split
}; 

//! What the ledger knows about its wallet being restored from a backup.
struct RestoreInfo {
    //! The copy of the ledger's state beside the database was there.
    bool side_state{false};
    //! The wallet is older than the ledger's last commit in it: it was put
    //! back from a backup.
    bool detected{false};
    int64_t wallet_commits{0};  //!< commits the wallet held when it opened
    int64_t side_commits{0};    //!< commits the copy beside it held
    //! Codes issued after the backup was taken: the copy beside the wallet
    //! counts their sequences, the wallet lacks them. They answer unknown
    //! code; their holders need new codes unless they were paid before.
    int64_t codes_missing{0};
    //! Payments found on the chain since the ledger opened, of codes that
    //! read issued: each such code now reads redeemed with that payment.
    size_t found_on_chain{0};
    //! Unpaid codes watched for at open, and how long the search of every
    //! wallet transaction for their payments took then.
    size_t watched{0};
    uint64_t search_us{0};
};

//! The state a user sees. kExpired is derived: an issued code past its expiry.
enum class CodeState { kIssued, kRedeemed, kCancelled, kExpired };
const char* CodeStateName(CodeState state);
//! Parses a state name as printed by CodeStateName.
bool ParseCodeState(const std::string& name, CodeState& state);

//! A payment is followed until it is this deep, then it is buried.
constexpr int BURIED_DEPTH = 6;

//! Where a committed payment stands, as the operator sees it.
enum class PaymentState {
    kMempool,       //!< unconfirmed, in the mempool
    kConfirmed,     //!< 1 to BURIED_DEPTH - 1 confirmations; still followed
    kBuried,        //!< BURIED_DEPTH or more confirmations: final
    kNotInMempool,  //!< unconfirmed and outside the mempool: resubmitted every block
    kConflicted,    //!< a conflicting transaction is confirmed, less than BURIED_DEPTH deep
    kDead,          //!< a conflicting transaction is buried: this payment can never confirm
    kAbandoned,     //!< the operator abandoned it (abandontransaction)
    kMissing,       //!< the wallet lacks it and it could not be put back
};
const char* PaymentStateName(PaymentState state);
PaymentState PaymentStateOf(const TxChainState& state);
//! True for the states in which the holder may not be paid without a human.
bool NeedsAttention(PaymentState state);

//! A code as reported to its issuer or holder.
struct CodeView {
    CodeRecord record;
    CodeState state{CodeState::kIssued};
    //! For redeemed codes: where the payment stands, and the last broadcast
    //! failure still unresolved (empty when none).
    TxChainState payment;
    PaymentState payment_state{PaymentState::kMissing};
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
    uint32_t vout{NO_VOUT};  //!< the output that pays the holder
    Amount amount{0};
    Amount fee{0};
    std::string address;
    int64_t redeemed_at{0};
    bool replay{false};  //!< this call found the redemption already done
    //! Accepted into the mempool (or confirmed); otherwise `broadcast_error`
    //! says why, and the payment is resubmitted by FollowPayments.
    bool broadcast{false};
    std::string broadcast_error;
    PaymentState payment_state{PaymentState::kMissing};
};

//! A redeemed code whose payment needs a human, or did and no longer does.
struct PaymentNotice {
    CodeId id;
    Txid txid{};
    PaymentState state{PaymentState::kMissing};
    std::string reason;  //!< what happened and what the operator can safely do
};

struct ListFilter {
    std::optional<CodeState> state;
    std::optional<std::string> label;
    size_t skip{0};
    size_t count{100};
};

//! How many codes are in one state, and what they are worth.
struct StateTotal {
    uint64_t count{0};
    Amount amount{0};
};

//! One label's codes by state (indexed by CodeState).
struct LabelTotals {
    std::string label;
    std::array<StateTotal, 4> by_state{};
};

struct CodePage {
    size_t total{0};  //!< codes matching the filter, before paging
    std::vector<CodeView> codes;  //!< oldest first
    //! Every matching code (not only this page's) counted per label and
    //! state, labels in byte order: what a campaign paid and still owes.
    std::vector<LabelTotals> totals;
};

//! Result of matching redeemed records against the wallet's tagged payments.
struct ConsistencyReport {
    bool checked{false};
    //! Redeemed records whose payment the wallet does not hold.
    std::vector<CodeId> redeemed_without_payment;
    //! Tagged payments whose code is not redeemed with that very payment.
    std::vector<TaggedPayment> payment_without_redemption;
    std::string error;  //!< set if the check itself could not run
    int height{-1};     //!< chain tip height when it ran
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

//! One label's outstanding codes against what the wallet can spend.
struct LabelSolvency {
    std::string label;
    Amount liability{0};  //!< its issued, unexpired codes
    bool covered{true};   //!< the wallet could pay every one of them
};

//! Whether the wallet could pay every outstanding code now. Fees are not
//! counted: each payment costs its fee on top.
struct Solvency {
    bool checked{false};  //!< false if the wallet's balance could not be read
    std::string error;    //!< why, then
    Amount liability{0};  //!< every issued, unexpired code
    Amount spendable{0};  //!< Payer::SpendableBalance
    bool solvent{true};   //!< liability <= spendable (true when not checked)
    Amount shortfall{0};  //!< liability - spendable, when not solvent
    //! Labels with outstanding codes, in byte order.
    std::vector<LabelSolvency> labels;
};

//! The breaker as it stands (breaker.h).
struct BreakerInfo {
    bool paused{false};
    std::string pause_reason;
    int64_t paused_at{0};
    //! The limits are the wallet's own (setgiftcodelimits), not the node's.
    bool own_limits{false};
    //! Every limit in force, with what its window holds now.
    std::vector<LimitState> limits;
    //! The last redemption a limit refused, while no redemption has been
    //! admitted since; `tripped_at` is when.
    std::optional<LimitRefusal> tripped;
    int64_t tripped_at{0};
};

struct LedgerInfo {
    std::map<CodeState, size_t> counts;
    Amount outstanding_liability{0};  //!< issued, unexpired
    Amount redeemed_amount{0};
    Amount redeemed_fees{0};
    std::map<StatusCode, uint64_t> failed_redemptions;  //!< since the ledger opened
    //! Redeemed payments not (yet) accepted by the mempool, with the reason.
    std::map<Txid, std::string> unbroadcast;
    //! Every redeemed code whose payment needs a human, by code id.
    std::vector<PaymentNotice> attention;
    ConsistencyReport consistency;
    //! Where redemption time goes: building the payment, the durable
    //! commit, adoption by the wallet, broadcast.
    std::map<Phase, PhaseTiming> timings;
    RestoreInfo restore;
    //! Seconds before new payments start (LedgerPolicy::start_delay); 0 once they have.
    int64_t start_wait{0};
    //! New payments wait for a block mined since the ledger opened (a
    //! restore, or no state file).
    bool waits_for_block{false};
    BatchStats batches;
    //! Redemptions waiting for the payment under way to finish.
    size_t waiting{0};
    Solvency solvency;
    BreakerInfo breaker;
};

class Ledger {
public:
    //! Loads every record from the store, tells a wallet restored from a
    //! backup (RestoreInfo), records as redeemed every code whose payment
    //! the wallet holds though its record reads unpaid (FindPayments), puts
    //! back into the wallet every recorded payment it lacks, follows
    //! replaced payments (all before the ledger serves anything), and
    //! checks the records against the payer's tagged payments. Nothing is
    //! broadcast. Fails with kCorruption if a
    //! record cannot be decoded, kStoreFailure if the store cannot be read. A
    //! consistency mismatch does not fail: it is kept in Info() for the
    //! operator.
    [[nodiscard]] static Result<std::unique_ptr<Ledger>> Open(const Ports& ports, const LedgerPolicy& policy);

    //! Creates `count` codes of `amount` in one durable batch. expires_at is
    //! unix seconds, 0 for never, else in the future. Fails with
    //! kInvalidAmount, kInvalidParameter, kWalletLocked, kWalletUnsupported
    //! (a wallet that cannot sign), kPaymentFailed or kStoreFailure; then
    //! nothing is created. After creating, checks solvency (into `solvency`
    //! when given) and tells kInsolvent whenever the codes outstanding now
    //! exceed what the wallet can spend, not only when that starts: a code
    //! reserves no funds, so each issue past the balance is told.
    [[nodiscard]] Result<std::vector<IssuedCode>> Create(Amount amount, size_t count, const std::string& label,
                                                        int64_t expires_at, Solvency* solvency = nullptr);

    //! A code by its text or by its id (32 hex digits).
    [[nodiscard]] Result<CodeView> Get(const std::string& code_or_id);

    [[nodiscard]] Result<CodePage> List(const ListFilter& filter);

    //! Pays the code's amount to `address`, once. Redemptions that arrive
    //! while a payment is being made wait, and the next payment pays them
    //! together (LedgerPolicy::max_payment_codes at most); each caller is
    //! answered after the commit that holds its record, with the payment's
    //! txid and the output (vout) that pays it. Repeated with the same
    //! address after success, returns the same payment with replay = true.
    //! Before it decides, payments of unpaid codes the wallet took since
    //! (FindPayments) are recorded. A new payment waits for
    //! LedgerPolicy::start_delay after open (kNodeCatchingUp).
    //! Fails with kMalformedCode, kBadChecksum, kWrongNetwork,
    //! kInvalidAddress, kUnknownCode, kAlreadyRedeemed (other address),
    //! kCancelled, kExpired, the payer's errors, or kStoreFailure; on failure
    //! nothing was paid or changed.
    [[nodiscard]] Result<Redemption> Redeem(const std::string& code, const std::string& address);

    //! Makes an issued (or expired) code unredeemable. Fails with
    //! kAlreadyRedeemed or kCancelled (then nothing changes), kUnknownCode,
    //! or kStoreFailure.
    [[nodiscard]] Result<CodeView> Cancel(const std::string& code_or_id);

    //! Follows every payment not yet buried: puts a payment the wallet lost
    //! back, follows a replaced one to its replacement (a durable record
    //! update), resubmits one that is unconfirmed and outside the mempool,
    //! announces one in the mempool again (a peer that knows it is not told
    //! twice), drops the buried, and re-runs the consistency check. Returns
    //! the payments whose need for a human began, changed or ended. The host
    //! calls it after each connected block, and may hold its own locks
    //! (those the payer takes): the steps that need the write lock (a
    //! record update, the consistency check) only try it, and run on a
    //! later block if a write is under way.
    std::vector<PaymentNotice> FollowPayments();

    LedgerInfo Info();

    //! The breaker (breaker.h). SetLimits replaces the wallet's limits
    //! (none: back to LedgerPolicy::limits, the node's), Pause refuses
    //! every new redemption (kPaused) until Resume; each is one durable
    //! commit and survives a restart. Fail with kInvalidParameter (a bad
    //! limit, a reason over 256 bytes) or kStoreFailure; then nothing
    //! changed.
    [[nodiscard]] Result<BreakerInfo> SetLimits(const std::optional<std::vector<WindowLimit>>& limits);
    [[nodiscard]] Result<BreakerInfo> Pause(const std::string& reason);
    [[nodiscard]] Result<BreakerInfo> Resume();
    BreakerInfo Breaker();
    //! Compares the outstanding codes with what the wallet can spend now.
    //! Tells the notifier when the wallet becomes unable to pay them all
    //! (kInsolvent) and when it is able again (kSolvent); the first check
    //! tells only the former; with `tell_insolvent`, kInsolvent is told
    //! whenever the wallet cannot pay them all. The host calls it after each
    //! connected block; Create and Info call it too. Called holding no
    //! ledger lock.
    Solvency CheckSolvency(bool tell_insolvent = false) GC_LOCKS_EXCLUDED(m_mutex);
    //! The last consistency check (Info() has it too, with everything else).
    ConsistencyReport Consistency();

    const LedgerPolicy& policy() const { return m_policy; }

private:
    Ledger(const Ports& ports, const LedgerPolicy& policy);
    //! Create, without the solvency check after it.
    Result<std::vector<IssuedCode>> CreateCodes(Amount amount, size_t count, const std::string& label,
                                                int64_t expires_at);

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
    //! A redemption waiting to be paid, on its caller's stack.
    struct Pending {
        CodeId id;
        std::string address;
        bool taken{false};  //!< in a payment being made
        bool done{false};   //!< `result` is final
        std::optional<Result<Redemption>> result;
    };
    //! Queues the redemption and waits until a payment that holds it has
    //! been committed and broadcast, or it was refused; if no payment is
    //! being made, makes one, for this caller and every caller waiting.
    //! Returns a replay if another caller finished first.
    Result<Redemption> PayQueued(const CodeId& id, const std::string& address) GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! The caller that makes the next payment: takes `me` and the oldest
    //! waiting callers, pays them, answers them. noexcept: the ports throw
    //! nothing, and an exception from within (memory exhausted) could leave
    //! a payment committed that the index does not show, and every waiting
    //! caller waiting for good; the process stops instead, and the next
    //! start reads what the database holds.
    void LeadPayment(Pending& me) noexcept GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! Under the write lock: decides each request again and pays the
    //! payable ones; sets each one's result, except a second request of a
    //! code in the batch (it waits for the next payment). `paid` gets the
    //! payments committed.
    void PayLocked(const std::vector<Pending*>& batch, std::vector<Txid>& paid)
        GC_EXCLUSIVE_LOCKS_REQUIRED(m_write_mutex) GC_LOCKS_EXCLUDED(m_mutex);
    //! Pays `group` (issued codes, `records` theirs) in one payment; if it
    //! cannot be funded or built as a whole, in halves, so that every
    //! payable code is paid and every other gets its own error.
    void PayGroup(const std::vector<Pending*>& group, const std::vector<CodeRecord>& records, int64_t now,
                  std::vector<Txid>& paid) GC_EXCLUSIVE_LOCKS_REQUIRED(m_write_mutex) GC_LOCKS_EXCLUDED(m_mutex);
    //! Why no new payment may be made now (the start delay, a restore), or Ok.
    Status PaymentGate(int64_t now) GC_EXCLUSIVE_LOCKS_REQUIRED(m_write_mutex);
    //! Waits for the first broadcast of a finished redemption's payment,
    //! then fills in where that payment stands.
    Redemption AwaitFirstBroadcast(Redemption replay) GC_LOCKS_EXCLUDED(m_mutex);
    //! One pass over the watched payments; `broadcast` false at open.
    std::vector<PaymentNotice> Follow(bool broadcast) GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! Commits `records` (every code of one payment) moved to `payments`
    //! (one each), which replaced their payment (or which their payment
    //! replaced, when that one confirmed instead). The host may call
    //! FollowPayments holding its own locks, which a writer holding the
    //! write lock may be waiting for: so without `wait` this only tries the
    //! write lock and, if it is taken, leaves the move to the next block
    //! (`busy`).
    Status MovePayment(std::vector<CodeRecord>& records, const std::vector<Payment>& payments, bool wait, bool& busy)
        GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! One step of Follow for the payment `txid` and every code it pays;
    //! returns a notice per code whose need for a human began, changed or
    //! ended. With `wait` (callers holding no host lock) a record move
    //! waits for the write lock.
    std::vector<PaymentNotice> FollowOne(const Txid& txid, bool broadcast, bool wait)
        GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! The codes the payment `txid` pays, with their records.
    std::vector<CodeRecord> RecordsPaidBy(const Txid& txid) GC_LOCKS_EXCLUDED(m_mutex);
    //! Where a redeemed code's payment stands; a payment replaced since the
    //! last block is followed first. Called holding no host lock.
    void FillPayment(CodeView& view, int64_t now) GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! What to tell the operator about a payment in `state`.
    static std::string ReasonFor(PaymentState state, const TxChainState& chain_state);
    //! Records as redeemed every unpaid code whose payment the wallet took
    //! (all of its transactions with `from_start`, else those since the
    //! last call). Called holding the write lock.
    Status FindPaymentsLocked(bool from_start) GC_EXCLUSIVE_LOCKS_REQUIRED(m_write_mutex) GC_LOCKS_EXCLUDED(m_mutex);
    //! The same when no write is under way (readers call it; a writer
    //! finds them itself).
    void FindPaymentsIfIdle() GC_LOCKS_EXCLUDED(m_write_mutex, m_mutex);
    //! `writes` plus the ledger's state record, counting this commit.
    RecordWrites WithState(RecordWrites writes) GC_LOCKS_EXCLUDED(m_mutex);
    //! After a commit of WithState's writes: counts it, keeps the copy
    //! beside the database current.
    void Committed() GC_LOCKS_EXCLUDED(m_mutex);
    //! The host's clock, never going back: an expired code stays expired.
    int64_t Now();
    //! Keeps a payment's last broadcast failure until it is accepted.
    void NoteBroadcastLocked(const Txid& txid, const BroadcastOutcome& outcome) GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
    //! Counts a failed redemption by reason and returns it.
    Result<Redemption> Refuse(Status status) GC_LOCKS_EXCLUDED(m_mutex);
    ConsistencyReport CheckConsistency() GC_LOCKS_EXCLUDED(m_mutex);
    //! Keeps a new consistency report, telling the notifier of every
    //! problem it has that the one before had not.
    void KeepConsistencyLocked(ConsistencyReport report) GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
    //! Tells the notifier, if there is one.
    void Emit(const Event& event);
    //! Counts a redemption that paid nothing, of kind `what`.
    void NoteNothingPaid(const std::string& what);

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
    //! Payments of redeemed codes not yet buried, with the codes they pay.
    std::map<Txid, std::set<CodeId>> m_followed GC_GUARDED_BY(m_mutex);
    //! Redeemed codes whose payment needs a human.
    std::map<CodeId, PaymentNotice> m_attention GC_GUARDED_BY(m_mutex);
    //! Payments committed that the wallet has not taken (adoption failed
    //! and putting them back did too). While any is left, no new payment
    //! is built: it could spend the same coins.
    std::map<Txid, std::vector<CodeId>> m_not_adopted GC_GUARDED_BY(m_mutex);
    //! The next code's creation sequence.
    int64_t m_next_sequence GC_GUARDED_BY(m_mutex){1};
    //! Commits made in this wallet (the state record), never less than the
    //! copy beside it held.
    int64_t m_commits GC_GUARDED_BY(m_mutex){0};
    //! Unpaid (issued, expired or cancelled) codes with a payment key, by
    //! key. Only writers change it, so the write lock guards it.
    PaymentKeyWatch m_watched GC_GUARDED_BY(m_write_mutex);
    //! The payment tag of every code with a payment key: a new code's key
    //! is picked so that its tag is none of these.
    std::set<uint32_t> m_tags GC_GUARDED_BY(m_write_mutex);
    //! Redemptions waiting for a payment, oldest first.
    std::deque<Pending*> m_queue GC_GUARDED_BY(m_mutex);
    //! A caller is making a payment (LeadPayment).
    bool m_paying GC_GUARDED_BY(m_mutex){false};
    //! Signalled when the queue or a waiting caller's result changes.
    std::condition_variable_any m_queue_changed;
    BatchStats m_batches GC_GUARDED_BY(m_mutex);
    RestoreInfo m_restore GC_GUARDED_BY(m_mutex);
    //! When the ledger opened (Now()).
    int64_t m_opened_at{0};
    //! New payments wait for the start delay only if a code was unpaid at
    //! open: with none, no earlier payment can be on its way.
    bool m_start_waits{false};
    //! A wallet put back from a backup, or loaded without the state file
    //! beside it, makes no new payment before the tip is a block stamped
    //! no earlier than the ledger opened (not one downloaded since, which
    //! may be old): payments of its codes made before and still
    //! unconfirmed (which a node does not learn from its peers' mempools)
    //! are mined and found first.
    std::atomic<bool> m_waits_for_block{false};
    //! The latest time seen (Now()).
    std::atomic<int64_t> m_latest_time{0};
    //! Payments adopted whose first broadcast has not returned yet; a
    //! replay waits for it, so its reply tells where the payment stands.
    std::set<Txid> m_first_broadcast GC_GUARDED_BY(m_mutex);
    std::condition_variable_any m_first_broadcast_done;
    //! Last broadcast failure of a payment, until it is accepted.
    std::map<Txid, std::string> m_broadcast_errors GC_GUARDED_BY(m_mutex);
    ConsistencyReport m_consistency GC_GUARDED_BY(m_mutex);
    std::map<Phase, PhaseTiming> m_timings GC_GUARDED_BY(m_mutex);
    //! Redemptions that paid nothing, for kRefusals.
    RefusalWatch m_refusals;
    //! The last solvency check's verdict; none before the first.
    std::optional<bool> m_solvent GC_GUARDED_BY(m_mutex);
    //! The breaker's stored settings, the redemptions its windows hold,
    //! and its last refusal while no redemption has been admitted since.
    BreakerSettings m_breaker GC_GUARDED_BY(m_mutex);
    RedemptionWindow m_window GC_GUARDED_BY(m_mutex);
    std::optional<LimitRefusal> m_tripped GC_GUARDED_BY(m_mutex);
    int64_t m_tripped_at GC_GUARDED_BY(m_mutex){0};
    const std::vector<WindowLimit>& LimitsLocked() const GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex)
    {
        return m_breaker.own_limits ? m_breaker.limits : m_policy.limits;
    }
    BreakerInfo BreakerLocked(int64_t now) GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
    //! Stores `settings` (one durable commit) and keeps them.
    Result<BreakerInfo> StoreBreaker(const BreakerSettings& settings, const Event& event) GC_LOCKS_EXCLUDED(m_mutex);
    //! Refuses, in `to_pay`, what the breaker does not admit; keeps the rest.
    void AdmitLocked(std::vector<Pending*>& to_pay, std::vector<CodeRecord>& records, int64_t now)
        GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex);
    void RecordTiming(Phase phase, uint64_t us) GC_LOCKS_EXCLUDED(m_mutex);
};

//! The build id of this module: a hash of the plugin and patch sources,
//! fixed when it is compiled. Lets tests refuse stale binaries.
const char* BuildId();

} // namespace giftcode

#endif // GIFTCODE_CORE_LEDGER_H
