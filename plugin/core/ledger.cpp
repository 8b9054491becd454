// The gift-code ledger; its contract and protocol are in ledger.h, the
// states and crash points in doc/design.md.
#include "ledger.h"

#include "sha256.h"

#include <algorithm>
#include <chrono>

// The build id comes from the compiler command line (CMake) or, inside the
// node, from the header contrib/graft.sh writes next to the node's sources.
#ifndef GIFTCODE_BUILD_ID
#if __has_include("giftcode_build_id.h")
#include "giftcode_build_id.h"
#else
#define GIFTCODE_BUILD_ID "unknown"
#endif
#endif

namespace giftcode {

const char* BuildId() { return GIFTCODE_BUILD_ID; }

const char* CodeStateName(CodeState state)
{
    switch (state) {
    case CodeState::kIssued: return "issued";
    case CodeState::kRedeemed: return "redeemed";
    case CodeState::kCancelled: return "cancelled";
    case CodeState::kExpired: return "expired";
    }
    return "issued";
}

const char* PhaseName(Phase phase)
{
    switch (phase) {
    case Phase::kBuild: return "build";
    case Phase::kCommit: return "commit";
    case Phase::kAdopt: return "adopt";
    case Phase::kBroadcast: return "broadcast";
    }
    return "build";
}

bool ParseCodeState(const std::string& name, CodeState& state)
{
    for (CodeState s : {CodeState::kIssued, CodeState::kRedeemed, CodeState::kCancelled, CodeState::kExpired}) {
        if (name == CodeStateName(s)) {
            state = s;
            return true;
        }
    }
    return false;
}

namespace {

CodeState StateAt(const CodeRecord& record, int64_t now)
{
    switch (record.state) {
    case StoredState::kIssued: return record.ExpiredAt(now) ? CodeState::kExpired : CodeState::kIssued;
    case StoredState::kRedeemed: return CodeState::kRedeemed;
    case StoredState::kCancelled: return CodeState::kCancelled;
    }
    return CodeState::kIssued;
}

Redemption RedemptionOf(const CodeRecord& record)
{
    Redemption r;
    r.id = record.id;
    r.txid = record.txid;
    r.amount = record.amount;
    r.fee = record.fee;
    r.address = record.address;
    r.redeemed_at = record.redeemed_at;
    return r;
}

//! Microseconds since `start`, for the phase timings.
uint64_t MicrosSince(std::chrono::steady_clock::time_point start)
{
    return uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
                        .count());
}

bool IsHexId(const std::string& text)
{
    return text.size() == 32 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

} // namespace

Ledger::Ledger(const Ports& ports, const LedgerPolicy& policy) : m_ports(ports), m_policy(policy) {}

Result<std::unique_ptr<Ledger>> Ledger::Open(const Ports& ports, const LedgerPolicy& policy)
{
    std::vector<std::pair<std::string, std::string>> rows;
    Status read = ports.store.ReadAll(rows);
    if (!read.ok()) return read;
    std::unique_ptr<Ledger> ledger(new Ledger(ports, policy));
    {
        MutexLock lock(ledger->m_mutex);
        for (const auto& [key, value] : rows) {
            Result<CodeId> id = DecodeCodeKey(key);
            if (!id.ok()) return id.status();
            Result<CodeRecord> record = DecodeCodeRecord(id.value(), value);
            if (!record.ok()) return record.status();
            if (record->state == StoredState::kRedeemed) ledger->m_unsettled.insert(record->txid);
            ledger->m_records.emplace(id.value(), std::move(record.value()));
        }
    }
    ConsistencyReport report = ledger->CheckConsistency();
    {
        MutexLock lock(ledger->m_mutex);
        ledger->m_consistency = std::move(report);
    }
    return ledger;
}

ConsistencyReport Ledger::CheckConsistency()
{
    ConsistencyReport report;
    std::vector<TaggedPayment> payments;
    Status listed = m_ports.payer.ListTaggedPayments(payments);
    if (!listed.ok()) {
        report.error = listed.message();
        return report;
    }
    report.checked = true;
    MutexLock lock(m_mutex);
    std::set<std::pair<CodeId, Txid>> held;
    for (const TaggedPayment& p : payments) {
        held.emplace(p.code, p.txid);
        auto it = m_records.find(p.code);
        if (it == m_records.end() || it->second.state != StoredState::kRedeemed || it->second.txid != p.txid) {
            report.payment_without_redemption.push_back(p);
        }
    }
    for (const auto& [id, record] : m_records) {
        if (record.state == StoredState::kRedeemed && !held.count({id, record.txid})) {
            report.redeemed_without_payment.push_back(id);
        }
    }
    return report;
}

Result<std::vector<IssuedCode>> Ledger::Create(Amount amount, size_t count, const std::string& label,
                                               int64_t expires_at)
{
    if (amount <= 0) return Status(StatusCode::kInvalidAmount, "amount must be positive");
    if (amount < m_policy.min_amount) {
        return Status(StatusCode::kInvalidAmount, "amount is below the dust limit of " +
                                                      std::to_string(m_policy.min_amount) + " satoshis");
    }
    if (amount > m_policy.max_money) return Status(StatusCode::kInvalidAmount, "amount is out of the money range");
    if (count < 1 || count > m_policy.max_batch) {
        return Status(StatusCode::kInvalidParameter,
                      "count must be between 1 and " + std::to_string(m_policy.max_batch));
    }
    if (label.size() > MAX_LABEL) {
        return Status(StatusCode::kInvalidParameter, "label is longer than " + std::to_string(MAX_LABEL) + " bytes");
    }
    const int64_t now = m_ports.clock.Now();
    if (expires_at < 0 || (expires_at != 0 && expires_at <= now)) {
        return Status(StatusCode::kInvalidParameter, "expiry must be a unix time in the future, or 0 for none");
    }

    MutexLock write_lock(m_write_mutex);
    std::vector<IssuedCode> issued;
    std::vector<CodeRecord> records;
    std::set<CodeId> fresh;
    std::unique_ptr<StoreBatch> batch = m_ports.store.NewBatch();
    while (issued.size() < count) {
        std::array<uint8_t, CodeSecret::SIZE> bytes;
        m_ports.randomness.Fill(bytes.data(), bytes.size());
        ParsedCode code{m_policy.network, CodeSecret(bytes)};
        SecureWipe(bytes.data(), bytes.size());
        const CodeId id = code.Id();
        bool taken;
        {
            MutexLock lock(m_mutex);
            taken = m_records.count(id) > 0;
        }
        // A repeat means the randomness port is broken, not bad luck (2^-64).
        if (taken || !fresh.insert(id).second) {
            return Status(StatusCode::kPaymentFailed, "the random source repeated itself; no code was created");
        }
        CodeRecord record;
        record.id = id;
        record.state = StoredState::kIssued;
        record.amount = amount;
        record.created_at = now;
        record.expires_at = expires_at;
        record.label = label;
        batch->Put(EncodeCodeKey(id), EncodeCodeRecord(record));
        records.push_back(std::move(record));
        issued.push_back({id, FormatCode(code.network, code.secret), FormatCodeUri(code.network, code.secret)});
    }
    // Codes handed to a caller must survive any crash: the holder cannot
    // ask again.
    Status committed = m_ports.store.Commit(*batch, Durability::kPowerLoss);
    if (!committed.ok()) {
        for (IssuedCode& c : issued) {
            SecureWipe(&c.code[0], c.code.size());
            SecureWipe(&c.uri[0], c.uri.size());
        }
        return committed;
    }
    MutexLock lock(m_mutex);
    for (CodeRecord& record : records) m_records.emplace(record.id, std::move(record));
    return issued;
}

Result<CodeId> Ledger::Resolve(const std::string& code_or_id) const
{
    if (IsHexId(code_or_id)) return CodeId::FromHex(code_or_id);
    Result<ParsedCode> parsed = ParseCode(code_or_id, m_policy.network);
    if (!parsed.ok()) return parsed.status();
    return parsed->Id();
}

CodeView Ledger::ViewLocked(const CodeRecord& record, int64_t now)
{
    m_mutex.AssertHeld();
    CodeView view;
    view.record = record;
    view.state = StateAt(record, now);
    if (record.state == StoredState::kRedeemed) {
        auto it = m_broadcast_errors.find(record.txid);
        if (it != m_broadcast_errors.end()) view.broadcast_error = it->second;
    }
    return view;
}

Result<CodeView> Ledger::Get(const std::string& code_or_id)
{
    Result<CodeId> id = Resolve(code_or_id);
    if (!id.ok()) return id.status();
    const int64_t now = m_ports.clock.Now();
    CodeView view;
    {
        MutexLock lock(m_mutex);
        auto it = m_records.find(id.value());
        if (it == m_records.end()) return Status(StatusCode::kUnknownCode, "no such gift code in this wallet");
        view = ViewLocked(it->second, now);
    }
    // The chain is asked outside the index lock: it takes the host's locks.
    if (view.state == CodeState::kRedeemed) view.payment = m_ports.chain.GetTxState(view.record.txid);
    return view;
}

Result<CodePage> Ledger::List(const ListFilter& filter)
{
    if (filter.count < 1 || filter.count > m_policy.max_batch) {
        return Status(StatusCode::kInvalidParameter,
                      "count must be between 1 and " + std::to_string(m_policy.max_batch));
    }
    const int64_t now = m_ports.clock.Now();
    CodePage page;
    {
        MutexLock lock(m_mutex);
        std::vector<const CodeRecord*> matching;
        for (const auto& entry : m_records) {
            const CodeRecord& record = entry.second;
            if (filter.state && StateAt(record, now) != *filter.state) continue;
            if (filter.label && record.label != *filter.label) continue;
            matching.push_back(&record);
        }
        std::sort(matching.begin(), matching.end(), [](const CodeRecord* a, const CodeRecord* b) {
            return a->created_at != b->created_at ? a->created_at < b->created_at : a->id < b->id;
        });
        page.total = matching.size();
        for (size_t i = filter.skip; i < matching.size() && page.codes.size() < filter.count; ++i) {
            page.codes.push_back(ViewLocked(*matching[i], now));
        }
    }
    for (CodeView& view : page.codes) {
        if (view.state == CodeState::kRedeemed) view.payment = m_ports.chain.GetTxState(view.record.txid);
    }
    return page;
}

Result<Redemption> Ledger::Refuse(Status status)
{
    MutexLock lock(m_mutex);
    ++m_failures[status.code()];
    return status;
}

Ledger::Decision Ledger::DecideLocked(const CodeId& id, const std::string& address, int64_t now)
{
    m_mutex.AssertHeld();
    Decision decision;
    auto it = m_records.find(id);
    if (it == m_records.end()) {
        decision.refusal = Status(StatusCode::kUnknownCode, "no such gift code in this wallet");
        return decision;
    }
    const CodeRecord& record = it->second;
    switch (StateAt(record, now)) {
    case CodeState::kRedeemed:
        if (record.address == address) {
            decision.replay = RedemptionOf(record);
            decision.replay->replay = true;
        } else {
            decision.refusal = Status(StatusCode::kAlreadyRedeemed, "gift code was already redeemed");
        }
        break;
    case CodeState::kCancelled:
        decision.refusal = Status(StatusCode::kCancelled, "gift code was cancelled by its issuer");
        break;
    case CodeState::kExpired:
        decision.refusal = Status(StatusCode::kExpired, "gift code has expired");
        break;
    case CodeState::kIssued:
        decision.to_pay = record;
        break;
    }
    return decision;
}

Result<Redemption> Ledger::Redeem(const std::string& code_text, const std::string& address_text)
{
    Result<ParsedCode> parsed = ParseCode(code_text, m_policy.network);
    if (!parsed.ok()) return Refuse(parsed.status());
    const CodeId id = parsed->Id();
    Result<std::string> address = m_ports.addresses.NormalizeAddress(address_text);
    if (!address.ok()) return Refuse(address.status());

    // Fast path: a finished, refused or unknown code is answered from the
    // index alone, without queueing behind payments being built.
    std::optional<Redemption> replay;
    {
        MutexLock lock(m_mutex);
        Decision d = DecideLocked(id, address.value(), m_ports.clock.Now());
        if (d.refusal) {
            ++m_failures[d.refusal->code()];
            return *d.refusal;
        }
        replay = std::move(d.replay);
    }
    if (replay) return Settle(std::move(*replay));

    Result<Redemption> done = PayOnce(id, address.value());
    if (!done.ok()) return Refuse(done.status());
    if (done->replay) return Settle(std::move(done.value()));

    // Broadcast outside every ledger lock: other redemptions need not wait
    // for the network.
    Redemption redemption = std::move(done.value());
    const auto broadcast_start = std::chrono::steady_clock::now();
    const BroadcastOutcome outcome = m_ports.payer.Broadcast(redemption.txid);
    RecordTiming(Phase::kBroadcast, MicrosSince(broadcast_start));
    {
        MutexLock lock(m_mutex);
        NoteBroadcastLocked(redemption.txid, outcome);
        m_first_broadcast.erase(redemption.txid);
    }
    m_first_broadcast_done.notify_all();
    redemption.broadcast = outcome.accepted;
    redemption.broadcast_error = outcome.reason;
    return redemption;
}

Result<Redemption> Ledger::PayOnce(const CodeId& id, const std::string& address)
{
    MutexLock write_lock(m_write_mutex);
    const int64_t now = m_ports.clock.Now();
    Decision d;
    {
        MutexLock lock(m_mutex);
        d = DecideLocked(id, address, now);
    }
    if (d.refusal) return *d.refusal;
    if (d.replay) return std::move(*d.replay);

    CodeRecord redeemed = *d.to_pay;
    auto phase_start = std::chrono::steady_clock::now();
    Result<Payment> payment = m_ports.payer.BuildPayment({id, address, redeemed.amount});
    if (!payment.ok()) return payment.status();
    RecordTiming(Phase::kBuild, MicrosSince(phase_start));
    assert(payment->amount == redeemed.amount);
    redeemed.state = StoredState::kRedeemed;
    redeemed.txid = payment->txid;
    redeemed.address = address;
    redeemed.redeemed_at = now;
    redeemed.fee = payment->fee;

    // INVARIANT: the redeemed record and its payment are one batch. Both are
    // durable or neither is, and the payment leaves the node only after the
    // commit returned ok. Nothing below ever makes the code issued again.
    std::unique_ptr<StoreBatch> batch = m_ports.store.NewBatch();
    batch->Put(EncodeCodeKey(id), EncodeCodeRecord(redeemed));
    phase_start = std::chrono::steady_clock::now();
    Status staged = m_ports.payer.StagePayment(*batch, payment.value());
    Status committed = staged.ok() ? m_ports.store.Commit(*batch, Durability::kPowerLoss) : staged;
    if (!committed.ok()) {
        m_ports.payer.DiscardPayment(payment.value());
        return committed;
    }
    RecordTiming(Phase::kCommit, MicrosSince(phase_start));
    phase_start = std::chrono::steady_clock::now();
    m_ports.payer.AdoptPayment(payment.value());
    RecordTiming(Phase::kAdopt, MicrosSince(phase_start));
    MutexLock lock(m_mutex);
    m_records[id] = redeemed;
    m_unsettled.insert(redeemed.txid);
    m_first_broadcast.insert(redeemed.txid);
    return RedemptionOf(redeemed);
}

Redemption Ledger::Settle(Redemption replay)
{
    {
        // The first broadcast is a local call that returns in milliseconds;
        // the bound only keeps a stuck host from stalling replays forever.
        MutexLock lock(m_mutex);
        m_first_broadcast_done.wait_for(m_mutex, std::chrono::seconds(10), [&]() GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex) {
            return m_first_broadcast.count(replay.txid) == 0;
        });
    }
    const TxChainState state = m_ports.chain.GetTxState(replay.txid);
    replay.broadcast = state.in_mempool || state.confirmations > 0;
    if (!replay.broadcast) {
        MutexLock lock(m_mutex);
        auto it = m_broadcast_errors.find(replay.txid);
        replay.broadcast_error = it != m_broadcast_errors.end() ? it->second : "not in the mempool";
    }
    return replay;
}

