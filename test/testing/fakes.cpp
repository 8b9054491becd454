// Test doubles of the ports; see fakes.h.
#include "fakes.h"

#include "sha256.h"

#include <algorithm>
#include <cassert>
#include <chrono>
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
    return MakePayments({request}, fee).front();
}

std::vector<Payment> FakePayer::MakePayments(const std::vector<PaymentRequest>& requests, Amount fee)
{
    const uint64_t n = ++m_counter;
    Sha256 hasher;
    hasher.Write(U64(n));
    Amount total = 0;
    for (const PaymentRequest& request : requests) {
        hasher.Write(request.code.bytes.data(), request.code.bytes.size()).Write(request.address);
        total += request.amount;
    }
    const Txid txid = hasher.Finalize();
    const std::string raw = "raw:" + TxidToHex(txid) + ":" + std::to_string(total) + ":" + std::to_string(fee);
    std::vector<Payment> payments;
    const Amount count = Amount(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
        const PaymentRequest& request = requests[i];
        Payment p;
        p.code = request.code;
        p.txid = txid;
        p.vout = uint32_t(i);
        p.amount = request.amount;
        p.fee = fee / count + (i == 0 ? fee % count : 0);
        p.address = request.address;
        p.serialized_tx = raw;
        p.payment_key = request.payment_key.empty() && i == 0 ? "key:" + request.code.ToHex() : request.payment_key;
        payments.push_back(std::move(p));
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    m_payments[txid] = payments;
    return payments;
}

RecordWrite FakePayer::WalletRecordFor(const Payment& payment) const
{
    std::string key(TX_PREFIX);
    key.append(reinterpret_cast<const char*>(payment.txid.data()), payment.txid.size());
    key.append(reinterpret_cast<const char*>(payment.code.bytes.data()), payment.code.bytes.size());
    std::string value(reinterpret_cast<const char*>(payment.code.bytes.data()), payment.code.bytes.size());
    value += U64(uint64_t(payment.amount));
    value += payment.address;
    return {key, value, false};
}

RecordWrites FakePayer::WalletRecordsFor(const std::vector<Payment>& payments) const
{
    RecordWrites writes;
    for (const Payment& payment : payments) writes.push_back(WalletRecordFor(payment));
    return writes;
}

std::vector<size_t> FakePayer::payment_sizes()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_payment_sizes;
}

std::vector<int> FakePayer::broadcasts_before_payments()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_broadcasts_before_payments;
}

Result<CommittedPayment> FakePayer::PayAndRecord(const std::vector<PaymentRequest>& requests,
                                                 const RecordsForPayment& records_for)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_payment_sizes.push_back(requests.size());
        m_broadcasts_before_payments.push_back(m_broadcasts);
    }
    if (m_unsupported) return Status(StatusCode::kWalletUnsupported, "wallet has no private keys");
    if (m_locked) return Status(StatusCode::kWalletLocked, "wallet is locked");
    if (m_catching_up) return Status(StatusCode::kNodeCatchingUp, "the node is catching up with the chain");
    if (requests.empty() || requests.size() > MAX_TAGS) return Status(StatusCode::kPaymentFailed, "bad request count");
    if (const int max = m_max_latency_us; max > 0) {
        thread_local std::mt19937 rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % max));
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        for (const PaymentRequest& request : requests) {
            if (request.address == m_refused_address) return Status(StatusCode::kInvalidAddress, "Invalid address");
        }
    }
    if (m_fail_payments) return Status(StatusCode::kPaymentFailed, "could not build the payment");
    if (const size_t most = m_max_codes; most > 0 && requests.size() > most) {
        return Status(StatusCode::kPaymentFailed, "transaction too large");
    }
    const Amount fee = FEE + Amount(requests.size() - 1) * FEE_PER_CODE;
    Amount total = fee;
    for (const PaymentRequest& request : requests) total += request.amount;
    if (m_balance < total) return Status(StatusCode::kInsufficientFunds, "insufficient funds");
    if (m_balance - m_pending < total) return Status(StatusCode::kFundsPending, "funds are unconfirmed or locked");
    CommittedPayment done;
    done.payments = MakePayments(requests, fee);
    const Txid txid = done.payments.front().txid;
    Status committed =
        m_store.CommitWithWallet(records_for(done.payments), WalletRecordsFor(done.payments), Durability::kPowerLoss);
    if (!committed.ok()) return committed;
    int failing = m_fail_adoptions.load();
    while (failing > 0) {
        if (m_fail_adoptions.compare_exchange_weak(failing, failing - 1)) {
            done.adopted = false;
            return done;
        }
    }
    m_balance -= total;
    ++m_adopted;
    TxChainState state;
    state.known = true;
    m_chain.Set(txid, state);
    Took(txid);
    std::function<void()> hook;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        hook = m_while_paying;
    }
    if (hook) hook();
    return done;
}

