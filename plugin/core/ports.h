// The ports: everything the gift-code core needs from its host, as narrow
// abstract classes over plain values. The node implements them in
// plugin/host/; tests implement them in test/testing/. No port method throws:
// expected failures come back as Status values, and a port that cannot keep
// its contract (a broken database under a committed batch, say) must stop the
// process rather than return something the core would misread.
//
// Thread-safety: the core calls every port from any thread, several at once,
// except where a method says it is called under the ledger's write lock (then
// calls to it never overlap). Implementations must be safe for that.
#ifndef GIFTCODE_CORE_PORTS_H
#define GIFTCODE_CORE_PORTS_H

#include "code.h"
#include "records.h"
#include "status.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace giftcode {

//! How far a commit must have reached before Store::Commit returns.
enum class Durability {
    kProcessCrash,  //!< survives the process being killed (written to the OS)
    kPowerLoss,     //!< survives power loss (written and synced to the disk)
};

//! The ledger's state as kept beside the database (Store::ReadSideState).
struct SideState {
    bool present{false};
    int64_t commits{0};        //!< commits the ledger had made
    int64_t next_sequence{0};  //!< the next code's creation sequence
};

//! One write of a module record: `value` under `key`, or the key erased.
struct RecordWrite {
    std::string key;
    std::string value;
    bool erase{false};
};
using RecordWrites = std::vector<RecordWrite>;

//! The module's key-value records, kept apart from every other record of the
//! host. The ledger is the only writer of its keys.
class Store {
public:
    virtual ~Store() = default;
    //! Reads every record of the module, in key order. Fails with
    //! kStoreFailure if the database cannot be read.
    virtual Status ReadAll(std::vector<std::pair<std::string, std::string>>& records) = 0;
    //! Applies every write atomically with the given durability. On failure
    //! (kStoreFailure) none of them is applied.
    virtual Status Commit(const RecordWrites& writes, Durability durability) = 0;
    //! The copy of the ledger's state kept outside the database (a small
    //! file beside it), which a wallet restored from a backup does not
    //! roll back. `present` is false if there is none or it cannot be read.
    virtual SideState ReadSideState() = 0;
    //! Replaces that copy; best effort and not synced: losing a write only
    //! makes the copy older, which never reads as a restore.
    virtual void WriteSideState(const SideState& state) = 0;
};

//! One code of what the ledger asks the payer to pay.
struct PaymentRequest {
    CodeId code;          //!< tag the payment with it, so it can be matched later
    std::string address;  //!< normalised by AddressValidator
    Amount amount{0};     //!< exactly this reaches the address; the wallet pays the fee
    //! The code's payment key (NewPaymentKeys). Empty for a code created
    //! before payment keys existed.
    std::string payment_key;
    //! The output that paid the holder before (GetPayment looks there
    //! first), or NO_VOUT.
    uint32_t vout{NO_VOUT};
};

//! A signed payment of one code. Codes paid together share the
//! transaction: txid and serialized_tx are the same for each.
struct Payment {
    CodeId code;  //!< the code it pays, as tagged in the wallet
    Txid txid{};
    uint32_t vout{NO_VOUT};  //!< the output that pays the holder
    Amount amount{0};
    //! This code's share of the transaction's fee: the fee divided evenly
    //! among the codes it pays, the remainder on the first.
    Amount fee{0};
    std::string address;
    std::string serialized_tx;  //!< the signed transaction, as the network sees it
    //! The code's key: the one that received the change (the first code
    //! of a payment), or the request's; a new one for a code without.
    std::string payment_key;
};

//! A code whose payment is watched for: its amount.
struct WatchedCode {
    CodeId code;
    Amount amount{0};
};
//! Unpaid codes: by payment key, and the keys by PaymentTagOf. A tag that
//! several of the wallet's codes share (codes made before tags were kept
//! unique) names none of them: it is in `ambiguous`, never in key_by_tag,
//! and such codes are paid alone, where their key names them.
struct PaymentKeyWatch {
    std::map<std::string, WatchedCode> by_key;
    std::map<uint32_t, std::string> key_by_tag;
    std::set<uint32_t> ambiguous;
    void Add(const std::string& key, const WatchedCode& code)
    {
        by_key[key] = code;
        const uint32_t tag = PaymentTagOf(key);
        if (!ambiguous.count(tag)) key_by_tag[tag] = key;
    }
    void Erase(const std::string& key)
    {
        if (by_key.erase(key) == 0) return;
        auto it = key_by_tag.find(PaymentTagOf(key));
        if (it != key_by_tag.end() && it->second == key) key_by_tag.erase(it);
    }
    size_t size() const { return by_key.size(); }
    bool empty() const { return by_key.empty(); }
};

