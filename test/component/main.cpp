#define BOOST_TEST_MODULE giftcode component tests
#include <boost/test/unit_test.hpp>
