#include "service.h"

#include "log.h"

#include <rpc.h>
#include <sha256.h>

#include <algorithm>
#include <cassert>
#include <ctime>

namespace giftcode::claim {
namespace {

int64_t UnixNow() { return static_cast<int64_t>(std::time(nullptr)); }

bool Active(ClaimState state)
{
    switch (state) {
    case ClaimState::kQueued:
    case ClaimState::kSending:
    case ClaimState::kRetrying:
        return true;
    case ClaimState::kDone:
    case ClaimState::kFailed:
        return false;
    }
    return false;
}

//! The code's text for the node, canonical, in a string the caller wipes.
std::string CodeText(Network network, const ParsedCode& code) { return FormatCode(network, code.secret); }

void WipeString(std::string& text)
{
    if (!text.empty()) SecureWipe(&text[0], text.size());
    text.clear();
}

bool IsTxid(const UniValue& value)
{
    if (!value.isStr() || value.get_str().size() != 64) return false;
    const std::string& text = value.get_str();
    return std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

UniValue NullOr(const UniValue& value) { return value.isNull() ? UniValue(UniValue::VNULL) : value; }

} // namespace

const char* ClaimStateName(ClaimState state)
{
    switch (state) {
    case ClaimState::kQueued: return "queued";
    case ClaimState::kSending: return "sending";
    case ClaimState::kRetrying: return "retrying";
    case ClaimState::kDone: return "done";
    case ClaimState::kFailed: return "failed";
    }
    return "unknown";
}

UniValue HolderView(const UniValue& node_code)
{
    static const char* const fields[] = {"id", "state", "amount", "created_at", "expires_at", "txid", "vout",
                                         "address", "redeemed_at", "confirmations", "payment_state"};
    UniValue view(UniValue::VOBJ);
    if (!node_code.isObject()) return view;
    for (const char* field : fields) {
        if (node_code.exists(field)) view.pushKV(field, node_code[field]);
    }
    return view;
}

UniValue RedeemedView(const UniValue& before, const UniValue& redemption)
{
    UniValue view(UniValue::VOBJ);
    UniValue paid = HolderView(redemption);
    const UniValue& payment_state = redemption["payment_state"];
    if (payment_state.isStr() && (payment_state.get_str() == "mempool" || payment_state.get_str() == "not_in_mempool")) {
        paid.pushKV("confirmations", 0);
    }
    paid.pushKV("state", "redeemed");
    // The fields the redemption does not carry (created_at, expires_at)
    // from what the node said before, the rest from the redemption.
    if (before.isObject()) {
        for (const std::string& key : before.getKeys()) {
            if (!paid.exists(key)) view.pushKV(key, before[key]);
        }
    }
    for (const std::string& key : paid.getKeys()) view.pushKV(key, paid[key]);
    return view;
}

Answer ErrorAnswer(const ApiError& error)
{
    Answer answer;
    answer.http = error.http;
    answer.body = UniValue(UniValue::VOBJ);
    answer.body.pushKV("error", ErrorValue(error));
    answer.retry_after = error.retry_after;
    return answer;
}

ClaimService::ClaimService(const Config& config, std::vector<std::unique_ptr<NodeRpc>> nodes)
    : m_config(config),
      m_failed_lookups(config.limits.failed_lookups_per_minute, static_cast<size_t>(config.limits.clients)),
      m_claims(config.limits.claims_per_minute, static_cast<size_t>(config.limits.clients))
{
    assert(nodes.size() == config.nodes.size() && !nodes.empty());
    for (size_t i = 0; i < nodes.size(); ++i) {
        auto lane = std::make_unique<Lane>();
        lane->rpc = std::move(nodes[i]);
        lane->capacity = config.nodes[i].queue;
        m_lanes.push_back(std::move(lane));
    }
    for (size_t i = 0; i < m_lanes.size(); ++i) {
        for (int w = 0; w < config.nodes[i].connections; ++w) {
            m_lanes[i]->workers.emplace_back([this, i] { Work(i); });
        }
    }
    m_timer_thread = std::thread([this] { RunTimers(); });
}

ClaimService::~ClaimService() { Stop(); }

void ClaimService::Stop()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_stopping) return;
        m_stopping = true;
        for (auto& lane : m_lanes) lane->wake.notify_all();
        m_timer_wake.notify_all();
    }
    for (auto& lane : m_lanes) {
        for (std::thread& worker : lane->workers) worker.join();
    }
    m_timer_thread.join();
}