Result<CodeView> Ledger::Cancel(const std::string& code_or_id)
{
    Result<CodeId> id = Resolve(code_or_id);
    if (!id.ok()) return id.status();
    MutexLock write_lock(m_write_mutex);
    const int64_t now = m_ports.clock.Now();
    CodeRecord cancelled;
    {
        MutexLock lock(m_mutex);
        auto it = m_records.find(id.value());
        if (it == m_records.end()) return Status(StatusCode::kUnknownCode, "no such gift code in this wallet");
        switch (it->second.state) {
        case StoredState::kRedeemed:
            return Status(StatusCode::kAlreadyRedeemed, "gift code was already redeemed; it cannot be cancelled");
        case StoredState::kCancelled:
            return Status(StatusCode::kCancelled, "gift code was already cancelled");
        case StoredState::kIssued:
            break;
        }
        cancelled = it->second;
    }
    cancelled.state = StoredState::kCancelled;
    cancelled.cancelled_at = now;
    std::unique_ptr<StoreBatch> batch = m_ports.store.NewBatch();
    batch->Put(EncodeCodeKey(cancelled.id), EncodeCodeRecord(cancelled));
    Status committed = m_ports.store.Commit(*batch, Durability::kPowerLoss);
    if (!committed.ok()) return committed;
    MutexLock lock(m_mutex);
    m_records[cancelled.id] = cancelled;
    return ViewLocked(cancelled, now);
}

