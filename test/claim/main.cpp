#define BOOST_TEST_MODULE claim_tests
#include <boost/test/unit_test.hpp>

#include "log.h"

// The server's log lines are checked where they matter; elsewhere they are noise.
struct QuietLog {
    QuietLog() { giftcode::claim::SetLogging(false); }
};
BOOST_TEST_GLOBAL_FIXTURE(QuietLog);
