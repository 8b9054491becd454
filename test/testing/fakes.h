// Test doubles of every port, shared by all tests.
//
// The stores keep two namespaces, like the node's wallet database: the
// ledger's own records (what Store::ReadAll returns) and "wallet" records,
// where the FakePayer keeps its payments. Payments reach the wallet namespace
// only through a batch, so a payment is recorded exactly when the batch that
// also holds its redeemed code commits - the property under test.
//
// Thread-safety: every fake may be called from many threads at once.
#ifndef GIFTCODE_TEST_TESTING_FAKES_H
#define GIFTCODE_TEST_TESTING_FAKES_H

#include "ledger.h"
#include "ports.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace giftcode::testing {

//! A store whose commits can also carry wallet records, as the node's
//! wallet database holds the module's records and the wallet's own.
class TestStore : public Store {
public:
    Status Commit(const RecordWrites& writes, Durability durability) override
    {
        return CommitWithWallet(writes, {}, durability);
    }
    //! Ledger writes and wallet writes, all applied or none.
    virtual Status CommitWithWallet(const RecordWrites& ledger, const RecordWrites& wallet, Durability durability) = 0;
    //! Every wallet record, in key order.
    virtual std::vector<std::pair<std::string, std::string>> ReadWalletRecords() = 0;

    //! The copy beside the database lives in memory here; it survives a
    //! restore of the records (RestoreSnapshot), as a file beside a wallet
    //! survives a backup put in the wallet's place.
    SideState ReadSideState() override;
    void WriteSideState(const SideState& state) override;
    //! Replaces the copy (or removes it, with present = false).
    void SetSideState(const SideState& state) { WriteSideState(state); }

private:
    std::mutex m_side_mutex;
    SideState m_side;
};

//! In-memory store with fault injection: commits can be made to fail.
class MemoryStore : public TestStore {
public:
    Status ReadAll(std::vector<std::pair<std::string, std::string>>& records) override;
    Status CommitWithWallet(const RecordWrites& ledger, const RecordWrites& wallet, Durability durability) override;
    std::vector<std::pair<std::string, std::string>> ReadWalletRecords() override;

    //! The next `n` commits fail with kStoreFailure and change nothing.
    void FailNextCommits(int n) { m_fail_next = n; }
    //! ReadAll fails with kStoreFailure.
    void FailReads(bool fail) { m_fail_reads = fail; }
    //! Writes a ledger record directly, bypassing any batch (to plant corruption).
    void PutRaw(const std::string& key, const std::string& value);
    //! Drops every wallet record (as -zapwallettxes drops transactions).
    void EraseWalletRecords();
    //! Every ledger and wallet record, as a backup of the wallet holds them.
    struct Snapshot {
        std::map<std::string, std::string> ledger;
        std::map<std::string, std::string> wallet;
    };
    Snapshot TakeSnapshot();
    //! Puts a snapshot in place of every record (the copy beside stays).
    void RestoreSnapshot(const Snapshot& snapshot);
    int commits() const { return m_commits; }
    //! Durability asked for by the last commit.
    Durability last_durability() const { return m_last_durability; }

private:
    std::mutex m_mutex;
    std::map<std::string, std::string> m_ledger;
    std::map<std::string, std::string> m_wallet;
    std::atomic<int> m_fail_next{0};
    std::atomic<bool> m_fail_reads{false};
    std::atomic<int> m_commits{0};
    std::atomic<Durability> m_last_durability{Durability::kProcessCrash};
};

class FakeChain : public ChainView {
public:
    TxChainState GetTxState(const Txid& txid) override;
    int TipHeight() override { return m_height; }
    int64_t TipTime() override { return m_time; }
    void Set(const Txid& txid, const TxChainState& state);
    void Confirm(const Txid& txid, int confirmations);
    //! The wallet forgets the transaction (unknown from now on).
    void Forget(const Txid& txid);
    void SetTipHeight(int height) { m_height = height; }
    //! A block stamped `time` becomes the tip.
    void SetTipTime(int64_t time) { m_time = time; }

private:
    std::mutex m_mutex;
    std::map<Txid, TxChainState> m_states;
    std::atomic<int> m_height{100};
    std::atomic<int64_t> m_time{0};
};

