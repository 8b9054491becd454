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

const char* PaymentStateName(PaymentState state)
{
    switch (state) {
    case PaymentState::kMempool: return "mempool";
    case PaymentState::kConfirmed: return "confirmed";
    case PaymentState::kBuried: return "buried";
    case PaymentState::kNotInMempool: return "not_in_mempool";
    case PaymentState::kConflicted: return "conflicted";
    case PaymentState::kDead: return "dead";
    case PaymentState::kAbandoned: return "abandoned";
    case PaymentState::kMissing: return "missing";
    }
    return "missing";
}

PaymentState PaymentStateOf(const TxChainState& state)
{
    if (!state.known) return PaymentState::kMissing;
    if (state.confirmations >= BURIED_DEPTH) return PaymentState::kBuried;
    if (state.confirmations > 0) return PaymentState::kConfirmed;
    if (state.conflicted) return state.conflict_depth >= BURIED_DEPTH ? PaymentState::kDead : PaymentState::kConflicted;
    if (state.abandoned) return PaymentState::kAbandoned;
    return state.in_mempool ? PaymentState::kMempool : PaymentState::kNotInMempool;
}

bool NeedsAttention(PaymentState state)
{
    switch (state) {
    case PaymentState::kMempool:
    case PaymentState::kConfirmed:
    case PaymentState::kBuried:
        return false;
    case PaymentState::kNotInMempool:
    case PaymentState::kConflicted:
    case PaymentState::kDead:
    case PaymentState::kAbandoned:
    case PaymentState::kMissing:
        return true;
    }
    return true;
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
    r.vout = record.vout;
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

//! Times the ledger asks for other keys for codes whose tags are taken.
constexpr uint32_t MAX_KEY_ATTEMPTS = 8;

bool IsHexId(const std::string& text)
{
    return text.size() == 32 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

} // namespace

Ledger::Ledger(const Ports& ports, const LedgerPolicy& policy)
    : m_ports(ports), m_policy(policy), m_refusals(policy.refusal_alert)
{
}

namespace {

//! Refusals a holder (or someone guessing) causes, as opposed to the
//! wallet's own failures (funds, lock, database).
bool IsHolderRefusal(StatusCode code)
{
    switch (code) {
    case StatusCode::kMalformedCode:
    case StatusCode::kBadChecksum:
    case StatusCode::kWrongNetwork:
    case StatusCode::kUnknownCode:
    case StatusCode::kAlreadyRedeemed:
    case StatusCode::kCancelled:
    case StatusCode::kExpired:
    case StatusCode::kInvalidAddress:
        return true;
    default:
        return false;
    }
}

} // namespace

void Ledger::Emit(const Event& event)
{
    if (m_ports.notifier) m_ports.notifier->Notify(event);
}

void Ledger::NoteNothingPaid(const std::string& what)
{
    // The host's clock as it is: the watch copes with one that goes back.
    if (std::optional<Event> storm = m_refusals.Note(what, m_ports.clock.Now())) Emit(*storm);
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const Ports& ports, const LedgerPolicy& policy)
{
    std::vector<std::pair<std::string, std::string>> rows;
    Status read = ports.store.ReadAll(rows);
    if (!read.ok()) return read;
    std::unique_ptr<Ledger> ledger(new Ledger(ports, policy));
    const SideState side = ports.store.ReadSideState();
    {
        MutexLock write_lock(ledger->m_write_mutex);
        MutexLock lock(ledger->m_mutex);
        int64_t latest = 0;
        int64_t commits = 0;
        for (const auto& [key, value] : rows) {
            if (IsStateKey(key)) {
                Result<int64_t> state = DecodeLedgerState(value);
                if (!state.ok()) return state.status();
                commits = state.value();
                continue;
            }
            if (IsBreakerKey(key)) {
                Result<BreakerSettings> breaker = DecodeBreakerSettings(value);
                if (!breaker.ok()) return breaker.status();
                ledger->m_breaker = breaker.value();
                continue;
            }
            Result<CodeId> id = DecodeCodeKey(key);
            if (!id.ok()) return id.status();
            Result<CodeRecord> record = DecodeCodeRecord(id.value(), value);
            if (!record.ok()) return record.status();
            const CodeRecord& r = record.value();
            if (r.state == StoredState::kRedeemed) ledger->m_followed[r.txid].insert(r.id);
            // The breaker's windows hold what this wallet paid, not what
            // it found paid on the chain after a restore.
            if (r.state == StoredState::kRedeemed && !r.found_on_chain) {
                ledger->m_window.Add(r.redeemed_at, r.amount, r.label);
            }
            // Codes made before tags were kept unique may share one: it
            // then names none of them.
            if (!r.payment_key.empty() && !ledger->m_tags.insert(PaymentTagOf(r.payment_key)).second) {
                ledger->m_watched.ambiguous.insert(PaymentTagOf(r.payment_key));
            }
            ledger->m_start_waits |= r.state != StoredState::kRedeemed;
            ledger->m_next_sequence = std::max(ledger->m_next_sequence, r.sequence + 1);
            latest = std::max({latest, r.created_at, r.redeemed_at, r.cancelled_at});
            ledger->m_records.emplace(id.value(), std::move(record.value()));
        }
        for (const auto& [id, r] : ledger->m_records) {
            if (r.state != StoredState::kRedeemed && !r.payment_key.empty()) {
                ledger->m_watched.Add(r.payment_key, WatchedCode{id, r.amount});
            }
        }
        // The clock never reads earlier than anything already recorded.
        ledger->m_latest_time = latest;
        // A wallet put back from a backup holds fewer commits than the copy
        // beside it. Counting goes on from the larger number, and sequences
        // too: codes issued after the backup are gone from the wallet, but
        // their sequences are not given again.
        RestoreInfo& restore = ledger->m_restore;
        restore.side_state = side.present;
        restore.wallet_commits = commits;
        restore.side_commits = side.commits;
        restore.detected = side.present && side.commits > commits;
        if (restore.detected) {
            restore.codes_missing = std::max<int64_t>(0, side.next_sequence - ledger->m_next_sequence);
        }
        ledger->m_commits = std::max(commits, side.commits);
        ledger->m_next_sequence = std::max(ledger->m_next_sequence, side.next_sequence);
    }
    ledger->m_opened_at = ledger->Now();
    RestoreInfo restore;
    {
        MutexLock lock(ledger->m_mutex);
        ledger->m_waits_for_block = ledger->m_start_waits && (!side.present || ledger->m_restore.detected);
        restore = ledger->m_restore;
    }
    if (restore.detected) {
        ledger->Emit(Event{EventKind::kRestore, std::nullopt, std::nullopt,
                           "the wallet was put back from a backup: it holds " + std::to_string(restore.wallet_commits) +
                               " gift-code commits, the state file beside it " + std::to_string(restore.side_commits) +
                               "; " + std::to_string(restore.codes_missing) +
                               " codes issued after the backup are not in it (see doc/design.md)"});
    }
    {
        // Before anything is served: payments of codes the wallet's records
        // read unpaid (made before it was restored from a backup) become
        // their codes' payments.
        MutexLock write_lock(ledger->m_write_mutex);
        const auto search_start = std::chrono::steady_clock::now();
        Status found = ledger->FindPaymentsLocked(/*from_start=*/true);
        if (!found.ok()) return found;
        MutexLock lock(ledger->m_mutex);
        ledger->m_restore.watched = ledger->m_watched.size();
        ledger->m_restore.search_us = MicrosSince(search_start);
    }
    // The wallet gets back every payment it lost and learns every
    // replacement, so no redemption can spend a committed payment's coins
    // again. Broadcasting waits for the first block.
    (void)ledger->Follow(/*broadcast=*/false);
    if (!side.present) {
        SideState first{true, 0, 0};
        {
            MutexLock lock(ledger->m_mutex);
            first.commits = ledger->m_commits;
            first.next_sequence = ledger->m_next_sequence;
        }
        ports.store.WriteSideState(first);
    }
    return ledger;
}

RecordWrites Ledger::WithState(RecordWrites writes)
{
    MutexLock lock(m_mutex);
    writes.push_back({EncodeStateKey(), EncodeLedgerState(m_commits + 1), false});
    return writes;
}

void Ledger::Committed()
{
    SideState side;
    {
        MutexLock lock(m_mutex);
        ++m_commits;
        side = {true, m_commits, m_next_sequence};
    }
    m_ports.store.WriteSideState(side);
}

Status Ledger::FindPaymentsLocked(bool from_start)
{
    m_write_mutex.AssertHeld();
    std::vector<Payment> found;
    Status listed = m_ports.payer.FindPayments(m_watched, from_start, found);
    if (!listed.ok()) return listed;
    // The codes of one payment are recorded together.
    std::map<Txid, std::vector<CodeRecord>> by_payment;
    std::set<CodeId> seen;
    for (Payment& payment : found) {
        CodeRecord record;
        {
            MutexLock lock(m_mutex);
            auto it = m_records.find(payment.code);
            // Two payments of one code (a replacement and the payment it
            // replaced): the first found is followed, and follows the other.
            if (it == m_records.end() || it->second.state == StoredState::kRedeemed) continue;
            if (!seen.insert(payment.code).second) continue;
            // An output that already pays another code is not this one's.
            auto paid = m_followed.find(payment.txid);
            if (paid != m_followed.end() && payment.vout != NO_VOUT &&
                std::any_of(paid->second.begin(), paid->second.end(),
                            [&](const CodeId& other) { return m_records.at(other).vout == payment.vout; })) {
                continue;
            }
            record = it->second;
        }
        record.state = StoredState::kRedeemed;
        record.txid = payment.txid;
        record.vout = payment.vout;
        record.address = payment.address;
        record.redeemed_at = Now();
        record.fee = payment.fee;
        // A payment too large to keep is still followed by its txid.
        record.payment_tx = payment.serialized_tx.size() <= MAX_PAYMENT_TX ? payment.serialized_tx : "";
        record.found_on_chain = true;
        record.cancelled_at = 0;
        by_payment[payment.txid].push_back(std::move(record));
    }
    for (auto& [txid, records] : by_payment) {
        RecordWrites writes;
        std::vector<CodeId> ids;
        for (const CodeRecord& record : records) {
            writes.push_back({EncodeCodeKey(record.id), EncodeCodeRecord(record), false});
            ids.push_back(record.id);
        }
        Status committed = m_ports.store.Commit(WithState(std::move(writes)), Durability::kPowerLoss);
        if (!committed.ok()) return committed;
        Committed();
        {
            MutexLock lock(m_mutex);
            for (const CodeRecord& record : records) {
                m_records[record.id] = record;
                m_followed[txid].insert(record.id);
                ++m_restore.found_on_chain;
            }
        }
        for (const CodeRecord& record : records) {
            Emit(Event{EventKind::kRedeemed, record.id, txid,
                       "found on the chain: this wallet paid " + FormatAmount(record.amount) +
                           " for it before it was put back from a backup"});
        }
        for (const CodeRecord& record : records) m_watched.Erase(record.payment_key);
        // The wallet's copy gets its tag, as if this wallet had paid it.
        if (!records.front().payment_tx.empty()) (void)m_ports.payer.RestorePayment(ids, records.front().payment_tx);
    }
    return Status::Ok();
}

void Ledger::FindPaymentsIfIdle()
{
    if (!m_write_mutex.try_lock()) return;
    (void)FindPaymentsLocked(/*from_start=*/false);
    m_write_mutex.unlock();
}

int64_t Ledger::Now()
{
    const int64_t now = m_ports.clock.Now();
    int64_t latest = m_latest_time.load();
    while (now > latest && !m_latest_time.compare_exchange_weak(latest, now)) {
    }
    return std::max(now, latest);
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
    report.height = m_ports.chain.TipHeight();
    MutexLock lock(m_mutex);
    std::set<std::pair<CodeId, Txid>> held;
    for (const TaggedPayment& p : payments) {
        held.emplace(p.code, p.txid);
        auto it = m_records.find(p.code);
        // A payment the code's payment replaced (bumpfee) belongs to it too.
        const bool belongs = it != m_records.end() && it->second.state == StoredState::kRedeemed &&
                             (it->second.txid == p.txid ||
                              std::find(it->second.replaced.begin(), it->second.replaced.end(), p.txid) !=
                                  it->second.replaced.end());
        if (!belongs) report.payment_without_redemption.push_back(p);
    }
    for (const auto& [id, record] : m_records) {
        if (record.state == StoredState::kRedeemed && !held.count({id, record.txid})) {
            report.redeemed_without_payment.push_back(id);
        }
    }
    return report;
}

Result<std::vector<IssuedCode>> Ledger::Create(Amount amount, size_t count, const std::string& label,
                                               int64_t expires_at, Solvency* solvency)
{
    Result<std::vector<IssuedCode>> created = CreateCodes(amount, count, label, expires_at);
    // New codes are new liability: the operator hears at once if the
    // wallet cannot cover it.
    if (created.ok()) {
        Solvency after = CheckSolvency(/*tell_insolvent=*/true);
        if (solvency) *solvency = std::move(after);
    }
    return created;
}

Result<std::vector<IssuedCode>> Ledger::CreateCodes(Amount amount, size_t count, const std::string& label,
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
    if (label.find('\0') != std::string::npos) {
        return Status(StatusCode::kInvalidParameter, "label must not contain a NUL character");
    }
    const int64_t now = Now();
    if (expires_at < 0 || (expires_at != 0 && expires_at <= now)) {
        return Status(StatusCode::kInvalidParameter, "expiry must be a unix time in the future, or 0 for none");
    }

    MutexLock write_lock(m_write_mutex);
    std::vector<IssuedCode> issued;
    std::vector<CodeRecord> records;
    std::set<CodeId> fresh;
    RecordWrites writes;
    int64_t sequence;
    {
        MutexLock lock(m_mutex);
        sequence = m_next_sequence;
    }
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
        record.sequence = sequence++;
        records.push_back(std::move(record));
        issued.push_back({id, FormatCode(code.network, code.secret), FormatCodeUri(code.network, code.secret)});
    }
    const auto refuse = [&issued](Status status) -> Result<std::vector<IssuedCode>> {
        for (IssuedCode& c : issued) {
            SecureWipe(&c.code[0], c.code.size());
            SecureWipe(&c.uri[0], c.uri.size());
        }
        return status;
    };
    // Each code's payment key is in the wallet before the code exists, so
    // every backup that holds the code can recognise its payment.
    // Its tag is unique among the wallet's codes, so that a payment's tag
    // names one code (a collision of two codes' tags is likely from some
    // 77,000 codes on): a code whose key's tag is taken gets another key.
    std::set<uint32_t> tags = m_tags;
    std::vector<size_t> unkeyed(records.size());
    for (size_t i = 0; i < unkeyed.size(); ++i) unkeyed[i] = i;
    for (uint32_t attempt = 0; !unkeyed.empty(); ++attempt) {
        if (attempt == MAX_KEY_ATTEMPTS) {
            return refuse(Status(StatusCode::kPaymentFailed, "the wallet gave payment keys whose tags repeat; no code "
                                                             "was created"));
        }
        std::vector<CodeId> ids;
        for (size_t i : unkeyed) ids.push_back(records[i].id);
        std::vector<std::string> keys;
        Status keyed = m_ports.payer.NewPaymentKeys(ids, attempt, keys);
        if (!keyed.ok()) return refuse(keyed);
        if (keys.size() != ids.size() || std::any_of(keys.begin(), keys.end(), [](const std::string& key) {
                return key.size() > MAX_PAYMENT_KEY;
            })) {
            return refuse(Status(StatusCode::kPaymentFailed, "the wallet did not make one payment key per code"));
        }
        std::vector<size_t> again;
        for (size_t k = 0; k < keys.size(); ++k) {
            if (!keys[k].empty() && !tags.insert(PaymentTagOf(keys[k])).second) {
                again.push_back(unkeyed[k]);
                continue;
            }
            records[unkeyed[k]].payment_key = keys[k];
        }
        unkeyed = std::move(again);
    }
    for (const CodeRecord& record : records) {
        writes.push_back({EncodeCodeKey(record.id), EncodeCodeRecord(record), false});
    }
    // Codes handed to a caller must survive any crash: the holder cannot
    // ask again.
    Status committed = m_ports.store.Commit(WithState(std::move(writes)), Durability::kPowerLoss);
    if (!committed.ok()) return refuse(committed);
    {
        MutexLock lock(m_mutex);
        m_next_sequence = sequence;
    }
    Committed();
    m_tags = std::move(tags);
    for (const CodeRecord& record : records) {
        if (!record.payment_key.empty()) m_watched.Add(record.payment_key, WatchedCode{record.id, record.amount});
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
    if (!id.ok()) {
        // Guessing through look-ups counts as through redemptions.
        NoteNothingPaid(std::string("lookup_") + StatusCodeName(id.status().code()));
        return id.status();
    }
    FindPaymentsIfIdle();
    const int64_t now = Now();
    CodeView view;
    bool known = true;
    {
        MutexLock lock(m_mutex);
        auto it = m_records.find(id.value());
        known = it != m_records.end();
        if (known) view = ViewLocked(it->second, now);
    }
    if (!known) {
        NoteNothingPaid("lookup_unknown_code");
        return Status(StatusCode::kUnknownCode, "no such gift code in this wallet");
    }
    // The chain is asked outside the index lock: it takes the host's locks.
    if (view.state == CodeState::kRedeemed) FillPayment(view, now);
    return view;
}

void Ledger::FillPayment(CodeView& view, int64_t now)
{
    view.payment = m_ports.chain.GetTxState(view.record.txid);
    if (view.payment.replaced_by && view.payment.confirmations == 0) {
        // Replaced since the last block (bumpfee): follow it now, so the
        // reply names the transaction that pays.
        (void)FollowOne(view.record.txid, /*broadcast=*/false, /*wait=*/true);
        {
            MutexLock lock(m_mutex);
            view = ViewLocked(m_records.at(view.record.id), now);
        }
        view.payment = m_ports.chain.GetTxState(view.record.txid);
    }
    view.payment_state = PaymentStateOf(view.payment);
}

Result<CodePage> Ledger::List(const ListFilter& filter)
{
    if (filter.count < 1 || filter.count > m_policy.max_batch) {
        return Status(StatusCode::kInvalidParameter,
                      "count must be between 1 and " + std::to_string(m_policy.max_batch));
    }
    FindPaymentsIfIdle();
    const int64_t now = Now();
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
        // Creation order: the sequence, which only grows, so paging stays
        // stable while codes are created. Records from before the sequence
        // existed (0) come first, by time.
        std::sort(matching.begin(), matching.end(), [](const CodeRecord* a, const CodeRecord* b) {
            if (a->sequence != b->sequence) return a->sequence < b->sequence;
            return a->created_at != b->created_at ? a->created_at < b->created_at : a->id < b->id;
        });
        page.total = matching.size();
        std::map<std::string, LabelTotals> totals;
        for (const CodeRecord* record : matching) {
            LabelTotals& label = totals[record->label];
            label.label = record->label;
            StateTotal& total = label.by_state[static_cast<size_t>(StateAt(*record, now))];
            ++total.count;
            total.amount += record->amount;
        }
        for (auto& entry : totals) page.totals.push_back(std::move(entry.second));
        for (size_t i = filter.skip; i < matching.size() && page.codes.size() < filter.count; ++i) {
            page.codes.push_back(ViewLocked(*matching[i], now));
        }
    }
    for (CodeView& view : page.codes) {
        if (view.state == CodeState::kRedeemed) FillPayment(view, now);
    }
    return page;
}