//! A payment PayAndRecord committed.
struct CommittedPayment {
    //! One per request, in the order of the requests.
    std::vector<Payment> payments;
    //! The wallet took the payment into its memory (its inputs are spent).
    //! False only if that failed after the commit; the ledger then puts the
    //! recorded payment back with RestorePayment.
    bool adopted{true};
    //! Where the operation's time went, in microseconds.
    uint64_t build_us{0};
    uint64_t commit_us{0};
    uint64_t adopt_us{0};
};

//! The records to commit together with a payment, made from the signed
//! payment of each code (in the order of the requests). It is a pure
//! function of its argument: it calls no port, takes no lock and cannot
//! fail.
using RecordsForPayment = std::function<RecordWrites(const std::vector<Payment>&)>;

//! A payment the wallet holds that is tagged with a gift code.
struct TaggedPayment {
    CodeId code;
    Txid txid{};
};

//! What handing a payment to the network gave.
struct BroadcastOutcome {
    bool accepted{false};  //!< in the mempool (or already confirmed)
    std::string reason;    //!< why not, when !accepted
};

//! Pays out of the host's wallet. Every method is one host operation that
//! nothing else in the wallet interleaves with, and none throws.
class Payer {
public:
    virtual ~Payer() = default;
    //! The payment of one or more redemptions, as one operation under the
    //! wallet's lock: builds and signs ONE transaction that pays exactly
    //! each request's amount to its address (one output per request, in
    //! their order from output 0; fee on top), with the change to the
    //! first request's payment key (else the smallest output that is not
    //! dust; a new key if the request names none) and, for more than one
    //! request, one OP_RETURN output after them holding each request's
    //! payment tag in order; writes records_for(payments) and the
    //! wallet's copy of the transaction, tagged with every code, in ONE
    //! database transaction, synced to disk (kPowerLoss); then the wallet
    //! takes it as its own. No other send, coin lock or unlock of the
    //! wallet can run in between. Nothing is broadcast. Called under the
    //! ledger's write lock with 1 to MAX_TAGS requests. On failure nothing
    //! was written and no coin is spent: kNodeCatchingUp,
    //! kInsufficientFunds, kFundsPending, kWalletLocked,
    //! kWalletUnsupported, kInvalidAddress, kPaymentFailed (not built, e.g.
    //! too large), or kStoreFailure.
    virtual Result<CommittedPayment> PayAndRecord(const std::vector<PaymentRequest>& requests,
                                                  const RecordsForPayment& records_for) = 0;
    //! Puts a recorded payment (the very transaction, tagged with `codes`,
    //! every code it pays) back into the wallet when the wallet lacks it,
    //! so that its inputs are spent again and it can be resubmitted. If
    //! the wallet holds it, adds any of `codes` its tag lacks (a rescan
    //! drops tags). Fails with kCorruption if `serialized_tx` does not
    //! decode or the wallet holds it tagged with other codes only, or
    //! kStoreFailure if the wallet could not take it.
    virtual Status RestorePayment(const std::vector<CodeId>& codes, const std::string& serialized_tx) = 0;
    //! The wallet's transaction `txid` as a payment of `request`: it must be
    //! tagged with request.code and pay request.amount to request.address
    //! (vout: the first output at or after request.vout that does, else
    //! the first). Used to follow a payment to
    //! the transaction that replaced it (bumpfee). Fails with
    //! kPaymentFailed otherwise.
    virtual Result<Payment> GetPayment(const Txid& txid, const PaymentRequest& request) = 0;
    //! Hands a payment the wallet holds to the network (again, if it was
    //! before). Called without ledger locks.
    virtual BroadcastOutcome Broadcast(const Txid& txid) = 0;
    //! Every payment the wallet holds that is tagged with a gift code: one
    //! entry per code of a payment that pays several.
    virtual Status ListTaggedPayments(std::vector<TaggedPayment>& payments) = 0;
    //! Makes one payment key per code and stores them in the wallet, on
    //! disk (kPowerLoss), before it returns: a code's payment sends its
    //! change to the code's key, so a wallet restored from any backup that
    //! holds the code holds the key too, and recognises the payment on the
    //! chain (FindPayments). A key is derived from the wallet's HD seed and
    //! the code id where the wallet has a seed; nothing on the chain links
    //! it to the code or to other keys. `keys` gets one opaque name per
    //! code (at most MAX_PAYMENT_KEY bytes); codes of an earlier version
    //! have none. `attempt` picks another key for the same code (0 first):
    //! the ledger asks again for a code whose key's tag another code has.
    //! Called under the ledger's write lock. Fails with kWalletLocked,
    //! kWalletUnsupported (a wallet that cannot sign: its codes could never
    //! be paid, so none is created) or kStoreFailure.
    virtual Status NewPaymentKeys(const std::vector<CodeId>& codes, uint32_t attempt,
                                  std::vector<std::string>& keys) = 0;
    //! The wallet's own payments (they spend its coins) of `watch`'s codes:
    //! those with an output to a watched key, and, in a payment of several
    //! codes, those whose tag its OP_RETURN holds at the index of an
    //! output of the watched code's amount. These are payments the ledger
    //! does not know, made by this wallet before it was restored from a
    //! backup. With `from_start` every transaction of the wallet is
    //! examined, else only those it took since the last call. A payment's
    //! vout, amount and address are those of its output of the watched
    //! code's amount to another script (NO_VOUT, 0 and empty if it has
    //! none); its code and payment_key are the watched ones. Called under
    //! the ledger's write lock. Fails with kStoreFailure.
    virtual Status FindPayments(const PaymentKeyWatch& watch, bool from_start, std::vector<Payment>& found) = 0;
    //! What the wallet can spend now: the sum of its coins that a payment
    //! may spend (confirmed, or change of its own transactions in the
    //! mempool), mature, not locked (lockunspent), that it holds the keys
    //! of. 0 for a wallet without private keys. Called without ledger
    //! locks. Fails with kStoreFailure if the wallet cannot tell.
    virtual Result<Amount> SpendableBalance() = 0;
};

