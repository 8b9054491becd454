// The circuit breaker: velocity limits on redemptions, per wallet and per
// label, over sliding windows, and a pause the operator sets by hand.
//
// Whatever goes wrong elsewhere (a leaked batch of codes, a compromised
// issuing user, a bug), what leaves the hot wallet is bounded by the limits
// times the time it takes the operator to notice. A limit is a window
// (seconds) with a most amount and/or a most count of redemptions whose
// commit falls in the last `window` seconds. The window's contents are the
// redeemed records themselves (their redeemed_at, amount and label), so
// nothing extra is stored and a restart lifts nothing. The settings (limits
// that override the node's options, and the pause) are one record of the
// ledger.
//
// Thread-safety: plain values, and RedemptionWindow, which its owner guards.
#ifndef GIFTCODE_CORE_BREAKER_H
#define GIFTCODE_CORE_BREAKER_H

#include "records.h"
#include "status.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace giftcode {

//! The longest window a limit may have: 31 days.
constexpr int64_t MAX_LIMIT_WINDOW = 31 * 24 * 3600;
//! At most this many limits, wallet-wide and per label together.
constexpr size_t MAX_LIMITS = 100;

struct WindowLimit {
    std::optional<std::string> label;  //!< none: every redemption of the wallet
    int64_t window{0};                 //!< seconds, 1 to MAX_LIMIT_WINDOW
    Amount max_amount{0};              //!< 0: no limit on the amount
    uint64_t max_count{0};             //!< 0: no limit on the count
    bool operator==(const WindowLimit& o) const
    {
        return label == o.label && window == o.window && max_amount == o.max_amount && max_count == o.max_count;
    }
};

//! Checks one limit's values; kInvalidParameter says what is wrong.
Status CheckLimit(const WindowLimit& limit);
//! "wallet" or "label \"x\"", then the window and the most allowed.
std::string DescribeLimit(const WindowLimit& limit);

//! What the ledger stores of the breaker.
struct BreakerSettings {
    //! The wallet's own limits replace the node's (-giftcodelimit).
    bool own_limits{false};
    std::vector<WindowLimit> limits;
    bool paused{false};
    std::string pause_reason;
    int64_t paused_at{0};
    bool operator==(const BreakerSettings& o) const
    {
        return own_limits == o.own_limits && limits == o.limits && paused == o.paused &&
               pause_reason == o.pause_reason && paused_at == o.paused_at;
    }
};

constexpr char BREAKER_KEY_TAG = 'b';
std::string EncodeBreakerKey();
bool IsBreakerKey(const std::string& key);
std::string EncodeBreakerSettings(const BreakerSettings& settings);
Result<BreakerSettings> DecodeBreakerSettings(const std::string& value);

//! One limit as it stands now.
struct LimitState {
    WindowLimit limit;
    Amount amount{0};     //!< redeemed in the window
    uint64_t count{0};    //!< redemptions in the window
    //! When the oldest redemption in the window leaves it (0: empty).
    int64_t next_release{0};
};

//! A redemption the limits do not admit.
struct LimitRefusal {
    WindowLimit limit;
    //! The first time at which this redemption would fit under the limit
    //! (as the window stands, with nothing more redeemed); 0 when it never
    //! can (it alone exceeds the limit).
    int64_t fits_at{0};
    std::string message;
};

//! The redemptions of the last MAX_LIMIT_WINDOW seconds, oldest first.
class RedemptionWindow {
public:
    //! A redemption committed at `time` (times may come out of order: a
    //! record found on the chain; they are kept sorted).
    void Add(int64_t time, Amount amount, const std::string& label);
    //! Forgets what no window can hold at `now`.
    void Prune(int64_t now);
    //! Whether a redemption of `amount` under `label` at `now` fits every
    //! limit, counting `admitted` (redemptions admitted since, not yet
    //! added) as if they were in every window. The first limit it would
    //! exceed, if any.
    std::optional<LimitRefusal> Admit(int64_t now, Amount amount, const std::string& label,
                                      const std::vector<WindowLimit>& limits,
                                      const std::vector<std::pair<Amount, std::string>>& admitted) const;
    std::vector<LimitState> States(int64_t now, const std::vector<WindowLimit>& limits) const;
    size_t size() const { return m_entries.size(); }

private:
    struct Entry {
        int64_t time;
        Amount amount;
        std::string label;
    };
    static bool Covers(const WindowLimit& limit, const std::string& label)
    {
        return !limit.label || *limit.label == label;
    }
    std::deque<Entry> m_entries;
};

} // namespace giftcode

#endif // GIFTCODE_CORE_BREAKER_H
