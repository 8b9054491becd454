// Address checks: each network's base58 and segwit forms are accepted,
// another network's are named as such, typing errors are refused.
#include "address.h"

#include <boost/test/unit_test.hpp>

using namespace giftcode;
using namespace giftcode::claim;

BOOST_AUTO_TEST_SUITE(address_tests)

BOOST_AUTO_TEST_CASE(mainnet_forms)
{
    for (const char* address : {"M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEX", "31nM1WuowNDzocNxPPW9NQWJEtwWpjfcLj",
                                "P8gWEwpDSPPohHMHcNA5cg7di7pgRrXGGk", "mona1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc5dtyh0s",
                                "MONA1QQYPQXPQ9QCRSSZG2PVXQ6RS0ZQG3YYC5DTYH0S",
                                "mona1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqz3e900",
                                "mona1pqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqgxevhn"}) {
        BOOST_CHECK_MESSAGE(CheckAddress(address, Network::kMain) == AddressCheck::kValid, address);
    }
}

BOOST_AUTO_TEST_CASE(test_and_regtest_share_base58_but_not_segwit)
{
    for (const char* address : {"mfcHP2WMCVLsVZA8yrovmhMgxNFW9r98xw", "2MsLZ5FqqYpjM1Q1W4X81zMVZTF9gdbhVwd",
                                "p5duHgJ5Ta88Q9zf8NoqgSzQjPoATNPwYY"}) {
        BOOST_CHECK(CheckAddress(address, Network::kTest) == AddressCheck::kValid);
        BOOST_CHECK(CheckAddress(address, Network::kRegtest) == AddressCheck::kValid);
        BOOST_CHECK(CheckAddress(address, Network::kMain) == AddressCheck::kWrongNetwork);
    }
    const char* testnet = "tmona1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc54skg92";
    const char* regtest = "rmona1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc5td6tfz";
    BOOST_CHECK(CheckAddress(testnet, Network::kTest) == AddressCheck::kValid);
    BOOST_CHECK(CheckAddress(testnet, Network::kRegtest) == AddressCheck::kWrongNetwork);
    BOOST_CHECK(CheckAddress(regtest, Network::kRegtest) == AddressCheck::kValid);
    BOOST_CHECK(CheckAddress(regtest, Network::kMain) == AddressCheck::kWrongNetwork);
    BOOST_CHECK(CheckAddress("M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEX", Network::kRegtest) == AddressCheck::kWrongNetwork);
}

BOOST_AUTO_TEST_CASE(typing_errors_and_other_coins_are_invalid)
{
    for (const char* address : {
             "",
             "M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEY",                                  // last character changed
             "M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HE",                                   // one short
             "M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HE0",                                  // not base58
             "16L5yRNPTuciSgXGHqYwn9N6NeoKqopAu",                                   // bitcoin P2PKH
             "mona1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc5dtyh0t",                        // bech32 checksum
             "Mona1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc5dtyh0s",                        // mixed case
             "bc1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc5fcj4z3",                          // bitcoin segwit
             "mona1pqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqa6fqj3",  // v1 with a bech32 checksum
             "mona1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", // too long
             "mona1xyz",
             "mona1dnedzq",                                                         // a checksum and nothing else
             "1",
         }) {
        BOOST_CHECK_MESSAGE(CheckAddress(address, Network::kMain) == AddressCheck::kInvalid, address);
    }
}

BOOST_AUTO_TEST_SUITE_END()