Status FakePayer::RestorePayment(const std::vector<CodeId>& codes, const std::string& serialized_tx)
{
    Txid txid;
    const size_t colon = serialized_tx.find(':', 4);
    if (serialized_tx.compare(0, 4, "raw:") != 0 || colon == std::string::npos ||
        !TxidFromHex(serialized_tx.substr(4, colon - 4), txid)) {
        return Status(StatusCode::kCorruption, "not a payment");
    }
    std::vector<Payment> parts;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_payments.find(txid);
        if (it != m_payments.end()) parts = it->second;
    }
    // The parts of the codes asked for; none is a payment of other codes.
    std::vector<Payment> tagged;
    for (const Payment& part : parts) {
        if (std::find(codes.begin(), codes.end(), part.code) != codes.end()) tagged.push_back(part);
    }
    if (tagged.empty()) return Status(StatusCode::kCorruption, "payment of another code");
    if (m_chain.GetTxState(txid).known) {
        // Held; tagged again if the wallet learned it without its tags.
        const auto recorded = RecordedPayments(m_store);
        RecordWrites missing;
        for (const Payment& part : tagged) {
            bool held = false;
            for (auto [it, end] = recorded.equal_range(txid); it != end; ++it) held |= it->second.code == part.code;
            if (!held) missing.push_back(WalletRecordFor(part));
        }
        if (missing.empty()) return Status::Ok();
        return m_store.CommitWithWallet({}, missing, Durability::kPowerLoss);
    }
    if (m_fail_restores) return Status(StatusCode::kStoreFailure, "injected restore failure");
    Status written = m_store.CommitWithWallet({}, WalletRecordsFor(tagged), Durability::kPowerLoss);
    if (!written.ok()) return written;
    for (const Payment& part : parts) m_balance -= part.amount + part.fee;
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

Payment FakePayer::Replace(const Txid& txid, Amount fee, uint32_t shift)
{
    std::vector<Payment> old;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        old = m_payments.at(txid);
    }
    std::vector<PaymentRequest> requests;
    Amount old_fee = 0;
    for (const Payment& part : old) {
        requests.push_back({part.code, part.address, part.amount, part.payment_key, part.vout});
        old_fee += part.fee;
    }
    std::vector<Payment> parts = MakePayments(requests, fee);
    if (shift > 0) {
        for (Payment& part : parts) part.vout += shift;
        std::lock_guard<std::mutex> lock(m_mutex);
        m_payments[parts.front().txid] = parts;
    }
    const Payment& replacement = parts.front();
    Status written = m_store.CommitWithWallet({}, WalletRecordsFor(parts), Durability::kPowerLoss);
    assert(written.ok());
    (void)written;
    m_balance -= fee - old_fee;
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
    if (it == m_payments.end()) return Status(StatusCode::kPaymentFailed, "not a payment");
    // As the node: tagged with the code, and the first output at or after
    // the hint that pays the holder the amount (else the first).
    const std::vector<Payment>& parts = it->second;
    if (std::none_of(parts.begin(), parts.end(), [&](const Payment& part) { return part.code == request.code; })) {
        return Status(StatusCode::kPaymentFailed, "not tagged with this code");
    }
    const Payment* best = nullptr;
    for (const Payment& part : parts) {
        if (part.amount != request.amount || part.address != request.address) continue;
        const bool after = request.vout == NO_VOUT || part.vout >= request.vout;
        const bool best_after = best && (request.vout == NO_VOUT || best->vout >= request.vout);
        if (!best || (after && !best_after) || (after == best_after && part.vout < best->vout)) best = &part;
    }
    if (!best) return Status(StatusCode::kPaymentFailed, "does not pay the holder");
    Payment payment = *best;
    payment.code = request.code;
    for (const Payment& part : parts) {
        if (part.code == request.code) payment.fee = part.fee;
    }
    return payment;
}

