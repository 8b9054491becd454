// The error table: every node code has the module's reason name and the
// HTTP status the page expects, and the page has a message in English and
// Japanese for every key an answer can carry.
#include "errors.h"

#include <rpc.h>
#include <status.h>

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

using namespace giftcode;
using namespace giftcode::claim;

BOOST_AUTO_TEST_SUITE(errors_tests)

BOOST_AUTO_TEST_CASE(node_codes_are_named_after_the_module_reasons)
{
    BOOST_CHECK_EQUAL(NodeError(-401).key, "malformed_code");
    BOOST_CHECK_EQUAL(NodeError(-404).http, 422);
    BOOST_CHECK_EQUAL(NodeError(-405).key, "already_redeemed");
    BOOST_CHECK_EQUAL(NodeError(-405).http, 409);
    BOOST_CHECK_EQUAL(NodeError(-406).http, 409);
    BOOST_CHECK_EQUAL(NodeError(-407).key, "expired");
    BOOST_CHECK_EQUAL(NodeError(-5).key, "invalid_address");
    BOOST_CHECK_EQUAL(NodeError(-6).key, "insufficient_funds");
    BOOST_CHECK_EQUAL(NodeError(-6).http, 502);
    BOOST_CHECK_EQUAL(NodeError(-4).key, "payment_failed");
    BOOST_CHECK_EQUAL(NodeError(-13).key, "wallet_locked");
    BOOST_CHECK_EQUAL(NodeError(-22).key, "corruption");
    BOOST_CHECK_EQUAL(*NodeError(-405).rpc_code, -405);
    BOOST_CHECK(!NodeError(-405).retry_after);
    BOOST_CHECK_EQUAL(NodeError(-409).key, "limit_reached");
    for (int code : {-10, -408, -20, -409}) {
        BOOST_CHECK(IsRetryableRpcCode(code));
        BOOST_CHECK_EQUAL(NodeError(code).http, 503);
        BOOST_CHECK_EQUAL(*NodeError(code).retry_after, 5);
    }
    for (int code : {-401, -404, -405, -5, -6, -4, -13, -22, -32601}) BOOST_CHECK(!IsRetryableRpcCode(code));
    ApiError unknown = NodeError(-32601);
    BOOST_CHECK_EQUAL(unknown.key, "node_error");
    BOOST_CHECK_EQUAL(unknown.http, 502);
    BOOST_CHECK_EQUAL(*unknown.rpc_code, -32601);
}

BOOST_AUTO_TEST_CASE(every_reason_maps_to_its_own_name_except_the_shared_codes)
{
    for (int i = static_cast<int>(StatusCode::kMalformedCode); i <= static_cast<int>(StatusCode::kPaused); ++i) {
        StatusCode reason = static_cast<StatusCode>(i);
        ApiError error = NodeError(RpcErrorCodeFor(reason));
        if (reason == StatusCode::kWalletUnsupported) {
            BOOST_CHECK_EQUAL(error.key, "payment_failed");
        } else if (reason == StatusCode::kPaused) {
            BOOST_CHECK_EQUAL(error.key, "limit_reached");
        } else {
            BOOST_CHECK_EQUAL(error.key, StatusCodeName(reason));
        }
    }
}

BOOST_AUTO_TEST_CASE(server_errors_have_their_statuses)
{
    BOOST_CHECK_EQUAL(ServerError("busy", 2).http, 503);
    BOOST_CHECK_EQUAL(*ServerError("busy", 2).retry_after, 2);
    BOOST_CHECK_EQUAL(ServerError("rate_limited").http, 429);
    BOOST_CHECK_EQUAL(ServerError("forbidden_origin").http, 403);
    BOOST_CHECK_EQUAL(ServerError("claim_in_progress").http, 409);
    BOOST_CHECK_EQUAL(ServerError("query_not_allowed").http, 400);
    UniValue value = ErrorValue(ServerError("busy", 2));
    BOOST_CHECK_EQUAL(value.write(), R"({"key":"busy","rpc_code":null,"retry_after":2})");
    BOOST_CHECK_EQUAL(ErrorValue(NodeError(-405)).write(), R"({"key":"already_redeemed","rpc_code":-405,"retry_after":null})");
}

BOOST_AUTO_TEST_CASE(the_page_has_a_message_for_every_key_in_both_languages)
{
    std::ifstream file(CLAIM_WEB_DIR "/messages.json");
    BOOST_REQUIRE(file);
    std::stringstream text;
    text << file.rdbuf();
    UniValue messages;
    BOOST_REQUIRE(messages.read(text.str()));
    std::vector<std::string> keys = AllErrorKeys();
    BOOST_CHECK_EQUAL(keys.size(), 13u + 19u);  // the server's keys, and the module's reasons up to limit_reached
    for (const char* language : {"en", "ja"}) {
        const UniValue& errors = messages[language]["errors"];
        BOOST_REQUIRE_MESSAGE(errors.isObject(), language << ": no errors object");
        for (const std::string& key : keys) {
            BOOST_CHECK_MESSAGE(errors[key].isStr() && errors[key].get_str().size() > 10,
                                language << ": no message for " << key);
        }
        BOOST_CHECK_EQUAL(messages[language]["ui"].getKeys().size(), messages["en"]["ui"].getKeys().size());
    }
}

BOOST_AUTO_TEST_SUITE_END()
