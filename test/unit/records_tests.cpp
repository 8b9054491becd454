// Record encoding: every state round-trips; every malformed value is refused
// as corruption rather than guessed at.
#include "records.h"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <vector>

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
    r.sequence = 7;
    r.payment_key = std::string("\x01\x02key\x00id", 8);
    if (state == StoredState::kRedeemed) {
        r.found_on_chain = true;
        r.vout = 3;
        for (size_t i = 0; i < r.txid.size(); ++i) r.txid[i] = uint8_t(i * 7);
        r.address = "rmona1qexampleaddress";
        r.redeemed_at = 1700000500;
        r.fee = 2260;
        r.payment_tx = std::string("\x02\x00\x00\x00\x01signed", 12);
        r.replaced.resize(2);
        r.replaced[0][0] = 1;
        r.replaced[1][31] = 2;
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
    for (int version : {0, 5, 255}) {
        std::string value = EncodeCodeRecord(r);
        value[0] = char(version);
        Result<CodeRecord> back = DecodeCodeRecord(r.id, value);
        BOOST_REQUIRE(!back.ok());
        BOOST_CHECK(back.status().code() == StatusCode::kCorruption);
    }
}

BOOST_AUTO_TEST_CASE(version_1_records_still_read)
{
    // A redeemed record as version 1 wrote it: no sequence, no payment.
    std::string v1;
    v1 += '\x01';                                         // version
    v1 += '\x01';                                         // redeemed
    v1 += std::string("\x00\xe1\xf5\x05\x00\x00\x00\x00", 8);  // 1 MONA
    v1 += std::string("\x10\x00\x00\x00\x00\x00\x00\x00", 8);  // created_at 16
    v1 += std::string(8, '\0');                            // never expires
    v1 += std::string("\x01\x00\x00\x00" "L", 5);          // label "L"
    v1 += std::string(32, '\x33');                         // txid
    v1 += std::string("\x03\x00\x00\x00" "abc", 7);        // address
    v1 += std::string("\x20\x00\x00\x00\x00\x00\x00\x00", 8);  // redeemed_at 32
    v1 += std::string("\xd4\x08\x00\x00\x00\x00\x00\x00", 8);  // fee 2260
    CodeId id;
    Result<CodeRecord> back = DecodeCodeRecord(id, v1);
    BOOST_REQUIRE(back.ok());
    BOOST_CHECK(back->state == StoredState::kRedeemed);
    BOOST_CHECK_EQUAL(back->amount, 100000000);
    BOOST_CHECK_EQUAL(back->label, "L");
    BOOST_CHECK_EQUAL(back->sequence, 0);
    BOOST_CHECK_EQUAL(back->address, "abc");
    BOOST_CHECK_EQUAL(back->fee, 2260);
    BOOST_CHECK(back->payment_tx.empty());
    BOOST_CHECK(back->replaced.empty());
    // Written again, it becomes version 2 and keeps every field.
    const std::string v2 = EncodeCodeRecord(back.value());
    BOOST_CHECK_EQUAL(int(v2[0]), int(RECORD_VERSION));
    Result<CodeRecord> again = DecodeCodeRecord(id, v2);
    BOOST_REQUIRE(again.ok());
    BOOST_CHECK(again.value() == back.value());
    CodeRecord negative = back.value();
    negative.sequence = -1;
    BOOST_CHECK(DecodeCodeRecord(id, EncodeCodeRecord(negative)).status().code() == StatusCode::kCorruption);
}

BOOST_AUTO_TEST_CASE(version_3_records_still_read)
{
    // Version 3 had no output index: a redeemed record reads NO_VOUT.
    CodeRecord r = Sample(StoredState::kRedeemed);
    r.vout = 7;
    std::string v4 = EncodeCodeRecord(r);
    BOOST_CHECK(DecodeCodeRecord(r.id, v4).value() == r);
    std::string v3 = v4.substr(0, v4.size() - 4);
    v3[0] = char(RECORD_VERSION_V3);
    Result<CodeRecord> back = DecodeCodeRecord(r.id, v3);
    BOOST_REQUIRE(back.ok());
    BOOST_CHECK_EQUAL(back->vout, NO_VOUT);
    r.vout = NO_VOUT;
    BOOST_CHECK(back.value() == r);
    // A version 4 record cut short of its output index is corruption.
    v4.resize(v4.size() - 2);
    BOOST_CHECK(DecodeCodeRecord(r.id, v4).status().code() == StatusCode::kCorruption);
}

