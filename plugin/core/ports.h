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
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace giftcode {

//! How far a commit must have reached before Store::Commit returns.
enum class Durability {
    kProcessCrash,  //!< survives the process being killed (written to the OS)
    kPowerLoss,     //!< survives power loss (written and synced to the disk)
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
};

//! What the ledger asks the payer to pay.
struct PaymentRequest {
    CodeId code;          //!< tag the payment with it, so it can be matched later
    std::string address;  //!< normalised by AddressValidator
    Amount amount{0};     //!< exactly this reaches the address; the wallet pays the fee
};

//! A signed payment.
struct Payment {
    CodeId code;  //!< the code it pays, as tagged in the wallet
    Txid txid{};
    Amount amount{0};
    Amount fee{0};
    std::string address;
    std::string serialized_tx;  //!< the signed transaction, as the network sees it
};

//! A payment PayAndRecord committed.
struct CommittedPayment {
    Payment payment;
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
//! payment. It is a pure function of its argument: it calls no port, takes
//! no lock and cannot fail.
using RecordsForPayment = std::function<RecordWrites(const Payment&)>;

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
    //! One redemption's payment, as one operation under the wallet's lock:
    //! builds and signs a payment of exactly request.amount to
    //! request.address (fee on top); writes records_for(payment) and the
    //! wallet's copy of the payment in ONE database transaction, synced to
    //! disk (kPowerLoss); then the wallet takes the payment as its own. No
    //! other send, coin lock or unlock of the wallet can run in between.
    //! The payment is not broadcast. Called under the ledger's write lock.
    //! On failure nothing was written and no coin is spent: kNodeCatchingUp,
    //! kInsufficientFunds, kFundsPending, kWalletLocked, kWalletUnsupported,
    //! kInvalidAddress, kPaymentFailed, or kStoreFailure.
    virtual Result<CommittedPayment> PayAndRecord(const PaymentRequest& request,
                                                  const RecordsForPayment& records_for) = 0;
    //! Puts a recorded payment (the very transaction, tagged with `code`)
    //! back into the wallet when the wallet lacks it, so that its inputs
    //! are spent again and it can be resubmitted. Does nothing if the wallet
    //! has it. Fails with kCorruption if `serialized_tx` does not decode, or
    //! kStoreFailure if the wallet could not take it.
    virtual Status RestorePayment(const CodeId& code, const std::string& serialized_tx) = 0;
    //! The wallet's transaction `txid` as a payment of `request`: it must be
    //! tagged with request.code and pay request.amount to request.address.
    //! Used to follow a payment to the transaction that replaced it
    //! (bumpfee). Fails with kPaymentFailed otherwise.
    virtual Result<Payment> GetPayment(const Txid& txid, const PaymentRequest& request) = 0;
    //! Hands a payment the wallet holds to the network (again, if it was
    //! before). Called without ledger locks.
    virtual BroadcastOutcome Broadcast(const Txid& txid) = 0;
    //! Every payment the wallet holds that is tagged with a gift code.
    virtual Status ListTaggedPayments(std::vector<TaggedPayment>& payments) = 0;
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

//! The ports one ledger uses. They must outlive it.
struct Ports {
    Store& store;
    Payer& payer;
    ChainView& chain;
    Clock& clock;
    Randomness& randomness;
    AddressValidator& addresses;
};

} // namespace giftcode

#endif // GIFTCODE_CORE_PORTS_H
