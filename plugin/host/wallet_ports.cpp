// Adapters of the core's ports over a monacoind wallet; see wallet_ports.h.
// Lock order everywhere: the ledger's write lock, then cs_main (through
// chain().lock()), then cs_wallet. No adapter takes a ledger lock.
#include "wallet_ports.h"

#include <chainparams.h>
#include <interfaces/chain.h>
#include <key_io.h>
#include <primitives/transaction.h>
#include <random.h>
#include <script/standard.h>
#include <streams.h>
#include <util/time.h>
#include <version.h>
#include <wallet/coincontrol.h>
#include <wallet/db.h>
#include <wallet/wallet.h>
#include <wallet/walletdb.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

namespace giftcode {
namespace host {

const char* const PAYMENT_TAG = "giftcode";

namespace {

uint256 ToUint256(const Txid& txid)
{
    uint256 hash;
    std::copy(txid.begin(), txid.end(), hash.begin());
    return hash;
}

Txid FromUint256(const uint256& hash)
{
    Txid txid;
    std::copy(hash.begin(), hash.end(), txid.begin());
    return txid;
}

//! A batch of gift-code record writes plus the wallet transactions of the
//! payments staged into it.
class WalletStoreBatch : public StoreBatch {
public:
    struct Op {
        std::string key;
        std::string value;
        bool erase;
    };
    void Put(const std::string& key, const std::string& value) override { ops.push_back({key, value, false}); }
    void Erase(const std::string& key) override { ops.push_back({key, std::string(), true}); }

    std::vector<Op> ops;
    std::vector<CWalletTx> payments;
};

class WalletStore : public Store {
public:
    explicit WalletStore(CWallet& wallet) : m_wallet(wallet) {}

    Status ReadAll(std::vector<std::pair<std::string, std::string>>& records) override
    {
        LOCK(m_wallet.cs_wallet);
        BerkeleyBatch batch(m_wallet.GetDBHandle(), "r", /*fFlushOnCloseIn=*/false);
        Dbc* cursor = batch.GetCursor();
        if (!cursor) {
            if (!m_wallet.GetDBHandle().env) return Status::Ok();  // dummy database
            return Status(StatusCode::kStoreFailure, "cannot read the wallet database");
        }
        Status result = Status::Ok();
        while (true) {
            CDataStream key_stream(SER_DISK, CLIENT_VERSION);
            CDataStream value_stream(SER_DISK, CLIENT_VERSION);
            const int ret = batch.ReadAtCursor(cursor, key_stream, value_stream);
            if (ret == DB_NOTFOUND) break;
            if (ret != 0) {
                result = Status(StatusCode::kStoreFailure, "error reading the wallet database");
                break;
            }
            try {
                std::string type;
                key_stream >> type;
                if (type != DBKeys::GIFTCODE) continue;
                std::string key, value;
                key_stream >> key;
                value_stream >> value;
                records.emplace_back(std::move(key), std::move(value));
            } catch (const std::exception& e) {
                result = Status(StatusCode::kCorruption, std::string("unreadable gift-code record: ") + e.what());
                break;
            }
        }
        cursor->close();
        std::sort(records.begin(), records.end());
        return result;
    }

    std::unique_ptr<StoreBatch> NewBatch() override { return std::unique_ptr<StoreBatch>(new WalletStoreBatch()); }

