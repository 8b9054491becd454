// Adapters of the core's ports over a monacoind wallet; see wallet_ports.h.
// Lock order everywhere: the ledger's write lock, then cs_main (through
// chain().lock()), then cs_wallet. No adapter takes a ledger lock, and no
// exception leaves an adapter: each port method turns one into a Status.
#include "wallet_ports.h"

#include <chainparams.h>
#include <crypto/hmac_sha512.h>
#include <fs.h>
#include <interfaces/chain.h>
#include <key.h>
#include <key_io.h>
#include <outputtype.h>
#include <policy/policy.h>
#include <primitives/transaction.h>
#include <random.h>
#include <script/standard.h>
#include <streams.h>
#include <support/cleanse.h>
#include <uint256.h>
#include <util/system.h>
#include <util/time.h>
#include <version.h>
#include <wallet/coincontrol.h>
#include <wallet/coinselection.h>
#include <wallet/scriptpubkeyman.h>
#include <wallet/wallet.h>
#include <wallet/walletdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>

#ifndef WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

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

//! The payment key of `code` (another one for each `attempt`). With the
//! wallet's HD seed at hand it is derived from the seed and the code id (an HMAC-SHA512, hardened: no one
//! without the seed can compute it or link it to other keys); otherwise it
//! is a fresh random key. Either way it is stored in the wallet before
//! use, so it never needs deriving again.
CKey PaymentKeyFor(LegacyScriptPubKeyMan& keys, const CodeId& code, uint32_t attempt = 0)
    EXCLUSIVE_LOCKS_REQUIRED(keys.cs_KeyStore)
{
    static const char TAG[] = "monacoin gift-code payment key";
    CKey key;
    CKey seed;
    const CKeyID seed_id = keys.GetHDChain().seed_id;
    if (!seed_id.IsNull() && keys.GetKey(seed_id, seed)) {
        // Each attempt starts its own range of the counter; attempt 0 is the
        // derivation codes have always had.
        for (uint32_t counter = attempt << 16; !key.IsValid(); ++counter) {
            unsigned char out[CHMAC_SHA512::OUTPUT_SIZE];
            unsigned char counter_bytes[4] = {uint8_t(counter), uint8_t(counter >> 8), uint8_t(counter >> 16),
                                              uint8_t(counter >> 24)};
            CHMAC_SHA512(seed.begin(), seed.size())
                .Write(reinterpret_cast<const unsigned char*>(TAG), sizeof(TAG) - 1)
                .Write(code.bytes.data(), code.bytes.size())
                .Write(counter_bytes, sizeof(counter_bytes))
                .Finalize(out);
            key.Set(out, out + 32, /*fCompressedIn=*/true);
            memory_cleanse(out, sizeof(out));
        }
        return key;
    }
    key.MakeNewKey(/*fCompressed=*/true);
    return key;
}

//! Makes a new entry of `dir` durable.
void SyncDirectory(const fs::path& dir)
{
#ifndef WIN32
    const int fd = ::open(dir.string().c_str(), O_RDONLY);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
#else
    (void)dir;  // NTFS makes a created file's entry durable with the file
#endif
}

std::string KeyName(const CKeyID& id) { return std::string(id.begin(), id.end()); }

bool KeyFromName(const std::string& name, CKeyID& id)
{
    if (name.size() != id.size()) return false;
    std::copy(name.begin(), name.end(), id.begin());
    return true;
}

//! The tag of a payment: the ids of the codes it pays, comma-separated.
std::string TagOf(const std::vector<CodeId>& codes)
{
    std::string tag;
    for (const CodeId& code : codes) tag += (tag.empty() ? "" : ",") + code.ToHex();
    return tag;
}

//! The codes a tag names; false if it is malformed.
bool CodesOfTag(const std::string& tag, std::vector<CodeId>& codes)
{
    codes.clear();
    size_t start = 0;
    while (true) {
        const size_t comma = tag.find(',', start);
        Result<CodeId> id = CodeId::FromHex(tag.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!id.ok()) return false;
        codes.push_back(id.value());
        if (comma == std::string::npos) return true;
        start = comma + 1;
    }
}

