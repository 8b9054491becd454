// Test doubles of the ports; see fakes.h.
#include "fakes.h"

#include "sha256.h"

#include <cassert>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

namespace giftcode::testing {
namespace {

std::string U64(uint64_t v)
{
    std::string out;
    for (int i = 0; i < 8; ++i) out.push_back(char(uint8_t(v >> (8 * i))));
    return out;
}

uint64_t ReadU64(const std::string& s, size_t at)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(s[at + i])) << (8 * i);
    return v;
}

const char TX_PREFIX[] = "tx";

} // namespace

Status MemoryStore::ReadAll(std::vector<std::pair<std::string, std::string>>& records)
{
    if (m_fail_reads) return Status(StatusCode::kStoreFailure, "injected read failure");
    std::lock_guard<std::mutex> lock(m_mutex);
    records.assign(m_ledger.begin(), m_ledger.end());
    return Status::Ok();
}

Status MemoryStore::CommitWithWallet(const RecordWrites& ledger, const RecordWrites& wallet, Durability durability)
{
    int pending = m_fail_next.load();
    while (pending > 0) {
        if (m_fail_next.compare_exchange_weak(pending, pending - 1)) {
            return Status(StatusCode::kStoreFailure, "injected commit failure");
        }
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    for (const RecordWrite& w : ledger) {
        if (w.erase) {
            m_ledger.erase(w.key);
        } else {
            m_ledger[w.key] = w.value;
        }
    }
    for (const RecordWrite& w : wallet) {
        if (w.erase) {
            m_wallet.erase(w.key);
        } else {
            m_wallet[w.key] = w.value;
        }
    }
    ++m_commits;
    m_last_durability = durability;
    return Status::Ok();
}

SideState TestStore::ReadSideState()
{
    std::lock_guard<std::mutex> lock(m_side_mutex);
    return m_side;
}

void TestStore::WriteSideState(const SideState& state)
{
    std::lock_guard<std::mutex> lock(m_side_mutex);
    m_side = state;
}

MemoryStore::Snapshot MemoryStore::TakeSnapshot()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return {m_ledger, m_wallet};
}

void MemoryStore::RestoreSnapshot(const Snapshot& snapshot)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_ledger = snapshot.ledger;
    m_wallet = snapshot.wallet;
}

void MemoryStore::EraseWalletRecords()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_wallet.clear();
}

std::vector<std::pair<std::string, std::string>> MemoryStore::ReadWalletRecords()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return {m_wallet.begin(), m_wallet.end()};
}

void MemoryStore::PutRaw(const std::string& key, const std::string& value)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_ledger[key] = value;
}

TxChainState FakeChain::GetTxState(const Txid& txid)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_states.find(txid);
    return it == m_states.end() ? TxChainState{} : it->second;
}

void FakeChain::Set(const Txid& txid, const TxChainState& state)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_states[txid] = state;
}

void FakeChain::Confirm(const Txid& txid, int confirmations)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    TxChainState& s = m_states[txid];
    s.known = true;
    s.confirmations = confirmations;
    s.in_mempool = false;
    s.conflicted = false;
    s.conflict_depth = 0;
}

void FakeChain::Forget(const Txid& txid)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_states.erase(txid);
}

FakePayer::FakePayer(TestStore& store, FakeChain& chain, Amount balance)
    : m_store(store), m_chain(chain), m_balance(balance)
{
}

Payment FakePayer::MakePayment(const PaymentRequest& request, Amount fee)
{
    const uint64_t n = ++m_counter;
    Sha256 hasher;
    hasher.Write(U64(n)).Write(request.code.bytes.data(), request.code.bytes.size()).Write(request.address);
    Payment p;
    p.code = request.code;
    p.txid = hasher.Finalize();
    p.amount = request.amount;
    p.fee = fee;
    p.address = request.address;
    p.serialized_tx = "raw:" + TxidToHex(p.txid) + ":" + std::to_string(p.amount) + ":" + std::to_string(fee);
    p.payment_key = request.payment_key.empty() ? "key:" + request.code.ToHex() : request.payment_key;
    std::lock_guard<std::mutex> lock(m_mutex);
    m_payments[p.txid] = p;
    return p;
}

RecordWrite FakePayer::WalletRecordFor(const Payment& payment) const
{
    std::string key(TX_PREFIX);
    key.append(reinterpret_cast<const char*>(payment.txid.data()), payment.txid.size());
    std::string value(reinterpret_cast<const char*>(payment.code.bytes.data()), payment.code.bytes.size());
    value += U64(uint64_t(payment.amount));
    value += payment.address;
    return {key, value, false};
}