    Status Commit(StoreBatch& batch_in, Durability durability) override
    {
        WalletStoreBatch& batch = static_cast<WalletStoreBatch&>(batch_in);
        // cs_wallet keeps every other writer of this wallet out while the
        // database transaction is open: a second batch writing inside it
        // would wait for it forever.
        LOCK(m_wallet.cs_wallet);
        WalletBatch db(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
        if (!db.TxnBegin()) return Status(StatusCode::kStoreFailure, "cannot begin a wallet database transaction");
        bool ok = true;
        for (const WalletStoreBatch::Op& op : batch.ops) {
            ok = ok && (op.erase ? db.EraseGiftCodeRecord(op.key) : db.WriteGiftCodeRecord(op.key, op.value));
        }
        for (const CWalletTx& wtx : batch.payments) ok = ok && db.WriteTx(wtx);
        if (!ok) {
            db.TxnAbort();
            return Status(StatusCode::kStoreFailure, "the wallet database refused a write; nothing was changed");
        }
        if (!db.TxnCommit()) {
            return Status(StatusCode::kStoreFailure, "the wallet database could not commit; nothing was changed");
        }
        if (durability == Durability::kPowerLoss) FlushLog();
        return Status::Ok();
    }

private:
    //! Berkeley DB commits without syncing its log (DB_TXN_WRITE_NOSYNC).
    //! A redemption must be on disk before its payment can leave the node,
    //! so the log is flushed here. If that fails the disk is failing after
    //! the commit: stopping is the only answer that neither sends a payment
    //! whose record may vanish nor tells the ledger a commit did not happen.
    void FlushLog()
    {
        BerkeleyDatabase& database = m_wallet.GetDBHandle();
        if (!database.env) return;  // dummy database (tests of the node)
        const int ret = database.env->dbenv->log_flush(nullptr);
        if (ret != 0) {
            m_wallet.WalletLogPrintf("gift codes: flushing the database log failed (%s); stopping to keep the "
                                     "ledger and the database in step\n",
                                     DbEnv::strerror(ret));
            std::abort();
        }
    }

    CWallet& m_wallet;
};

class WalletPayer : public Payer {
public:
    explicit WalletPayer(CWallet& wallet) : m_wallet(wallet), m_min_input(MinRedemptionInput()) {}

    Result<Payment> BuildPayment(const PaymentRequest& request) override
    {
        if (m_wallet.IsWalletFlagSet(WALLET_FLAG_DISABLE_PRIVATE_KEYS)) {
            return Status(StatusCode::kWalletUnsupported, "Error: Private keys are disabled for this wallet");
        }
        auto locked_chain = m_wallet.chain().lock();
        LOCK(m_wallet.cs_wallet);
        if (m_wallet.IsLocked()) {
            return Status(StatusCode::kWalletLocked,
                          "Error: Please enter the wallet passphrase with walletpassphrase first.");
        }
        const CTxDestination dest = DecodeDestination(request.address);
        if (!IsValidDestination(dest)) return Status(StatusCode::kInvalidAddress, "Invalid address");
        const std::vector<CRecipient> recipients{{GetScriptForDestination(dest), request.amount, false}};

        // Outputs below -giftcodemininput are held back (locked for this
        // call, under cs_wallet, so no one else sees it) while larger ones
        // suffice: this node's coin selection examines every candidate on
        // each of its passes, and a flood of tiny outputs turns that into
        // seconds per payment. Only if the larger coins cannot pay is every
        // output considered. Coin selection itself already prefers
        // confirmed coins, so a payment chains on unconfirmed change only
        // when nothing confirmed suffices.
        CTransactionRef tx;
        CAmount fee = 0;
        std::string error;
        bool built = false;
        for (const bool hold_small : {m_min_input > 0, false}) {
            const std::vector<COutPoint> held = hold_small ? HoldSmallOutputs() : std::vector<COutPoint>{};
            CCoinControl coin_control;
            int change_pos = -1;
            error.clear();
            built = m_wallet.CreateTransaction(*locked_chain, recipients, tx, fee, change_pos, error, coin_control);
            for (const COutPoint& outpoint : held) m_wallet.UnlockCoin(outpoint);
            if (built || !hold_small || held.empty()) break;
        }
        if (!built) {
            if (error.find("Insufficient funds") != std::string::npos) {
                return Status(StatusCode::kInsufficientFunds, "Insufficient funds");
            }
            return Status(StatusCode::kPaymentFailed, error.empty() ? "could not build the payment" : error);
        }
        Payment payment;
        payment.code = request.code;
        payment.txid = FromUint256(tx->GetHash());
        payment.amount = request.amount;
        payment.fee = fee;
        payment.address = request.address;
        // Until the payment is adopted or discarded, no other send of this
        // wallet (sendtoaddress, say) may pick the same coins: it would
        // conflict with a payment that is about to be committed.
        for (const CTxIn& txin : tx->vin) m_wallet.LockCoin(txin.prevout);
        CDataStream raw(SER_NETWORK, PROTOCOL_VERSION);
        raw << tx;
        payment.serialized_tx.assign(raw.begin(), raw.end());
        std::lock_guard<std::mutex> lock(m_mutex);
        m_built[payment.txid] = tx;
        return payment;
    }

