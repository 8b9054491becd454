// Record encoding: every state round-trips; every malformed value is refused
// as corruption rather than guessed at.
#include "records.h"

#include <boost/test/unit_test.hpp>

using namespace giftcode;

namespace {

CodeRecord Sample(StoredState state)
{
    CodeRecord r;
    for (size_t i = 0; i < r.id.bytes.size(); ++i) r.id.bytes[i] = uint8_t(0xa0 + i);
    r.state = state;
    r.amount = 123456789;
    r.created_at = 1700000000;
    r.expires_at = 1800000000;
    r.label = "campaign \xe2\x9c\x93";
    if (state == StoredState::kRedeemed) {
        for (size_t i = 0; i < r.txid.size(); ++i) r.txid[i] = uint8_t(i * 7);
        r.address = "rmona1qexampleaddress";
        r.redeemed_at = 1700000500;
        r.fee = 2260;
    }
    if (state == StoredState::kCancelled) r.cancelled_at = 1700000900;
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(records_tests)

BOOST_AUTO_TEST_CASE(round_trip_every_state)
{
    for (StoredState s : {StoredState::kIssued, StoredState::kRedeemed, StoredState::kCancelled}) {
        const CodeRecord r = Sample(s);
        Result<CodeId> id = DecodeCodeKey(EncodeCodeKey(r.id));
        BOOST_REQUIRE(id.ok());
        BOOST_CHECK(id.value() == r.id);
        Result<CodeRecord> back = DecodeCodeRecord(r.id, EncodeCodeRecord(r));
        BOOST_REQUIRE(back.ok());
        BOOST_CHECK(back.value() == r);
    }
}

BOOST_AUTO_TEST_CASE(unknown_version_is_corruption)
{
    const CodeRecord r = Sample(StoredState::kIssued);
    for (int version : {0, 2, 255}) {
        std::string value = EncodeCodeRecord(r);
        value[0] = char(version);
        Result<CodeRecord> back = DecodeCodeRecord(r.id, value);
        BOOST_REQUIRE(!back.ok());
        BOOST_CHECK(back.status().code() == StatusCode::kCorruption);
    }
}

BOOST_AUTO_TEST_CASE(unknown_state_is_corruption)
{
    const CodeRecord r = Sample(StoredState::kIssued);
    std::string value = EncodeCodeRecord(r);
    value[1] = 3;
    BOOST_CHECK(DecodeCodeRecord(r.id, value).status().code() == StatusCode::kCorruption);
}

BOOST_AUTO_TEST_CASE(truncation_and_trailing_bytes_are_corruption)
{
    for (StoredState s : {StoredState::kIssued, StoredState::kRedeemed, StoredState::kCancelled}) {
        const CodeRecord r = Sample(s);
        const std::string value = EncodeCodeRecord(r);
        for (size_t len = 0; len < value.size(); ++len) {
            Result<CodeRecord> back = DecodeCodeRecord(r.id, value.substr(0, len));
            BOOST_CHECK_MESSAGE(!back.ok() && back.status().code() == StatusCode::kCorruption, "length " << len);
        }
        BOOST_CHECK(DecodeCodeRecord(r.id, value + '\0').status().code() == StatusCode::kCorruption);
    }
}

BOOST_AUTO_TEST_CASE(implausible_fields_are_corruption)
{
    CodeRecord r = Sample(StoredState::kIssued);
    r.amount = 0;
    BOOST_CHECK(DecodeCodeRecord(r.id, EncodeCodeRecord(r)).status().code() == StatusCode::kCorruption);
    r = Sample(StoredState::kIssued);
    r.label = std::string(MAX_LABEL + 1, 'x');
    BOOST_CHECK(DecodeCodeRecord(r.id, EncodeCodeRecord(r)).status().code() == StatusCode::kCorruption);
}

BOOST_AUTO_TEST_CASE(bad_keys_are_corruption)
{
    const CodeId id = Sample(StoredState::kIssued).id;
    std::string key = EncodeCodeKey(id);
    BOOST_CHECK(!DecodeCodeKey(key.substr(1)).ok());
    BOOST_CHECK(!DecodeCodeKey(key + "x").ok());
    key[0] = 'x';
    BOOST_CHECK(DecodeCodeKey(key).status().code() == StatusCode::kCorruption);
}

BOOST_AUTO_TEST_CASE(txid_hex_is_display_order)
{
    Txid txid{};
    txid[0] = 0x01;
    txid[31] = 0xfe;
    const std::string hex = TxidToHex(txid);
    BOOST_CHECK_EQUAL(hex.substr(0, 2), "fe");
    BOOST_CHECK_EQUAL(hex.substr(62), "01");
    Txid back{};
    BOOST_REQUIRE(TxidFromHex(hex, back));
    BOOST_CHECK(back == txid);
    BOOST_CHECK(!TxidFromHex(hex.substr(2), back));
    BOOST_CHECK(!TxidFromHex(std::string(64, 'z'), back));
}

BOOST_AUTO_TEST_SUITE_END()