//! Where a transaction stands on the host's chain.
struct TxChainState {
    bool known{false};      //!< the wallet has the transaction
    int confirmations{0};   //!< depth in the active chain; 0 if unconfirmed
    bool in_mempool{false};
    bool abandoned{false};
    bool conflicted{false};  //!< a conflicting transaction is confirmed
    int conflict_depth{0};   //!< how deep that conflicting transaction is
    //! The wallet replaced it (bumpfee) with this transaction.
    std::optional<Txid> replaced_by;
};

class ChainView {
public:
    virtual ~ChainView() = default;
    virtual TxChainState GetTxState(const Txid& txid) = 0;
    //! Height of the active chain's tip (-1 before the genesis block).
    virtual int TipHeight() = 0;
    //! Timestamp of the active chain's tip, unix seconds (0 before the
    //! genesis block).
    virtual int64_t TipTime() = 0;
};

class Clock {
public:
    virtual ~Clock() = default;
    //! Unix seconds (the host's adjustable time, so tests can move it).
    virtual int64_t Now() = 0;
};

class Randomness {
public:
    virtual ~Randomness() = default;
    //! Fills `out` with `len` bytes from a cryptographically strong source.
    virtual void Fill(uint8_t* out, size_t len) = 0;
};

class AddressValidator {
public:
    virtual ~AddressValidator() = default;
    //! The canonical form of `address` if it is a valid address of the
    //! active network; kInvalidAddress otherwise.
    virtual Result<std::string> NormalizeAddress(const std::string& address) = 0;
};

//! What the operator is told of (the node's -giftcodenotify, doc/rpc.md).
enum class EventKind {
    kRedeemed,     //!< a redemption's payment was committed (or found on the chain)
    kNotAccepted,  //!< the mempool refused a committed payment, or refuses it for another reason
    kAttention,    //!< a payment began, changed or stopped needing a human (conflicted, abandoned, ...)
    kReplaced,     //!< the code's payment is now another transaction (bumpfee)
    kBuried,       //!< the payment is BURIED_DEPTH deep: final, no longer followed
    kConsistency,  //!< the records and the wallet's tagged payments disagree
    kRestore,      //!< the wallet was put back from a backup
    kInsolvent,    //!< outstanding codes are worth more than the wallet can spend
    kSolvent,      //!< no longer so
    kRefusals,     //!< an unusual number of redemptions paid nothing (guessing or replay storm)
    kBreaker,      //!< the breaker tripped on a limit, or was paused or resumed by the operator
};

//! One event: the code's id (never the code) and the payment's txid where
//! there is one, and what happened in words.
struct Event {
    EventKind kind{EventKind::kRedeemed};
    std::optional<CodeId> code;
    std::optional<Txid> txid;
    std::string reason;
};

class Notifier {
public:
    virtual ~Notifier() = default;
    //! Hands the event on and returns at once: it never waits for I/O and
    //! takes no lock but its own, so the ledger may call it holding its
    //! locks, and a redemption never waits for the operator's command.
    virtual void Notify(const Event& event) = 0;
};

//! The ports one ledger uses. They must outlive it.
struct Ports {
    Store& store;
    Payer& payer;
    ChainView& chain;
    Clock& clock;
    Randomness& randomness;
    AddressValidator& addresses;
    //! Told of every event; none for a ledger nobody listens to.
    Notifier* notifier{nullptr};
};

} // namespace giftcode

#endif // GIFTCODE_CORE_PORTS_H
