// RPC bodies: results carry what a frontend needs and never a code except at
// creation; each parameter error and each failure gives its exact JSON-RPC
// error code, and a refused call changes nothing.
#include "rpc.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

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
    void ExpectError(const std::string& name, const UniValue& params, int code)
    {
        const std::string before = Snapshot();
        RpcReply reply = Call(name, params);
        BOOST_REQUIRE_MESSAGE(!reply.ok(), name << " " << params.write() << " succeeded, want error " << code);
        BOOST_CHECK_MESSAGE(reply.error->code == code, name << " " << params.write() << ": got "
                                                             << reply.error->code << " (" << reply.error->message
                                                             << "), want " << code);
        BOOST_CHECK(!reply.error->message.empty());
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

BOOST_AUTO_TEST_CASE(numbers_as_strings_are_accepted_for_cli_callers)
{
    UniValue created = Ok("creategiftcode", Params({UniValue("2"), UniValue("2"), UniValue("cli")}));
    BOOST_CHECK_EQUAL(created["codes"].size(), 2u);
    UniValue listed = Ok("listgiftcodes", Params({UniValue(""), UniValue("cli"), UniValue("1"), UniValue("1")}));
    BOOST_CHECK_EQUAL(listed["total"].get_int64(), 2);
    BOOST_CHECK_EQUAL(listed["codes"].size(), 1u);
}

BOOST_AUTO_TEST_SUITE_END()
