#include "notify.h"

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
    std::string out;
    for (char c : text) {
        if (c != '\0' && std::strchr(SAFE, c)) out.push_back(c);
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
    if (now >= m_window_start + REFUSAL_WINDOW || now < m_window_start) {
        m_window_start = now;
        m_count = 0;
        m_kinds.clear();
    }
    ++m_count;
    ++m_kinds[what];
    if (m_count != m_threshold) return std::nullopt;
    std::string kinds;
    for (const auto& [kind, n] : m_kinds) {
        kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
    }
    return Event{EventKind::kRefusals, std::nullopt, std::nullopt,
                 std::to_string(m_count) + " redemptions paid nothing within " + std::to_string(REFUSAL_WINDOW) +
                     " s (" + kinds + "): codes are being guessed or replayed"};
}

} // namespace giftcode