//! Pays from a pretend balance. A payment pays one or more codes; each
//! code's part is recorded as a wallet record "tx" || txid || code id ->
//! code id || amount || address in the same commit as the ledger's
//! records. Broadcasting marks them in the FakeChain's mempool. A
//! payment's serialized form is "raw:" || txid hex || ":" || amount ||
//! ":" || fee, so RestorePayment can put it back. A payment of n codes
//! costs FEE + (n - 1) * FEE_PER_CODE.
class FakePayer : public Payer {
public:
    FakePayer(TestStore& store, FakeChain& chain, Amount balance);

    Result<CommittedPayment> PayAndRecord(const std::vector<PaymentRequest>& requests,
                                          const RecordsForPayment& records_for) override;
    Status RestorePayment(const std::vector<CodeId>& codes, const std::string& serialized_tx) override;
    Status RestorePayment(const CodeId& code, const std::string& serialized_tx)
    {
        return RestorePayment(std::vector<CodeId>{code}, serialized_tx);
    }
    Result<Payment> GetPayment(const Txid& txid, const PaymentRequest& request) override;
    BroadcastOutcome Broadcast(const Txid& txid) override;
    Status ListTaggedPayments(std::vector<TaggedPayment>& payments) override;
    //! Keys are "key:" || code id hex (then ":" || attempt after the
    //! first), or "" while SetUnsupported.
    Status NewPaymentKeys(const std::vector<CodeId>& codes, uint32_t attempt, std::vector<std::string>& keys) override;
    //! Looks at the wallet's transactions in the order it took them: those
    //! it paid, put back or learned from the chain (LearnFromChain). The
    //! first code of a payment is found by its key (the change), the others
    //! by their tags, as the node finds them.
    Status FindPayments(const PaymentKeyWatch& watch, bool from_start, std::vector<Payment>& found) override;
    //! The balance less what SetPendingFunds holds back.
    Result<Amount> SpendableBalance() override;
    //! SpendableBalance fails with kStoreFailure while set.
    void FailBalance(bool fail) { m_fail_balance = fail; }

    static constexpr Amount FEE = 2260;
    static constexpr Amount FEE_PER_CODE = 700;

    //! The wallet learns a payment from the chain (a rescan, or a relay by
    //! a peer) without its tag: as a restored wallet learns the payments it
    //! made after its backup was taken.
    void LearnFromChain(const Payment& payment, const TxChainState& state);
    void LearnFromChain(const std::vector<Payment>& payments, const TxChainState& state);
    //! A payment this payer built (its first code's part).
    Payment PaymentOf(const Txid& txid);
    //! Every code's part of a payment this payer built.
    std::vector<Payment> PaymentsOf(const Txid& txid);
    //! A PayAndRecord of more codes than this fails with kPaymentFailed
    //! (too large); 0 for no limit.
    void SetMaxCodesPerPayment(size_t most) { m_max_codes = most; }
    //! PayAndRecord fails with kPaymentFailed (could not build) while set.
    void FailPayments(bool fail) { m_fail_payments = fail; }
    //! PayAndRecord fails with kInvalidAddress while a request pays this
    //! address (the wallet cannot make its script); empty for none.
    void SetRefusedAddress(const std::string& address);
    //! While set, the first key NewPaymentKeys makes for every code is the
    //! same, so every tag but one is taken.
    void SetRepeatingKeys(bool repeating) { m_repeating_keys = repeating; }
    //! Codes per PayAndRecord call, in order.
    std::vector<size_t> payment_sizes();
    //! Broadcast calls made before each PayAndRecord call, in order.
    std::vector<int> broadcasts_before_payments();
    //! NewPaymentKeys fails with kStoreFailure while set.
    void FailPaymentKeys(bool fail) { m_fail_keys = fail; }
    //! NewPaymentKeys returns one key too few (-1), one too long (1), or
    //! what it should (0).
    void SetBrokenPaymentKeys(int how) { m_broken_keys = how; }
    //! FindPayments fails with kStoreFailure while set.
    void FailFinding(bool fail) { m_fail_finding = fail; }
    //! FindPayments calls that looked at every transaction.
    int full_searches() const { return m_full_searches; }