Result<Redemption> Ledger::Refuse(Status status)
{
    {
        MutexLock lock(m_mutex);
        ++m_failures[status.code()];
    }
    if (IsHolderRefusal(status.code())) NoteNothingPaid(StatusCodeName(status.code()));
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
        const int64_t now = Now();
        Decision d;
        {
            MutexLock lock(m_mutex);
            d = DecideLocked(id, address.value(), now);
        }
        if (d.refusal) return Refuse(*d.refusal);
        replay = std::move(d.replay);
    }
    if (replay) {
        NoteNothingPaid("replay");
        return AwaitFirstBroadcast(std::move(*replay));
    }

    Result<Redemption> done = PayQueued(id, address.value());
    if (!done.ok()) return Refuse(done.status());
    if (done->replay) {
        NoteNothingPaid("replay");
        return AwaitFirstBroadcast(std::move(done.value()));
    }
    return done;
}

Result<Redemption> Ledger::PayQueued(const CodeId& id, const std::string& address)
{
    Pending me{id, address, /*taken=*/false, /*done=*/false, std::nullopt};
    {
        MutexLock lock(m_mutex);
        m_queue.push_back(&me);
        // A payment under way waits for more callers only with a wait set.
        if (m_paying && m_policy.payment_wait_ms > 0) m_queue_changed.notify_all();
    }
    while (true) {
        {
            // The payment being made has this caller's turn, or the caller
            // makes the next one, for itself and everyone waiting by then.
            MutexLock lock(m_mutex);
            m_queue_changed.wait(m_mutex, [&]() GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex) {
                return me.done || (!me.taken && !m_paying);
            });
            if (me.done) return std::move(*me.result);
            m_paying = true;
        }
        // Back in the queue if an earlier request of the same code was in
        // the payment: the next turn decides it.
        LeadPayment(me);
    }
}

