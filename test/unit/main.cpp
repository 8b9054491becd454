#define BOOST_TEST_MODULE giftcode unit tests
#include <boost/test/unit_test.hpp>