void ClaimService::Work(size_t index)
{
    Lane& lane = *m_lanes[index];
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        lane.wake.wait(lock, [&] { return m_stopping || !lane.retries.empty() || !lane.fresh.empty(); });
        if (m_stopping) return;
        std::deque<std::function<void()>>& from = lane.retries.empty() ? lane.fresh : lane.retries;
        std::function<void()> job = std::move(from.front());
        from.pop_front();
        ++lane.running;
        lock.unlock();
        job();
        lock.lock();
        --lane.running;
    }
}

bool ClaimService::Enqueue(size_t index, std::function<void()> job, bool retry)
{
    Lane& lane = *m_lanes[index];
    if (m_stopping) return false;
    // The bound counts every call in flight or waiting: at most
    // `connections` run, and `queue` more wait.
    if (!retry && Full(index)) return false;
    (retry ? lane.retries : lane.fresh).push_back(std::move(job));
    lane.wake.notify_one();
    return true;
}

void ClaimService::At(Clock::time_point when, std::function<void()> task)
{
    m_timers.emplace(when, std::move(task));
    m_timer_wake.notify_one();
}

void ClaimService::RunTimers()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    while (!m_stopping) {
        if (m_timers.empty()) {
            m_timer_wake.wait(lock);
            continue;
        }
        auto first = m_timers.begin();
        if (first->first > Clock::now()) {
            m_timer_wake.wait_until(lock, first->first);
            continue;
        }
        std::function<void()> task = std::move(first->second);
        m_timers.erase(first);
        lock.unlock();
        task();
        lock.lock();
    }
}

void ClaimService::Send(Replies& replies)
{
    for (auto& [reply, answer] : replies) reply(std::move(answer));
    replies.clear();
}

int ClaimService::FailedLookupWait(const std::string& client) { return m_failed_lookups.RetryAfter(client, Clock::now()); }

void ClaimService::RefundLookupToken(const std::string& client) { m_failed_lookups.Refund(client); }

bool ClaimService::TakeLookupToken(const std::string& client, int& retry_after)
{
    return m_failed_lookups.Take(client, Clock::now(), retry_after);
}

UniValue ClaimService::ClaimValue(const ClaimRecord& record) const
{
    UniValue value(UniValue::VOBJ);
    value.pushKV("state", ClaimStateName(record.state));
    value.pushKV("address", record.address);
    value.pushKV("attempts", record.attempts);
    value.pushKV("started_at", record.started_at);
    value.pushKV("retry_at", record.state == ClaimState::kRetrying ? UniValue(record.retry_at) : UniValue(UniValue::VNULL));
    value.pushKV("txid", record.txid.empty() ? UniValue(UniValue::VNULL) : UniValue(record.txid));
    value.pushKV("vout", NullOr(record.vout));
    value.pushKV("replay", record.replay);
    const std::optional<ApiError>& error = record.state == ClaimState::kFailed ? record.error : record.last_answer;
    value.pushKV("error", error ? ErrorValue(*error) : UniValue(UniValue::VNULL));
    return value;
}

UniValue ClaimService::ClaimOf(const CodeId& id)
{
    auto it = m_records.find(id);
    return it == m_records.end() ? UniValue(UniValue::VNULL) : ClaimValue(it->second);
}

Answer ClaimService::FinishedAnswer(const ClaimRecord& record) const
{
    Answer answer;
    if (record.state == ClaimState::kFailed && record.error) {
        answer = ErrorAnswer(*record.error);
    } else {
        answer.http = 200;
        answer.body = UniValue(UniValue::VOBJ);
        answer.body.pushKV("code", NullOr(record.code_view));
    }
    answer.body.pushKV("claim", ClaimValue(record));
    return answer;
}

void ClaimService::Lookup(const ParsedCode& code, const std::string& client, Reply reply)
{
    std::unique_lock<std::mutex> lock(m_mutex);
    const CodeId id = code.Id();
    auto record = m_records.find(id);
    if (record != m_records.end() && Active(record->second.state) && record->second.code_view.isObject()) {
        // A page follows its claim with a lookup a second or so: while the
        // claim is under way, the code's state is known here, and the node's
        // connections are left to the claims.
        Answer known;
        known.body = UniValue(UniValue::VOBJ);
        known.body.pushKV("code", record->second.code_view);
        known.body.pushKV("claim", ClaimValue(record->second));
        lock.unlock();
        m_failed_lookups.Refund(client);
        return reply(std::move(known));
    }
    auto owner = m_owner.find(id);
    size_t lane = owner == m_owner.end() ? 0 : owner->second;
    ParsedCode copy = code;
    bool queued = Enqueue(lane, [this, lane, copy, client, reply] { LookupOn(lane, copy, client, false, reply); }, false);
    lock.unlock();
    if (!queued) {
        m_failed_lookups.Refund(client);
        reply(ErrorAnswer(ServerError("busy", 2)));
    }
}

