#include "address.h"

#include <sha256.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace giftcode::claim {
namespace {

constexpr size_t MAX_ADDRESS = 90;

//! The base58 version bytes of a network (P2PKH, P2SH, P2SH again).
std::vector<uint8_t> Base58Versions(Network network)
{
    switch (network) {
    case Network::kMain: return {50, 5, 55};
    case Network::kTest: return {111, 196, 117};
    case Network::kRegtest: return {111, 196, 117};
    }
    return {};
}

const char* Bech32Prefix(Network network)
{
    switch (network) {
    case Network::kMain: return "mona";
    case Network::kTest: return "tmona";
    case Network::kRegtest: return "rmona";
    }
    return "";
}

//! Decodes base58check into version byte + payload; false when it is not.
bool DecodeBase58Check(const std::string& text, std::vector<uint8_t>& out)
{
    static const std::string alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    std::vector<uint8_t> bytes; // big-endian
    size_t zeros = 0;
    while (zeros < text.size() && text[zeros] == '1') ++zeros;
    for (char c : text) {
        size_t digit = alphabet.find(c);
        if (digit == std::string::npos) return false;
        uint32_t carry = static_cast<uint32_t>(digit);
        for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) {
            carry += 58u * *it;
            *it = static_cast<uint8_t>(carry & 0xff);
            carry >>= 8;
        }
        while (carry > 0) {
            bytes.insert(bytes.begin(), static_cast<uint8_t>(carry & 0xff));
            carry >>= 8;
        }
    }
    std::vector<uint8_t> decoded(zeros, 0);
    decoded.insert(decoded.end(), bytes.begin(), bytes.end());
    if (decoded.size() < 5) return false;
    std::vector<uint8_t> body(decoded.begin(), decoded.end() - 4);
    Hash256 first = Sha256().Write(body.data(), body.size()).Finalize();
    Hash256 second = Sha256().Write(first.data(), first.size()).Finalize();
    if (!std::equal(second.begin(), second.begin() + 4, decoded.end() - 4)) return false;
    out = body;
    return true;
}

uint32_t Bech32Polymod(const std::vector<uint8_t>& values)
{
    static const uint32_t generator[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t check = 1;
    for (uint8_t value : values) {
        uint8_t top = static_cast<uint8_t>(check >> 25);
        check = ((check & 0x1ffffff) << 5) ^ value;
        for (int i = 0; i < 5; ++i) {
            if ((top >> i) & 1) check ^= generator[i];
        }
    }
    return check;
}

//! A segwit address's prefix if it is well formed bech32/bech32m with a
//! valid witness program, else "".
std::string SegwitPrefix(const std::string& text)
{
    static const std::string charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    bool lower = std::any_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; });
    bool upper = std::any_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (lower && upper) return "";
    std::string low = text;
    std::transform(low.begin(), low.end(), low.begin(), [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; });
    size_t separator = low.rfind('1');
    // At least the witness version and the 6-symbol checksum after the '1'.
    if (separator == std::string::npos || separator == 0 || separator + 8 > low.size()) return "";
    std::string hrp = low.substr(0, separator);
    std::vector<uint8_t> values;
    for (char c : hrp) values.push_back(static_cast<uint8_t>(c) >> 5);
    values.push_back(0);
    for (char c : hrp) values.push_back(static_cast<uint8_t>(c) & 31);
    std::vector<uint8_t> data;
    for (size_t i = separator + 1; i < low.size(); ++i) {
        size_t value = charset.find(low[i]);
        if (value == std::string::npos) return "";
        data.push_back(static_cast<uint8_t>(value));
    }
    values.insert(values.end(), data.begin(), data.end());
    uint32_t check = Bech32Polymod(values);
    uint8_t version = data[0];
    if (version > 16) return "";
    if (check != (version == 0 ? 1u : 0x2bc830a3u)) return "";
    // The witness program: 5-bit groups after the version, without the checksum.
    size_t bits = (data.size() - 1 - 6) * 5;
    size_t program = bits / 8;
    if (bits % 8 >= 5) return "";
    uint8_t last = data[data.size() - 7];
    if (bits % 8 != 0 && (last & ((1u << (bits % 8)) - 1)) != 0) return "";
    if (program < 2 || program > 40) return "";
    if (version == 0 && program != 20 && program != 32) return "";
    return hrp;
}

} // namespace

AddressCheck CheckAddress(const std::string& address, Network network)
{
    if (address.empty() || address.size() > MAX_ADDRESS) return AddressCheck::kInvalid;
    const Network networks[] = {Network::kMain, Network::kTest, Network::kRegtest};
    std::string prefix = SegwitPrefix(address);
    if (!prefix.empty()) {
        if (prefix == Bech32Prefix(network)) return AddressCheck::kValid;
        for (Network other : networks) {
            if (prefix == Bech32Prefix(other)) return AddressCheck::kWrongNetwork;
        }
        return AddressCheck::kInvalid;
    }
    std::vector<uint8_t> payload;
    if (!DecodeBase58Check(address, payload) || payload.size() != 21) return AddressCheck::kInvalid;
    auto has = [&](Network n) {
        std::vector<uint8_t> versions = Base58Versions(n);
        return std::find(versions.begin(), versions.end(), payload[0]) != versions.end();
    };
    if (has(network)) return AddressCheck::kValid;
    for (Network other : networks) {
        if (has(other)) return AddressCheck::kWrongNetwork;
    }
    return AddressCheck::kInvalid;
}

} // namespace giftcode::claim