void Ledger::RetryBroadcasts()
{
    std::vector<Txid> pending;
    {
        MutexLock lock(m_mutex);
        pending.assign(m_unsettled.begin(), m_unsettled.end());
    }
    for (const Txid& txid : pending) {
        const TxChainState state = m_ports.chain.GetTxState(txid);
        if (state.confirmations > 0) {
            MutexLock lock(m_mutex);
            m_unsettled.erase(txid);
            m_broadcast_errors.erase(txid);
            continue;
        }
        const BroadcastOutcome outcome = state.in_mempool ? BroadcastOutcome{true, ""} : m_ports.payer.Broadcast(txid);
        MutexLock lock(m_mutex);
        NoteBroadcastLocked(txid, outcome);
    }
}

void Ledger::NoteBroadcastLocked(const Txid& txid, const BroadcastOutcome& outcome)
{
    m_mutex.AssertHeld();
    if (outcome.accepted) {
        m_broadcast_errors.erase(txid);
    } else {
        m_broadcast_errors[txid] = outcome.reason;
    }
}

void Ledger::RecordTiming(Phase phase, uint64_t us)
{
    MutexLock lock(m_mutex);
    m_timings[phase].Add(us);
}

LedgerInfo Ledger::Info()
{
    const int64_t now = m_ports.clock.Now();
    LedgerInfo info;
    MutexLock lock(m_mutex);
    for (CodeState s : {CodeState::kIssued, CodeState::kRedeemed, CodeState::kCancelled, CodeState::kExpired}) {
        info.counts[s] = 0;
    }
    for (const auto& entry : m_records) {
        const CodeRecord& record = entry.second;
        const CodeState state = StateAt(record, now);
        ++info.counts[state];
        switch (state) {
        case CodeState::kIssued:
            info.outstanding_liability += record.amount;
            break;
        case CodeState::kRedeemed:
            info.redeemed_amount += record.amount;
            info.redeemed_fees += record.fee;
            break;
        case CodeState::kCancelled:
        case CodeState::kExpired:
            break;
        }
    }
    info.failed_redemptions = m_failures;
    info.unbroadcast = m_broadcast_errors;
    info.consistency = m_consistency;
    info.timings = m_timings;
    return info;
}

} // namespace giftcode