void ClaimService::LookupOn(size_t index, const ParsedCode& code, const std::string& client, bool unanswered, Reply reply)
{
    std::string text = CodeText(m_config.network, code);
    UniValue params(UniValue::VARR);
    params.push_back(text);
    WipeString(text);
    NodeReply node = m_lanes[index]->rpc->Call("getgiftcode", params);
    params = UniValue(UniValue::VARR);
    const CodeId id = code.Id();
    if (node.ok() && !node.result.isObject()) {
        node.failure = NodeFailure::kBadReply;
        node.detail = "getgiftcode answered without an object";
    }

    std::optional<Answer> answer;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_lanes[index]->reachable = node.answered();
        bool owner_known = m_owner.count(id) > 0;
        bool more = !owner_known && index + 1 < m_lanes.size();
        bool unknown = node.answered() && !node.ok() && *node.error_code == RPC_GIFTCODE_UNKNOWN;
        if (node.ok()) {
            m_owner[id] = index;
            auto record = m_records.find(id);
            if (record != m_records.end() && Active(record->second.state)) record->second.code_view = HolderView(node.result);
            Answer found;
            found.body = UniValue(UniValue::VOBJ);
            found.body.pushKV("code", HolderView(node.result));
            found.body.pushKV("claim", ClaimOf(id));
            answer = std::move(found);
        } else if ((unknown || !node.answered()) && more) {
            // The next node, as a new request: a lookup never goes ahead of
            // claims or past the queue's bound.
            ParsedCode copy = code;
            bool silent = unanswered || !node.answered();
            if (!Enqueue(index + 1, [this, index, copy, client, silent, reply] { LookupOn(index + 1, copy, client, silent, reply); }, false)) {
                answer = ErrorAnswer(ServerError("busy", 2));
            }
        } else if (!node.answered() || (unknown && unanswered)) {
            answer = ErrorAnswer(ServerError("node_unavailable", 2));
        } else {
            answer = ErrorAnswer(NodeError(*node.error_code));
        }
    }
    if (!node.answered()) {
        Log("node " + std::to_string(index + 1) + ": lookup got no answer (" + NodeFailureName(node.failure) + ": " + node.detail + ")");
    }
    // The lookup's failed-lookup token is kept only when no node knows the code.
    bool failed = answer && answer->body["error"]["key"].isStr() && answer->body["error"]["key"].get_str() == "unknown_code";
    if (answer && !failed) m_failed_lookups.Refund(client);
    if (answer) reply(std::move(*answer));
}

std::optional<Answer> ClaimService::Wait(ClaimRecord& record, const CodeId& id, Reply reply)
{
    if (m_config.claim_wait_ms == 0) return PendingAnswer(record);
    uint64_t waiter = m_next_id++;
    record.waiters.push_back({waiter, std::move(reply)});
    uint64_t generation = record.generation;
    At(Clock::now() + std::chrono::milliseconds(m_config.claim_wait_ms), [this, id, generation, waiter] {
        std::optional<std::pair<Reply, Answer>> pending;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            auto found = m_records.find(id);
            if (found == m_records.end() || found->second.generation != generation) return;
            auto& waiters = found->second.waiters;
            auto w = std::find_if(waiters.begin(), waiters.end(), [&](const Waiter& x) { return x.id == waiter; });
            if (w == waiters.end()) return;
            pending.emplace(std::move(w->reply), PendingAnswer(found->second));
            waiters.erase(w);
        }
        pending->first(std::move(pending->second));
    });
    return std::nullopt;
}

Answer ClaimService::PendingAnswer(const ClaimRecord& record) const
{
    Answer answer;
    answer.http = 202;
    answer.body = UniValue(UniValue::VOBJ);
    answer.body.pushKV("code", NullOr(record.code_view));
    answer.body.pushKV("claim", ClaimValue(record));
    return answer;
}