void Ledger::LeadPayment(Pending& me) noexcept
{
    const size_t most = std::clamp<size_t>(m_policy.max_payment_codes, 1, MAX_TAGS);
    if (m_policy.payment_wait_ms > 0) {
        MutexLock lock(m_mutex);
        m_queue_changed.wait_for(m_mutex, std::chrono::milliseconds(m_policy.payment_wait_ms),
                                 [&]() GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex) { return m_queue.size() >= most; });
    }
    std::vector<Pending*> batch;
    std::vector<Txid> paid;
    {
        MutexLock write_lock(m_write_mutex);
        {
            // The longest waiting, in the order they came, this caller
            // among them.
            MutexLock lock(m_mutex);
            const auto mine = std::find(m_queue.begin(), m_queue.end(), &me);
            const bool me_first = size_t(mine - m_queue.begin()) < most;
            if (!me_first) m_queue.erase(mine);
            while (batch.size() + (me_first ? 0 : 1) < most && !m_queue.empty()) {
                batch.push_back(m_queue.front());
                m_queue.pop_front();
            }
            if (!me_first) batch.push_back(&me);
            for (Pending* p : batch) p->taken = true;
        }
        PayLocked(batch, paid);
        // Broadcast before the next payment is built: until its payment is
        // in the mempool, the wallet does not trust the change of it, and
        // the next payment could not spend that change.
        for (const Txid& txid : paid) {
            const auto broadcast_start = std::chrono::steady_clock::now();
            const BroadcastOutcome outcome = m_ports.payer.Broadcast(txid);
            RecordTiming(Phase::kBroadcast, MicrosSince(broadcast_start));
            MutexLock lock(m_mutex);
            NoteBroadcastLocked(txid, outcome);
            m_first_broadcast.erase(txid);
            for (Pending* p : batch) {
                if (!p->result || !p->result->ok() || p->result->value().replay || p->result->value().txid != txid) {
                    continue;
                }
                Redemption& r = p->result->value();
                r.broadcast = outcome.accepted;
                r.broadcast_error = outcome.reason;
                // Committed a moment ago, so unconfirmed: the broadcast says where it is.
                r.payment_state = outcome.accepted ? PaymentState::kMempool : PaymentState::kNotInMempool;
            }
        }
    }
    if (!paid.empty()) m_first_broadcast_done.notify_all();
    {
        // Every caller of the payment is answered. A second request of a
        // code paid here goes back to the head of the queue, for the next
        // payment to decide.
        MutexLock lock(m_mutex);
        m_paying = false;
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
            if ((*it)->result) {
                (*it)->done = true;
                continue;
            }
            (*it)->taken = false;
            m_queue.push_front(*it);
        }
    }
    m_queue_changed.notify_all();
}