//! The tags an OP_RETURN output of a payment of several codes carries, if
//! `out` is one.
bool TagsOfOutput(const CTxOut& out, std::vector<uint32_t>& tags)
{
    const CScript& script = out.scriptPubKey;
    if (script.empty() || script[0] != OP_RETURN) return false;
    CScript::const_iterator pc = script.begin() + 1;
    opcodetype op;
    std::vector<unsigned char> data;
    if (!script.GetOp(pc, op, data) || pc != script.end() || data.size() % PAYMENT_TAG_SIZE != 0) return false;
    const size_t count = data.size() / PAYMENT_TAG_SIZE;
    if (count < 2 || count > MAX_TAGS) return false;
    tags.clear();
    for (size_t i = 0; i < count; ++i) {
        const unsigned char* p = data.data() + i * PAYMENT_TAG_SIZE;
        tags.push_back(uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    }
    return true;
}

//! The share of `fee` of the code at `index` among `count`: even shares,
//! the remainder on the first.
CAmount FeeShare(CAmount fee, size_t index, size_t count)
{
    return fee / CAmount(count) + (index == 0 ? fee % CAmount(count) : 0);
}

//! The key an output pays, if it pays one key: P2PKH, P2WPKH, P2SH-wrapped
//! P2WPKH the wallet knows the script of, or a bare public key.
bool KeyOfOutput(const LegacyScriptPubKeyMan& keys, const CScript& script, CKeyID& id)
{
    std::vector<std::vector<unsigned char>> solutions;
    switch (Solver(script, solutions)) {
    case TX_PUBKEYHASH:
    case TX_WITNESS_V0_KEYHASH:
        id = CKeyID(uint160(solutions[0]));
        return true;
    case TX_PUBKEY:
        id = CPubKey(solutions[0]).GetID();
        return true;
    case TX_SCRIPTHASH: {
        CScript redeem;
        if (!keys.GetCScript(CScriptID(uint160(solutions[0])), redeem)) return false;
        std::vector<std::vector<unsigned char>> inner;
        if (Solver(redeem, inner) != TX_WITNESS_V0_KEYHASH) return false;
        id = CKeyID(uint160(inner[0]));
        return true;
    }
    default:
        return false;
    }
}

//! A watched code a payment pays: its key, the output that pays it
//! (NO_VOUT: look for it), and its place among the payment's codes.
struct PaidCode {
    std::string key;
    uint32_t vout;
    size_t index;
};

//! The watched codes that `tx`, a payment of several codes, pays by their
//! tags; `count` gets the number of codes it pays. Its
//! outputs before the OP_RETURN are the codes' outputs in the order of the
//! tags, and at most one more: the change, which the wallet's bumpfee puts
//! anywhere. That one is where every tagged code's amount falls at its
//! output, an output of the wallet's own keys rather than another.
void TaggedOutputs(const LegacyScriptPubKeyMan& keys, const CTransaction& tx, const PaymentKeyWatch& watch,
                   std::vector<PaidCode>& paid, size_t& count)
{
    size_t at = 0;
    std::vector<uint32_t> tags;
    while (at < tx.vout.size() && !TagsOfOutput(tx.vout[at], tags)) ++at;
    if (at == tx.vout.size()) return;
    const size_t k = tags.size();
    if (at != k && at != k + 1) return;
    count = k;
    std::vector<const std::string*> names(k, nullptr);
    for (size_t j = 0; j < k; ++j) {
        auto key = watch.key_by_tag.find(tags[j]);
        if (key != watch.key_by_tag.end()) names[j] = &key->second;
    }
    if (std::none_of(names.begin(), names.end(), [](const std::string* name) { return name != nullptr; })) return;
    // The output of the j-th code with the change at `change` (k: none among them).
    const auto place = [&](size_t j, size_t change) { return j < change ? j : j + 1; };
    Optional<size_t> change_at;
    bool change_is_own = false;
    for (size_t change = at == k ? k : 0; change <= k; ++change) {
        bool fits = true;
        for (size_t j = 0; j < k && fits; ++j) {
            fits = !names[j] || tx.vout[place(j, change)].nValue == watch.by_key.at(*names[j]).amount;
        }
        if (!fits) continue;
        CKeyID id;
        const bool own = change < at && KeyOfOutput(keys, tx.vout[change].scriptPubKey, id) &&
                         keys.HaveKey(id);
        if (!change_at || (own && !change_is_own)) {
            change_at = change;
            change_is_own = own;
        }
    }
    if (!change_at) return;
    for (size_t j = 0; j < k; ++j) {
        if (names[j]) paid.push_back({*names[j], uint32_t(place(j, *change_at)), j});
    }
}

class WalletStore : public Store {
public:
    explicit WalletStore(CWallet& wallet) : m_wallet(wallet) {}

    SideState ReadSideState() override
    {
        SideState state;
        FILE* file = fsbridge::fopen(SidePath(), "r");
        if (!file) return state;
        long long commits = -1, next_sequence = -1;
        const bool parsed =
            std::fscanf(file, "giftcode-state 1 commits %lld next_sequence %lld", &commits, &next_sequence) == 2;
        std::fclose(file);
        if (!parsed || commits < 0 || next_sequence < 0) return state;
        state.present = true;
        state.commits = commits;
        state.next_sequence = next_sequence;
        return state;
    }

    void WriteSideState(const SideState& state) override
    {
        // Not synced, but for the first copy (file and directory; a missing
        // copy makes the next load wait for a block): a write lost to a
        // crash leaves an older or unreadable copy, never read as a restore.
        const fs::path path = SidePath();
        const bool creating = !fs::exists(path);
        FILE* file = fsbridge::fopen(path, "w");
        if (!file) return;
        std::fprintf(file, "giftcode-state 1 commits %lld next_sequence %lld\n", (long long)state.commits,
                     (long long)state.next_sequence);
        if (creating) FileCommit(file);
        std::fclose(file);
        if (creating) SyncDirectory(path.parent_path());
    }

    //! Beside the wallet: in its directory, or next to its file.
    fs::path SidePath() const
    {
        const fs::path& path = m_wallet.GetLocation().GetPath();
        if (fs::is_directory(path)) return path / "giftcode.state";
        return fs::path(path.string() + ".giftcode.state");
    }

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

    Result<CommittedPayment> PayAndRecord(const std::vector<PaymentRequest>& requests,
                                          const RecordsForPayment& records_for) override
    {
        try {
            return PayAndRecordLocked(requests, records_for);
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
    }

    Status RestorePayment(const std::vector<CodeId>& codes, const std::string& serialized_tx) override
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
            if (codes.empty()) return Status(StatusCode::kCorruption, "a payment of no code");
            auto locked_chain = m_wallet.chain().lock();
            LOCK(m_wallet.cs_wallet);
            auto it = m_wallet.mapWallet.find(tx->GetHash());
            if (it != m_wallet.mapWallet.end()) {
                // Held, but its tag may be gone or short (a rescan after
                // -zapwallettxes=2 finds the transaction without it).
                std::vector<CodeId> tagged;
                auto tag = it->second.mapValue.find(PAYMENT_TAG);
                if (tag != it->second.mapValue.end() && !CodesOfTag(tag->second, tagged)) {
                    return Status(StatusCode::kCorruption, "the wallet holds the payment with a malformed tag");
                }
                const auto has = [&tagged](const CodeId& code) {
                    return std::find(tagged.begin(), tagged.end(), code) != tagged.end();
                };
                if (std::all_of(codes.begin(), codes.end(), has)) return Status::Ok();
                if (!tagged.empty() && std::none_of(codes.begin(), codes.end(), has)) {
                    return Status(StatusCode::kCorruption, "the wallet holds the payment tagged with other codes");
                }
                for (const CodeId& code : codes) {
                    if (!has(code)) tagged.push_back(code);
                }
                it->second.mapValue[PAYMENT_TAG] = TagOf(tagged);
                WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
                if (!batch.WriteTx(it->second)) return Status(StatusCode::kStoreFailure, "could not re-tag the payment");
                m_wallet.WalletLogPrintf("gift codes: payment %s tagged again with %u code(s), the first %s\n",
                                         tx->GetHash().ToString(), unsigned(tagged.size()), tagged.front().ShortHex());
                return Status::Ok();
            }
            WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
            m_wallet.AddSentTransaction(WalletTxFor(tx, codes), batch);
            if (!m_wallet.GetWalletTx(tx->GetHash())) {
                return Status(StatusCode::kStoreFailure, "the wallet did not take the payment");
            }
            m_wallet.WalletLogPrintf("gift codes: payment %s of %u code(s), the first %s, put back into the wallet\n",
                                     tx->GetHash().ToString(), unsigned(codes.size()), codes.front().ShortHex());
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
            std::vector<CodeId> tagged;
            if (tag == wtx->mapValue.end() || !CodesOfTag(tag->second, tagged) ||
                std::find(tagged.begin(), tagged.end(), request.code) == tagged.end()) {
                return Status(StatusCode::kPaymentFailed, "it is not tagged with this gift code");
            }
            const CScript payee = GetScriptForDestination(DecodeDestination(request.address));
            const std::vector<CTxOut>& outs = wtx->tx->vout;
            const auto pays = [&](size_t n) { return outs[n].nValue == request.amount && outs[n].scriptPubKey == payee; };
            // From the output that paid before (the replacement keeps the
            // outputs' order, the change may come before): the first that
            // pays the holder at or after it, else any.
            const size_t from = request.vout < outs.size() ? request.vout : 0;
            size_t vout = outs.size();
            for (size_t i = 0; vout == outs.size() && i < outs.size(); ++i) {
                if (pays((from + i) % outs.size())) vout = (from + i) % outs.size();
            }
            if (vout == outs.size()) return Status(StatusCode::kPaymentFailed, "it does not pay the holder the code's amount");
            Payment payment;
            payment.code = request.code;
            payment.txid = txid;
            payment.vout = uint32_t(vout);
            payment.amount = request.amount;
            payment.address = request.address;
            const size_t index = size_t(std::find(tagged.begin(), tagged.end(), request.code) - tagged.begin());
            payment.fee = FeeShare(wtx->GetDebit(ISMINE_ALL) - wtx->tx->GetValueOut(), index, tagged.size());
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
                std::vector<CodeId> codes;
                if (!CodesOfTag(tag->second, codes)) {
                    return Status(StatusCode::kCorruption, "wallet transaction " + entry.first.ToString() +
                                                               " carries a malformed gift-code tag");
                }
                for (const CodeId& code : codes) payments.push_back({code, FromUint256(entry.first)});
            }
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
        return Status::Ok();
    }

    Status NewPaymentKeys(const std::vector<CodeId>& codes, uint32_t attempt, std::vector<std::string>& names) override
    {
        try {
            LegacyScriptPubKeyMan* keys = m_wallet.GetLegacyScriptPubKeyMan();
            if (m_wallet.IsWalletFlagSet(WALLET_FLAG_DISABLE_PRIVATE_KEYS) || !keys) {
                // Its codes could only ever fail to be paid.
                return Status(StatusCode::kWalletUnsupported,
                              "This wallet cannot sign (private keys are disabled): a code it issued could never be "
                              "paid. Issue codes from a wallet that holds its keys");
            }
            LOCK(m_wallet.cs_wallet);
            if (m_wallet.IsLocked()) {
                return Status(StatusCode::kWalletLocked,
                              "Error: Please enter the wallet passphrase with walletpassphrase first (each code's "
                              "payment key is stored encrypted).");
            }
            LOCK(keys->cs_KeyStore);
            WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
            if (!batch.TxnBegin()) {
                return Status(StatusCode::kStoreFailure, "cannot begin a wallet database transaction");
            }
            const int64_t now = GetTime();
            for (const CodeId& code : codes) {
                const CKey key = PaymentKeyFor(*keys, code, attempt);
                const CPubKey pubkey = key.GetPubKey();
                keys->mapKeyMetadata[pubkey.GetID()] = CKeyMetadata(now);
                if (!keys->AddKeyInBatch(batch, key, pubkey)) {
                    batch.TxnAbort();
                    return Status(StatusCode::kStoreFailure, "the wallet database refused a key; no code was created");
                }
                names.push_back(KeyName(pubkey.GetID()));
            }
            if (!WalletStore::FlushLog(m_wallet)) {
                batch.TxnAbort();
                return Status(StatusCode::kStoreFailure, std::string(WalletStore::LOG_REFUSED) + "no code was created");
            }
            WalletStore::CommitOrStop(m_wallet, batch, Durability::kPowerLoss);
            return Status::Ok();
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
    }

    Result<Amount> SpendableBalance() override
    {
        try {
            auto locked_chain = m_wallet.chain().lock();
            LOCK(m_wallet.cs_wallet);
            // What a payment may spend: confirmed coins, and the change of the
            // wallet's own transactions in the mempool (safe coins at depth
            // 0, as coin selection's last resort takes them); AvailableCoins
            // leaves out immature coinbases and locked coins; only coins the
            // wallet can sign count.
            CCoinControl control;
            control.m_min_depth = 0;
            std::vector<COutput> coins;
            m_wallet.AvailableCoins(*locked_chain, coins, /*fOnlySafe=*/true, &control);
            Amount total = 0;
            for (const COutput& coin : coins) {
                if (coin.fSpendable) total += coin.tx->tx->vout[coin.i].nValue;
            }
            return total;
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
    }

    Status FindPayments(const PaymentKeyWatch& watch, bool from_start, std::vector<Payment>& found) override
    {
        try {
            auto locked_chain = m_wallet.chain().lock();
            LOCK(m_wallet.cs_wallet);
            const LegacyScriptPubKeyMan* keys = m_wallet.GetLegacyScriptPubKeyMan();
            auto it = from_start || !m_searched ? m_wallet.wtxOrdered.begin()
                                                : m_wallet.wtxOrdered.upper_bound(*m_searched);
            if (it == m_wallet.wtxOrdered.end()) return Status::Ok();
            m_searched = m_wallet.wtxOrdered.rbegin()->first;
            if (watch.empty() || !keys) return Status::Ok();
            // Per code, the payment deepest in the chain (a replacement and
            // the payment it replaced both pay the code).
            std::map<CodeId, std::pair<int, Payment>> best;
            for (; it != m_wallet.wtxOrdered.end(); ++it) {
                const CWalletTx* wtx = it->second;
                if (!wtx) continue;
                const CTransaction& tx = *wtx->tx;
                // Each watched code it pays.
                std::vector<PaidCode> paid;
                for (const CTxOut& out : tx.vout) {
                    CKeyID id;
                    if (!KeyOfOutput(*keys, out.scriptPubKey, id)) continue;
                    // The change: of a lone code, or of the first of several.
                    if (watch.by_key.count(KeyName(id))) paid.push_back({KeyName(id), NO_VOUT, 0});
                }
                // A payment of several codes: their outputs, then the
                // OP_RETURN with their tags in the same order.
                size_t count = 1;
                TaggedOutputs(*keys, tx, watch, paid, count);
                if (paid.empty()) continue;
                // Only the wallet's own payment counts: anyone may send to
                // a key once it is on the chain.
                const CAmount debit = wtx->GetDebit(ISMINE_ALL);
                if (debit <= 0) continue;
                const CAmount fee = debit >= tx.GetValueOut() ? debit - tx.GetValueOut() : 0;
                const int depth = wtx->GetDepthInMainChain();
                for (const PaidCode& code : paid) {
                    const std::string& key = code.key;
                    const uint32_t at = code.vout;
                    const WatchedCode& watched = watch.by_key.at(key);
                    // An output of the code's amount to a script other than the code's key.
                    const auto pays = [&](size_t n) {
                        CTxDestination dest;
                        CKeyID id;
                        return tx.vout[n].nValue == watched.amount &&
                               ExtractDestination(tx.vout[n].scriptPubKey, dest) &&
                               !(KeyOfOutput(*keys, tx.vout[n].scriptPubKey, id) && KeyName(id) == key);
                    };
                    uint32_t vout = NO_VOUT;
                    if (at != NO_VOUT) {
                        // A tag counts only where its output has the code's amount.
                        if (!pays(at)) continue;
                        vout = at;
                    } else {
                        for (size_t n = 0; n < tx.vout.size() && vout == NO_VOUT; ++n) {
                            if (pays(n)) vout = uint32_t(n);
                        }
                    }
                    Payment payment;
                    payment.code = watched.code;
                    payment.txid = FromUint256(tx.GetHash());
                    payment.fee = FeeShare(fee, code.index, count);
                    payment.serialized_tx = Serialize(wtx->tx);
                    payment.payment_key = key;
                    payment.vout = vout;
                    if (vout != NO_VOUT) {
                        CTxDestination dest;
                        ExtractDestination(tx.vout[vout].scriptPubKey, dest);
                        payment.amount = tx.vout[vout].nValue;
                        payment.address = EncodeDestination(dest);
                    }
                    auto [entry, inserted] = best.emplace(payment.code, std::make_pair(depth, payment));
                    if (!inserted && depth > entry->second.first) entry->second = {depth, payment};
                }
            }
            for (auto& entry : best) found.push_back(std::move(entry.second.second));
            return Status::Ok();
        } catch (const std::exception& e) {
            return Thrown(e.what());
        }
    }

private:
    //! The one host operation of a redemption. chain().lock() and cs_wallet
    //! are held from coin selection to adoption, so no other send, coin lock
    //! or unlock, and no other batch of this wallet runs in between.
    Result<CommittedPayment> PayAndRecordLocked(const std::vector<PaymentRequest>& requests,
                                                const RecordsForPayment& records_for)
    {
        if (requests.empty() || requests.size() > MAX_TAGS) {
            return Status(StatusCode::kPaymentFailed, "a payment pays 1 to " + std::to_string(MAX_TAGS) + " codes");
        }
        const PaymentRequest& first = requests.front();
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
        // Until the mempool file is read back, payments made before a restart
        // may be unknown to the wallet.
        if (!m_wallet.chain().isMempoolLoaded()) {
            return Status(StatusCode::kNodeCatchingUp,
                          "the node is still loading its mempool; retry the same redemption later");
        }
        if (m_wallet.IsLocked()) {
            return Status(StatusCode::kWalletLocked,
                          "Error: Please enter the wallet passphrase with walletpassphrase first.");
        }
        // One output per code, in order; then, for several, their tags.
        std::vector<CRecipient> recipients;
        std::vector<unsigned char> tags;
        CAmount total = 0;
        for (const PaymentRequest& request : requests) {
            const CTxDestination dest = DecodeDestination(request.address);
            if (!IsValidDestination(dest)) return Status(StatusCode::kInvalidAddress, "Invalid address");
            recipients.push_back({GetScriptForDestination(dest), request.amount, false});
            const std::string tag = EncodePaymentTag(PaymentTagOf(request.payment_key));
            tags.insert(tags.end(), tag.begin(), tag.end());
            total += request.amount;
        }
        const bool several = requests.size() > 1;
        if (several) {
            const CScript tagged = CScript() << OP_RETURN << tags;
            // The node's policy must relay it, or the payment would be
            // committed and then refused by every mempool.
            if (!fAcceptDatacarrier || tagged.size() > nMaxDatacarrierBytes) {
                return Status(StatusCode::kPaymentFailed, "this node relays no OP_RETURN of " +
                                                              std::to_string(tagged.size()) + " bytes (-datacarrier)");
            }
            recipients.push_back({tagged, 0, false});
        }
        LegacyScriptPubKeyMan* keys = m_wallet.GetLegacyScriptPubKeyMan();
        if (!keys) return Status(StatusCode::kWalletUnsupported, "the wallet has no keys to pay from");

        // The change goes to the first code's payment key: from it (and
        // from the tags), any copy of this wallet that holds a code
        // recognises its payment on the chain. A code from before payment
        // keys gets one now.
        CKey new_key;
        CPubKey key_pubkey;
        {
            LOCK(keys->cs_KeyStore);
            CKeyID key_id;
            if (!KeyFromName(first.payment_key, key_id) || !keys->GetPubKey(key_id, key_pubkey)) {
                new_key = PaymentKeyFor(*keys, first.code);
                key_pubkey = new_key.GetPubKey();
            }
        }
        const OutputType change_type = m_wallet.TransactionChangeType(m_wallet.m_default_change_type, recipients);
        const CTxDestination change = GetDestinationForKey(key_pubkey, change_type);

        const auto build_start = std::chrono::steady_clock::now();
        CTransactionRef tx;
        CAmount fee = 0;
        std::string error;
        // A lone payment's change goes anywhere, as any send's does; several
        // codes' outputs keep their order, the change after the tags.
        const int change_pos = several ? int(recipients.size()) : -1;
        if (!Build(*locked_chain, recipients, change, change_pos, tx, fee, error)) return WhyNotBuilt(total, error);

        CommittedPayment done;
        std::vector<CodeId> codes;
        for (size_t i = 0; i < requests.size(); ++i) {
            const PaymentRequest& request = requests[i];
            Payment payment;
            payment.code = request.code;
            payment.txid = FromUint256(tx->GetHash());
            payment.amount = request.amount;
            payment.fee = FeeShare(fee, i, requests.size());
            payment.address = request.address;
            payment.serialized_tx = Serialize(tx);
            payment.payment_key = i == 0 ? KeyName(key_pubkey.GetID()) : request.payment_key;
            // Several codes' outputs are at their places; a lone one's
            // wherever the wallet put it.
            const CScript& payee = recipients[i].scriptPubKey;
            for (size_t n = several ? i : 0; n < tx->vout.size() && payment.vout == NO_VOUT; ++n) {
                if (tx->vout[n].scriptPubKey == payee && tx->vout[n].nValue == request.amount) payment.vout = uint32_t(n);
                if (several) break;
            }
            if (payment.vout == NO_VOUT) {
                return Status(StatusCode::kPaymentFailed, "the built payment does not pay each code at its place");
            }
            codes.push_back(request.code);
            done.payments.push_back(std::move(payment));
        }
        done.build_us = MicrosSince(build_start);

        // INVARIANT: the ledger's records and the wallet's copy of the
        // payment are one database transaction, on disk before this returns.
        const auto commit_start = std::chrono::steady_clock::now();
        const CWalletTx wtx = WalletTxFor(tx, codes);
        WalletBatch batch(m_wallet.GetDBHandle(), "r+", /*_fFlushOnClose=*/false);
        if (!batch.TxnBegin()) return Status(StatusCode::kStoreFailure, "cannot begin a wallet database transaction");
        bool key_stored = true;
        if (new_key.IsValid()) {
            LOCK(keys->cs_KeyStore);
            keys->mapKeyMetadata[key_pubkey.GetID()] = CKeyMetadata(GetTime());
            key_stored = keys->AddKeyInBatch(batch, new_key, key_pubkey);
        }
        if (!key_stored || !WalletStore::WriteRecords(batch, records_for(done.payments)) || !batch.WriteTx(wtx)) {
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
    bool Build(interfaces::Chain::Lock& locked_chain, const std::vector<CRecipient>& recipients,
               const CTxDestination& change, int change_pos, CTransactionRef& tx, CAmount& fee, std::string& error)
        EXCLUSIVE_LOCKS_REQUIRED(m_wallet.cs_wallet)
    {
        if (!BuildOnce(locked_chain, recipients, change, change_pos, tx, fee, error)) return false;
        const CScript change_script = GetScriptForDestination(change);
        if (HasOutput(*tx, change_script)) return true;
        // No change: the coins matched the amount (or the change was dust).
        // The same coins and one more are spent, so that there is change,
        // and the payment looks like any other send of the wallet.
        if (const Optional<COutPoint> extra = ExtraCoin(locked_chain, *tx)) {
            CCoinControl coin_control;
            coin_control.destChange = change;
            coin_control.fAllowOtherInputs = false;
            for (const CTxIn& in : tx->vin) coin_control.Select(in.prevout);
            coin_control.Select(*extra);
            CTransactionRef with_change;
            CAmount with_change_fee = 0;
            int with_change_pos = change_pos;
            std::string ignored;
            if (m_wallet.CreateTransaction(locked_chain, recipients, with_change, with_change_fee, with_change_pos,
                                           ignored, coin_control) &&
                HasOutput(*with_change, change_script)) {
                tx = with_change;
                fee = with_change_fee;
                return true;
            }
        }
        // No other coin: the payment key gets the smallest output that is not
        // dust, which the wallet keeps; any change goes to an ordinary key.
        std::vector<CRecipient> marked = recipients;
        const CAmount smallest = GetDustThreshold(CTxOut(0, change_script), m_wallet.chain().relayDustFee());
        marked.push_back({change_script, smallest, false});
        return BuildOnce(locked_chain, marked, CNoDestination(), change_pos < 0 ? -1 : int(marked.size()), tx, fee,
                         error);
    }

    static bool HasOutput(const CTransaction& tx, const CScript& script)
    {
        return std::any_of(tx.vout.begin(), tx.vout.end(),
                           [&](const CTxOut& out) { return out.scriptPubKey == script; });
    }

    //! The smallest confirmed coin the wallet can spend, worth at least
    //! MIN_CHANGE and -giftcodemininput, that `tx` does not spend.
    Optional<COutPoint> ExtraCoin(interfaces::Chain::Lock& locked_chain, const CTransaction& tx)
        EXCLUSIVE_LOCKS_REQUIRED(m_wallet.cs_wallet)
    {
        std::vector<COutput> coins;
        m_wallet.AvailableCoins(locked_chain, coins, /*fOnlySafe=*/true, nullptr, std::max(MIN_CHANGE, m_min_input));
        Optional<COutPoint> best;
        CAmount best_value = MAX_MONEY;
        for (const COutput& coin : coins) {
            const COutPoint outpoint(coin.tx->GetHash(), coin.i);
            const CAmount value = coin.tx->tx->vout[coin.i].nValue;
            const bool spent_here = std::any_of(tx.vin.begin(), tx.vin.end(),
                                                [&](const CTxIn& in) { return in.prevout == outpoint; });
            if (spent_here || coin.nDepth < 1 || !coin.fSpendable || value >= best_value) continue;
            best = outpoint;
            best_value = value;
        }
        return best;
    }

    bool BuildOnce(interfaces::Chain::Lock& locked_chain, const std::vector<CRecipient>& recipients,
                   const CTxDestination& change, int fixed_change_pos, CTransactionRef& tx, CAmount& fee,
                   std::string& error) EXCLUSIVE_LOCKS_REQUIRED(m_wallet.cs_wallet)
    {
        for (const bool hold_small : {m_min_input > 0, false}) {
            const std::vector<COutPoint> held = hold_small ? HoldSmallOutputs() : std::vector<COutPoint>{};
            CCoinControl coin_control;
            coin_control.destChange = change;
            int change_pos = fixed_change_pos;
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

    CWalletTx WalletTxFor(const CTransactionRef& tx, const std::vector<CodeId>& codes)
    {
        CWalletTx wtx(&m_wallet, tx);
        wtx.mapValue[PAYMENT_TAG] = TagOf(codes);
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
    //! The order position of the last wallet transaction FindPayments saw.
    Optional<int64_t> m_searched;
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

    int64_t TipTime() override
    {
        auto locked_chain = m_wallet.chain().lock();
        const Optional<int> height = locked_chain->getHeight();
        return height ? locked_chain->getBlockTime(*height) : 0;
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

size_t TagsScriptSize(size_t codes)
{
    return (CScript() << OP_RETURN << std::vector<unsigned char>(codes * PAYMENT_TAG_SIZE)).size();
}

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
