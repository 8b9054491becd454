// Adapters of the core's ports over a monacoind wallet; see wallet_ports.h.
// Lock order everywhere: the ledger's write lock, then cs_main (through
// chain().lock()), then cs_wallet. No adapter takes a ledger lock, and no
// exception leaves an adapter: each port method turns one into a Status.
#include "wallet_ports.h"

#include <chainparams.h>
#include <interfaces/chain.h>
#include <key_io.h>
#include <primitives/transaction.h>
#include <random.h>
#include <script/standard.h>
#include <streams.h>
#include <uint256.h>
#include <util/time.h>
#include <version.h>
#include <wallet/coincontrol.h>
#include <wallet/wallet.h>
#include <wallet/walletdb.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <stdexcept>

namespace giftcode {
namespace host {

const char* const PAYMENT_TAG = "giftcode";

namespace {

//! The mapValue key bumpfee sets on the transaction it replaced.
const char* const REPLACED_BY_TAG = "replaced_by_txid";

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

uint64_t MicrosSince(std::chrono::steady_clock::time_point start)
{
    return uint64_t(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
}

std::string Serialize(const CTransactionRef& tx)
{
    CDataStream raw(SER_NETWORK, PROTOCOL_VERSION);
    raw << tx;
    return std::string(raw.begin(), raw.end());
}

//! The failure of an exception thrown inside the node's code.
Status Thrown(const char* what)
{
    return Status(StatusCode::kStoreFailure, std::string("the wallet failed: ") + what);
}

class WalletStore : public Store {
public:
    explicit WalletStore(CWallet& wallet) : m_wallet(wallet) {}

    Status ReadAll(std::vector<std::pair<std::string, std::string>>& records) override
    {
        try {
            LOCK(m_wallet.cs_wallet);
            WalletBatch batch(m_wallet.GetDBHandle(), "r", /*_fFlushOnClose=*/false);
            if (!batch.ReadGiftCodeRecords(records)) {
                return Status(StatusCode::kStoreFailure, "cannot read the gift-code records of the wallet database");
            }
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
        std::sort(records.begin(), records.end());
        return Status::Ok();
    }

    Status Commit(const RecordWrites& writes, Durability durability) override
    {
        try {
            // cs_wallet keeps every other writer of this wallet out while the
            // database transaction is open: a second batch writing inside it
            // would wait for it forever.
            LOCK(m_wallet.cs_wallet);
            WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
            if (!batch.TxnBegin()) {
                return Status(StatusCode::kStoreFailure, "cannot begin a wallet database transaction");
            }
            if (!WriteRecords(batch, writes)) {
                batch.TxnAbort();
                return Status(StatusCode::kStoreFailure, "the wallet database refused a write; nothing was changed");
            }
            if (durability == Durability::kPowerLoss && !FlushLog(m_wallet)) {
                batch.TxnAbort();
                return Status(StatusCode::kStoreFailure, std::string(LOG_REFUSED) + "nothing was changed");
            }
            CommitOrStop(m_wallet, batch, durability);
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
        return Status::Ok();
    }

    static bool WriteRecords(WalletBatch& batch, const RecordWrites& writes)
    {
        for (const RecordWrite& w : writes) {
            if (!(w.erase ? batch.EraseGiftCodeRecord(w.key) : batch.WriteGiftCodeRecord(w.key, w.value))) {
                return false;
            }
        }
        return true;
    }

    static constexpr const char* LOG_REFUSED =
        "the wallet database could not write its log to disk (is the disk full or failing?); ";

    //! Writes the log records of every open transaction to disk and syncs
    //! them, before any commit record. A disk that is full or failing
    //! refuses them here, where aborting the transaction certainly leaves
    //! nothing behind (recovery drops a transaction without its commit
    //! record): the caller reports kStoreFailure and the node runs on.
    //! True for a wallet without a database environment (a mock).
    static bool FlushLog(CWallet& wallet)
    {
        BerkeleyDatabase& database = wallet.GetDBHandle();
        if (!database.env || !database.env->dbenv) return true;
        const int error = database.env->dbenv->log_flush(nullptr);
        if (error == 0) return true;
        wallet.WalletLogPrintf("gift codes: the wallet database could not write its log: %s\n", DbEnv::strerror(error));
        return false;
    }

    //! Commits the open database transaction of `batch`; with kPowerLoss its
    //! log is on disk when this returns. A commit that fails leaves its
    //! outcome unknown (the log may or may not hold it): neither "done" nor
    //! "not done" can be told to the ledger without risking a second
    //! payment or a lost one, so the node stops here, and the next start
    //! reads what the database really holds.
    static void CommitOrStop(CWallet& wallet, WalletBatch& batch, Durability durability)
    {
        if (batch.TxnCommit(/*sync=*/durability == Durability::kPowerLoss)) return;
        wallet.WalletLogPrintf("gift codes: FATAL: committing a database transaction failed; stopping so that the "
                               "ledger and the database cannot disagree. Restart the node to read what was "
                               "committed.\n");
        std::abort();
    }

private:
    CWallet& m_wallet;
};

class WalletPayer : public Payer {
public:
    explicit WalletPayer(CWallet& wallet)
        : m_wallet(wallet), m_min_input(MinRedemptionInput()), m_fail_adoption(TestFault("adopt"))
    {
    }

    Result<CommittedPayment> PayAndRecord(const PaymentRequest& request, const RecordsForPayment& records_for) override
    {
        try {
            return PayAndRecordLocked(request, records_for);
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
    }

    Status RestorePayment(const CodeId& code, const std::string& serialized_tx) override
    {
        try {
            CTransactionRef tx;
            try {
                CDataStream raw(serialized_tx.data(), serialized_tx.data() + serialized_tx.size(), SER_NETWORK,
                                PROTOCOL_VERSION);
                raw >> tx;
            } catch (const std::exception&) {
                return Status(StatusCode::kCorruption, "the recorded payment does not decode");
            }
            auto locked_chain = m_wallet.chain().lock();
            LOCK(m_wallet.cs_wallet);
            auto it = m_wallet.mapWallet.find(tx->GetHash());
            if (it != m_wallet.mapWallet.end()) {
                // Held, but its tag may be gone (a rescan after
                // -zapwallettxes=2 finds the transaction without it).
                auto tag = it->second.mapValue.find(PAYMENT_TAG);
                if (tag != it->second.mapValue.end()) {
                    if (tag->second == code.ToHex()) return Status::Ok();
                    return Status(StatusCode::kCorruption, "the wallet holds the payment tagged with another code");
                }
                it->second.mapValue[PAYMENT_TAG] = code.ToHex();
                WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
                if (!batch.WriteTx(it->second)) return Status(StatusCode::kStoreFailure, "could not re-tag the payment");
                m_wallet.WalletLogPrintf("gift codes: payment %s tagged again with code %s\n",
                                         tx->GetHash().ToString(), code.ShortHex());
                return Status::Ok();
            }
            WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
            m_wallet.AddSentTransaction(WalletTxFor(tx, code), batch);
            if (!m_wallet.GetWalletTx(tx->GetHash())) {
                return Status(StatusCode::kStoreFailure, "the wallet did not take the payment");
            }
            m_wallet.WalletLogPrintf("gift codes: payment %s of code %s put back into the wallet\n",
                                     tx->GetHash().ToString(), code.ShortHex());
            return Status::Ok();
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
    }

    Result<Payment> GetPayment(const Txid& txid, const PaymentRequest& request) override
    {
        try {
            auto locked_chain = m_wallet.chain().lock();
            LOCK(m_wallet.cs_wallet);
            const CWalletTx* wtx = m_wallet.GetWalletTx(ToUint256(txid));
            if (!wtx) return Status(StatusCode::kPaymentFailed, "the wallet does not hold it");
            auto tag = wtx->mapValue.find(PAYMENT_TAG);
            if (tag == wtx->mapValue.end() || tag->second != request.code.ToHex()) {
                return Status(StatusCode::kPaymentFailed, "it is not tagged with this gift code");
            }
            const CScript payee = GetScriptForDestination(DecodeDestination(request.address));
            const bool pays = std::any_of(wtx->tx->vout.begin(), wtx->tx->vout.end(), [&](const CTxOut& out) {
                return out.nValue == request.amount && out.scriptPubKey == payee;
            });
            if (!pays) return Status(StatusCode::kPaymentFailed, "it does not pay the holder the code's amount");
            Payment payment;
            payment.code = request.code;
            payment.txid = txid;
            payment.amount = request.amount;
            payment.address = request.address;
            payment.fee = wtx->GetDebit(ISMINE_ALL) - wtx->tx->GetValueOut();
            payment.serialized_tx = Serialize(wtx->tx);
            return payment;
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
    }

    BroadcastOutcome Broadcast(const Txid& txid) override
    {
        try {
            // Past this point in a shutdown the node's relay is going away.
            if (m_wallet.chain().shutdownRequested()) return {false, "the node is shutting down"};
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
        } catch (const std::exception& e) {
            return {false, std::string("the wallet failed: ") + e.what()};
        }
    }

    Status ListTaggedPayments(std::vector<TaggedPayment>& payments) override
    {
        try {
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
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
        return Status::Ok();
    }

private:
    //! The one host operation of a redemption. chain().lock() and cs_wallet
    //! are held from coin selection to adoption, so no other send, coin lock
    //! or unlock, and no other batch of this wallet runs in between.
    Result<CommittedPayment> PayAndRecordLocked(const PaymentRequest& request, const RecordsForPayment& records_for)
    {
        if (m_wallet.IsWalletFlagSet(WALLET_FLAG_DISABLE_PRIVATE_KEYS)) {
            return Status(StatusCode::kWalletUnsupported, "Error: Private keys are disabled for this wallet");
        }
        auto locked_chain = m_wallet.chain().lock();
        LOCK(m_wallet.cs_wallet);
        // A wallet that has not seen the chain's tip may not know which of its
        // coins are spent, nor which payments are already made.
        const Optional<int> tip = locked_chain->getHeight();
        if (m_wallet.chain().isInitialBlockDownload() || !tip || *tip != m_wallet.GetLastBlockHeight()) {
            return Status(StatusCode::kNodeCatchingUp,
                          "the node is still catching up with the chain; retry the same redemption later");
        }
        if (m_wallet.IsLocked()) {
            return Status(StatusCode::kWalletLocked,
                          "Error: Please enter the wallet passphrase with walletpassphrase first.");
        }
        const CTxDestination dest = DecodeDestination(request.address);
        if (!IsValidDestination(dest)) return Status(StatusCode::kInvalidAddress, "Invalid address");
        const std::vector<CRecipient> recipients{{GetScriptForDestination(dest), request.amount, false}};

        const auto build_start = std::chrono::steady_clock::now();
        CTransactionRef tx;
        CAmount fee = 0;
        std::string error;
        if (!Build(*locked_chain, recipients, tx, fee, error)) return WhyNotBuilt(request.amount, error);

        CommittedPayment done;
        Payment& payment = done.payment;
        payment.code = request.code;
        payment.txid = FromUint256(tx->GetHash());
        payment.amount = request.amount;
        payment.fee = fee;
        payment.address = request.address;
        payment.serialized_tx = Serialize(tx);
        done.build_us = MicrosSince(build_start);

        // INVARIANT: the ledger's records and the wallet's copy of the
        // payment are one database transaction, on disk before this returns.
        const auto commit_start = std::chrono::steady_clock::now();
        const CWalletTx wtx = WalletTxFor(tx, request.code);
        WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
        if (!batch.TxnBegin()) return Status(StatusCode::kStoreFailure, "cannot begin a wallet database transaction");
        if (!WalletStore::WriteRecords(batch, records_for(payment)) || !batch.WriteTx(wtx)) {
            batch.TxnAbort();
            return Status(StatusCode::kStoreFailure, "the wallet database refused a write; nothing was paid");
        }
        if (!WalletStore::FlushLog(m_wallet)) {
            batch.TxnAbort();
            return Status(StatusCode::kStoreFailure, std::string(WalletStore::LOG_REFUSED) + "nothing was paid");
        }
        WalletStore::CommitOrStop(m_wallet, batch, Durability::kPowerLoss);
        done.commit_us = MicrosSince(commit_start);

        // Committed: whatever happens now, the ledger must learn it. The
        // wallet takes the payment into memory through the same batch.
        const auto adopt_start = std::chrono::steady_clock::now();
        try {
            if (m_fail_adoption) throw std::runtime_error("adoption failure injected by -giftcodetestfault=adopt");
            m_wallet.AddSentTransaction(wtx, batch);
        } catch (const std::exception& e) {
            m_wallet.WalletLogPrintf("gift codes: WARNING: the wallet did not take committed payment %s (%s); it is "
                                     "put back from its record\n",
                                     tx->GetHash().ToString(), e.what());
        }
        done.adopted = m_wallet.GetWalletTx(tx->GetHash()) != nullptr;
        done.adopt_us = MicrosSince(adopt_start);
        return done;
    }

    //! Coin selection and signing. Outputs below -giftcodemininput are held
    //! back (locked for this call, under cs_wallet, so no one else sees it)
    //! while larger ones suffice: this node's coin selection examines every
    //! candidate on each of its passes, and a flood of tiny outputs turns
    //! that into seconds per payment. Only if the larger coins cannot pay is
    //! every output considered. Coin selection itself already prefers
    //! confirmed coins, so a payment chains on unconfirmed change only when
    //! nothing confirmed suffices.
    bool Build(interfaces::Chain::Lock& locked_chain, const std::vector<CRecipient>& recipients, CTransactionRef& tx,
               CAmount& fee, std::string& error) EXCLUSIVE_LOCKS_REQUIRED(m_wallet.cs_wallet)
    {
        for (const bool hold_small : {m_min_input > 0, false}) {
            const std::vector<COutPoint> held = hold_small ? HoldSmallOutputs() : std::vector<COutPoint>{};
            CCoinControl coin_control;
            int change_pos = -1;
            error.clear();
            const bool built =
                m_wallet.CreateTransaction(locked_chain, recipients, tx, fee, change_pos, error, coin_control);
            for (const COutPoint& outpoint : held) m_wallet.UnlockCoin(outpoint);
            if (built) return true;
            if (!hold_small || held.empty()) break;
        }
        return false;
    }

    //! Why a payment of `amount` could not be built, told from the wallet's
    //! balances rather than from its (translatable) error text.
    Status WhyNotBuilt(CAmount amount, const std::string& error) EXCLUSIVE_LOCKS_REQUIRED(m_wallet.cs_wallet)
    {
        // A payment's fee stays below -maxtxfee; with that much on top, the
        // amount is surely payable.
        const CAmount needed = amount + m_wallet.m_default_max_tx_fee;
        const CWallet::Balance balance = m_wallet.GetBalance(/*min_depth=*/0, /*avoid_reuse=*/false);
        const CAmount held = balance.m_mine_trusted + balance.m_mine_untrusted_pending + balance.m_mine_immature;
        const CAmount spendable = m_wallet.GetAvailableBalance();
        if (spendable >= needed) {
            return Status(StatusCode::kPaymentFailed, error.empty() ? "could not build the payment" : error);
        }
        if (held >= needed) {
            return Status(StatusCode::kFundsPending,
                          "the wallet holds enough, but not in coins it can spend now (unconfirmed, immature or "
                          "locked); retry after the next block");
        }
        return Status(StatusCode::kInsufficientFunds, "Insufficient funds");
    }

    CWalletTx WalletTxFor(const CTransactionRef& tx, const CodeId& code)
    {
        CWalletTx wtx(&m_wallet, tx);
        wtx.mapValue[PAYMENT_TAG] = code.ToHex();
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

    CWallet& m_wallet;
    const CAmount m_min_input;
    const bool m_fail_adoption;
};

class WalletChainView : public ChainView {
public:
    explicit WalletChainView(CWallet& wallet) : m_wallet(wallet) {}

    TxChainState GetTxState(const Txid& txid) override
    {
        TxChainState state;
        try {
            auto locked_chain = m_wallet.chain().lock();
            LOCK(m_wallet.cs_wallet);
            const CWalletTx* wtx = m_wallet.GetWalletTx(ToUint256(txid));
            if (!wtx) return state;
            state.known = true;
            const int depth = wtx->GetDepthInMainChain();
            state.confirmations = std::max(depth, 0);
            state.conflicted = depth < 0;
            state.conflict_depth = std::max(-depth, 0);
            state.abandoned = wtx->isAbandoned();
            state.in_mempool = wtx->InMempool();
            auto replaced = wtx->mapValue.find(REPLACED_BY_TAG);
            if (replaced != wtx->mapValue.end()) {
                Txid by;
                if (TxidFromHex(replaced->second, by)) state.replaced_by = by;
            }
        } catch (const std::exception&) {
            // Reported as unknown; the next block asks again.
        }
        return state;
    }

    int TipHeight() override
    {
        auto locked_chain = m_wallet.chain().lock();
        const Optional<int> height = locked_chain->getHeight();
        return height ? *height : -1;
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
