#include "notify.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace giftcode {

const char* EventName(EventKind kind)
{
    switch (kind) {
    case EventKind::kRedeemed: return "redeemed";
    case EventKind::kNotAccepted: return "not_accepted";
    case EventKind::kAttention: return "attention";
    case EventKind::kReplaced: return "replaced";
    case EventKind::kBuried: return "buried";
    case EventKind::kConsistency: return "consistency";
    case EventKind::kRestore: return "restore";
    case EventKind::kInsolvent: return "insolvent";
    case EventKind::kSolvent: return "solvent";
    case EventKind::kRefusals: return "refusals";
    case EventKind::kBreaker: return "breaker";
    }
    return "unknown";
}

std::string FormatAmount(Amount amount)
{
    const bool negative = amount < 0;
    const uint64_t abs = negative ? uint64_t(-(amount + 1)) + 1 : uint64_t(amount);
    std::string frac = std::to_string(abs % 100000000);
    frac.insert(0, 8 - frac.size(), '0');
    return (negative ? "-" : "") + std::to_string(abs / 100000000) + "." + frac;
}

std::string SafeText(const std::string& text)
{
    static const char* const SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;-_/:?@()";
    static const char* const HEX = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        if (c != '\0' && std::strchr(SAFE, c)) {
            out.push_back(c);
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        out += {'%', HEX[byte >> 4], HEX[byte & 0xf]};
    }
    return out;
}

std::string ShellQuote(const std::string& text)
{
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += "'\"'\"'";
        } else {
            out.push_back(c);
        }
    }
    return out + "'";
}

std::string NotifyCommand(const std::string& command, const std::string& wallet, const Event& event)
{
    std::string out;
    for (size_t i = 0; i < command.size(); ++i) {
        const char c = command[i];
        if (c != '%' || i + 1 == command.size()) {
            out.push_back(c);
            continue;
        }
        switch (command[i + 1]) {
        case 'e': out += EventName(event.kind); break;
        case 'c': out += event.code ? event.code->ToHex() : "-"; break;
        case 's': out += event.txid ? TxidToHex(*event.txid) : "-"; break;
        case 'w': out += ShellQuote(wallet); break;
        case 'r': out += "'" + SafeText(event.reason) + "'"; break;
        case '%': out.push_back('%'); break;
        default:
            out.push_back(c);
            continue;  // the next character is read as it is
        }
        ++i;
    }
    return out;
}

CommandQueue::CommandQueue(Runner runner, size_t capacity)
    : m_runner(std::move(runner)), m_capacity(capacity), m_thread([this] { Work(); })
{
}

CommandQueue::~CommandQueue()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
        m_waiting.clear();
    }
    m_changed.notify_all();
    m_thread.join();
}

bool CommandQueue::Push(std::string command)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_waiting.size() >= m_capacity) {
            ++m_dropped;
            return false;
        }
        m_waiting.push_back(std::move(command));
    }
    m_changed.notify_all();
    return true;
}

void CommandQueue::WaitIdle()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_changed.wait(lock, [this] { return m_waiting.empty() && !m_running; });
}

uint64_t CommandQueue::dropped() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_dropped;
}

uint64_t CommandQueue::run() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_run;
}

bool CommandQueue::stopping() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stop;
}

void CommandQueue::Work()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    while (true) {
        m_changed.wait(lock, [this] { return m_stop || !m_waiting.empty(); });
        if (m_stop) return;
        std::string command = std::move(m_waiting.front());
        m_waiting.pop_front();
        m_running = true;
        lock.unlock();
        m_runner(command);
        lock.lock();
        m_running = false;
        ++m_run;
        m_changed.notify_all();
    }
}

CommandNotifier::CommandNotifier(CommandQueue& queue, std::string command, std::string wallet,
                                 std::function<void(const Event&)> on_drop)
    : m_queue(queue), m_command(std::move(command)), m_wallet(std::move(wallet)), m_on_drop(std::move(on_drop))
{
}

void CommandNotifier::Notify(const Event& event)
{
    if (!m_queue.Push(NotifyCommand(m_command, m_wallet, event)) && m_on_drop) m_on_drop(event);
}

std::optional<Event> RefusalWatch::Note(const std::string& what, int64_t now)
{
    if (m_threshold == 0) return std::nullopt;
    std::lock_guard<std::mutex> lock(m_mutex);
    // A clock that went back starts afresh.
    if (!m_recent.empty() && now < m_recent.back().first) {
        m_recent.clear();
        m_quiet_until = std::numeric_limits<int64_t>::min();
    }
    const size_t kind = size_t(std::find(m_kinds.begin(), m_kinds.end(), what) - m_kinds.begin());
    if (kind == m_kinds.size()) m_kinds.push_back(what);
    m_recent.emplace_back(now, kind);
    while (m_recent.size() > m_threshold || m_recent.front().first <= now - REFUSAL_WINDOW) m_recent.pop_front();
    if (m_recent.size() < m_threshold || now < m_quiet_until) return std::nullopt;
    m_quiet_until = now + REFUSAL_WINDOW;
    std::map<std::string, uint64_t> counts;
    for (const auto& entry : m_recent) ++counts[m_kinds[entry.second]];
    std::string kinds;
    for (const auto& [name, n] : counts) kinds += (kinds.empty() ? "" : ", ") + name + " " + std::to_string(n);
    return Event{EventKind::kRefusals, std::nullopt, std::nullopt,
                 std::to_string(m_recent.size()) + " requests for codes paid or found nothing within " +
                     std::to_string(REFUSAL_WINDOW) + " s (" + kinds + "): codes are being guessed or replayed"};
}

} // namespace giftcode