Status Ledger::PaymentGate(int64_t now)
{
    if (m_start_waits && now < m_opened_at + m_policy.start_delay) {
        return Status(StatusCode::kNodeCatchingUp,
                      "the wallet was loaded " + std::to_string(now - m_opened_at) + " s ago; new payments start " +
                          std::to_string(m_policy.start_delay) +
                          " s after it loads, so that earlier payments of its codes reach it first; retry the same "
                          "redemption later");
    }
    if (m_waits_for_block) {
        if (m_ports.chain.TipTime() < m_opened_at) {
            return Status(StatusCode::kNodeCatchingUp,
                          "this wallet was put back from a backup, or loaded without the gift-code state file beside "
                          "it: new payments wait for the next block mined since it was loaded, so that payments of its "
                          "codes made before and still unconfirmed are mined and found first; retry the same "
                          "redemption later");
        }
        m_waits_for_block = false;
    }
    return Status::Ok();
}

void Ledger::PayLocked(const std::vector<Pending*>& batch, std::vector<Txid>& paid)
{
    m_write_mutex.AssertHeld();
    const auto fail = [](const std::vector<Pending*>& pendings, const Status& status) {
        for (Pending* p : pendings) p->result = status;
    };
    // A payment of these codes the wallet took since (relayed by a peer
    // after a restore from a backup) decides before anything is paid.
    if (Status found = FindPaymentsLocked(/*from_start=*/false); !found.ok()) return fail(batch, found);
    const int64_t now = Now();
    std::vector<Pending*> to_pay;
    std::vector<CodeRecord> records;
    std::vector<std::pair<Txid, std::vector<CodeId>>> not_adopted;
    {
        MutexLock lock(m_mutex);
        std::set<CodeId> in_payment;
        for (Pending* p : batch) {
            // A second request of a code waits for this payment's outcome.
            if (in_payment.count(p->id)) continue;
            Decision d = DecideLocked(p->id, p->address, now);
            if (d.refusal) {
                p->result = *d.refusal;
            } else if (d.replay) {
                p->result = std::move(*d.replay);
            } else {
                in_payment.insert(p->id);
                to_pay.push_back(p);
                records.push_back(*d.to_pay);
            }
        }
        not_adopted.assign(m_not_adopted.begin(), m_not_adopted.end());
    }
    if (to_pay.empty()) return;
    if (Status gate = PaymentGate(now); !gate.ok()) return fail(to_pay, gate);
    {
        // The breaker decides here, under the write lock that every payment
        // holds from this decision to its commit: no two payments can both
        // fit into the room one of them leaves.
        MutexLock lock(m_mutex);
        AdmitLocked(to_pay, records, now);
    }
    if (to_pay.empty()) return;
    // A committed payment the wallet has not taken could have its coins
    // picked again: it goes back into the wallet first, or nothing is paid.
    for (const auto& [txid, codes] : not_adopted) {
        std::string payment_tx;
        {
            MutexLock lock(m_mutex);
            payment_tx = m_records.at(codes.front()).payment_tx;
        }
        if (!m_ports.payer.RestorePayment(codes, payment_tx).ok()) {
            return fail(to_pay, Status(StatusCode::kPaymentFailed, "the wallet has not taken back committed payment " +
                                                                       TxidToHex(txid) + "; no payment is made until it has"));
        }
        MutexLock lock(m_mutex);
        m_not_adopted.erase(txid);
    }
    // A code whose tag another code shares is paid alone: only its key
    // (the change) names it in its payment.
    std::vector<Pending*> together;
    std::vector<CodeRecord> together_records;
    for (size_t i = 0; i < to_pay.size(); ++i) {
        if (m_watched.ambiguous.count(PaymentTagOf(records[i].payment_key))) {
            PayGroup({to_pay[i]}, {records[i]}, now, paid);
        } else {
            together.push_back(to_pay[i]);
            together_records.push_back(records[i]);
        }
    }
    if (!together.empty()) PayGroup(together, together_records, now, paid);
}