    //! The payment is built and signed; returns it without paying (for
    //! tests that plant records).
    Payment MakePayment(const PaymentRequest& request, Amount fee = FEE);
    //! One payment of every request, the fee shared as the node shares it.
    std::vector<Payment> MakePayments(const std::vector<PaymentRequest>& requests, Amount fee);
    //! The wallet replaces `txid` (bumpfee): a new payment of the same
    //! code, amount and address with `fee`, in the mempool; the old one
    //! leaves it, marked replaced. Returns the replacement.
    //! With `shift`, every code's output moves that many places on (as the
    //! node's bumpfee does when it puts the change first).
    Payment Replace(const Txid& txid, Amount fee, uint32_t shift = 0);

    //! PayAndRecord sleeps a random time below this, to widen races.
    void SetLatencyMicros(int max_micros) { m_max_latency_us = max_micros; }
    //! Broadcast takes this long before it answers.
    void SetBroadcastDelayMicros(int micros) { m_broadcast_delay_us = micros; }
    void SetLocked(bool locked) { m_locked = locked; }
    void SetUnsupported(bool unsupported) { m_unsupported = unsupported; }
    //! While set, NewPaymentKeys gives empty keys, as codes made by an
    //! earlier version have.
    void SetKeyless(bool keyless) { m_keyless = keyless; }
    void SetCatchingUp(bool catching_up) { m_catching_up = catching_up; }
    //! This much of the balance is unconfirmed or locked: not spendable now.
    void SetPendingFunds(Amount pending) { m_pending = pending; }
    //! After the next commits, the wallet fails to take the payment.
    void FailAdoptions(int n) { m_fail_adoptions = n; }
    //! RestorePayment fails while set.
    void FailRestores(bool fail) { m_fail_restores = fail; }
    //! Broadcast fails with this reason while it is not empty.
    void SetBroadcastFailure(const std::string& reason);
    //! ListTaggedPayments fails with kStoreFailure while set.
    void FailListing(bool fail) { m_fail_listing = fail; }
    //! A successful PayAndRecord runs `hook` after the wallet took the
    //! payment, before it returns: the ledger still holds its write lock
    //! then. An empty function removes it.
    void SetWhilePaying(std::function<void()> hook);
    //! A RestorePayment that puts a payment back runs `hook` after the
    //! wallet took it, before it returns. An empty function removes it.
    void SetWhileRestoring(std::function<void()> hook);
    //! Broadcast of a payment this payer built runs `hook` with each code's
    //! part of it before it answers, whatever the answer: from then on the
    //! payment may be on the network. An empty function removes it.
    void SetWhileBroadcasting(std::function<void(const Payment&)> hook);
    Amount balance() const { return m_balance; }
    int adopted() const { return m_adopted; }
    int restored() const { return m_restored; }
    int broadcasts() const { return m_broadcasts; }
    //! Reads back every payment the store holds: txid -> (code, amount,
    //! address), once per code it pays.
    struct Recorded {
        CodeId code;
        Amount amount{0};
        std::string address;
    };
    static std::multimap<Txid, Recorded> RecordedPayments(TestStore& store);

private:
    RecordWrite WalletRecordFor(const Payment& payment) const;
    RecordWrites WalletRecordsFor(const std::vector<Payment>& payments) const;
    TestStore& m_store;
    FakeChain& m_chain;
    std::atomic<Amount> m_balance;
    std::atomic<Amount> m_pending{0};
    std::atomic<int> m_max_latency_us{0};
    std::atomic<int> m_broadcast_delay_us{0};
    std::atomic<bool> m_locked{false};
    std::atomic<bool> m_unsupported{false};
    std::atomic<bool> m_keyless{false};
    std::atomic<bool> m_catching_up{false};
    std::atomic<int> m_fail_adoptions{0};
    std::atomic<bool> m_fail_restores{false};
    std::atomic<bool> m_fail_listing{false};
    std::atomic<bool> m_fail_keys{false};
    std::atomic<int> m_broken_keys{0};
    std::atomic<bool> m_fail_finding{false};
    std::atomic<bool> m_fail_balance{false};
    std::atomic<int> m_full_searches{0};
    std::atomic<size_t> m_max_codes{0};
    std::atomic<bool> m_fail_payments{false};
    std::atomic<bool> m_repeating_keys{false};
    std::vector<size_t> m_payment_sizes;
    std::vector<int> m_broadcasts_before_payments;
    //! The wallet's transactions in the order it took them, and how far
    //! FindPayments has looked.
    std::vector<Txid> m_taken;
    size_t m_searched{0};
    void Took(const Txid& txid);
    std::atomic<uint64_t> m_counter{0};
    std::atomic<int> m_adopted{0};
    std::atomic<int> m_restored{0};
    std::atomic<int> m_broadcasts{0};
    std::mutex m_mutex;
    std::string m_broadcast_failure;
    std::string m_refused_address;
    std::function<void()> m_while_paying;
    std::function<void()> m_while_restoring;
    std::function<void(const Payment&)> m_while_broadcasting;
    //! Every payment built, by txid: each code's part.
    std::map<Txid, std::vector<Payment>> m_payments;
};

