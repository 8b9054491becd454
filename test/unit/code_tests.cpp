// Tests of the gift code text format: round trip, error detection, leniency,
// network separation and hostile input.
#include "code.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

using namespace giftcode;

namespace {

constexpr char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

CodeSecret SecretFrom(std::mt19937_64& rng)
{
    std::array<uint8_t, CodeSecret::SIZE> b;
    for (auto& x : b) x = uint8_t(rng());
    return CodeSecret(b);
}

std::string Compact(const std::string& code)
{
    std::string out;
    for (char c : code) {
        if (c != '-') out.push_back(c);
    }
    return out;
}

std::vector<CodeSecret> SampleSecrets(size_t n)
{
    std::mt19937_64 rng(42);
    std::vector<CodeSecret> out;
    std::array<uint8_t, CodeSecret::SIZE> zeros{}, ones;
    ones.fill(0xff);
    out.emplace_back(zeros);
    out.emplace_back(ones);
    while (out.size() < n) out.push_back(SecretFrom(rng));
    return out;
}

// Independent bech32m checksum, to build codes the formatter never makes.
uint32_t PolyMod(const std::vector<uint8_t>& v)
{
    const uint32_t g[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t c = 1;
    for (uint8_t x : v) {
        const uint8_t top = c >> 25;
        c = ((c & 0x1ffffff) << 5) ^ x;
        for (int i = 0; i < 5; ++i) {
            if ((top >> i) & 1) c ^= g[i];
        }
    }
    return c;
}

std::string WithChecksum(const std::string& hrp, const std::vector<uint8_t>& data)
{
    std::vector<uint8_t> v;
    for (char c : hrp) v.push_back(uint8_t(c) >> 5);
    v.push_back(0);
    for (char c : hrp) v.push_back(uint8_t(c) & 31);
    v.insert(v.end(), data.begin(), data.end());
    v.insert(v.end(), 6, 0);
    const uint32_t mod = PolyMod(v) ^ 0x2bc830a3;
    std::string out;
    for (char c : hrp) out.push_back(char(c - 'a' + 'A'));
    for (uint8_t d : data) out.push_back(ALPHABET[d]);
    for (int i = 0; i < 6; ++i) out.push_back(ALPHABET[(mod >> (5 * (5 - i))) & 31]);
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(code_tests)

BOOST_AUTO_TEST_CASE(round_trip_on_every_network)
{
    for (Network net : {Network::kMain, Network::kTest, Network::kRegtest}) {
        for (const CodeSecret& secret : SampleSecrets(200)) {
            const std::string text = FormatCode(net, secret);
            BOOST_REQUIRE_EQUAL(text.size(), 43u);
            BOOST_CHECK_EQUAL(text.substr(0, 3), NetworkPrefix(net));
            Result<ParsedCode> parsed = ParseCode(text, net);
            BOOST_REQUIRE(parsed.ok());
            BOOST_CHECK(parsed->network == net);
            BOOST_CHECK(parsed->secret.bytes() == secret.bytes());
            Result<ParsedCode> from_uri = ParseCode(FormatCodeUri(net, secret), net);
            BOOST_REQUIRE(from_uri.ok());
            BOOST_CHECK(from_uri->secret.bytes() == secret.bytes());
        }
    }
}

BOOST_AUTO_TEST_CASE(format_is_stable)
{
    // Pinned: codes already handed out must keep parsing, and ids must keep
    // matching stored records, across every future build.
    std::array<uint8_t, CodeSecret::SIZE> b;
    for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i);
    const CodeSecret secret(b);
    BOOST_CHECK_EQUAL(FormatCode(Network::kRegtest, secret), "RGC-0004-1061-050R-3GG2-8A1C-60T3-GFFR-W3WB");
    BOOST_CHECK_EQUAL(FormatCodeUri(Network::kMain, secret).substr(0, 12), "MONAGIFT:MGC");
    BOOST_CHECK_EQUAL((ParsedCode{Network::kRegtest, secret}.Id().ToHex()), "e5e7d45bae4fa457beb7471d728de4b8");
}

BOOST_AUTO_TEST_CASE(every_single_substitution_is_rejected)
{
    for (const CodeSecret& secret : SampleSecrets(20)) {
        const std::string good = Compact(FormatCode(Network::kMain, secret));
        for (size_t pos = 0; pos < good.size(); ++pos) {
            for (char c : std::string(ALPHABET) + "IOLU") {
                std::string bad = good;
                bad[pos] = c;
                if (bad == good) continue;
                // Read-alikes are the same symbol by design, not an error.
                if (pos >= 3 && ((c == 'I' || c == 'L') && good[pos] == '1')) continue;
                if (pos >= 3 && c == 'O' && good[pos] == '0') continue;
                Result<ParsedCode> parsed = ParseCode(bad, Network::kMain);
                BOOST_CHECK_MESSAGE(!parsed.ok(), "substitution accepted at " << pos << ": " << bad);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_adjacent_transposition_is_rejected)
{
    for (const CodeSecret& secret : SampleSecrets(200)) {
        const std::string good = Compact(FormatCode(Network::kTest, secret));
        for (size_t pos = 0; pos + 1 < good.size(); ++pos) {
            if (good[pos] == good[pos + 1]) continue;
            std::string bad = good;
            std::swap(bad[pos], bad[pos + 1]);
            Result<ParsedCode> parsed = ParseCode(bad, Network::kTest);
            BOOST_CHECK_MESSAGE(!parsed.ok(), "transposition accepted at " << pos << ": " << bad);
            if (pos >= 3 && !parsed.ok()) BOOST_CHECK(parsed.status().code() == StatusCode::kBadChecksum);
        }
    }
}

BOOST_AUTO_TEST_CASE(case_separators_and_read_alikes_are_tolerated)
{
    const CodeSecret secret = SampleSecrets(3)[2];
    const std::string canonical = FormatCode(Network::kRegtest, secret);
    std::string lower, spaced, underscored, aliased;
    for (char c : canonical) lower.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
    for (char c : Compact(canonical)) {
        spaced += c;
        spaced += ' ';
        underscored += c;
        underscored += '_';
    }
    for (size_t i = 0; i < canonical.size(); ++i) {
        const char c = canonical[i];
        aliased.push_back(i >= 3 && c == '1' ? 'l' : i >= 3 && c == '0' ? 'o' : c);
    }
    const std::string uri_lower = "monagift:" + Compact(lower);
    for (const std::string& text : {lower, spaced, underscored, aliased, Compact(canonical), uri_lower}) {
        Result<ParsedCode> parsed = ParseCode(text, Network::kRegtest);
        BOOST_REQUIRE_MESSAGE(parsed.ok(), text);
        BOOST_CHECK(parsed->secret.bytes() == secret.bytes());
    }
}

BOOST_AUTO_TEST_CASE(wrong_network_is_refused)
{
    const CodeSecret secret = SampleSecrets(5)[4];
    Result<ParsedCode> parsed = ParseCode(FormatCode(Network::kRegtest, secret), Network::kMain);
    BOOST_REQUIRE(!parsed.ok());
    BOOST_CHECK(parsed.status().code() == StatusCode::kWrongNetwork);
    parsed = ParseCode(FormatCode(Network::kMain, secret), Network::kTest);
    BOOST_CHECK(parsed.status().code() == StatusCode::kWrongNetwork);

    // Editing the prefix does not move a code to another network.
    std::string moved = FormatCode(Network::kRegtest, secret);
    moved[0] = 'M';
    parsed = ParseCode(moved, Network::kMain);
    BOOST_CHECK(parsed.status().code() == StatusCode::kBadChecksum);

    // The same secret has a different identity on each network.
    BOOST_CHECK((ParsedCode{Network::kMain, secret}.Id()) != (ParsedCode{Network::kRegtest, secret}.Id()));
}

BOOST_AUTO_TEST_CASE(malformed_input_is_refused)
{
    const std::string good = Compact(FormatCode(Network::kMain, SampleSecrets(1)[0]));
    const std::vector<std::string> inputs = {
        "",
        "-",
        "    ",
        "MGC",
        good.substr(0, good.size() - 1),
        good + "0",
        good + good,
        std::string(10000, 'A'),
        std::string(MAX_CODE_INPUT + 1, '-'),
        "XYZ" + good.substr(3),
        "MGC" + std::string(32, 'U'),
        good.substr(0, 10) + "!" + good.substr(11),
        good.substr(0, 10) + std::string(1, '\0') + good.substr(11),
        good.substr(0, 10) + "\xc3\xa9" + good.substr(12),
        "MONAGIFT:",
        "monagift:monagift:" + good,
    };
    for (const std::string& text : inputs) {
        Result<ParsedCode> parsed = ParseCode(text, Network::kMain);
        BOOST_CHECK_MESSAGE(!parsed.ok(), "accepted: " << text.substr(0, 60));
        if (!parsed.ok()) BOOST_CHECK(parsed.status().code() == StatusCode::kMalformedCode);
    }
}

BOOST_AUTO_TEST_CASE(unknown_format_version_is_refused)
{
    // A checksum-valid code whose version bits are 1: a future format.
    std::vector<uint8_t> data(26, 7);
    data[0] = 0x08 | 3;  // version 1 in the top two bits of the first symbol
    const std::string future = WithChecksum("mgc", data);
    Result<ParsedCode> parsed = ParseCode(future, Network::kMain);
    BOOST_REQUIRE(!parsed.ok());
    BOOST_CHECK(parsed.status().code() == StatusCode::kMalformedCode);

    data[0] = 3;  // version 0: the same construction is accepted
    BOOST_CHECK(ParseCode(WithChecksum("mgc", data), Network::kMain).ok());
}

BOOST_AUTO_TEST_CASE(code_id_hex_round_trip)
{
    const CodeId id = ParsedCode{Network::kMain, SampleSecrets(1)[0]}.Id();
    Result<CodeId> back = CodeId::FromHex(id.ToHex());
    BOOST_REQUIRE(back.ok());
    BOOST_CHECK(back.value() == id);
    BOOST_CHECK_EQUAL(id.ShortHex().size(), 8u);
    BOOST_CHECK(!CodeId::FromHex(id.ToHex().substr(1)).ok());
    BOOST_CHECK(!CodeId::FromHex(std::string(32, 'g')).ok());
}

BOOST_AUTO_TEST_CASE(code_id_hex_is_read_in_either_case_and_nothing_else)
{
    const CodeId id = ParsedCode{Network::kTest, SampleSecrets(2)[1]}.Id();
    std::string upper = id.ToHex();
    for (char& c : upper) {
        if (c >= 'a' && c <= 'f') c = char(c - 'a' + 'A');
    }
    Result<CodeId> back = CodeId::FromHex(upper);
    BOOST_REQUIRE(back.ok());
    BOOST_CHECK(back.value() == id);
    // Neighbours of the hex digits in ASCII, as the high and as the low
    // digit of a byte.
    for (char bad : {'/', ':', '@', 'G', '`', 'g', '~'}) {
        for (size_t pos : {0, 1, 30, 31}) {
            std::string text = id.ToHex();
            text[pos] = bad;
            Result<CodeId> parsed = CodeId::FromHex(text);
            BOOST_REQUIRE_MESSAGE(!parsed.ok(), "accepted " << text);
            BOOST_CHECK(parsed.status().code() == StatusCode::kInvalidParameter);
            BOOST_CHECK_EQUAL(parsed.status().message(), "a gift code id is 32 hex digits");
        }
    }
}

BOOST_AUTO_TEST_CASE(characters_past_the_lower_case_letters_are_refused)
{
    const std::string good = Compact(FormatCode(Network::kMain, SampleSecrets(1)[0]));
    for (char bad : {'{', '|', '}', '~', '\x7f'}) {
        std::string text = good;
        text[20] = bad;
        Result<ParsedCode> parsed = ParseCode(text, Network::kMain);
        BOOST_REQUIRE(!parsed.ok());
        BOOST_CHECK(parsed.status().code() == StatusCode::kMalformedCode);
        BOOST_CHECK_EQUAL(parsed.status().message(), "gift code contains a character that is not allowed");
    }
}

BOOST_AUTO_TEST_SUITE_END()