void Ledger::PayGroup(const std::vector<Pending*>& group, const std::vector<CodeRecord>& records, int64_t now,
                      std::vector<Txid>& paid)
{
    m_write_mutex.AssertHeld();
    {
        // An earlier part of this batch was committed but the wallet has
        // not taken it: its coins could be picked again.
        MutexLock lock(m_mutex);
        if (!m_not_adopted.empty()) {
            for (Pending* p : group) {
                p->result = Status(StatusCode::kPaymentFailed,
                                   "the wallet has not taken back a committed payment; no payment is made until it has");
            }
            return;
        }
    }
    std::vector<CodeRecord> redeemed = records;
    std::vector<PaymentRequest> requests;
    for (size_t i = 0; i < group.size(); ++i) {
        redeemed[i].state = StoredState::kRedeemed;
        redeemed[i].address = group[i]->address;
        redeemed[i].redeemed_at = now;
        requests.push_back({redeemed[i].id, redeemed[i].address, redeemed[i].amount, redeemed[i].payment_key, NO_VOUT});
    }
    // INVARIANT: the redeemed records (each holding the signed payment)
    // and the wallet's copy of the payment commit in one durable database
    // transaction, before the payment can leave the node. Nothing below
    // ever makes a code issued again.
    const RecordWrites state = WithState({});
    const RecordsForPayment records_for = [&redeemed, &state](const std::vector<Payment>& payments) {
        RecordWrites writes;
        // One payment per request, in order (the payer's contract).
        const size_t paid = std::min(redeemed.size(), payments.size());
        for (size_t i = 0; i < paid; ++i) {
            CodeRecord r = redeemed[i];
            r.txid = payments[i].txid;
            r.vout = payments[i].vout;
            r.fee = payments[i].fee;
            r.payment_tx = payments[i].serialized_tx;
            if (r.payment_key.empty()) r.payment_key = payments[i].payment_key;
            writes.push_back({EncodeCodeKey(r.id), EncodeCodeRecord(r), false});
        }
        writes.insert(writes.end(), state.begin(), state.end());
        return writes;
    };
    Result<CommittedPayment> committed = m_ports.payer.PayAndRecord(requests, records_for);
    if (!committed.ok()) {
        const StatusCode code = committed.status().code();
        // Funds or the transaction itself (too large, say): each half may
        // still be paid. Anything else (the wallet locked, the node
        // catching up, the database) fails every part alike.
        const bool splits = code == StatusCode::kInsufficientFunds || code == StatusCode::kFundsPending ||
                            code == StatusCode::kPaymentFailed || code == StatusCode::kInvalidAddress;
        if (group.size() > 1 && splits) {
            {
                MutexLock lock(m_mutex);
                ++m_batches.splits;
            }
            const size_t half = group.size() / 2;
            PayGroup({group.begin(), group.begin() + half}, {records.begin(), records.begin() + half}, now, paid);
            PayGroup({group.begin() + half, group.end()}, {records.begin() + half, records.end()}, now, paid);
            return;
        }
        for (Pending* p : group) p->result = committed.status();
        return;
    }
    const std::vector<Payment>& payments = committed->payments;
    assert(payments.size() == group.size());
    const Txid txid = payments.front().txid;
    std::vector<CodeId> ids;
    for (size_t i = 0; i < group.size(); ++i) {
        assert(payments[i].amount == redeemed[i].amount && payments[i].code == redeemed[i].id &&
               payments[i].txid == txid);
        m_watched.Erase(redeemed[i].payment_key);
        redeemed[i].txid = txid;
        redeemed[i].vout = payments[i].vout;
        redeemed[i].fee = payments[i].fee;
        redeemed[i].payment_tx = payments[i].serialized_tx;
        if (redeemed[i].payment_key.empty()) redeemed[i].payment_key = payments[i].payment_key;
        ids.push_back(redeemed[i].id);
    }
    Committed();
    {
        // The index follows the commit at once, before anything else runs.
        MutexLock lock(m_mutex);
        for (const CodeRecord& r : redeemed) {
            m_records[r.id] = r;
            m_followed[txid].insert(r.id);
            m_window.Add(r.redeemed_at, r.amount, r.label);
        }
        m_first_broadcast.insert(txid);
        if (!committed->adopted) m_not_adopted.emplace(txid, ids);
        ++m_batches.payments;
        m_batches.codes += group.size();
        m_batches.largest = std::max(m_batches.largest, group.size());
    }
    RecordTiming(Phase::kBuild, committed->build_us);
    RecordTiming(Phase::kCommit, committed->commit_us);
    RecordTiming(Phase::kAdopt, committed->adopt_us);
    if (!committed->adopted && m_ports.payer.RestorePayment(ids, redeemed.front().payment_tx).ok()) {
        MutexLock lock(m_mutex);
        m_not_adopted.erase(txid);
    }
    for (size_t i = 0; i < group.size(); ++i) {
        group[i]->result = RedemptionOf(redeemed[i]);
        Emit(Event{EventKind::kRedeemed, redeemed[i].id, txid,
                   "committed: " + FormatAmount(redeemed[i].amount) + " to " + redeemed[i].address +
                       (group.size() > 1 ? ", one of " + std::to_string(group.size()) + " codes paid together" : "")});
    }
    paid.push_back(txid);
}

Redemption Ledger::AwaitFirstBroadcast(Redemption replay)
{
    {
        // The first broadcast is a local call that returns in milliseconds;
        // the bound only keeps a stuck host from stalling replays forever.
        MutexLock lock(m_mutex);
        m_first_broadcast_done.wait_for(m_mutex, std::chrono::seconds(10), [&]() GC_EXCLUSIVE_LOCKS_REQUIRED(m_mutex) {
            return m_first_broadcast.count(replay.txid) == 0;
        });
    }
    const int64_t now = Now();
    CodeView view;
    {
        MutexLock lock(m_mutex);
        view = ViewLocked(m_records.at(replay.id), now);
    }
    FillPayment(view, now);
    replay.txid = view.record.txid;
    replay.vout = view.record.vout;
    replay.fee = view.record.fee;
    const TxChainState& state = view.payment;
    replay.payment_state = view.payment_state;
    replay.broadcast = state.in_mempool || state.confirmations > 0;
    if (!replay.broadcast) {
        // The mempool's own refusal says most; otherwise the state's reason.
        MutexLock lock(m_mutex);
        auto it = m_broadcast_errors.find(replay.txid);
        const bool refused = replay.payment_state == PaymentState::kNotInMempool && it != m_broadcast_errors.end();
        replay.broadcast_error = refused ? it->second : ReasonFor(replay.payment_state, state);
    }
    return replay;
}

Result<CodeView> Ledger::Cancel(const std::string& code_or_id)
{
    Result<CodeId> id = Resolve(code_or_id);
    if (!id.ok()) return id.status();
    MutexLock write_lock(m_write_mutex);
    const int64_t now = Now();
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
    Status committed = m_ports.store.Commit(
        WithState({{EncodeCodeKey(cancelled.id), EncodeCodeRecord(cancelled), false}}), Durability::kPowerLoss);
    if (!committed.ok()) return committed;
    Committed();
    MutexLock lock(m_mutex);
    m_records[cancelled.id] = cancelled;
    return ViewLocked(cancelled, now);
}

std::vector<PaymentNotice> Ledger::FollowPayments() { return Follow(/*broadcast=*/true); }

std::string Ledger::ReasonFor(PaymentState state, const TxChainState& chain_state)
{
    switch (state) {
    case PaymentState::kMempool:
    case PaymentState::kConfirmed:
    case PaymentState::kBuried:
        return "";
    case PaymentState::kNotInMempool:
        return "not in the mempool; resubmitted on every block";
    case PaymentState::kConflicted:
        return "a conflicting transaction is confirmed (" + std::to_string(chain_state.conflict_depth) +
               " deep), so the holder is not paid; it can still come back in a reorg. Do not pay the holder "
               "another way while it can";
    case PaymentState::kDead:
        return "a conflicting transaction is " + std::to_string(chain_state.conflict_depth) +
               " blocks deep: this payment can never confirm and the holder was not paid by it. The module "
               "never pays a code twice; check the conflicting transaction did not pay the holder, then pay "
               "them once by hand";
    case PaymentState::kAbandoned:
        return "the payment was abandoned (abandontransaction) and is not resubmitted, so the holder is not "
               "paid; while its inputs are unspent, sendrawtransaction of its hex puts it back. Do not pay the "
               "holder another way while it can still confirm";
    case PaymentState::kMissing:
        return "the wallet does not hold the payment and it could not be put back";
    }
    return "";
}

