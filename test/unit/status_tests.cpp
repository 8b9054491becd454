// Status and Result: the failure carried is the one given, and every status
// code has a distinct name (the names are counters in getgiftcodeinfo).
#include "status.h"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace giftcode;

BOOST_AUTO_TEST_SUITE(status_tests)

BOOST_AUTO_TEST_CASE(result_carries_value_or_status)
{
    Result<int> good(7);
    BOOST_CHECK(good.ok());
    BOOST_CHECK_EQUAL(good.value(), 7);
    Result<int> bad(Status(StatusCode::kExpired, "gone"));
    BOOST_CHECK(!bad.ok());
    BOOST_CHECK(bad.status().code() == StatusCode::kExpired);
    BOOST_CHECK_EQUAL(bad.status().message(), "gone");
    BOOST_CHECK(Status::Ok().ok());
}

BOOST_AUTO_TEST_CASE(names_are_distinct)
{
    std::set<std::string> names;
    for (int c = int(StatusCode::kOk); c <= int(StatusCode::kPaused); ++c) {
        names.insert(StatusCodeName(StatusCode(c)));
    }
    BOOST_CHECK_EQUAL(names.size(), size_t(StatusCode::kPaused) + 1);
    BOOST_CHECK(!names.count("unknown"));
}

BOOST_AUTO_TEST_SUITE_END()