    Status StagePayment(StoreBatch& batch, const Payment& payment) override
    {
        CTransactionRef tx = Built(payment.txid);
        if (!tx) return Status(StatusCode::kPaymentFailed, "payment was not built by this wallet");
        // Every batch the ledger passes comes from this wallet's WalletStore.
        static_cast<WalletStoreBatch&>(batch).payments.push_back(WalletTxFor(tx, payment));
        return Status::Ok();
    }

    void AdoptPayment(const Payment& payment) override
    {
        CTransactionRef tx = Built(payment.txid);
        assert(tx);
        // What CWallet::CommitTransaction does, minus the broadcast: the
        // record is already durable, now memory learns the payment and its
        // inputs become spent.
        auto locked_chain = m_wallet.chain().lock();
        LOCK(m_wallet.cs_wallet);
        // No checkpoint when the batch closes (fFlushOnClose = false): the
        // payment is already durable, through the committed and flushed log.
        if (!m_wallet.AddToWallet(WalletTxFor(tx, payment), /*fFlushOnClose=*/false)) {
            m_wallet.WalletLogPrintf("gift codes: rewriting payment %s failed; the committed record stands\n",
                                     tx->GetHash().ToString());
        }
        for (const CTxIn& txin : tx->vin) {
            auto it = m_wallet.mapWallet.find(txin.prevout.hash);
            if (it == m_wallet.mapWallet.end()) continue;
            it->second.BindWallet(&m_wallet);
            m_wallet.NotifyTransactionChanged(&m_wallet, it->first, CT_UPDATED);
        }
        UnlockInputs(*tx);
        Forget(payment.txid);
    }

    void DiscardPayment(const Payment& payment) override
    {
        CTransactionRef tx = Built(payment.txid);
        if (tx) {
            LOCK(m_wallet.cs_wallet);
            UnlockInputs(*tx);
        }
        Forget(payment.txid);
    }

    BroadcastOutcome Broadcast(const Txid& txid) override
    {
        auto locked_chain = m_wallet.chain().lock();
        LOCK(m_wallet.cs_wallet);
        auto it = m_wallet.mapWallet.find(ToUint256(txid));
        if (it == m_wallet.mapWallet.end()) return {false, "the payment is not in the wallet"};
        CWalletTx& wtx = it->second;
        if (!m_wallet.GetBroadcastTransactions()) {
            return {false, "the wallet does not broadcast (-walletbroadcast=0)"};
        }
        const int depth = wtx.GetDepthInMainChain();
        if (depth > 0) return {true, ""};
        if (depth < 0) return {false, "a conflicting transaction is confirmed"};
        if (wtx.isAbandoned()) return {false, "the payment was abandoned"};
        std::string error;
        if (wtx.SubmitMemoryPoolAndRelay(error, true) || wtx.InMempool()) return {true, ""};
        return {false, error.empty() ? "not accepted by the mempool" : error};
    }

