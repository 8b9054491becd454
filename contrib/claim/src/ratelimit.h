// Per-client rate limits: a token bucket per client (an IP address) that
// refills at `per_minute` tokens a minute up to `per_minute`. The claim
// server keeps two: failed lookups (a token is taken before a code is looked
// up or claimed, so parallel requests cannot pass together, and given back
// when the code turns out to exist) and new claims. The table holds at most `max_clients` clients; the
// one seen least recently is forgotten first, so a flood of client addresses
// costs bounded memory (and at worst gives a forgotten client a full bucket).
//
// Thread-safety: every method may be called from any thread.
#ifndef GIFTCODE_CLAIM_RATELIMIT_H
#define GIFTCODE_CLAIM_RATELIMIT_H

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace giftcode::claim {

using Clock = std::chrono::steady_clock;

class RateLimiter {
public:
    RateLimiter(int per_minute, size_t max_clients);

    //! 0 when `client` may go on now, else the seconds until a token is back.
    int RetryAfter(const std::string& client, Clock::time_point now);
    //! Takes a token from `client`'s bucket (down to zero).
    void Charge(const std::string& client, Clock::time_point now);
    //! Takes a token if there is one: true if taken, else false and
    //! `retry_after` set.
    bool Take(const std::string& client, Clock::time_point now, int& retry_after);
    //! Gives back a token taken for something that turned out not to count.
    void Refund(const std::string& client);

    size_t clients() const;

private:
    struct Bucket {
        double tokens;
        Clock::time_point updated;
        std::list<std::string>::iterator recency;
    };
    Bucket& Refilled(const std::string& client, Clock::time_point now);
    int SecondsUntilToken(const Bucket& bucket) const;

    const double m_per_second;
    const double m_capacity;
    const size_t m_max_clients;
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, Bucket> m_buckets;
    std::list<std::string> m_recency; //!< most recent first
};

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_RATELIMIT_H