Result<Amount> FakePayer::SpendableBalance()
{
    if (m_fail_balance) return Status(StatusCode::kStoreFailure, "the wallet's balance cannot be read");
    return Amount(m_balance - m_pending);
}

void RecordingNotifier::Notify(const Event& event)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_events.push_back(event);
}

std::vector<Event> RecordingNotifier::events()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_events;
}

std::vector<Event> RecordingNotifier::events(EventKind kind)
{
    std::vector<Event> out;
    for (const Event& event : events()) {
        if (event.kind == kind) out.push_back(event);
    }
    return out;
}

void RecordingNotifier::Clear()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_events.clear();
}

BroadcastOutcome FakePayer::Broadcast(const Txid& txid)
{
    if (const int delay = m_broadcast_delay_us; delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
    ++m_broadcasts;
    std::function<void(const Payment&)> hook;
    std::vector<Payment> parts;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        hook = m_while_broadcasting;
        if (auto it = m_payments.find(txid); hook && it != m_payments.end()) parts = it->second;
    }
    for (const Payment& part : parts) hook(part);
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

void FakePayer::SetRefusedAddress(const std::string& address)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_refused_address = address;
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

std::multimap<Txid, FakePayer::Recorded> FakePayer::RecordedPayments(TestStore& store)
{
    std::multimap<Txid, Recorded> out;
    for (const auto& [key, value] : store.ReadWalletRecords()) {
        if (key.compare(0, 2, TX_PREFIX) != 0 || key.size() != 2 + 32 + 16 || value.size() < 16 + 8) continue;
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

Status FakePayer::NewPaymentKeys(const std::vector<CodeId>& codes, uint32_t attempt, std::vector<std::string>& keys)
{
    if (m_unsupported) return Status(StatusCode::kWalletUnsupported, "wallet cannot sign");
    if (m_locked) return Status(StatusCode::kWalletLocked, "wallet is locked");
    if (m_fail_keys) return Status(StatusCode::kStoreFailure, "injected key failure");
    for (const CodeId& code : codes) {
        std::string key = "key:" + code.ToHex();
        if (attempt > 0) key += ":" + std::to_string(attempt);
        if (m_repeating_keys && attempt == 0) key = "key:repeated";
        keys.push_back(m_keyless ? "" : key);
    }
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
    // Per code, the payment deepest in the chain, as the node finds it.
    std::map<CodeId, std::pair<int, Payment>> best;
    for (; m_searched < m_taken.size(); ++m_searched) {
        const std::vector<Payment>& parts = m_payments.at(m_taken[m_searched]);
        const int depth = m_chain.GetTxState(m_taken[m_searched]).confirmations;
        for (size_t i = 0; i < parts.size(); ++i) {
            // The first code's key has the change; a payment of several
            // codes carries every code's tag.
            std::string key = parts[i].payment_key;
            if (parts.size() > 1) {
                auto tagged = watch.key_by_tag.find(PaymentTagOf(key));
                if (tagged == watch.key_by_tag.end()) continue;
                key = tagged->second;
            } else if (i > 0) {
                continue;
            }
            auto it = watch.by_key.find(key);
            if (it == watch.by_key.end() || it->second.amount != parts[i].amount) continue;
            Payment payment = parts[i];
            payment.code = it->second.code;
            payment.payment_key = key;
            auto [entry, inserted] = best.emplace(payment.code, std::make_pair(depth, payment));
            if (!inserted && depth > entry->second.first) entry->second = {depth, payment};
        }
    }
    for (auto& entry : best) found.push_back(std::move(entry.second.second));
    return Status::Ok();
}

void FakePayer::LearnFromChain(const Payment& payment, const TxChainState& state)
{
    LearnFromChain(std::vector<Payment>{payment}, state);
}

void FakePayer::LearnFromChain(const std::vector<Payment>& payments, const TxChainState& state)
{
    const Txid txid = payments.front().txid;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_payments[txid] = payments;
    }
    for (const Payment& payment : payments) m_balance -= payment.amount + payment.fee;
    m_chain.Set(txid, state);
    Took(txid);
}

Payment FakePayer::PaymentOf(const Txid& txid) { return PaymentsOf(txid).front(); }

std::vector<Payment> FakePayer::PaymentsOf(const Txid& txid)
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
    policy.max_payment_codes = max_payment_codes;
    policy.payment_wait_ms = payment_wait_ms;
    policy.refusal_alert = refusal_alert;
    policy.limits = limits;
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