    Status ListTaggedPayments(std::vector<TaggedPayment>& payments) override
    {
        LOCK(m_wallet.cs_wallet);
        for (const auto& entry : m_wallet.mapWallet) {
            auto tag = entry.second.mapValue.find(PAYMENT_TAG);
            if (tag == entry.second.mapValue.end()) continue;
            Result<CodeId> id = CodeId::FromHex(tag->second);
            if (!id.ok()) {
                return Status(StatusCode::kCorruption, "wallet transaction " + entry.first.ToString() +
                                                           " carries a malformed gift-code tag");
            }
            payments.push_back({id.value(), FromUint256(entry.first)});
        }
        return Status::Ok();
    }

private:
    CWalletTx WalletTxFor(const CTransactionRef& tx, const Payment& payment)
    {
        CWalletTx wtx(&m_wallet, tx);
        wtx.mapValue[PAYMENT_TAG] = payment.code.ToHex();
        wtx.fTimeReceivedIsTxTime = true;
        wtx.fFromMe = true;
        return wtx;
    }
    //! Locks every output of the wallet's transactions below the threshold
    //! that is not locked already, and returns them. Ownership and spent
    //! state are not checked: locking an output that is not spendable
    //! changes nothing, and checking would cost what this avoids.
    std::vector<COutPoint> HoldSmallOutputs() EXCLUSIVE_LOCKS_REQUIRED(m_wallet.cs_wallet)
    {
        std::vector<COutPoint> held;
        for (const auto& entry : m_wallet.mapWallet) {
            const CTransaction& wtx = *entry.second.tx;
            for (uint32_t n = 0; n < wtx.vout.size(); ++n) {
                if (wtx.vout[n].nValue >= m_min_input || m_wallet.IsLockedCoin(entry.first, n)) continue;
                held.emplace_back(entry.first, n);
                m_wallet.LockCoin(held.back());
            }
        }
        return held;
    }
    void UnlockInputs(const CTransaction& tx) EXCLUSIVE_LOCKS_REQUIRED(m_wallet.cs_wallet)
    {
        for (const CTxIn& txin : tx.vin) m_wallet.UnlockCoin(txin.prevout);
    }
    CTransactionRef Built(const Txid& txid)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_built.find(txid);
        return it == m_built.end() ? nullptr : it->second;
    }
    void Forget(const Txid& txid)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_built.erase(txid);
    }

    CWallet& m_wallet;
    const CAmount m_min_input;
    std::mutex m_mutex;
    //! Payments built and not yet adopted or discarded.
    std::map<Txid, CTransactionRef> m_built;
};

class WalletChainView : public ChainView {
public:
    explicit WalletChainView(CWallet& wallet) : m_wallet(wallet) {}

    TxChainState GetTxState(const Txid& txid) override
    {
        auto locked_chain = m_wallet.chain().lock();
        LOCK(m_wallet.cs_wallet);
        TxChainState state;
        const CWalletTx* wtx = m_wallet.GetWalletTx(ToUint256(txid));
        if (!wtx) return state;
        state.known = true;
        const int depth = wtx->GetDepthInMainChain();
        state.confirmations = std::max(depth, 0);
        state.conflicted = depth < 0;
        state.abandoned = wtx->isAbandoned();
        state.in_mempool = wtx->InMempool();
        return state;
    }

private:
    CWallet& m_wallet;
};

class NodeClock : public Clock {
public:
    int64_t Now() override { return GetTime(); }
};

class NodeRandomness : public Randomness {
public:
    void Fill(uint8_t* out, size_t len) override { GetStrongRandBytes(out, int(len)); }
};

class NodeAddressValidator : public AddressValidator {
public:
    Result<std::string> NormalizeAddress(const std::string& address) override
    {
        const CTxDestination dest = DecodeDestination(address);
        if (!IsValidDestination(dest)) {
            return Status(StatusCode::kInvalidAddress, "Invalid " + Params().NetworkIDString() + " address");
        }
        return EncodeDestination(dest);
    }
};

} // namespace

std::unique_ptr<Store> MakeWalletStore(CWallet& wallet) { return std::unique_ptr<Store>(new WalletStore(wallet)); }
std::unique_ptr<Payer> MakeWalletPayer(CWallet& wallet) { return std::unique_ptr<Payer>(new WalletPayer(wallet)); }
std::unique_ptr<ChainView> MakeWalletChainView(CWallet& wallet)
{
    return std::unique_ptr<ChainView>(new WalletChainView(wallet));
}
std::unique_ptr<Clock> MakeNodeClock() { return std::unique_ptr<Clock>(new NodeClock()); }
std::unique_ptr<Randomness> MakeNodeRandomness() { return std::unique_ptr<Randomness>(new NodeRandomness()); }
std::unique_ptr<AddressValidator> MakeNodeAddressValidator()
{
    return std::unique_ptr<AddressValidator>(new NodeAddressValidator());
}

Network ActiveNetwork()
{
    const std::string& id = Params().NetworkIDString();
    if (id == CBaseChainParams::MAIN) return Network::kMain;
    if (id == CBaseChainParams::TESTNET) return Network::kTest;
    return Network::kRegtest;
}

} // namespace host
} // namespace giftcode
