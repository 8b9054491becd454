// Token buckets per client: a burst up to the limit, then one token per
// 60/limit seconds; clients are independent; the table is bounded.
#include "ratelimit.h"

#include <boost/test/unit_test.hpp>

using namespace giftcode::claim;
using std::chrono::seconds;

BOOST_AUTO_TEST_SUITE(ratelimit_tests)

BOOST_AUTO_TEST_CASE(a_burst_then_refill)
{
    RateLimiter limiter(6, 100);
    Clock::time_point t0 = Clock::now();
    int retry_after = 0;
    for (int i = 0; i < 6; ++i) BOOST_CHECK(limiter.Take("a", t0, retry_after));
    BOOST_CHECK(!limiter.Take("a", t0, retry_after));
    BOOST_CHECK_EQUAL(retry_after, 10);
    BOOST_CHECK_EQUAL(limiter.RetryAfter("a", t0 + seconds(4)), 6);
    BOOST_CHECK(limiter.Take("a", t0 + seconds(10), retry_after));
    BOOST_CHECK(!limiter.Take("a", t0 + seconds(10), retry_after));
    BOOST_CHECK(limiter.Take("b", t0, retry_after));
    // Full again after a minute, never more than the limit.
    for (int i = 0; i < 6; ++i) BOOST_CHECK(limiter.Take("a", t0 + seconds(600), retry_after));
    BOOST_CHECK(!limiter.Take("a", t0 + seconds(600), retry_after));
}

BOOST_AUTO_TEST_CASE(charge_counts_failures_after_the_fact)
{
    RateLimiter limiter(2, 100);
    Clock::time_point t0 = Clock::now();
    BOOST_CHECK_EQUAL(limiter.RetryAfter("a", t0), 0);
    limiter.Charge("a", t0);
    limiter.Charge("a", t0);
    limiter.Charge("a", t0); // never below zero
    BOOST_CHECK_EQUAL(limiter.RetryAfter("a", t0), 30);
    BOOST_CHECK_EQUAL(limiter.RetryAfter("a", t0 + seconds(30)), 0);
}

BOOST_AUTO_TEST_CASE(the_table_forgets_the_least_recent_client)
{
    RateLimiter limiter(1, 3);
    Clock::time_point t0 = Clock::now();
    int retry_after = 0;
    BOOST_CHECK(limiter.Take("a", t0, retry_after));
    BOOST_CHECK(limiter.Take("b", t0, retry_after));
    BOOST_CHECK(limiter.Take("c", t0, retry_after));
    BOOST_CHECK_GT(limiter.RetryAfter("a", t0), 0); // a is now the most recent
    BOOST_CHECK(limiter.Take("d", t0, retry_after)); // forgets b
    BOOST_CHECK_EQUAL(limiter.clients(), 3u);
    BOOST_CHECK_GT(limiter.RetryAfter("a", t0), 0);
    BOOST_CHECK_EQUAL(limiter.RetryAfter("b", t0), 0);
}

BOOST_AUTO_TEST_SUITE_END()