BOOST_AUTO_TEST_CASE(payment_tags_are_stable_and_never_zero)
{
    BOOST_CHECK_EQUAL(PaymentTagOf(""), 0u);
    const uint32_t tag = PaymentTagOf("some key");
    BOOST_CHECK_NE(tag, 0u);
    BOOST_CHECK_EQUAL(PaymentTagOf("some key"), tag);
    BOOST_CHECK_NE(PaymentTagOf("some other key"), tag);
    const std::string bytes = EncodePaymentTag(0x04030201);
    BOOST_CHECK_EQUAL(bytes, std::string("\x01\x02\x03\x04", 4));
}

BOOST_AUTO_TEST_CASE(version_2_records_still_read)
{
    // Version 2 had no payment key, no origin byte and no output index:
    // cut them out of a version 4 encoding of the same record.
    CodeRecord r = Sample(StoredState::kRedeemed);
    r.payment_key.clear();
    r.found_on_chain = false;
    r.vout = NO_VOUT;
    std::string v3 = EncodeCodeRecord(r);
    v3.resize(v3.size() - 4);
    v3[0] = char(RECORD_VERSION_V3);
    const size_t key_at = 1 + 1 + 8 * 3 + 4 + r.label.size() + 8;
    std::string v2 = v3.substr(0, key_at) + v3.substr(key_at + 4, v3.size() - key_at - 4 - 1);
    v2[0] = char(RECORD_VERSION_V2);
    Result<CodeRecord> back = DecodeCodeRecord(r.id, v2);
    BOOST_REQUIRE(back.ok());
    BOOST_CHECK(back.value() == r);
    // Version 3 refuses an origin it does not know, and a key too long.
    v3.back() = 2;
    BOOST_CHECK(DecodeCodeRecord(r.id, v3).status().code() == StatusCode::kCorruption);
    std::string long_key = EncodeCodeRecord(Sample(StoredState::kIssued));
    const CodeRecord issued = Sample(StoredState::kIssued);
    const size_t issued_key_at = 1 + 1 + 8 * 3 + 4 + issued.label.size() + 8;
    long_key[issued_key_at] = char(MAX_PAYMENT_KEY + 1);
    long_key += std::string(MAX_PAYMENT_KEY + 1 - issued.payment_key.size(), 'k');
    BOOST_CHECK(DecodeCodeRecord(issued.id, long_key).status().code() == StatusCode::kCorruption);
}

BOOST_AUTO_TEST_CASE(equality_sees_every_field)
{
    const CodeRecord base = Sample(StoredState::kRedeemed);
    std::vector<std::function<void(CodeRecord&)>> changes = {
        [](CodeRecord& r) { r.id.bytes[0] ^= 1; },
        [](CodeRecord& r) { r.state = StoredState::kCancelled; },
        [](CodeRecord& r) { ++r.amount; },
        [](CodeRecord& r) { ++r.created_at; },
        [](CodeRecord& r) { ++r.expires_at; },
        [](CodeRecord& r) { r.label += "x"; },
        [](CodeRecord& r) { ++r.sequence; },
        [](CodeRecord& r) { r.txid[0] ^= 1; },
        [](CodeRecord& r) { r.address += "x"; },
        [](CodeRecord& r) { ++r.redeemed_at; },
        [](CodeRecord& r) { ++r.fee; },
        [](CodeRecord& r) { r.payment_tx += "x"; },
        [](CodeRecord& r) { r.replaced.pop_back(); },
        [](CodeRecord& r) { ++r.cancelled_at; },
        [](CodeRecord& r) { r.payment_key += "x"; },
        [](CodeRecord& r) { r.found_on_chain = !r.found_on_chain; },
    };
    BOOST_CHECK(base == Sample(StoredState::kRedeemed));
    for (size_t i = 0; i < changes.size(); ++i) {
        CodeRecord changed = base;
        changes[i](changed);
        BOOST_CHECK_MESSAGE(!(changed == base), "change " << i);
    }
}