Status Ledger::MovePayment(std::vector<CodeRecord>& records, const std::vector<Payment>& payments, bool wait,
                           bool& busy)
{
    busy = false;
    std::vector<CodeRecord> moved = records;
    RecordWrites writes;
    for (size_t i = 0; i < moved.size(); ++i) {
        CodeRecord& m = moved[i];
        const Payment& payment = payments[i];
        m.replaced.push_back(records[i].txid);
        m.replaced.erase(std::remove(m.replaced.begin(), m.replaced.end(), payment.txid), m.replaced.end());
        if (m.replaced.size() > MAX_REPLACED) m.replaced.erase(m.replaced.begin());
        m.txid = payment.txid;
        m.vout = payment.vout;
        m.fee = payment.fee;
        m.payment_tx = payment.serialized_tx;
        writes.push_back({EncodeCodeKey(m.id), EncodeCodeRecord(m), false});
    }
    if (wait) {
        m_write_mutex.lock();
    } else if (!m_write_mutex.try_lock()) {
        busy = true;
        return Status(StatusCode::kStoreFailure, "a write is under way");
    }
    // Another caller may have moved them meanwhile.
    {
        MutexLock lock(m_mutex);
        for (const CodeRecord& record : records) {
            if (m_records.at(record.id).txid != record.txid) {
                m_write_mutex.unlock();
                busy = true;
                return Status(StatusCode::kStoreFailure, "moved meanwhile");
            }
        }
    }
    Status committed = m_ports.store.Commit(WithState(std::move(writes)), Durability::kPowerLoss);
    if (!committed.ok()) {
        m_write_mutex.unlock();
        return committed;
    }
    Committed();
    MutexLock lock(m_mutex);
    const Txid old_txid = records.front().txid;
    for (const CodeRecord& m : moved) {
        m_records[m.id] = m;
        m_followed[m.txid].insert(m.id);
    }
    m_followed.erase(old_txid);
    m_broadcast_errors.erase(old_txid);
    m_not_adopted.erase(old_txid);
    for (const CodeRecord& m : moved) {
        Emit(Event{EventKind::kReplaced, m.id, m.txid,
                   "the payment is now this transaction, not " + TxidToHex(old_txid) +
                       " (the wallet replaced it, or the one it replaced confirmed instead); the holder is paid "
                       "once"});
    }
    records = std::move(moved);
    m_write_mutex.unlock();
    return Status::Ok();
}

std::vector<CodeRecord> Ledger::RecordsPaidBy(const Txid& txid)
{
    MutexLock lock(m_mutex);
    std::vector<CodeRecord> records;
    auto it = m_followed.find(txid);
    if (it == m_followed.end()) return records;
    // A move to a replacement follows the new txid instead of this one, so
    // every code listed here is still paid by it.
    for (const CodeId& id : it->second) records.push_back(m_records.at(id));
    return records;
}

std::vector<PaymentNotice> Ledger::FollowOne(const Txid& first_txid, bool broadcast, bool wait)
{
    std::vector<CodeRecord> records = RecordsPaidBy(first_txid);
    if (records.empty()) return {};
    std::sort(records.begin(), records.end(),
              [](const CodeRecord& a, const CodeRecord& b) { return a.vout < b.vout; });
    std::vector<CodeId> ids;
    for (const CodeRecord& record : records) ids.push_back(record.id);
    const Txid txid = first_txid;
    TxChainState state = m_ports.chain.GetTxState(txid);
    std::string problem;
    if (!state.known) {
        // Lost by the wallet (zapped, salvaged, never adopted): the very
        // same transaction goes back, never a new one.
        const std::string& payment_tx = records.front().payment_tx;
        if (payment_tx.empty()) {
            problem = "the wallet does not hold the payment, and its record (from an older version) has no "
                      "copy of it to put back";
        } else if (Status restored = m_ports.payer.RestorePayment(ids, payment_tx); !restored.ok()) {
            problem = "the wallet does not hold the payment and could not take it back: " + restored.message();
        } else {
            MutexLock lock(m_mutex);
            m_not_adopted.erase(txid);
        }
        state = m_ports.chain.GetTxState(txid);
    }
    // The payment of every code, as the wallet's transaction `by`.
    // Two codes of one amount paid to one address have outputs alike: each
    // gets its own, the next alike one after an output taken.
    const auto payments_in = [&](const Txid& by, std::vector<Payment>& payments) -> Status {
        payments.clear();
        std::set<uint32_t> taken;
        for (const CodeRecord& r : records) {
            PaymentRequest request{r.id, r.address, r.amount, r.payment_key, r.vout};
            Result<Payment> payment = m_ports.payer.GetPayment(by, request);
            for (size_t tries = 0; payment.ok() && taken.count(payment->vout) && tries <= MAX_TAGS; ++tries) {
                request.vout = payment->vout + 1;
                payment = m_ports.payer.GetPayment(by, request);
            }
            if (!payment.ok()) return payment.status();
            if (taken.count(payment->vout)) {
                return Status(StatusCode::kPaymentFailed, "it has fewer outputs to the holders than codes");
            }
            taken.insert(payment->vout);
            payments.push_back(std::move(payment.value()));
        }
        return Status::Ok();
    };
    // Replaced by the wallet (bumpfee), possibly several times over: the
    // codes' payment is the unconfirmed replacement that now pays the
    // holders.
    for (size_t hops = 0; state.replaced_by && state.confirmations == 0 && hops <= MAX_REPLACED; ++hops) {
        const Txid replaced_by = *state.replaced_by;
        std::vector<Payment> replacement;
        if (Status got = payments_in(replaced_by, replacement); !got.ok()) {
            problem = "replaced by " + TxidToHex(replaced_by) + ", which is not followed: " + got.message();
            break;
        }
        bool busy = false;
        if (Status moved = MovePayment(records, replacement, wait, busy); !moved.ok()) {
            // A write is under way: the move, and judging this payment, wait
            // for a later block (the replaced transaction is not the one to
            // resubmit or report).
            if (busy) return {};
            problem = "replaced by " + TxidToHex(replaced_by) + ", but recording that failed: " + moved.message();
            break;
        }
        state = m_ports.chain.GetTxState(records.front().txid);
    }
    // The other way round: a transaction this payment replaced was mined
    // instead of it. That one pays the holders.
    if (state.conflicted) {
        const std::vector<Txid> replaced = records.front().replaced;
        for (const Txid& earlier : std::vector<Txid>(replaced.rbegin(), replaced.rend())) {
            if (m_ports.chain.GetTxState(earlier).confirmations <= 0) continue;
            std::vector<Payment> mined;
            bool busy = false;
            if (payments_in(earlier, mined).ok() && MovePayment(records, mined, wait, busy).ok()) {
                state = m_ports.chain.GetTxState(records.front().txid);
                break;
            }
        }
    }
    const Txid paying = records.front().txid;
    PaymentState payment_state = PaymentStateOf(state);
    // A payment in the mempool is announced again on every block: it may
    // have reached no peer (no peer was connected when it entered the
    // mempool, or the node lost power a moment later and took it back from
    // the wallet at start, when the node announces nothing). A peer that
    // already knows it is not told again.
    if (broadcast && payment_state == PaymentState::kMempool) (void)m_ports.payer.Broadcast(paying);
    if (broadcast && payment_state == PaymentState::kNotInMempool) {
        const BroadcastOutcome outcome = m_ports.payer.Broadcast(paying);
        {
            MutexLock lock(m_mutex);
            NoteBroadcastLocked(paying, outcome);
        }
        if (outcome.accepted) {
            payment_state = PaymentState::kMempool;
        } else {
            problem = "not in the mempool (" + outcome.reason + "); resubmitted on every block";
        }
    }
    // Outside the mempool but not offered to it yet (at load, before the
    // wallet resubmits its transactions; or between blocks): judged when a
    // block's follow-up has tried it.
    if (!broadcast && payment_state == PaymentState::kNotInMempool && problem.empty()) return {};
    if (problem.empty()) problem = ReasonFor(payment_state, state);
    const bool attention = NeedsAttention(payment_state) || !problem.empty();
    MutexLock lock(m_mutex);
    // Told on the block that buries it; one buried while the wallet was
    // not loaded is dropped at open without a word (else every load would
    // tell every payment ever made).
    if (payment_state == PaymentState::kBuried && m_followed.erase(paying) && broadcast) {
        for (const CodeRecord& record : records) {
            Emit(Event{EventKind::kBuried, record.id, paying,
                       std::to_string(state.confirmations) + " confirmations: final, no longer followed"});
        }
    }
    if (payment_state == PaymentState::kMempool || payment_state == PaymentState::kConfirmed ||
        payment_state == PaymentState::kBuried) {
        m_broadcast_errors.erase(paying);
    }
    std::vector<PaymentNotice> changed;
    for (const CodeRecord& record : records) {
        const CodeId& id = record.id;
        auto it = m_attention.find(id);
        if (attention) {
            PaymentNotice notice{id, paying, payment_state, problem};
            if (it == m_attention.end() || it->second.state != notice.state || it->second.txid != notice.txid) {
                changed.push_back(notice);
            }
            m_attention[id] = std::move(notice);
        } else if (it != m_attention.end()) {
            changed.push_back(PaymentNotice{id, paying, payment_state, ""});
            m_attention.erase(it);
        }
    }
    for (const PaymentNotice& notice : changed) {
        Emit(Event{EventKind::kAttention, notice.id, notice.txid,
                   std::string(PaymentStateName(notice.state)) + ": " +
                       (notice.reason.empty() ? "needs nothing any more" : notice.reason)});
    }
    return changed;
}