size_t ClaimService::Load(size_t index) const
{
    const Lane& lane = *m_lanes[index];
    return lane.fresh.size() + lane.retries.size() + static_cast<size_t>(lane.running);
}

bool ClaimService::Full(size_t index) const
{
    return m_stopping || Load(index) >= static_cast<size_t>(m_config.nodes[index].connections + m_lanes[index]->capacity);
}

void ClaimService::Claim(const ParsedCode& code, const std::string& address, const std::string& client, Reply reply)
{
    const CodeId id = code.Id();
    std::optional<Answer> now;
    bool holds_token = false; // the new claim keeps the failed-lookup token until it ends
    std::string log;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_records.find(id);
        if (it != m_records.end() && Active(it->second.state)) {
            ClaimRecord& record = it->second;
            if (record.address != address) {
                // Not this requester's claim: its address is not shown.
                now = ErrorAnswer(ServerError("claim_in_progress"));
            } else {
                now = Wait(record, id, reply);
            }
        } else if (it != m_records.end() && it->second.state == ClaimState::kDone && it->second.address == address) {
            now = FinishedAnswer(it->second);
        } else if (it != m_records.end() && it->second.state == ClaimState::kDone) {
            // Paid to another address: the node would answer -405. The paid
            // claim stays as it is, for the page that follows it.
            now = ErrorAnswer(NodeError(RPC_GIFTCODE_ALREADY_REDEEMED));
        } else {
            // No claim, or a finished one that failed: a new claim.
            auto owner = m_owner.find(id);
            size_t lane = owner == m_owner.end() ? 0 : owner->second;
            int retry_after = 0;
            if (Full(lane) || (it == m_records.end() && m_records.size() >= MAX_RECORDS)) {
                now = ErrorAnswer(ServerError("busy", 2));
            } else if (!m_claims.Take(client, Clock::now(), retry_after)) {
                now = ErrorAnswer(ServerError("rate_limited", retry_after));
            } else {
                ClaimRecord record;
                record.generation = m_next_id++;
                record.code = code;
                record.address = address;
                record.client = client;
                record.started_at = UnixNow();
                record.node = lane;
                uint64_t generation = record.generation;
                bool queued = Enqueue(lane, [this, id, generation] { Attempt(id, generation); }, false);
                assert(queued);
                (void)queued;
                ClaimRecord& stored = m_records[id] = std::move(record);
                ++m_active;
                holds_token = true;
                log = "claim " + id.ShortHex() + ": sent to node " + std::to_string(lane + 1);
                now = Wait(stored, id, reply);
            }
        }
    }
    if (!log.empty()) Log(log);
    if (!holds_token) m_failed_lookups.Refund(client);
    if (now) reply(std::move(*now));
}

void ClaimService::Attempt(const CodeId& id, uint64_t generation)
{
    std::string text;
    std::string address;
    size_t index = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_records.find(id);
        if (it == m_records.end() || it->second.generation != generation || !Active(it->second.state)) return;
        ClaimRecord& record = it->second;
        record.state = ClaimState::kSending;
        ++record.attempts;
        text = CodeText(m_config.network, *record.code);
        address = record.address;
        index = record.node;
    }
    UniValue params(UniValue::VARR);
    params.push_back(text);
    params.push_back(address);
    WipeString(text);
    NodeReply node = m_lanes[index]->rpc->Call("redeemgiftcode", params);
    params = UniValue(UniValue::VARR);

    Replies replies;
    std::string log; // written once the lock is released
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_lanes[index]->reachable = node.answered();
        auto it = m_records.find(id);
        assert(it != m_records.end() && it->second.generation == generation);
        ClaimRecord& record = it->second;
        const std::string what = "claim " + id.ShortHex() + " (try " + std::to_string(record.attempts) + "): ";
        if (node.ok() && !IsTxid(node.result["txid"])) {
            node.failure = NodeFailure::kBadReply;
            node.detail = "redeemgiftcode answered without a txid";
        }
        if (node.ok()) {
            record.state = ClaimState::kDone;
            record.txid = node.result["txid"].isStr() ? node.result["txid"].get_str() : "";
            record.vout = node.result["vout"];
            record.replay = node.result["replay"].isBool() && node.result["replay"].get_bool();
            record.code_view = RedeemedView(record.code_view, node.result);
            m_owner[id] = index;
            log = what + "paid, txid " + record.txid + (record.replay ? " (paid before)" : "");
            Finish(record, id, replies);
        } else if (node.answered()) {
            int code = *node.error_code;
            // Only one wallet holds a code: after -404 the claim goes to the
            // node known to hold it, else to the next one; it fails only
            // when the holder, or the last node, says so.
            auto owner = m_owner.find(id);
            std::optional<size_t> next;
            if (owner != m_owner.end() && owner->second != index) next = owner->second;
            if (owner == m_owner.end() && index + 1 < m_lanes.size()) next = index + 1;
            if (code == RPC_GIFTCODE_UNKNOWN && next) {
                record.node = *next;
                record.state = ClaimState::kQueued;
                log = what + "node " + std::to_string(index + 1) + " does not know it; sent to node " + std::to_string(*next + 1);
                Enqueue(*next, [this, id, generation] { Attempt(id, generation); }, true);
            } else if (IsRetryableRpcCode(code)) {
                record.last_answer = NodeError(code);
                log = what + "node answered " + std::to_string(code) + ", nothing changed";
                ScheduleRetry(record, id);
            } else {
                record.state = ClaimState::kFailed;
                record.error = NodeError(code);
                log = what + "refused by the node: " + record.error->key + " (" + std::to_string(code) + ")";
                Finish(record, id, replies);
            }
        } else {
            record.last_answer = ServerError("node_unavailable");
            log = what + "no answer from node " + std::to_string(index + 1) + " (" + NodeFailureName(node.failure) + ": " + node.detail + ")";
            ScheduleRetry(record, id);
        }
    }
    if (!log.empty()) Log(log);
    Send(replies);
}