Result<CommittedPayment> FakePayer::PayAndRecord(const PaymentRequest& request, const RecordsForPayment& records_for)
{
    if (m_unsupported) return Status(StatusCode::kWalletUnsupported, "wallet has no private keys");
    if (m_locked) return Status(StatusCode::kWalletLocked, "wallet is locked");
    if (m_catching_up) return Status(StatusCode::kNodeCatchingUp, "the node is catching up with the chain");
    if (const int max = m_max_latency_us; max > 0) {
        thread_local std::mt19937 rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % max));
    }
    if (m_balance < request.amount + FEE) return Status(StatusCode::kInsufficientFunds, "insufficient funds");
    if (m_balance - m_pending < request.amount + FEE) {
        return Status(StatusCode::kFundsPending, "funds are unconfirmed or locked");
    }
    CommittedPayment done;
    done.payment = MakePayment(request);
    const Payment& p = done.payment;
    Status committed = m_store.CommitWithWallet(records_for(p), {WalletRecordFor(p)}, Durability::kPowerLoss);
    if (!committed.ok()) return committed;
    int failing = m_fail_adoptions.load();
    while (failing > 0) {
        if (m_fail_adoptions.compare_exchange_weak(failing, failing - 1)) {
            done.adopted = false;
            return done;
        }
    }
    m_balance -= p.amount + p.fee;
    ++m_adopted;
    TxChainState state;
    state.known = true;
    m_chain.Set(p.txid, state);
    Took(p.txid);
    std::function<void()> hook;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        hook = m_while_paying;
    }
    if (hook) hook();
    return done;
}

Status FakePayer::RestorePayment(const CodeId& code, const std::string& serialized_tx)
{
    Txid txid;
    const size_t colon = serialized_tx.find(':', 4);
    if (serialized_tx.compare(0, 4, "raw:") != 0 || colon == std::string::npos ||
        !TxidFromHex(serialized_tx.substr(4, colon - 4), txid)) {
        return Status(StatusCode::kCorruption, "not a payment");
    }
    if (m_chain.GetTxState(txid).known) {
        // Held; tagged again if the wallet learned it without its tag.
        if (RecordedPayments(m_store).count(txid)) return Status::Ok();
        Payment held = PaymentOf(txid);
        if (!(held.code == code)) return Status(StatusCode::kCorruption, "payment of another code");
        return m_store.CommitWithWallet({}, {WalletRecordFor(held)}, Durability::kPowerLoss);
    }
    if (m_fail_restores) return Status(StatusCode::kStoreFailure, "injected restore failure");
    Payment p;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_payments.find(txid);
        if (it == m_payments.end() || !(it->second.code == code)) {
            return Status(StatusCode::kCorruption, "payment of another code");
        }
        p = it->second;
    }
    Status written = m_store.CommitWithWallet({}, {WalletRecordFor(p)}, Durability::kPowerLoss);
    if (!written.ok()) return written;
    m_balance -= p.amount + p.fee;
    ++m_restored;
    TxChainState state;
    state.known = true;
    m_chain.Set(txid, state);
    Took(txid);
    std::function<void()> hook;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        hook = m_while_restoring;
    }
    if (hook) hook();
    return Status::Ok();
}

Payment FakePayer::Replace(const Txid& txid, Amount fee)
{
    Payment old;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        old = m_payments.at(txid);
    }
    Payment replacement = MakePayment({old.code, old.address, old.amount, old.payment_key}, fee);
    Status written = m_store.CommitWithWallet({}, {WalletRecordFor(replacement)}, Durability::kPowerLoss);
    assert(written.ok());
    (void)written;
    m_balance -= fee - old.fee;
    TxChainState old_state = m_chain.GetTxState(txid);
    old_state.in_mempool = false;
    old_state.replaced_by = replacement.txid;
    m_chain.Set(txid, old_state);
    TxChainState state;
    state.known = true;
    state.in_mempool = true;
    m_chain.Set(replacement.txid, state);
    Took(replacement.txid);
    return replacement;
}

Result<Payment> FakePayer::GetPayment(const Txid& txid, const PaymentRequest& request)
{
    if (!m_chain.GetTxState(txid).known) return Status(StatusCode::kPaymentFailed, "not in the wallet");
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_payments.find(txid);
    if (it == m_payments.end() || !(it->second.code == request.code) || it->second.amount != request.amount ||
        it->second.address != request.address) {
        return Status(StatusCode::kPaymentFailed, "does not pay the holder");
    }
    return it->second;
}

BroadcastOutcome FakePayer::Broadcast(const Txid& txid)
{
    if (const int delay = m_broadcast_delay_us; delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
    ++m_broadcasts;
    std::function<void(const Payment&)> hook;
    std::optional<Payment> payment;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        hook = m_while_broadcasting;
        if (auto it = m_payments.find(txid); hook && it != m_payments.end()) payment = it->second;
    }
    if (payment) hook(*payment);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_broadcast_failure.empty()) return {false, m_broadcast_failure};
    }
    TxChainState state = m_chain.GetTxState(txid);
    if (!state.known) return {false, "the payment is not in the wallet"};
    if (state.confirmations == 0) state.in_mempool = true;
    m_chain.Set(txid, state);
    return {true, ""};
}

