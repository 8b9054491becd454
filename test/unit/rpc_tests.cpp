// RPC bodies: results carry what a frontend needs and never a code except at
// creation; each parameter error and each failure gives its exact JSON-RPC
// error code, and a refused call changes nothing.
#include "rpc.h"

#include "cli_args.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

UniValue Params(std::initializer_list<UniValue> values)
{
    UniValue out(UniValue::VARR);
    for (const UniValue& v : values) out.push_back(v);
    return out;
}

UniValue Num(const std::string& text) { return UniValue(UniValue::VNUM, text); }

struct RpcFixture {
    MemoryStore store;
    FakeNode node{store};
    std::unique_ptr<Ledger> ledger = node.Open();

    RpcReply Call(const std::string& name, const UniValue& params)
    {
        for (const RpcMethod& m : RpcMethods()) {
            if (name == m.name) return m.body(*ledger, params);
        }
        BOOST_FAIL("no such method " << name);
        return {};
    }
    UniValue Ok(const std::string& name, const UniValue& params)
    {
        RpcReply reply = Call(name, params);
        BOOST_REQUIRE_MESSAGE(reply.ok(), name << ": " << reply.error->message);
        BOOST_REQUIRE(reply.result.isObject());
        return reply.result;
    }
    //! With a message, the error must carry exactly that message.
    void ExpectError(const std::string& name, const UniValue& params, int code, const std::string& message = "")
    {
        const std::string before = Snapshot();
        RpcReply reply = Call(name, params);
        BOOST_REQUIRE_MESSAGE(!reply.ok(), name << " " << params.write() << " succeeded, want error " << code);
        BOOST_CHECK_MESSAGE(reply.error->code == code, name << " " << params.write() << ": got "
                                                             << reply.error->code << " (" << reply.error->message
                                                             << "), want " << code);
        BOOST_CHECK(!reply.error->message.empty());
        if (!message.empty()) {
            BOOST_CHECK_MESSAGE(reply.error->message == message, name << " " << params.write() << ": got \""
                                                                       << reply.error->message << "\", want \""
                                                                       << message << "\"");
        }
        BOOST_CHECK_MESSAGE(Snapshot() == before, name << " " << params.write() << " changed the ledger");
    }
    //! Every stored record and payment, to compare before and after.
    std::string Snapshot()
    {
        std::vector<std::pair<std::string, std::string>> rows;
        BOOST_REQUIRE(store.ReadAll(rows).ok());
        std::string out;
        for (const auto& [k, v] : rows) out += k + "=" + v + ";";
        for (const auto& [k, v] : store.ReadWalletRecords()) out += k + "=" + v + ";";
        return out + std::to_string(node.payer.balance());
    }
    UniValue CreateOne(const std::string& amount = "1.5")
    {
        UniValue r = Ok("creategiftcode", Params({Num(amount)}));
        return r["codes"][0];
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(rpc_tests, RpcFixture)

BOOST_AUTO_TEST_CASE(error_mapping_is_one_to_one_for_user_facing_failures)
{
    const std::vector<StatusCode> distinct = {
        StatusCode::kMalformedCode, StatusCode::kBadChecksum,   StatusCode::kWrongNetwork,
        StatusCode::kUnknownCode,   StatusCode::kAlreadyRedeemed, StatusCode::kCancelled,
        StatusCode::kExpired,       StatusCode::kInvalidAddress, StatusCode::kInvalidAmount,
        StatusCode::kInvalidParameter, StatusCode::kInsufficientFunds, StatusCode::kWalletLocked,
        StatusCode::kStoreFailure,  StatusCode::kCorruption,
    };
    std::set<int> codes;
    for (StatusCode c : distinct) codes.insert(RpcErrorCodeFor(c));
    BOOST_CHECK_EQUAL(codes.size(), distinct.size());
    BOOST_CHECK_EQUAL(RpcErrorCodeFor(StatusCode::kWalletLocked), -13);
    BOOST_CHECK_EQUAL(RpcErrorCodeFor(StatusCode::kInsufficientFunds), -6);
    BOOST_CHECK_EQUAL(RpcErrorCodeFor(StatusCode::kInvalidAddress), -5);
}

BOOST_AUTO_TEST_CASE(amounts_parse_exactly)
{
    const std::vector<std::pair<UniValue, Amount>> good = {
        {Num("1"), COIN},          {Num("0.00000001"), 1},        {Num("1.5"), 150000000},
        {UniValue("2.25"), 225000000}, {Num("1e2"), 100 * COIN},  {Num("1.5E-3"), 150000},
        {Num("105120000"), 105120000 * COIN}, {Num("0.10000000"), 10000000}, {Num("12345678.87654321"), 1234567887654321},
    };
    for (const auto& [value, expected] : good) {
        Result<Amount> a = ParseAmount(value);
        BOOST_REQUIRE_MESSAGE(a.ok(), value.getValStr());
        BOOST_CHECK_EQUAL(a.value(), expected);
    }
    for (const UniValue& bad : {Num("0"), Num("-1"), Num("0.000000001"), Num("1e-9"), UniValue("abc"), UniValue(""),
                                UniValue("1.2.3"), UniValue(true), UniValue(UniValue::VNULL), Num("1e400"),
                                UniValue("99999999999999999999"), UniValue(" 1")}) {
        BOOST_CHECK_MESSAGE(!ParseAmount(bad).ok(), "accepted " << bad.write());
    }
}

BOOST_AUTO_TEST_CASE(amounts_follow_the_json_number_grammar_as_the_node_does)
{
    // Numbers and strings read alike; the grammar is JSON's (and that of
    // the node's ParseFixedPoint), however long the text.
    const std::string twenty_zeros(20, '0');
    const std::vector<std::pair<UniValue, Amount>> good = {
        {UniValue("1e+2"), 100 * COIN},
        {Num("0.5E+0"), COIN / 2},
        {UniValue("0.5e-0"), COIN / 2},
        {UniValue("1" + twenty_zeros + "e-20"), COIN},
        {UniValue("0." + twenty_zeros + "1e22"), 10 * COIN},
        {UniValue("1.00000000" + twenty_zeros), COIN},
        {UniValue("1e0000000000000000000000000"), COIN},
    };
    for (const auto& [value, expected] : good) {
        Result<Amount> a = ParseAmount(value);
        BOOST_REQUIRE_MESSAGE(a.ok(), value.write() << ": " << a.status().message());
        BOOST_CHECK_EQUAL(a.value(), expected);
    }
    const std::string syntax = "amount must be a number of MONA with at most 8 decimals";
    const std::string positive = "amount must be positive";
    const std::string decimals = "amount has more than 8 decimals";
    const std::string range = "amount is out of the money range";
    const std::vector<std::pair<UniValue, std::string>> bad = {
        {UniValue(".5"), syntax},   {UniValue("1."), syntax},   {UniValue("01"), syntax},
        {UniValue("+1"), syntax},   {UniValue("-"), syntax},    {UniValue("1e"), syntax},
        {UniValue("1e+"), syntax},  {UniValue("1.e5"), syntax}, {UniValue("0x10"), syntax},
        {UniValue("1 "), syntax},   {UniValue("1e5x"), syntax}, {UniValue("--1"), syntax},
        {UniValue(true), syntax},   {UniValue(UniValue::VARR), syntax}, {UniValue(UniValue::VOBJ), syntax},
        {UniValue(UniValue::VNULL), syntax},
        {Num("-0"), positive},      {UniValue("0.0"), positive}, {Num("0e-9"), positive},
        {Num("-1"), positive},      {UniValue("-1e400"), positive}, {Num("-0.000000001"), positive},
        {Num("1e-9"), decimals},    {UniValue("0.123456789"), decimals},
        {UniValue("1e-99999999999999999999"), decimals},
        {Num("10000000000"), range}, {Num("1e10"), range},
        {UniValue("1e99999999999999999999"), range},
    };
    for (const auto& [value, message] : bad) {
        Result<Amount> a = ParseAmount(value);
        BOOST_REQUIRE_MESSAGE(!a.ok(), "accepted " << value.write());
        BOOST_CHECK(a.status().code() == StatusCode::kInvalidAmount);
        BOOST_CHECK_MESSAGE(a.status().message() == message,
                            value.write() << ": got \"" << a.status().message() << "\", want \"" << message << "\"");
    }
    // Eighteen significant digits is the widest amount the parser returns;
    // the ledger then applies the money range.
    Result<Amount> widest = ParseAmount(UniValue("9999999999.99999999"));
    BOOST_REQUIRE(widest.ok());
    BOOST_CHECK_EQUAL(widest.value(), 999999999999999999);
    BOOST_CHECK_EQUAL(AmountToValue(150000000).getValStr(), "1.50000000");
    BOOST_CHECK_EQUAL(AmountToValue(1).getValStr(), "0.00000001");
    BOOST_CHECK_EQUAL(AmountToValue(-COIN).getValStr(), "-1.00000000");
}

BOOST_AUTO_TEST_CASE(create_get_list_redeem_cancel_info)
{
    UniValue created = Ok("creategiftcode", Params({Num("0.5"), Num("3"), UniValue("promo"), UniValue()}));
    BOOST_CHECK_EQUAL(created["codes"].size(), 3u);
    BOOST_CHECK_EQUAL(created["amount"].getValStr(), "0.50000000");
    BOOST_CHECK_EQUAL(created["label"].get_str(), "promo");
    BOOST_CHECK(created["expires_at"].isNull());
    const UniValue first = created["codes"][0];
    const std::string code = first["code"].get_str();
    const std::string id = first["id"].get_str();
    BOOST_CHECK(first["uri"].get_str().rfind("MONAGIFT:RGC", 0) == 0);

    UniValue got = Ok("getgiftcode", Params({UniValue(code)}));
    BOOST_CHECK_EQUAL(got["id"].get_str(), id);
    BOOST_CHECK_EQUAL(got["state"].get_str(), "issued");
    BOOST_CHECK(!got.exists("code"));

    UniValue listed = Ok("listgiftcodes", Params({UniValue("issued"), UniValue("promo")}));
    BOOST_CHECK_EQUAL(listed["total"].get_int64(), 3);
    BOOST_REQUIRE_EQUAL(listed["totals"].size(), 1u);
    BOOST_CHECK_EQUAL(listed["totals"][0]["label"].get_str(), "promo");
    BOOST_CHECK_EQUAL(listed["totals"][0]["issued"]["count"].get_int(), 3);
    BOOST_CHECK_EQUAL(listed["totals"][0]["issued"]["amount"].getValStr(), "1.50000000");
    BOOST_CHECK_EQUAL(listed["totals"][0]["redeemed"]["amount"].getValStr(), "0.00000000");
    BOOST_CHECK(listed["totals"][0]["cancelled"].isObject());
    BOOST_CHECK(listed["totals"][0]["expired"].isObject());
    for (size_t i = 0; i < listed["codes"].size(); ++i) BOOST_CHECK(!listed["codes"][i].exists("code"));
    BOOST_CHECK(listed.write().find(code.substr(4, 9)) == std::string::npos);

    UniValue redeemed = Ok("redeemgiftcode", Params({UniValue(code), UniValue(TestAddress(5))}));
    BOOST_CHECK_EQUAL(redeemed["amount"].getValStr(), "0.50000000");
    BOOST_CHECK_EQUAL(redeemed["replay"].get_bool(), false);
    BOOST_CHECK_EQUAL(redeemed["broadcast"].get_bool(), true);
    BOOST_CHECK_EQUAL(redeemed["txid"].get_str().size(), 64u);
    UniValue replay = Ok("redeemgiftcode", Params({UniValue(code), UniValue(TestAddress(5))}));
    BOOST_CHECK_EQUAL(replay["replay"].get_bool(), true);
    BOOST_CHECK_EQUAL(replay["txid"].get_str(), redeemed["txid"].get_str());

    got = Ok("getgiftcode", Params({UniValue(id)}));
    BOOST_CHECK_EQUAL(got["state"].get_str(), "redeemed");
    BOOST_CHECK_EQUAL(got["txid"].get_str(), redeemed["txid"].get_str());
    BOOST_CHECK_EQUAL(got["address"].get_str(), TestAddress(5));
    BOOST_CHECK_EQUAL(got["in_mempool"].get_bool(), true);

    UniValue cancelled = Ok("cancelgiftcode", Params({created["codes"][1]["id"]}));
    BOOST_CHECK_EQUAL(cancelled["state"].get_str(), "cancelled");

    UniValue info = Ok("getgiftcodeinfo", Params({}));
    BOOST_CHECK_EQUAL(info["counts"]["issued"].get_int64(), 1);
    BOOST_CHECK_EQUAL(info["counts"]["redeemed"].get_int64(), 1);
    BOOST_CHECK_EQUAL(info["counts"]["cancelled"].get_int64(), 1);
    BOOST_CHECK_EQUAL(info["counts"]["expired"].get_int64(), 0);
    BOOST_CHECK_EQUAL(info["outstanding_liability"].getValStr(), "0.50000000");
    BOOST_CHECK_EQUAL(info["redeemed_amount"].getValStr(), "0.50000000");
    BOOST_CHECK_EQUAL(info["build_id"].get_str(), BuildId());
    BOOST_CHECK_EQUAL(info["consistency"]["clean"].get_bool(), true);
    BOOST_CHECK_EQUAL(info["network"].get_str(), "RGC");
    BOOST_CHECK_EQUAL(info["timings"]["commit"]["count"].get_int64(), 1);
    BOOST_CHECK_EQUAL(info["timings"]["broadcast"]["count"].get_int64(), 1);
    BOOST_CHECK(info["timings"]["build"]["avg_ms"].isNum());
}

BOOST_AUTO_TEST_CASE(parameter_errors_have_exact_codes)
{
    const UniValue code = CreateOne()["code"];
    ExpectError("creategiftcode", Params({}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), Num("0"), Num("9")}),
                RPC_NODE_INVALID_PARAMETER);
    ExpectError("creategiftcode", Params({Num("0")}), RPC_NODE_TYPE_ERROR);
    ExpectError("creategiftcode", Params({Num("-1")}), RPC_NODE_TYPE_ERROR);
    ExpectError("creategiftcode", Params({Num("0.00000545")}), RPC_NODE_TYPE_ERROR);
    ExpectError("creategiftcode", Params({Num("105120000.00000001")}), RPC_NODE_TYPE_ERROR);
    ExpectError("creategiftcode", Params({UniValue("lots")}), RPC_NODE_TYPE_ERROR);
    ExpectError("creategiftcode", Params({Num("1"), Num("0")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("creategiftcode", Params({Num("1"), Num("10001")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("creategiftcode", Params({Num("1"), UniValue("many")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("creategiftcode", Params({Num("1"), Num("1.5")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("creategiftcode", Params({Num("1"), Num("1"), Num("7")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), Num("1")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("getgiftcode", Params({}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("getgiftcode", Params({Num("5")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("listgiftcodes", Params({UniValue("spent")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("listgiftcodes", Params({UniValue(""), UniValue(), Num("-1")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("listgiftcodes", Params({UniValue(""), UniValue(), Num("0"), Num("0")}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("redeemgiftcode", Params({code}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("redeemgiftcode", Params({Num("1"), UniValue(TestAddress(1))}), RPC_GIFTCODE_MALFORMED);
    ExpectError("redeemgiftcode", Params({code, Num("1")}), RPC_NODE_INVALID_ADDRESS_OR_KEY);
    ExpectError("cancelgiftcode", Params({}), RPC_NODE_INVALID_PARAMETER);
    ExpectError("getgiftcodeinfo", Params({UniValue("x")}), RPC_NODE_INVALID_PARAMETER);
    // Named-argument tables match the positional parsing.
    for (const RpcMethod& m : RpcMethods()) BOOST_CHECK(m.arg_names.size() <= 4);
}

BOOST_AUTO_TEST_CASE(failures_have_exact_codes_and_change_nothing)
{
    const std::string code = CreateOne()["code"].get_str();
    std::string typo = code;
    typo[5] = typo[5] == 'Z' ? 'Y' : 'Z';
    Result<ParsedCode> parsed = ParseCode(code, Network::kRegtest);
    BOOST_REQUIRE(parsed.ok());
    const std::string mainnet = FormatCode(Network::kMain, parsed->secret);
    const std::string unknown = FormatCode(Network::kRegtest, CodeSecret(std::array<uint8_t, 16>{9}));
    const UniValue addr(TestAddress(1));

    ExpectError("redeemgiftcode", Params({UniValue("RGC-1234"), addr}), RPC_GIFTCODE_MALFORMED);
    ExpectError("redeemgiftcode", Params({UniValue(typo), addr}), RPC_GIFTCODE_BAD_CHECKSUM);
    ExpectError("redeemgiftcode", Params({UniValue(mainnet), addr}), RPC_GIFTCODE_WRONG_NETWORK);
    ExpectError("redeemgiftcode", Params({UniValue(unknown), addr}), RPC_GIFTCODE_UNKNOWN);
    ExpectError("redeemgiftcode", Params({UniValue(code), UniValue("mona1notours")}), RPC_NODE_INVALID_ADDRESS_OR_KEY);
    ExpectError("getgiftcode", Params({UniValue(unknown)}), RPC_GIFTCODE_UNKNOWN);
    ExpectError("getgiftcode", Params({UniValue(typo)}), RPC_GIFTCODE_BAD_CHECKSUM);

    node.payer.SetLocked(true);
    ExpectError("redeemgiftcode", Params({UniValue(code), addr}), RPC_NODE_WALLET_UNLOCK_NEEDED);
    node.payer.SetLocked(false);
    node.payer.SetUnsupported(true);
    ExpectError("redeemgiftcode", Params({UniValue(code), addr}), RPC_NODE_WALLET_ERROR);
    node.payer.SetUnsupported(false);
    store.FailNextCommits(1);
    ExpectError("redeemgiftcode", Params({UniValue(code), addr}), RPC_NODE_DATABASE_ERROR);
    store.FailNextCommits(1);
    ExpectError("creategiftcode", Params({Num("1")}), RPC_NODE_DATABASE_ERROR);

    const std::string rich = CreateOne("1000000")["code"].get_str();
    ExpectError("redeemgiftcode", Params({UniValue(rich), addr}), RPC_NODE_WALLET_INSUFFICIENT_FUNDS);

    Ok("redeemgiftcode", Params({UniValue(code), addr}));
    ExpectError("redeemgiftcode", Params({UniValue(code), UniValue(TestAddress(2))}), RPC_GIFTCODE_ALREADY_REDEEMED);
    ExpectError("cancelgiftcode", Params({UniValue(code)}), RPC_GIFTCODE_ALREADY_REDEEMED);

    const std::string to_cancel = CreateOne()["code"].get_str();
    Ok("cancelgiftcode", Params({UniValue(to_cancel)}));
    ExpectError("redeemgiftcode", Params({UniValue(to_cancel), addr}), RPC_GIFTCODE_CANCELLED);
    ExpectError("cancelgiftcode", Params({UniValue(to_cancel)}), RPC_GIFTCODE_CANCELLED);

    const int64_t expiry = node.clock.Now() + 60;
    UniValue expiring = Ok("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), UniValue(expiry)}));
    BOOST_CHECK_EQUAL(expiring["expires_at"].get_int64(), expiry);
    node.clock.Set(expiry);
    ExpectError("redeemgiftcode", Params({expiring["codes"][0]["code"], addr}), RPC_GIFTCODE_EXPIRED);
    BOOST_CHECK_EQUAL(Ok("getgiftcode", Params({expiring["codes"][0]["id"]}))["state"].get_str(), "expired");

    UniValue info = Ok("getgiftcodeinfo", Params({}));
    BOOST_CHECK_EQUAL(info["failed_redemptions"]["bad_checksum"].get_int64(), 1);
    BOOST_CHECK_EQUAL(info["failed_redemptions"]["expired"].get_int64(), 1);
    BOOST_CHECK_EQUAL(info["failed_redemptions"]["store_failure"].get_int64(), 1);
}

BOOST_AUTO_TEST_CASE(counts_skips_and_expiries_are_json_numbers_amounts_may_be_strings)
{
    // monacoin-cli sends these as numbers (patch 0006), so a string is the
    // caller's type error; an amount may be either, as for sendtoaddress.
    UniValue created = Ok("creategiftcode", Params({UniValue("2"), Num("2"), UniValue("cli")}));
    BOOST_CHECK_EQUAL(created["amount"].getValStr(), "2.00000000");
    BOOST_CHECK_EQUAL(created["count"].get_int64(), 2);
    BOOST_CHECK_EQUAL(created["codes"].size(), 2u);
    UniValue listed = Ok("listgiftcodes", Params({UniValue(""), UniValue("cli"), Num("1"), Num("1")}));
    BOOST_CHECK_EQUAL(listed["total"].get_int64(), 2);
    BOOST_CHECK_EQUAL(listed["skip"].get_int64(), 1);
    BOOST_CHECK_EQUAL(listed["codes"].size(), 1u);

    const int bad = RPC_NODE_INVALID_PARAMETER;
    ExpectError("creategiftcode", Params({Num("1"), UniValue("2")}), bad, "count must be a number, got string");
    ExpectError("creategiftcode", Params({Num("1"), UniValue(true)}), bad, "count must be a number, got bool");
    ExpectError("creategiftcode", Params({Num("1"), UniValue(UniValue::VARR)}), bad, "count must be a number, got array");
    ExpectError("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), UniValue("4000000000")}), bad,
                "expires_at must be a number, got string");
    ExpectError("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), UniValue(UniValue::VOBJ)}), bad,
                "expires_at must be a number, got object");
    ExpectError("listgiftcodes", Params({UniValue(""), UniValue(), UniValue("1")}), bad,
                "skip must be a number, got string");
    ExpectError("listgiftcodes", Params({UniValue(""), UniValue(), Num("0"), UniValue("1")}), bad,
                "count must be a number, got string");
}

BOOST_AUTO_TEST_CASE(whole_numbers_are_read_without_overflow)
{
    const int bad = RPC_NODE_INVALID_PARAMETER;
    const std::string skip_range = "skip must be a whole number from 0 to 2147483647";
    const std::string count_range = "count must be a whole number from 1 to 10000";
    const std::string expiry_range = "expires_at must be a whole number from 0 to 4611686018427387903";

    // listgiftcodes "" null 9999999999999999999, parsed as the node parses a request.
    UniValue request;
    BOOST_REQUIRE(request.read("[\"\", null, 9999999999999999999]"));
    ExpectError("listgiftcodes", request, bad, skip_range);
    for (const char* text : {"-1", "2147483648", "9223372036854775807", "9223372036854775808", "9223372036854775809",
                             "-9223372036854775808", "-9223372036854775809", "18446744073709551616",
                             "99999999999999999999999999999", "1.0", "1.5", "1e1", "1E+1", "-", "", "0x1", " 1", "+1"}) {
        ExpectError("listgiftcodes", Params({UniValue(""), UniValue(), Num(text)}), bad, skip_range);
    }
    for (const char* text : {"0", "-0", "10001", "1e0", "-9223372036854775808"}) {
        ExpectError("listgiftcodes", Params({UniValue(""), UniValue(), Num("0"), Num(text)}), bad, count_range);
        ExpectError("creategiftcode", Params({Num("1"), Num(text)}), bad, count_range);
    }
    for (const char* text : {"-1", "4611686018427387904", "9223372036854775807", "1e9", "2.0"}) {
        ExpectError("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), Num(text)}), bad, expiry_range);
    }

    // The bounds are accepted, and -0 reads as 0.
    UniValue page = Ok("listgiftcodes", Params({UniValue(""), UniValue(), Num("-0"), Num("10000")}));
    BOOST_CHECK_EQUAL(page["skip"].get_int64(), 0);
    page = Ok("listgiftcodes", Params({UniValue(""), UniValue(), Num("2147483647"), Num("1")}));
    BOOST_CHECK_EQUAL(page["skip"].get_int64(), 2147483647);
    BOOST_CHECK_EQUAL(page["codes"].size(), 0u);
    UniValue never = Ok("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), Num("-0")}));
    BOOST_CHECK(never["expires_at"].isNull());
    BOOST_REQUIRE(request.read("[1, 2, \"far\", 4611686018427387903]"));
    UniValue far = Ok("creategiftcode", request);
    BOOST_CHECK_EQUAL(far["count"].get_int64(), 2);
    BOOST_CHECK_EQUAL(far["expires_at"].get_int64(), 4611686018427387903);
    BOOST_CHECK_EQUAL(Ok("listgiftcodes", Params({UniValue(""), UniValue("far")}))["total"].get_int64(), 2);
}

BOOST_AUTO_TEST_CASE(params_that_are_not_an_array_count_as_no_arguments)
{
    CreateOne();
    BOOST_CHECK_EQUAL(Ok("listgiftcodes", UniValue())["total"].get_int64(), 1);
    BOOST_CHECK_EQUAL(Ok("getgiftcodeinfo", UniValue(UniValue::VOBJ))["counts"]["issued"].get_int64(), 1);
    ExpectError("creategiftcode", UniValue(), RPC_NODE_INVALID_PARAMETER, "expected 1 to 4 arguments, got 0");
    ExpectError("creategiftcode", UniValue("1"), RPC_NODE_INVALID_PARAMETER, "expected 1 to 4 arguments, got 0");
    ExpectError("listgiftcodes", Params({UniValue(""), UniValue(), Num("0"), Num("1"), Num("1")}),
                RPC_NODE_INVALID_PARAMETER, "expected 0 to 4 arguments, got 5");
    ExpectError("getgiftcodeinfo", Params({Num("1")}), RPC_NODE_INVALID_PARAMETER, "expected 0 arguments, got 1");
}

BOOST_AUTO_TEST_CASE(every_failure_has_its_documented_error_code)
{
    // The table of doc/rpc.md, "Error codes".
    const std::vector<std::pair<StatusCode, int>> table = {
        {StatusCode::kMalformedCode, -401},    {StatusCode::kBadChecksum, -402},
        {StatusCode::kWrongNetwork, -403},     {StatusCode::kUnknownCode, -404},
        {StatusCode::kAlreadyRedeemed, -405},  {StatusCode::kCancelled, -406},
        {StatusCode::kExpired, -407},          {StatusCode::kFundsPending, -408},
        {StatusCode::kInvalidAddress, -5},     {StatusCode::kInvalidAmount, -3},
        {StatusCode::kInvalidParameter, -8},   {StatusCode::kInsufficientFunds, -6},
        {StatusCode::kNodeCatchingUp, -10},    {StatusCode::kWalletLocked, -13},
        {StatusCode::kWalletUnsupported, -4},  {StatusCode::kPaymentFailed, -4},
        {StatusCode::kStoreFailure, -20},      {StatusCode::kCorruption, -22},
        {StatusCode::kLimitReached, -409},     {StatusCode::kPaused, -409},
    };
    BOOST_CHECK_EQUAL(table.size(), size_t(StatusCode::kPaused));  // every failure
    for (const auto& [status, code] : table) {
        BOOST_CHECK_MESSAGE(RpcErrorCodeFor(status) == code, StatusCodeName(status));
    }
}

BOOST_AUTO_TEST_CASE(each_method_returns_exactly_the_errors_its_help_lists)
{
    // Every method is called with each argument, one position at a time,
    // replaced by each value of a pool, at every arity the node lets
    // through (it answers a wrong count with -1 and the help before the
    // body runs), in each state of the wallet a test can put the payer and
    // the store in. The codes seen must be the method's list: no more (the
    // help would hide one) and no fewer (it would list one it cannot give).
    const int64_t start = node.clock.Now();
    const UniValue expired = Ok("creategiftcode", Params({Num("1"), Num("1"), UniValue(""), UniValue(start + 1)}));
    node.clock.Set(start + 2);
    const UniValue redeemed = CreateOne();
    Ok("redeemgiftcode", Params({redeemed["code"], UniValue(TestAddress(1))}));
    const UniValue cancelled = CreateOne();
    Ok("cancelgiftcode", Params({cancelled["id"]}));
    const std::string code = CreateOne()["code"].get_str();
    std::string typo = code;
    typo[5] = typo[5] == 'Z' ? 'Y' : 'Z';
    Result<ParsedCode> parsed = ParseCode(code, Network::kRegtest);
    BOOST_REQUIRE(parsed.ok());

    using Make = std::function<UniValue()>;
    const Make fresh_code = [this] { return CreateOne()["code"]; };
    const Make fresh_id = [this] { return CreateOne()["id"]; };
    const std::vector<Make> pool = {
        [] { return UniValue(); },
        [] { return Num("1"); },
        [] { return Num("0"); },
        [] { return Num("-1"); },
        [] { return Num("0.5"); },
        [] { return Num("0.000000001"); },
        [] { return Num("100000000000000000000"); },
        [] { return UniValue("1"); },
        [] { return UniValue(""); },
        [] { return UniValue("issued"); },
        [] { return UniValue("spent"); },
        [] { return UniValue(std::string("a\0b", 3)); },
        [] { return UniValue(std::string(MAX_LABEL + 1, 'x')); },
        [] { return UniValue(true); },
        [] { return UniValue(UniValue::VARR); },
        [] { return UniValue(UniValue::VOBJ); },
        [this, start] { return UniValue(node.clock.Now() - 1); },
        [start] { return UniValue(start + 100000); },
        fresh_code,
        fresh_id,
        [this] { return CreateOne("1000000")["code"]; },
        [&] { return redeemed["code"]; },
        [&] { return cancelled["id"]; },
        [&] { return cancelled["code"]; },
        [&] { return expired["codes"][0]["code"]; },
        [&] { return expired["codes"][0]["id"]; },
        [&] { return UniValue(typo); },
        [&] { return UniValue(FormatCode(Network::kMain, parsed->secret)); },
        [] { return UniValue(FormatCode(Network::kRegtest, CodeSecret(std::array<uint8_t, 16>{7}))); },
        [] { return UniValue("RGC-1234"); },
        [] { return UniValue(TestAddress(2)); },
        [] { return UniValue("mona1notours"); },
    };
    // Valid arguments, and the fewest the node lets through.
    const std::map<std::string, std::pair<size_t, std::vector<Make>>> valid = {
        {"creategiftcode", {1, {[] { return Num("1"); }, [] { return Num("2"); }, [] { return UniValue("l"); },
                                [] { return Num("0"); }}}},
        {"getgiftcode", {1, {fresh_id}}},
        {"listgiftcodes", {0, {[] { return UniValue(""); }, [] { return UniValue("l"); }, [] { return Num("0"); },
                               [] { return Num("10"); }}}},
        {"redeemgiftcode", {2, {fresh_code, [] { return UniValue(TestAddress(3)); }}}},
        {"cancelgiftcode", {1, {fresh_id}}},
        {"getgiftcodeinfo", {0, {}}},
        {"setgiftcodelimits", {1, {[] {
             UniValue limits(UniValue::VARR);
             UniValue limit(UniValue::VOBJ);
             limit.pushKV("window", 3600);
             limit.pushKV("amount", Num("1000000"));
             limits.push_back(limit);
             return limits;
         }}}},
        {"pausegiftcodes", {0, {[] { return UniValue("checking"); }}}},
        {"resumegiftcodes", {0, {}}},
    };
    struct Mode {
        const char* name;
        std::function<void(bool)> set;
    };
    const std::vector<Mode> modes = {
        {"normal", [](bool) {}},
        {"locked", [this](bool on) { node.payer.SetLocked(on); }},
        {"cannot sign", [this](bool on) { node.payer.SetUnsupported(on); }},
        {"catching up", [this](bool on) { node.payer.SetCatchingUp(on); }},
        {"funds pending", [this](bool on) { node.payer.SetPendingFunds(on ? node.payer.balance() : 0); }},
        {"commit fails", [this](bool on) { store.FailNextCommits(on ? 1 : 0); }},
        {"keys broken", [this](bool on) { node.payer.SetBrokenPaymentKeys(on ? 1 : 0); }},
        {"payment fails", [this](bool on) { node.payer.FailPayments(on); }},
        {"paused", [this](bool on) { BOOST_REQUIRE(on ? ledger->Pause("test").ok() : ledger->Resume().ok()); }},
    };
    std::map<std::string, std::set<int>> seen;
    for (const RpcMethod& method : RpcMethods()) {
        const auto& [fewest, args] = valid.at(method.name);
        BOOST_REQUIRE_EQUAL(args.size(), method.arg_names.size());
        const auto call = [&](const Mode& mode, size_t arity, size_t replaced, const Make* with) {
            UniValue params(UniValue::VARR);
            for (size_t i = 0; i < arity; ++i) params.push_back(i == replaced ? (*with)() : args[i]());
            mode.set(true);
            const RpcReply reply = Call(method.name, params);
            mode.set(false);
            if (reply.ok()) return;
            seen[method.name].insert(reply.error->code);
            BOOST_CHECK_MESSAGE(std::count(method.errors.begin(), method.errors.end(), reply.error->code),
                                method.name << " " << params.write() << " (" << mode.name << "): error "
                                            << reply.error->code << " (" << reply.error->message
                                            << ") is not in its help");
        };
        for (const Mode& mode : modes) {
            for (size_t arity = fewest; arity <= args.size(); ++arity) {
                call(mode, arity, arity, nullptr);
                for (size_t at = 0; at < arity; ++at) {
                    for (const Make& value : pool) call(mode, arity, at, &value);
                }
            }
        }
        std::set<int> listed(method.errors.begin(), method.errors.end());
        std::string missing;
        for (int code : listed) {
            if (!seen[method.name].count(code)) missing += " " + std::to_string(code);
        }
        BOOST_CHECK_MESSAGE(missing.empty(), method.name << ": its help lists errors it did not return:" << missing);
    }
    // The help lists them in the table's order, each once, with its meaning.
    for (const RpcMethod& method : RpcMethods()) {
        const std::string help = RpcErrorsHelp(method);
        size_t at = 0;
        for (const RpcErrorDoc& doc : RpcErrorDocs()) {
            const std::string line = std::to_string(doc.code) + "  " + doc.meaning + "\n";
            const size_t found = help.find(line);
            const bool listed = std::count(method.errors.begin(), method.errors.end(), doc.code) > 0;
            const size_t common = help.find("And, as every gift-code RPC:");
            BOOST_CHECK_MESSAGE(listed == (found != std::string::npos && found < common),
                                method.name << " help and " << doc.code);
            if (listed) {
                BOOST_CHECK_MESSAGE(found >= at, method.name << ": " << doc.code << " out of order");
                at = found;
            }
        }
        for (const RpcErrorDoc& doc : RpcCommonErrorDocs()) {
            BOOST_CHECK(help.find(std::to_string(doc.code) + "  " + doc.meaning + "\n") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_cli_sends_null_only_for_string_arguments_that_may_be_null)
{
    // Each entry names a real argument, at its position, that takes a
    // string and accepts null for its default.
    size_t count;
    const CliNullableArg* args = CliNullableArgs(count);
    BOOST_CHECK_EQUAL(count, 3u);
    for (size_t i = 0; i < count; ++i) {
        const RpcMethod* method = nullptr;
        for (const RpcMethod& m : RpcMethods()) {
            if (m.name == std::string(args[i].method)) method = &m;
        }
        BOOST_REQUIRE_MESSAGE(method, args[i].method);
        BOOST_REQUIRE(size_t(args[i].index) < method->arg_names.size());
        BOOST_CHECK_EQUAL(method->arg_names[size_t(args[i].index)], args[i].name);
    }
    CreateOne();
    (void)Ok("creategiftcode", Params({Num("1"), UniValue(), UniValue(), UniValue()}));
    UniValue page = Ok("listgiftcodes", Params({UniValue(), UniValue(), Num("0"), Num("10")}));
    BOOST_CHECK_EQUAL(page["total"].get_int64(), 2);
    ExpectError("listgiftcodes", Params({UniValue("null")}), RPC_NODE_INVALID_PARAMETER);

    BOOST_CHECK(CliSendsNull("listgiftcodes", 1, "", "null"));
    BOOST_CHECK(CliSendsNull("listgiftcodes", -1, "label", "null"));
    BOOST_CHECK(CliSendsNull("listgiftcodes", 0, "", "null"));
    BOOST_CHECK(CliSendsNull("creategiftcode", 2, "", "null"));
    BOOST_CHECK(!CliSendsNull("listgiftcodes", 1, "", "campaign"));
    BOOST_CHECK(!CliSendsNull("listgiftcodes", 1, "", "Null"));
    BOOST_CHECK(!CliSendsNull("listgiftcodes", 1, "", "\"null\""));
    BOOST_CHECK(!CliSendsNull("redeemgiftcode", 0, "", "null"));
    BOOST_CHECK(!CliSendsNull("redeemgiftcode", -1, "code", "null"));
    BOOST_CHECK(!CliSendsNull("creategiftcode", 0, "", "null"));
    BOOST_CHECK(!CliSendsNull("sendtoaddress", 2, "", "null"));
    BOOST_CHECK(!CliSendsNull("listgiftcodes", -1, "", "null"));
}

BOOST_AUTO_TEST_CASE(the_breaker_s_rpcs_set_show_and_refuse)
{
    UniValue limits(UniValue::VARR);
    UniValue wallet(UniValue::VOBJ);
    wallet.pushKV("window", 3600);
    wallet.pushKV("amount", Num("2"));
    limits.push_back(wallet);
    UniValue spring(UniValue::VOBJ);
    spring.pushKV("window", 60);
    spring.pushKV("count", 1);
    spring.pushKV("label", "spring");
    limits.push_back(spring);
    UniValue b = Ok("setgiftcodelimits", Params({limits}));
    BOOST_CHECK_EQUAL(b["limits_from"].get_str(), "wallet");
    BOOST_REQUIRE_EQUAL(b["limits"].size(), 2u);
    BOOST_CHECK(b["limits"][0]["label"].isNull());
    BOOST_CHECK_EQUAL(b["limits"][0]["max_amount"].getValStr(), "2.00000000");
    BOOST_CHECK(b["limits"][0]["max_count"].isNull());
    BOOST_CHECK_EQUAL(b["limits"][1]["label"].get_str(), "spring");
    BOOST_CHECK_EQUAL(b["limits"][1]["max_count"].get_int64(), 1);
    BOOST_CHECK(b["limits"][1]["max_amount"].isNull());
    BOOST_CHECK_EQUAL(b["tripped"].get_bool(), false);
    BOOST_CHECK(b["resumes_at"].isNull() && b["tripped_by"].isNull() && b["paused_at"].isNull());

    const UniValue addr(TestAddress(1));
    const std::string one = CreateOne("1.5")["code"].get_str();
    Ok("redeemgiftcode", Params({UniValue(one), addr}));
    const std::string two = CreateOne("1")["code"].get_str();
    ExpectError("redeemgiftcode", Params({UniValue(two), addr}), RPC_GIFTCODE_LIMIT);
    b = Ok("getgiftcodeinfo", Params({}))["breaker"];
    BOOST_CHECK_EQUAL(b["tripped"].get_bool(), true);
    BOOST_CHECK_EQUAL(b["tripped_by"].get_str(), "wallet: per 1 h at most 2.00000000");
    BOOST_CHECK_EQUAL(b["resumes_at"].get_int64(), node.clock.Now() + 3600);
    BOOST_CHECK_EQUAL(b["limits"][0]["amount"].getValStr(), "1.50000000");
    BOOST_CHECK_EQUAL(b["limits"][0]["count"].get_int64(), 1);
    BOOST_CHECK_EQUAL(b["limits"][0]["next_release"].get_int64(), node.clock.Now() + 3600);
    BOOST_CHECK_EQUAL(Ok("getgiftcodeinfo", Params({}))["failed_redemptions"]["limit_reached"].get_int64(), 1);

    b = Ok("pausegiftcodes", Params({UniValue("audit")}));
    BOOST_CHECK_EQUAL(b["paused"].get_bool(), true);
    BOOST_CHECK_EQUAL(b["pause_reason"].get_str(), "audit");
    BOOST_CHECK_EQUAL(b["paused_at"].get_int64(), node.clock.Now());
    node.clock.Advance(3601);
    ExpectError("redeemgiftcode", Params({UniValue(two), addr}), RPC_GIFTCODE_LIMIT);
    BOOST_CHECK_EQUAL(Ok("getgiftcodeinfo", Params({}))["failed_redemptions"]["paused"].get_int64(), 1);
    b = Ok("resumegiftcodes", Params({}));
    BOOST_CHECK(b["pause_reason"].isNull());
    Ok("redeemgiftcode", Params({UniValue(two), addr}));
    BOOST_CHECK_EQUAL(Ok("pausegiftcodes", Params({}))["pause_reason"].get_str(), "");
    Ok("resumegiftcodes", Params({}));
    BOOST_CHECK_EQUAL(Ok("setgiftcodelimits", Params({UniValue()}))["limits_from"].get_str(), "node");
    BOOST_CHECK_EQUAL(Ok("setgiftcodelimits", Params({UniValue(UniValue::VARR)}))["limits_from"].get_str(), "wallet");

    // Each bad limit is named, and nothing changes.
    const auto bad = [this](const std::string& json, const std::string& message) {
        UniValue value;
        BOOST_REQUIRE(value.read(json));
        ExpectError("setgiftcodelimits", Params({value}), RPC_NODE_INVALID_PARAMETER, message);
    };
    bad(R"({"window": 60})", "limits must be an array of limits, or null for the node's");
    bad(R"([5])", "each limit must be an object {\"window\", \"amount\", \"count\", \"label\"}");
    bad(R"([{"window": 60, "amount": 1, "colour": 1}])", "a limit has no field \"colour\"");
    bad(R"([{"amount": 1}])", "window must be a number, got null");
    bad(R"([{"window": 2678401, "amount": 1}])", "window must be a whole number from 1 to 2678400");
    bad(R"([{"window": 60, "amount": "x"}])", "a limit's amount: amount must be a number of MONA with at most 8 decimals");
    bad(R"([{"window": 60, "count": 0}])", "count must be a whole number from 1 to 2147483647");
    bad(R"([{"window": 60, "amount": 1, "label": 5}])", "label must be a string");
    bad(R"([{"window": 60}])", "a limit needs an amount, a count, or both");
    ExpectError("pausegiftcodes", Params({Num("1")}), RPC_NODE_INVALID_PARAMETER, "reason must be a string");
}

BOOST_AUTO_TEST_CASE(arguments_of_the_wrong_type_are_named)
{
    const int bad = RPC_NODE_INVALID_PARAMETER;
    CreateOne();
    ExpectError("listgiftcodes", Params({Num("1")}), bad, "state must be a string");
    ExpectError("listgiftcodes", Params({UniValue(""), Num("1")}), bad, "label must be a string");
    ExpectError("cancelgiftcode", Params({Num("1")}), bad, "code_or_id must be a string");
    ExpectError("getgiftcode", Params({UniValue(UniValue::VOBJ)}), bad, "code_or_id must be a string");
    ExpectError("creategiftcode", Params({Num("1"), Num("1"), UniValue(false)}), bad, "label must be a string");
    ExpectError("redeemgiftcode", Params({UniValue("x")}), bad, "expected 2 arguments, got 1");
    ExpectError("redeemgiftcode", Params({UniValue(true), UniValue(TestAddress(1))}), RPC_GIFTCODE_MALFORMED,
                "code must be a string");
    ExpectError("redeemgiftcode", Params({UniValue("x"), UniValue(UniValue::VNULL)}),
                RPC_NODE_INVALID_ADDRESS_OR_KEY, "address must be a string");
}

BOOST_AUTO_TEST_CASE(a_payment_the_mempool_refused_is_reported_everywhere)
{
    node.payer.SetBroadcastFailure("min relay fee not met");
    const UniValue created = CreateOne();
    const UniValue address(TestAddress(1));
    UniValue redeemed = Ok("redeemgiftcode", Params({created["code"], address}));
    const std::string txid = redeemed["txid"].get_str();
    BOOST_CHECK_EQUAL(redeemed["broadcast"].get_bool(), false);
    BOOST_CHECK_EQUAL(redeemed["broadcast_error"].get_str(), "min relay fee not met");
    BOOST_CHECK_EQUAL(redeemed["payment_state"].get_str(), "not_in_mempool");

    UniValue got = Ok("getgiftcode", Params({created["id"]}));
    BOOST_CHECK_EQUAL(got["broadcast_error"].get_str(), "min relay fee not met");
    BOOST_CHECK_EQUAL(got["payment_state"].get_str(), "not_in_mempool");
    BOOST_CHECK_EQUAL(got["in_mempool"].get_bool(), false);

    UniValue info = Ok("getgiftcodeinfo", Params({}));
    BOOST_REQUIRE_EQUAL(info["unbroadcast"].size(), 1u);
    BOOST_CHECK_EQUAL(info["unbroadcast"][0]["txid"].get_str(), txid);
    BOOST_CHECK_EQUAL(info["unbroadcast"][0]["reason"].get_str(), "min relay fee not met");
    BOOST_CHECK_EQUAL(info["attention"].size(), 0u);  // not yet: the next block retries it

    (void)ledger->FollowPayments();  // the retry fails too
    info = Ok("getgiftcodeinfo", Params({}));
    BOOST_REQUIRE_EQUAL(info["attention"].size(), 1u);
    const UniValue& notice = info["attention"][0];
    BOOST_CHECK_EQUAL(notice["id"].get_str(), created["id"].get_str());
    BOOST_CHECK_EQUAL(notice["txid"].get_str(), txid);
    BOOST_CHECK_EQUAL(notice["state"].get_str(), "not_in_mempool");
    BOOST_CHECK_EQUAL(notice["reason"].get_str(),
                      "not in the mempool (min relay fee not met); resubmitted on every block");

    node.payer.SetBroadcastFailure("");
    (void)ledger->FollowPayments();
    info = Ok("getgiftcodeinfo", Params({}));
    BOOST_CHECK_EQUAL(info["unbroadcast"].size(), 0u);
    BOOST_CHECK_EQUAL(info["attention"].size(), 0u);
    got = Ok("getgiftcode", Params({created["id"]}));
    BOOST_CHECK(!got.exists("broadcast_error"));
    BOOST_CHECK_EQUAL(got["payment_state"].get_str(), "mempool");
    UniValue replay = Ok("redeemgiftcode", Params({created["code"], address}));
    BOOST_CHECK_EQUAL(replay["broadcast"].get_bool(), true);
    BOOST_CHECK(!replay.exists("broadcast_error"));
}

BOOST_AUTO_TEST_CASE(a_replaced_payment_shows_the_transaction_that_pays)
{
    const UniValue created = CreateOne();
    UniValue redeemed = Ok("redeemgiftcode", Params({created["code"], UniValue(TestAddress(1))}));
    Txid original{};
    BOOST_REQUIRE(TxidFromHex(redeemed["txid"].get_str(), original));
    const Payment bumped = node.payer.Replace(original, 5000);
    UniValue got = Ok("getgiftcode", Params({created["id"]}));
    BOOST_CHECK_EQUAL(got["txid"].get_str(), TxidToHex(bumped.txid));
    BOOST_CHECK_EQUAL(got["fee"].getValStr(), "0.00005000");
    BOOST_CHECK_EQUAL(got["payment_state"].get_str(), "mempool");
    BOOST_REQUIRE_EQUAL(got["replaced_txids"].size(), 1u);
    BOOST_CHECK_EQUAL(got["replaced_txids"][0].get_str(), redeemed["txid"].get_str());
    UniValue listed = Ok("listgiftcodes", Params({UniValue("redeemed")}));
    BOOST_REQUIRE_EQUAL(listed["codes"].size(), 1u);
    BOOST_CHECK_EQUAL(listed["codes"][0]["replaced_txids"][0].get_str(), redeemed["txid"].get_str());
    UniValue info = Ok("getgiftcodeinfo", Params({}));
    BOOST_CHECK_EQUAL(info["redeemed_fees"].getValStr(), "0.00005000");
}

BOOST_AUTO_TEST_CASE(consistency_mismatches_are_listed)
{
    // A redeemed record whose payment the wallet lacks (from an older
    // version, without a copy to put back), and a tagged payment of a code
    // that is merely issued.
    CodeRecord orphan;
    orphan.id.bytes[0] = 0x42;
    orphan.state = StoredState::kRedeemed;
    orphan.amount = COIN;
    orphan.txid[0] = 0x99;
    orphan.address = TestAddress(3);
    store.PutRaw(EncodeCodeKey(orphan.id), EncodeCodeRecord(orphan));
    const UniValue unpaid = CreateOne();
    Result<CodeId> unpaid_id = CodeId::FromHex(unpaid["id"].get_str());
    BOOST_REQUIRE(unpaid_id.ok());
    const Payment stray = node.payer.MakePayment({unpaid_id.value(), TestAddress(4), COIN, "key:not-the-code-s"});
    BOOST_REQUIRE(node.payer.RestorePayment(unpaid_id.value(), stray.serialized_tx).ok());
    ledger = node.Open();

    UniValue info = Ok("getgiftcodeinfo", Params({}));
    const UniValue& consistency = info["consistency"];
    BOOST_CHECK_EQUAL(consistency["checked"].get_bool(), true);
    BOOST_CHECK_EQUAL(consistency["clean"].get_bool(), false);
    BOOST_CHECK_EQUAL(consistency["height"].get_int64(), 100);
    BOOST_REQUIRE_EQUAL(consistency["redeemed_without_payment"].size(), 1u);
    BOOST_CHECK_EQUAL(consistency["redeemed_without_payment"][0].get_str(), orphan.id.ToHex());
    BOOST_REQUIRE_EQUAL(consistency["payment_without_redemption"].size(), 1u);
    BOOST_CHECK_EQUAL(consistency["payment_without_redemption"][0]["id"].get_str(), unpaid["id"].get_str());
    BOOST_CHECK_EQUAL(consistency["payment_without_redemption"][0]["txid"].get_str(), TxidToHex(stray.txid));
    BOOST_CHECK(!consistency.exists("error"));
    BOOST_REQUIRE_EQUAL(info["attention"].size(), 1u);
    BOOST_CHECK_EQUAL(info["attention"][0]["id"].get_str(), orphan.id.ToHex());
    BOOST_CHECK_EQUAL(info["attention"][0]["state"].get_str(), "missing");
    // Nothing was released: the issued code is still issued, unpaid.
    BOOST_CHECK_EQUAL(Ok("getgiftcode", Params({unpaid["id"]}))["state"].get_str(), "issued");
}

BOOST_AUTO_TEST_CASE(consistency_check_that_cannot_run_says_why)
{
    CreateOne();
    node.payer.FailListing(true);
    (void)ledger->FollowPayments();
    UniValue consistency = Ok("getgiftcodeinfo", Params({}))["consistency"];
    BOOST_CHECK_EQUAL(consistency["checked"].get_bool(), false);
    BOOST_CHECK_EQUAL(consistency["clean"].get_bool(), false);
    BOOST_CHECK_EQUAL(consistency["error"].get_str(), "injected listing failure");
    node.payer.FailListing(false);
    (void)ledger->FollowPayments();
    consistency = Ok("getgiftcodeinfo", Params({}))["consistency"];
    BOOST_CHECK_EQUAL(consistency["clean"].get_bool(), true);
    BOOST_CHECK(!consistency.exists("error"));
}

BOOST_AUTO_TEST_CASE(info_reports_solvency_per_label)
{
    node.payer.SetPendingFunds(node.payer.balance() - 3 * COIN);
    UniValue created = Ok("creategiftcode", Params({Num("2"), Num("1"), UniValue("spring")}));
    BOOST_CHECK_EQUAL(created["outstanding_liability"].getValStr(), "2.00000000");
    BOOST_CHECK_EQUAL(created["spendable"].getValStr(), "3.00000000");
    BOOST_CHECK_EQUAL(created["solvent"].get_bool(), true);
    BOOST_CHECK(!created.exists("warning"));
    (void)Ok("creategiftcode", Params({Num("0.5"), Num("1")}));
    UniValue solvency = Ok("getgiftcodeinfo", Params({}))["solvency"];
    BOOST_CHECK_EQUAL(solvency["checked"].get_bool(), true);
    BOOST_CHECK(!solvency.exists("error"));
    BOOST_CHECK_EQUAL(solvency["liability"].getValStr(), "2.50000000");
    BOOST_CHECK_EQUAL(solvency["spendable"].getValStr(), "3.00000000");
    BOOST_CHECK_EQUAL(solvency["solvent"].get_bool(), true);
    BOOST_CHECK_EQUAL(solvency["shortfall"].getValStr(), "0.00000000");
    BOOST_REQUIRE_EQUAL(solvency["labels"].size(), 2u);
    BOOST_CHECK_EQUAL(solvency["labels"][0]["label"].get_str(), "");
    BOOST_CHECK_EQUAL(solvency["labels"][0]["liability"].getValStr(), "0.50000000");
    BOOST_CHECK_EQUAL(solvency["labels"][1]["label"].get_str(), "spring");
    BOOST_CHECK_EQUAL(solvency["labels"][1]["covered"].get_bool(), true);

    // A code reserves no funds: the call that outruns the wallet still
    // issues, and says so.
    created = Ok("creategiftcode", Params({Num("1.5"), Num("1"), UniValue("spring")}));
    BOOST_CHECK_EQUAL(created["codes"].size(), 1u);
    BOOST_CHECK_EQUAL(created["outstanding_liability"].getValStr(), "4.00000000");
    BOOST_CHECK_EQUAL(created["solvent"].get_bool(), false);
    BOOST_CHECK_EQUAL(created["warning"].get_str(),
                      "The wallet's outstanding codes are worth 4.00000000 MONA, more than the 3.00000000 MONA it can "
                      "spend now. A code reserves no funds: fund the wallet by 1.00000000 MONA or more (plus fees) "
                      "before the codes are redeemed, or cancel some");
    solvency = Ok("getgiftcodeinfo", Params({}))["solvency"];
    BOOST_CHECK_EQUAL(solvency["solvent"].get_bool(), false);
    BOOST_CHECK_EQUAL(solvency["shortfall"].getValStr(), "1.00000000");
    BOOST_CHECK_EQUAL(solvency["labels"][1]["liability"].getValStr(), "3.50000000");
    BOOST_CHECK_EQUAL(solvency["labels"][1]["covered"].get_bool(), false);

    node.payer.FailBalance(true);
    solvency = Ok("getgiftcodeinfo", Params({}))["solvency"];
    BOOST_CHECK_EQUAL(solvency["checked"].get_bool(), false);
    BOOST_CHECK_EQUAL(solvency["error"].get_str(), "the wallet's balance cannot be read");
    created = Ok("creategiftcode", Params({Num("0.1")}));
    BOOST_CHECK_EQUAL(created["codes"].size(), 1u);
    BOOST_CHECK(created["spendable"].isNull());
    BOOST_CHECK(created["solvent"].isNull());
    BOOST_CHECK_EQUAL(created["warning"].get_str(), "The codes were created, but the wallet's spendable balance could "
                                                    "not be read (the wallet's balance cannot be read): check "
                                                    "getgiftcodeinfo's solvency");
}

BOOST_AUTO_TEST_SUITE_END()