class ManualClock : public Clock {
public:
    explicit ManualClock(int64_t now) : m_now(now) {}
    int64_t Now() override { return m_now; }
    void Set(int64_t now) { m_now = now; }
    void Advance(int64_t seconds) { m_now += seconds; }

private:
    std::atomic<int64_t> m_now;
};

//! Deterministic bytes from a seed.
class SeededRandomness : public Randomness {
public:
    explicit SeededRandomness(uint64_t seed) : m_rng(seed) {}
    void Fill(uint8_t* out, size_t len) override;
    //! While set, every Fill gives the same bytes, as a broken source would.
    void SetStuck(bool stuck) { m_stuck = stuck; }

private:
    std::mutex m_mutex;
    std::mt19937_64 m_rng;
    std::atomic<bool> m_stuck{false};
};

//! Accepts "rmona1" followed by 8 to 80 lowercase letters or digits, in any
//! case; normalises to lower case.
class FakeAddressValidator : public AddressValidator {
public:
    Result<std::string> NormalizeAddress(const std::string& address) override;
};

//! Keeps every event it is told of.
class RecordingNotifier : public Notifier {
public:
    void Notify(const Event& event) override;
    std::vector<Event> events();
    //! The events of one kind.
    std::vector<Event> events(EventKind kind);
    void Clear();

private:
    std::mutex m_mutex;
    std::vector<Event> m_events;
};

//! One set of fakes over a given store, ready to open a ledger.
struct FakeNode {
    explicit FakeNode(TestStore& store, Amount balance = 1000000 * COIN, uint64_t seed = 1);

    TestStore& store;
    FakeChain chain;
    FakePayer payer;
    ManualClock clock{1700000000};
    SeededRandomness randomness;
    FakeAddressValidator addresses;
    RecordingNotifier notifier;

    Ports ports() { return Ports{store, payer, chain, clock, randomness, addresses, &notifier}; }
    LedgerPolicy policy() const;
    //! LedgerPolicy::start_delay of the ledgers Open() opens.
    int64_t start_delay{0};
    //! LedgerPolicy::max_payment_codes and payment_wait_ms of those ledgers.
    size_t max_payment_codes{MAX_TAGS};
    int64_t payment_wait_ms{0};
    //! LedgerPolicy::refusal_alert of those ledgers.
    uint64_t refusal_alert{0};
    //! LedgerPolicy::limits of those ledgers (the node's -giftcodelimit).
    std::vector<WindowLimit> limits;
    //! Opens a ledger over these fakes; fails the test if it cannot.
    std::unique_ptr<Ledger> Open();
};

//! A valid test address with a distinguishing number.
std::string TestAddress(int n);

} // namespace giftcode::testing

#endif // GIFTCODE_TEST_TESTING_FAKES_H