BOOST_AUTO_TEST_CASE(the_ledger_state_record)
{
    BOOST_CHECK(IsStateKey(EncodeStateKey()));
    BOOST_CHECK(!IsStateKey(EncodeCodeKey(CodeId{})));
    for (int64_t commits : {int64_t(0), int64_t(1), int64_t(1) << 40}) {
        Result<int64_t> back = DecodeLedgerState(EncodeLedgerState(commits));
        BOOST_REQUIRE(back.ok());
        BOOST_CHECK_EQUAL(back.value(), commits);
    }
    const std::string good = EncodeLedgerState(5);
    for (const std::string& bad : {std::string(), good.substr(0, 5), good + "x", std::string("\x02") + good.substr(1),
                                   EncodeLedgerState(-1)}) {
        BOOST_CHECK(DecodeLedgerState(bad).status().code() == StatusCode::kCorruption);
    }
}

BOOST_AUTO_TEST_CASE(only_the_newest_replaced_txids_are_kept)
{
    CodeRecord r = Sample(StoredState::kRedeemed);
    r.replaced.assign(MAX_REPLACED + 3, Txid{});
    for (size_t i = 0; i < r.replaced.size(); ++i) r.replaced[i][0] = uint8_t(i);
    Result<CodeRecord> back = DecodeCodeRecord(r.id, EncodeCodeRecord(r));
    BOOST_REQUIRE(back.ok());
    BOOST_REQUIRE_EQUAL(back->replaced.size(), MAX_REPLACED);
    BOOST_CHECK(back->replaced.front() == r.replaced[3]);
    BOOST_CHECK(back->replaced.back() == r.replaced.back());
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

BOOST_AUTO_TEST_CASE(txid_hex_is_read_in_either_case_and_nothing_else)
{
    Txid txid{};
    for (size_t i = 0; i < txid.size(); ++i) txid[i] = uint8_t(0xa0 + i);
    std::string upper = TxidToHex(txid);
    for (char& c : upper) {
        if (c >= 'a' && c <= 'f') c = char(c - 'a' + 'A');
    }
    Txid back{};
    BOOST_REQUIRE(TxidFromHex(upper, back));
    BOOST_CHECK(back == txid);
    // Neighbours of the hex digits in ASCII, as the high and as the low
    // digit of a byte.
    for (char bad : {'/', ':', '@', 'G', '`', 'g', '~'}) {
        for (size_t pos : {0, 1, 62, 63}) {
            std::string text = TxidToHex(txid);
            text[pos] = bad;
            BOOST_CHECK_MESSAGE(!TxidFromHex(text, back), "accepted " << text);
        }
    }
}

BOOST_AUTO_TEST_CASE(records_differing_in_any_field_are_different)
{
    // Persistence tests compare whole records: every field must count.
    const CodeRecord base = Sample(StoredState::kRedeemed);
    BOOST_CHECK(base == Sample(StoredState::kRedeemed));
    std::vector<CodeRecord> changed(14, base);
    changed[0].id.bytes[3] ^= 1;
    changed[1].state = StoredState::kCancelled;
    changed[2].amount += 1;
    changed[3].created_at += 1;
    changed[4].expires_at = 0;
    changed[5].label += "!";
    changed[6].sequence += 1;
    changed[7].txid[5] ^= 1;
    changed[8].address += "x";
    changed[9].redeemed_at += 1;
    changed[10].fee += 1;
    changed[11].payment_tx += "x";
    changed[12].replaced.pop_back();
    changed[13].cancelled_at = 1;
    for (size_t i = 0; i < changed.size(); ++i) {
        BOOST_CHECK_MESSAGE(!(changed[i] == base), "field " << i << " is not compared");
        BOOST_CHECK_MESSAGE(!(base == changed[i]), "field " << i << " is not compared");
    }
}

BOOST_AUTO_TEST_CASE(only_an_issued_code_expires)
{
    CodeRecord r = Sample(StoredState::kIssued);
    BOOST_CHECK(!r.ExpiredAt(r.expires_at - 1));
    BOOST_CHECK(r.ExpiredAt(r.expires_at));
    BOOST_CHECK(r.ExpiredAt(r.expires_at + 1));
    for (StoredState s : {StoredState::kRedeemed, StoredState::kCancelled}) {
        r = Sample(s);
        BOOST_CHECK(!r.ExpiredAt(r.expires_at + 1));
    }
    r = Sample(StoredState::kIssued);
    r.expires_at = 0;  // never
    BOOST_CHECK(!r.ExpiredAt(INT64_MAX));
}

BOOST_AUTO_TEST_SUITE_END()
