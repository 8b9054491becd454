// The circuit breaker; see breaker.h.
#include "breaker.h"

#include "notify.h"

#include <algorithm>

namespace giftcode {

namespace {

// A small writer and reader of the settings record: version, flags,
// limits, pause. Integers little-endian, strings length-prefixed.
void PutU64(std::string& out, uint64_t v)
{
    for (int i = 0; i < 8; ++i) out.push_back(char(uint8_t(v >> (8 * i))));
}

void PutStr(std::string& out, const std::string& s)
{
    PutU64(out, s.size());
    out += s;
}

struct In {
    const std::string& data;
    size_t at{0};
    bool U8(uint8_t& v)
    {
        if (at + 1 > data.size()) return false;
        v = uint8_t(data[at++]);
        return true;
    }
    bool U64(uint64_t& v)
    {
        if (at + 8 > data.size()) return false;
        v = 0;
        for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(data[at + i])) << (8 * i);
        at += 8;
        return true;
    }
    bool Str(std::string& s, size_t most)
    {
        uint64_t n;
        if (!U64(n) || n > most || at + n > data.size()) return false;
        s.assign(data, at, size_t(n));
        at += size_t(n);
        return true;
    }
};

std::string Seconds(int64_t window)
{
    if (window % 86400 == 0) return std::to_string(window / 86400) + " d";
    if (window % 3600 == 0) return std::to_string(window / 3600) + " h";
    return std::to_string(window) + " s";
}

} // namespace

Status CheckLimit(const WindowLimit& limit)
{
    if (limit.window < 1 || limit.window > MAX_LIMIT_WINDOW) {
        return Status(StatusCode::kInvalidParameter,
                      "a limit's window must be from 1 to " + std::to_string(MAX_LIMIT_WINDOW) + " seconds");
    }
    if (limit.max_amount < 0) return Status(StatusCode::kInvalidParameter, "a limit's amount must not be negative");
    if (limit.max_amount == 0 && limit.max_count == 0) {
        return Status(StatusCode::kInvalidParameter, "a limit needs an amount, a count, or both");
    }
    if (limit.label && (limit.label->size() > MAX_LABEL || limit.label->find('\0') != std::string::npos)) {
        return Status(StatusCode::kInvalidParameter, "a limit's label is longer than 256 bytes or holds a NUL");
    }
    return Status::Ok();
}

std::string DescribeLimit(const WindowLimit& limit)
{
    std::string out = limit.label ? "label \"" + *limit.label + "\"" : std::string("wallet");
    out += ": per " + Seconds(limit.window);
    if (limit.max_amount > 0) out += " at most " + FormatAmount(limit.max_amount);
    if (limit.max_amount > 0 && limit.max_count > 0) out += " and";
    if (limit.max_count > 0) out += " at most " + std::to_string(limit.max_count) + " redemptions";
    return out;
}

std::string EncodeBreakerKey() { return std::string(1, BREAKER_KEY_TAG); }

bool IsBreakerKey(const std::string& key) { return key == EncodeBreakerKey(); }

std::string EncodeBreakerSettings(const BreakerSettings& s)
{
    std::string out;
    out.push_back(char(1));  // version
    out.push_back(char((s.own_limits ? 1 : 0) | (s.paused ? 2 : 0)));
    PutU64(out, s.limits.size());
    for (const WindowLimit& l : s.limits) {
        out.push_back(char(l.label ? 1 : 0));
        PutStr(out, l.label.value_or(""));
        PutU64(out, uint64_t(l.window));
        PutU64(out, uint64_t(l.max_amount));
        PutU64(out, l.max_count);
    }
    PutStr(out, s.pause_reason);
    PutU64(out, uint64_t(s.paused_at));
    return out;
}