std::vector<PaymentNotice> Ledger::Follow(bool broadcast)
{
    std::vector<Txid> followed;
    {
        MutexLock lock(m_mutex);
        for (const auto& entry : m_followed) followed.push_back(entry.first);
    }
    std::vector<PaymentNotice> notices;
    for (const Txid& txid : followed) {
        std::vector<PaymentNotice> changed = FollowOne(txid, broadcast, /*wait=*/false);
        notices.insert(notices.end(), changed.begin(), changed.end());
    }
    // The check compares the index with the wallet: it needs the write lock,
    // or a payment committed a moment ago would read as unredeemed.
    if (m_write_mutex.try_lock()) {
        (void)FindPaymentsLocked(/*from_start=*/false);
        ConsistencyReport report = CheckConsistency();
        // A redeemed code whose payment the wallet lacks or holds untagged
        // (a rescan after -zapwallettxes=2 drops the tag): put it back.
        bool restored = false;
        for (const CodeId& id : report.redeemed_without_payment) {
            std::string payment_tx;
            std::vector<CodeId> codes;
            {
                MutexLock lock(m_mutex);
                const CodeRecord& record = m_records.at(id);
                payment_tx = record.payment_tx;
                // Every code of the payment gets its tag back with it.
                auto paid = m_followed.find(record.txid);
                if (paid != m_followed.end()) codes.assign(paid->second.begin(), paid->second.end());
                if (std::find(codes.begin(), codes.end(), id) == codes.end()) codes.push_back(id);
            }
            restored |= !payment_tx.empty() && m_ports.payer.RestorePayment(codes, payment_tx).ok();
        }
        if (restored) report = CheckConsistency();
        {
            MutexLock lock(m_mutex);
            KeepConsistencyLocked(std::move(report));
        }
        m_write_mutex.unlock();
    }
    return notices;
}

void Ledger::NoteBroadcastLocked(const Txid& txid, const BroadcastOutcome& outcome)
{
    m_mutex.AssertHeld();
    if (outcome.accepted) {
        m_broadcast_errors.erase(txid);
        return;
    }
    auto [it, added] = m_broadcast_errors.emplace(txid, outcome.reason);
    // Told once per reason, not on every block it is resubmitted.
    if (!added && it->second == outcome.reason) return;
    it->second = outcome.reason;
    auto paid = m_followed.find(txid);
    if (paid == m_followed.end()) return;
    for (const CodeId& id : paid->second) {
        Emit(Event{EventKind::kNotAccepted, id, txid,
                   "the mempool refused the payment (" + outcome.reason +
                       "); it stays redeemed with this payment, which is resubmitted on every block"});
    }
}

void Ledger::KeepConsistencyLocked(ConsistencyReport report)
{
    m_mutex.AssertHeld();
    const ConsistencyReport& before = m_consistency;
    if (!report.checked && report.error != before.error) {
        Emit(Event{EventKind::kConsistency, std::nullopt, std::nullopt,
                   "the consistency check could not run: " + report.error});
    }
    const std::set<CodeId> known_records(before.redeemed_without_payment.begin(),
                                         before.redeemed_without_payment.end());
    for (const CodeId& id : report.redeemed_without_payment) {
        if (known_records.count(id)) continue;
        // The report names only redeemed records of the index.
        Emit(Event{EventKind::kConsistency, id, m_records.at(id).txid,
                   "the code is redeemed with this payment, which the wallet does not hold tagged with it"});
    }
    std::set<std::pair<CodeId, Txid>> known_payments;
    for (const TaggedPayment& p : before.payment_without_redemption) known_payments.emplace(p.code, p.txid);
    for (const TaggedPayment& p : report.payment_without_redemption) {
        if (known_payments.count({p.code, p.txid})) continue;
        Emit(Event{EventKind::kConsistency, p.code, p.txid,
                   "the wallet holds this payment tagged with the code, which is not redeemed with it"});
    }
    m_consistency = std::move(report);
}

void Ledger::RecordTiming(Phase phase, uint64_t us)
{
    MutexLock lock(m_mutex);
    m_timings[phase].Add(us);
}

ConsistencyReport Ledger::Consistency()
{
    MutexLock lock(m_mutex);
    return m_consistency;
}

namespace {

//! What a change of solvency tells the operator.
Event SolvencyEvent(const Solvency& solvency)
{
    Event event;
    if (solvency.solvent) {
        event.kind = EventKind::kSolvent;
        event.reason = "the wallet can pay every outstanding code again: " + FormatAmount(solvency.liability) +
                       " owed, " + FormatAmount(solvency.spendable) + " spendable";
        return event;
    }
    // The largest first, at most MAX_NAMED: a command line is bounded.
    constexpr size_t MAX_NAMED = 20;
    std::vector<const LabelSolvency*> uncovered;
    for (const LabelSolvency& l : solvency.labels) {
        if (!l.covered) uncovered.push_back(&l);
    }
    std::stable_sort(uncovered.begin(), uncovered.end(),
                     [](const LabelSolvency* a, const LabelSolvency* b) { return a->liability > b->liability; });
    std::string labels = uncovered.empty() ? "none" : uncovered.front()->label;
    for (size_t i = 1; i < std::min(uncovered.size(), MAX_NAMED); ++i) labels += ", " + uncovered[i]->label;
    if (uncovered.size() > MAX_NAMED) labels += " and " + std::to_string(uncovered.size() - MAX_NAMED) + " more";
    event.kind = EventKind::kInsolvent;
    event.reason = "outstanding codes are worth " + FormatAmount(solvency.liability) + ", the wallet can spend " +
                   FormatAmount(solvency.spendable) + " (short by " + FormatAmount(solvency.shortfall) +
                   "); labels it cannot cover alone: " + labels;
    return event;
}

} // namespace

