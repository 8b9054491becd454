#include "ratelimit.h"

#include <algorithm>
#include <cmath>

namespace giftcode::claim {

RateLimiter::RateLimiter(int per_minute, size_t max_clients)
    : m_per_second(per_minute / 60.0), m_capacity(per_minute), m_max_clients(std::max<size_t>(1, max_clients))
{
}

RateLimiter::Bucket& RateLimiter::Refilled(const std::string& client, Clock::time_point now)
{
    auto it = m_buckets.find(client);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_max_clients) {
            m_buckets.erase(m_recency.back());
            m_recency.pop_back();
        }
        m_recency.push_front(client);
        it = m_buckets.emplace(client, Bucket{m_capacity, now, m_recency.begin()}).first;
        return it->second;
    }
    Bucket& bucket = it->second;
    double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    if (elapsed > 0) {
        bucket.tokens = std::min(m_capacity, bucket.tokens + elapsed * m_per_second);
        bucket.updated = now;
    }
    m_recency.splice(m_recency.begin(), m_recency, bucket.recency);
    return bucket;
}

int RateLimiter::SecondsUntilToken(const Bucket& bucket) const
{
    if (bucket.tokens >= 1.0) return 0;
    return std::max(1, static_cast<int>(std::ceil((1.0 - bucket.tokens) / m_per_second)));
}

int RateLimiter::RetryAfter(const std::string& client, Clock::time_point now)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return SecondsUntilToken(Refilled(client, now));
}

void RateLimiter::Charge(const std::string& client, Clock::time_point now)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    Bucket& bucket = Refilled(client, now);
    bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
}

bool RateLimiter::Take(const std::string& client, Clock::time_point now, int& retry_after)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    Bucket& bucket = Refilled(client, now);
    retry_after = SecondsUntilToken(bucket);
    if (retry_after > 0) return false;
    bucket.tokens -= 1.0;
    return true;
}

void RateLimiter::Refund(const std::string& client)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_buckets.find(client);
    if (it != m_buckets.end()) it->second.tokens = std::min(m_capacity, it->second.tokens + 1.0);
}

size_t RateLimiter::clients() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_buckets.size();
}

} // namespace giftcode::claim