Result<BreakerSettings> DecodeBreakerSettings(const std::string& value)
{
    const Status bad(StatusCode::kCorruption, "the gift-code breaker's settings record is malformed");
    In in{value};
    uint8_t version, flags;
    uint64_t n;
    if (!in.U8(version) || version != 1 || !in.U8(flags) || (flags & ~3) != 0 || !in.U64(n) || n > MAX_LIMITS) {
        return bad;
    }
    BreakerSettings s;
    s.own_limits = flags & 1;
    s.paused = flags & 2;
    for (uint64_t i = 0; i < n; ++i) {
        WindowLimit l;
        uint8_t has_label;
        std::string label;
        uint64_t window, amount, count;
        if (!in.U8(has_label) || has_label > 1 || !in.Str(label, MAX_LABEL) || !in.U64(window) || !in.U64(amount) ||
            !in.U64(count)) {
            return bad;
        }
        if (has_label) l.label = label;
        l.window = int64_t(window);
        l.max_amount = Amount(amount);
        l.max_count = count;
        if (!CheckLimit(l).ok()) return bad;
        s.limits.push_back(std::move(l));
    }
    uint64_t paused_at;
    if (!in.Str(s.pause_reason, MAX_LABEL) || !in.U64(paused_at) || in.at != value.size()) return bad;
    s.paused_at = int64_t(paused_at);
    return s;
}

void RedemptionWindow::Add(int64_t time, Amount amount, const std::string& label)
{
    auto at = std::upper_bound(m_entries.begin(), m_entries.end(), time,
                               [](int64_t t, const Entry& e) { return t < e.time; });
    m_entries.insert(at, Entry{time, amount, label});
}

void RedemptionWindow::Prune(int64_t now)
{
    while (!m_entries.empty() && m_entries.front().time <= now - MAX_LIMIT_WINDOW) m_entries.pop_front();
}

std::optional<LimitRefusal> RedemptionWindow::Admit(int64_t now, Amount amount, const std::string& label,
                                                    const std::vector<WindowLimit>& limits,
                                                    const std::vector<std::pair<Amount, std::string>>& admitted) const
{
    for (const WindowLimit& limit : limits) {
        if (!Covers(limit, label)) continue;
        // The window holds what was committed after now - window.
        std::vector<const Entry*> inside;
        Amount total = 0;
        uint64_t count = 0;
        for (const Entry& e : m_entries) {
            if (e.time > now - limit.window && Covers(limit, e.label)) {
                inside.push_back(&e);
                total += e.amount;
                ++count;
            }
        }
        Amount pending_amount = 0;
        uint64_t pending_count = 0;
        for (const auto& [a, l] : admitted) {
            if (Covers(limit, l)) {
                pending_amount += a;
                ++pending_count;
            }
        }
        const bool over_amount = limit.max_amount > 0 && total + pending_amount + amount > limit.max_amount;
        const bool over_count = limit.max_count > 0 && count + pending_count + 1 > limit.max_count;
        if (!over_amount && !over_count) continue;
        LimitRefusal refusal;
        refusal.limit = limit;
        // When enough of the window has left it: the oldest first, then
        // those admitted now (they leave a window after now).
        if (limit.max_amount == 0 || amount <= limit.max_amount) {
            Amount left_amount = total + pending_amount;
            uint64_t left_count = count + pending_count;
            const auto fits = [&]() {
                return (limit.max_amount == 0 || left_amount + amount <= limit.max_amount) &&
                       (limit.max_count == 0 || left_count + 1 <= limit.max_count);
            };
            for (const Entry* e : inside) {
                left_amount -= e->amount;
                --left_count;
                if (fits()) {
                    refusal.fits_at = e->time + limit.window;
                    break;
                }
            }
            if (refusal.fits_at == 0) refusal.fits_at = now + limit.window;
        }
        refusal.message = "the breaker's limit (" + DescribeLimit(limit) + ") is reached: " +
                          FormatAmount(total + pending_amount) + " in " + std::to_string(count + pending_count) +
                          " redemptions in the window; " +
                          (refusal.fits_at ? "this redemption fits from unix time " + std::to_string(refusal.fits_at) +
                                                 " on; the code stays issued, retry the same redemption then"
                                           : std::string("this code's amount alone exceeds it; the code stays "
                                                         "issued until the operator raises the limit"));
        return refusal;
    }
    return std::nullopt;
}

std::vector<LimitState> RedemptionWindow::States(int64_t now, const std::vector<WindowLimit>& limits) const
{
    std::vector<LimitState> out;
    for (const WindowLimit& limit : limits) {
        LimitState state;
        state.limit = limit;
        for (const Entry& e : m_entries) {
            if (e.time > now - limit.window && Covers(limit, e.label)) {
                if (state.count == 0) state.next_release = e.time + limit.window;
                state.amount += e.amount;
                ++state.count;
            }
        }
        out.push_back(std::move(state));
    }
    return out;
}

} // namespace giftcode