void FakePayer::SetBroadcastFailure(const std::string& reason)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_broadcast_failure = reason;
}

void FakePayer::SetWhilePaying(std::function<void()> hook)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_while_paying = std::move(hook);
}

void FakePayer::SetWhileRestoring(std::function<void()> hook)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_while_restoring = std::move(hook);
}

void FakePayer::SetWhileBroadcasting(std::function<void(const Payment&)> hook)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_while_broadcasting = std::move(hook);
}

std::map<Txid, FakePayer::Recorded> FakePayer::RecordedPayments(TestStore& store)
{
    std::map<Txid, Recorded> out;
    for (const auto& [key, value] : store.ReadWalletRecords()) {
        if (key.compare(0, 2, TX_PREFIX) != 0 || key.size() != 2 + 32 || value.size() < 16 + 8) continue;
        Txid txid;
        for (size_t i = 0; i < 32; ++i) txid[i] = uint8_t(key[2 + i]);
        Recorded r;
        for (size_t i = 0; i < 16; ++i) r.code.bytes[i] = uint8_t(value[i]);
        r.amount = Amount(ReadU64(value, 16));
        r.address = value.substr(24);
        out.emplace(txid, r);
    }
    return out;
}

Status FakePayer::ListTaggedPayments(std::vector<TaggedPayment>& payments)
{
    if (m_fail_listing) return Status(StatusCode::kStoreFailure, "injected listing failure");
    for (const auto& [txid, r] : RecordedPayments(m_store)) payments.push_back({r.code, txid});
    return Status::Ok();
}

Status FakePayer::NewPaymentKeys(const std::vector<CodeId>& codes, std::vector<std::string>& keys)
{
    if (m_locked) return Status(StatusCode::kWalletLocked, "wallet is locked");
    if (m_fail_keys) return Status(StatusCode::kStoreFailure, "injected key failure");
    for (const CodeId& code : codes) keys.push_back(m_unsupported ? "" : "key:" + code.ToHex());
    if (m_broken_keys < 0 && !keys.empty()) keys.pop_back();
    if (m_broken_keys > 0 && !keys.empty()) keys.back().assign(MAX_PAYMENT_KEY + 1, 'k');
    return Status::Ok();
}

Status FakePayer::FindPayments(const PaymentKeyWatch& watch, bool from_start, std::vector<Payment>& found)
{
    if (m_fail_finding) return Status(StatusCode::kStoreFailure, "injected search failure");
    std::lock_guard<std::mutex> lock(m_mutex);
    if (from_start) {
        m_searched = 0;
        ++m_full_searches;
    }
    for (; m_searched < m_taken.size(); ++m_searched) {
        const Payment& p = m_payments.at(m_taken[m_searched]);
        auto it = watch.find(p.payment_key);
        if (it == watch.end()) continue;
        Payment payment = p;
        payment.code = it->second.code;
        found.push_back(payment);
    }
    return Status::Ok();
}

void FakePayer::LearnFromChain(const Payment& payment, const TxChainState& state)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_payments[payment.txid] = payment;
    }
    m_balance -= payment.amount + payment.fee;
    m_chain.Set(payment.txid, state);
    Took(payment.txid);
}

Payment FakePayer::PaymentOf(const Txid& txid)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_payments.at(txid);
}

void FakePayer::Took(const Txid& txid)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_taken.push_back(txid);
}

void SeededRandomness::Fill(uint8_t* out, size_t len)
{
    if (m_stuck) {
        for (size_t i = 0; i < len; ++i) out[i] = uint8_t(0x5a ^ i);
        return;
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    for (size_t i = 0; i < len; ++i) out[i] = uint8_t(m_rng());
}

Result<std::string> FakeAddressValidator::NormalizeAddress(const std::string& address)
{
    std::string lower;
    for (char c : address) lower.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
    const std::string prefix = "rmona1";
    bool ok = lower.size() >= prefix.size() + 8 && lower.size() <= prefix.size() + 80 &&
              lower.compare(0, prefix.size(), prefix) == 0;
    for (size_t i = prefix.size(); ok && i < lower.size(); ++i) {
        const char c = lower[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }
    if (!ok) return Status(StatusCode::kInvalidAddress, "invalid address");
    return lower;
}

FakeNode::FakeNode(TestStore& store_in, Amount balance, uint64_t seed)
    : store(store_in), payer(store_in, chain, balance), randomness(seed)
{
}

LedgerPolicy FakeNode::policy() const
{
    LedgerPolicy policy;
    policy.network = Network::kRegtest;
    policy.start_delay = start_delay;
    return policy;
}

std::unique_ptr<Ledger> FakeNode::Open()
{
    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(ports(), policy());
    if (!ledger.ok()) throw std::runtime_error("ledger did not open: " + ledger.status().message());
    return std::move(ledger.value());
}

std::string TestAddress(int n) { return "rmona1payee" + std::to_string(1000 + n); }

} // namespace giftcode::testing
