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
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace giftcode {

//! How far a commit must have reached before Store::Commit returns.
enum class Durability {
    kProcessCrash,  //!< survives the process being killed (written to the OS)
    kPowerLoss,     //!< survives power loss (written and synced to the disk)
};

//! A set of writes that Store::Commit applies all together or not at all.
//! Writes are not visible to reads before the commit.
class StoreBatch {
public:
    virtual ~StoreBatch() = default;
    virtual void Put(const std::string& key, const std::string& value) = 0;
    virtual void Erase(const std::string& key) = 0;
};

//! The module's key-value records, kept apart from every other record of the
//! host. The ledger is the only writer of its keys.
class Store {
public:
    virtual ~Store() = default;
    //! Reads every record of the module, in key order. Fails with
    //! kStoreFailure if the database cannot be read.
    virtual Status ReadAll(std::vector<std::pair<std::string, std::string>>& records) = 0;
    //! A new, empty batch for this store (and for the payer's StagePayment).
    virtual std::unique_ptr<StoreBatch> NewBatch() = 0;
    //! Applies every write of `batch` atomically with the given durability.
    //! On failure (kStoreFailure) none of them is applied. The batch must
    //! not be used again either way.
    virtual Status Commit(StoreBatch& batch, Durability durability) = 0;
};

//! What the ledger asks the payer to pay.
struct PaymentRequest {
    CodeId code;          //!< tag the payment with it, so it can be matched later
    std::string address;  //!< normalised by AddressValidator
    Amount amount{0};     //!< exactly this reaches the address; the wallet pays the fee
};

//! A signed payment that exists nowhere yet.
struct Payment {
    CodeId code;  //!< the code it pays, as tagged in the wallet
    Txid txid{};
    Amount amount{0};
    Amount fee{0};
    std::string address;
    std::string serialized_tx;  //!< the raw transaction
};

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

//! Builds and records payments out of the host's wallet.
class Payer {
public:
    virtual ~Payer() = default;
    //! Builds and signs a payment of exactly request.amount to
    //! request.address, fee on top, with no lasting effect: nothing is
    //! recorded and no coin is marked spent. Called under the ledger's write
    //! lock. Fails with kInsufficientFunds, kWalletLocked, kWalletUnsupported,
    //! kInvalidAddress or kPaymentFailed.
    virtual Result<Payment> BuildPayment(const PaymentRequest& request) = 0;
    //! Adds the durable record of `payment` to `batch` (a batch of this
    //! host's store), so that the payment is recorded exactly when the batch
    //! commits. Called under the write lock.
    virtual Status StagePayment(StoreBatch& batch, const Payment& payment) = 0;
    //! The batch holding `payment` committed: the wallet takes the payment
    //! as its own (its inputs are spent from now on). Cannot fail. Called
    //! under the write lock, before any other payment is built.
    virtual void AdoptPayment(const Payment& payment) = 0;
    //! The batch holding `payment` did not commit: undo whatever
    //! BuildPayment held for it. Called under the write lock.
    virtual void DiscardPayment(const Payment& payment) = 0;
    //! Hands an adopted payment to the network (again, if it was before).
    //! Called without ledger locks.
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
};

class ChainView {
public:
    virtual ~ChainView() = default;
    virtual TxChainState GetTxState(const Txid& txid) = 0;
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