Solvency Ledger::CheckSolvency(bool tell_insolvent)
{
    Solvency solvency;
    const Result<Amount> spendable = m_ports.payer.SpendableBalance();
    const int64_t now = Now();
    {
        // The event is told under the lock, so that events come in the
        // order the verdicts were kept.
        MutexLock lock(m_mutex);
        std::map<std::string, Amount> by_label;
        for (const auto& entry : m_records) {
            const CodeRecord& record = entry.second;
            if (StateAt(record, now) != CodeState::kIssued) continue;
            solvency.liability += record.amount;
            by_label[record.label] += record.amount;
        }
        if (!spendable.ok()) {
            solvency.error = spendable.status().message();
            return solvency;
        }
        solvency.checked = true;
        solvency.spendable = spendable.value();
        solvency.solvent = solvency.liability <= solvency.spendable;
        solvency.shortfall = solvency.solvent ? 0 : solvency.liability - solvency.spendable;
        for (const auto& [label, liability] : by_label) {
            solvency.labels.push_back(LabelSolvency{label, liability, liability <= solvency.spendable});
        }
        const bool was_solvent = m_solvent.value_or(true);
        m_solvent = solvency.solvent;
        if (was_solvent != solvency.solvent || (tell_insolvent && !solvency.solvent)) {
            Emit(SolvencyEvent(solvency));
        }
    }
    return solvency;
}

void Ledger::AdmitLocked(std::vector<Pending*>& to_pay, std::vector<CodeRecord>& records, int64_t now)
{
    m_mutex.AssertHeld();
    if (m_breaker.paused) {
        const Status paused(StatusCode::kPaused, "redemptions are paused by the operator" +
                                                     (m_breaker.pause_reason.empty() ? std::string()
                                                                                     : " (" + m_breaker.pause_reason + ")") +
                                                     "; the code stays issued, retry the same redemption later");
        for (Pending* p : to_pay) p->result = paused;
        to_pay.clear();
        records.clear();
        return;
    }
    const std::vector<WindowLimit>& limits = LimitsLocked();
    if (limits.empty()) return;
    m_window.Prune(now);
    std::vector<std::pair<Amount, std::string>> admitted;
    std::vector<Pending*> kept;
    std::vector<CodeRecord> kept_records;
    for (size_t i = 0; i < to_pay.size(); ++i) {
        std::optional<LimitRefusal> refusal = m_window.Admit(now, records[i].amount, records[i].label, limits, admitted);
        if (refusal) {
            to_pay[i]->result = Status(StatusCode::kLimitReached, refusal->message);
            if (!m_tripped) {
                Emit(Event{EventKind::kBreaker, std::nullopt, std::nullopt, "tripped: " + refusal->message});
            }
            m_tripped = std::move(refusal);
            m_tripped_at = now;
            continue;
        }
        admitted.emplace_back(records[i].amount, records[i].label);
        kept.push_back(to_pay[i]);
        kept_records.push_back(records[i]);
    }
    // A redemption admitted again: the breaker lets them through.
    if (!kept.empty() && m_tripped && kept.size() == to_pay.size()) {
        Emit(Event{EventKind::kBreaker, std::nullopt, std::nullopt,
                   "closed: redemptions fit the limits again (" + DescribeLimit(m_tripped->limit) + ")"});
        m_tripped.reset();
    }
    to_pay = std::move(kept);
    records = std::move(kept_records);
}

BreakerInfo Ledger::BreakerLocked(int64_t now)
{
    m_mutex.AssertHeld();
    BreakerInfo info;
    info.paused = m_breaker.paused;
    info.pause_reason = m_breaker.pause_reason;
    info.paused_at = m_breaker.paused_at;
    info.own_limits = m_breaker.own_limits;
    m_window.Prune(now);
    info.limits = m_window.States(now, LimitsLocked());
    info.tripped = m_tripped;
    info.tripped_at = m_tripped ? m_tripped_at : 0;
    return info;
}

BreakerInfo Ledger::Breaker()
{
    const int64_t now = Now();
    MutexLock lock(m_mutex);
    return BreakerLocked(now);
}

Result<BreakerInfo> Ledger::StoreBreaker(const BreakerSettings& settings, const Event& event)
{
    MutexLock write_lock(m_write_mutex);
    Status committed = m_ports.store.Commit(WithState({{EncodeBreakerKey(), EncodeBreakerSettings(settings), false}}),
                                            Durability::kPowerLoss);
    if (!committed.ok()) return committed;
    Committed();
    const int64_t now = Now();
    MutexLock lock(m_mutex);
    m_breaker = settings;
    // New limits or a resume start afresh: the next refusal trips again.
    m_tripped.reset();
    Emit(event);
    return BreakerLocked(now);
}

Result<BreakerInfo> Ledger::SetLimits(const std::optional<std::vector<WindowLimit>>& limits)
{
    if (limits && limits->size() > MAX_LIMITS) {
        return Status(StatusCode::kInvalidParameter, "at most " + std::to_string(MAX_LIMITS) + " limits");
    }
    std::string described;
    for (const WindowLimit& limit : limits.value_or(std::vector<WindowLimit>{})) {
        if (Status s = CheckLimit(limit); !s.ok()) return s;
        described += (described.empty() ? "" : "; ") + DescribeLimit(limit);
    }
    BreakerSettings settings;
    {
        MutexLock lock(m_mutex);
        settings = m_breaker;
    }
    settings.own_limits = limits.has_value();
    settings.limits = limits.value_or(std::vector<WindowLimit>{});
    return StoreBreaker(settings, Event{EventKind::kBreaker, std::nullopt, std::nullopt,
                                        limits ? "limits set: " + (described.empty() ? std::string("none") : described)
                                               : std::string("limits set: the node's (-giftcodelimit)")});
}

Result<BreakerInfo> Ledger::Pause(const std::string& reason)
{
    if (reason.size() > MAX_LABEL || reason.find('\0') != std::string::npos) {
        return Status(StatusCode::kInvalidParameter, "the reason must be at most 256 bytes, without a NUL character");
    }
    BreakerSettings settings;
    {
        MutexLock lock(m_mutex);
        settings = m_breaker;
    }
    settings.paused = true;
    settings.pause_reason = reason;
    settings.paused_at = Now();
    return StoreBreaker(settings, Event{EventKind::kBreaker, std::nullopt, std::nullopt,
                                        "paused by the operator" + (reason.empty() ? std::string() : ": " + reason)});
}

Result<BreakerInfo> Ledger::Resume()
{
    BreakerSettings settings;
    {
        MutexLock lock(m_mutex);
        settings = m_breaker;
    }
    settings.paused = false;
    settings.pause_reason.clear();
    settings.paused_at = 0;
    return StoreBreaker(settings, Event{EventKind::kBreaker, std::nullopt, std::nullopt, "resumed by the operator"});
}

LedgerInfo Ledger::Info()
{
    FindPaymentsIfIdle();
    const Solvency solvency = CheckSolvency();
    const int64_t now = Now();
    LedgerInfo info;
    info.solvency = solvency;
    info.waits_for_block = m_waits_for_block && m_ports.chain.TipTime() < m_opened_at;
    MutexLock lock(m_mutex);
    info.restore = m_restore;
    info.start_wait = m_start_waits ? std::max<int64_t>(0, m_opened_at + m_policy.start_delay - now) : 0;
    for (const auto& entry : m_attention) info.attention.push_back(entry.second);
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
    info.batches = m_batches;
    info.waiting = m_queue.size();
    info.breaker = BreakerLocked(now);
    return info;
}

} // namespace giftcode