void ClaimService::ScheduleRetry(ClaimRecord& record, const CodeId& id)
{
    record.state = ClaimState::kRetrying;
    int doublings = std::min(record.attempts - 1, 20);
    int64_t delay = std::min<int64_t>(m_config.retry_max_ms, static_cast<int64_t>(m_config.retry_min_ms) << doublings);
    record.retry_at = UnixNow() + (delay + 999) / 1000;
    uint64_t generation = record.generation;
    At(Clock::now() + std::chrono::milliseconds(delay), [this, id, generation] {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_records.find(id);
        if (it == m_records.end() || it->second.generation != generation || it->second.state != ClaimState::kRetrying) return;
        auto owner = m_owner.find(id);
        if (owner != m_owner.end()) it->second.node = owner->second;
        it->second.state = ClaimState::kQueued;
        Enqueue(it->second.node, [this, id, generation] { Attempt(id, generation); }, true);
    });
}

void ClaimService::Finish(ClaimRecord& record, const CodeId& id, Replies& replies)
{
    record.code.reset();
    --m_active;
    Answer answer = FinishedAnswer(record);
    for (Waiter& waiter : record.waiters) replies.emplace_back(std::move(waiter.reply), answer);
    record.waiters.clear();
    bool unknown = record.state == ClaimState::kFailed && record.error && record.error->key == "unknown_code";
    if (!unknown) m_failed_lookups.Refund(record.client);
    if (unknown) {
        // A code no node knows: nothing for a page to find again.
        m_records.erase(id);
        return;
    }
    uint64_t generation = record.generation;
    At(Clock::now() + std::chrono::seconds(m_config.keep_finished_s), [this, id, generation] {
        std::lock_guard<std::mutex> lock(m_mutex);
        auto it = m_records.find(id);
        if (it != m_records.end() && it->second.generation == generation && !Active(it->second.state)) m_records.erase(it);
    });
}

UniValue ClaimService::Status()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    UniValue status(UniValue::VOBJ);
    status.pushKV("network", NetworkName(m_config.network));
    status.pushKV("prefix", NetworkPrefix(m_config.network));
    status.pushKV("poll_ms", m_config.poll_ms);
    UniValue nodes(UniValue::VARR);
    for (const auto& lane : m_lanes) {
        UniValue node(UniValue::VOBJ);
        node.pushKV("queue", static_cast<uint64_t>(lane->fresh.size() + lane->retries.size()));
        node.pushKV("queue_limit", lane->capacity);
        node.pushKV("running", lane->running);
        node.pushKV("reachable", lane->reachable);
        nodes.push_back(node);
    }
    status.pushKV("nodes", nodes);
    status.pushKV("claims_active", static_cast<uint64_t>(m_active));
    return status;
}

} // namespace giftcode::claim
