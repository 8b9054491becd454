// The gift code text format, and the identifier derived from a code.
//
// A code is 128 random bits plus a 2-bit format version, written as 26
// symbols of Crockford's base32 (0-9, A-Z without I, L, O, U), followed by a
// 6-symbol checksum and preceded by a 3-letter network prefix:
//
//     MGC-0F3K-Q8ZD-W1XR-7MTV-H2C9-PN4B-YSJA-6E5G
//     ^^^ network: MGC mainnet, TGC testnet, RGC regtest
//
// The checksum is the BCH code of bech32m (BIP 350) computed over the
// lowercase prefix and the 26 data symbols. That code detects every error
// affecting at most 4 symbols in strings this short, hence every single
// substitution and every adjacent transposition. The prefix takes part in the
// checksum, so a code cannot be moved to another network by editing it.
//
// Parsing is forgiving where it cannot be wrong: case is ignored, '-', ' '
// and '_' are ignored, I and L read as 1, O reads as 0, and the URI form
// "MONAGIFT:<code>" (upper case, so a QR code can use its alphanumeric mode)
// is accepted too.
//
// A code's identity (CodeId) is the first 16 bytes of
// SHA-256("monacoin-giftcode" || prefix || secret bytes). Only the CodeId is
// ever stored; the code itself is shown once, when it is created.
//
// Thread-safety: pure functions over values.
#ifndef GIFTCODE_CORE_CODE_H
#define GIFTCODE_CORE_CODE_H

#include "status.h"

#include <array>
#include <cstdint>
#include <string>

namespace giftcode {

enum class Network { kMain, kTest, kRegtest };

//! The prefix a code carries on a network ("MGC", "TGC", "RGC").
const char* NetworkPrefix(Network network);

//! Identity of a code: a truncated hash, safe to show, store and log.
struct CodeId {
    std::array<uint8_t, 16> bytes{};

    std::string ToHex() const;
    //! Parses 32 hex digits; fails with kInvalidParameter otherwise.
    static Result<CodeId> FromHex(const std::string& hex);
    //! Short prefix of the hex form for log lines.
    std::string ShortHex() const { return ToHex().substr(0, 8); }

    bool operator==(const CodeId& other) const { return bytes == other.bytes; }
    bool operator!=(const CodeId& other) const { return bytes != other.bytes; }
    bool operator<(const CodeId& other) const { return bytes < other.bytes; }
};

//! The secret part of a code. Wiped when destroyed.
class CodeSecret {
public:
    static constexpr size_t SIZE = 16;
    CodeSecret() = default;
    explicit CodeSecret(const std::array<uint8_t, SIZE>& bytes) : m_bytes(bytes) {}
    CodeSecret(const CodeSecret&) = default;
    CodeSecret& operator=(const CodeSecret&) = default;
    ~CodeSecret();

    const std::array<uint8_t, SIZE>& bytes() const { return m_bytes; }

private:
    std::array<uint8_t, SIZE> m_bytes{};
};

//! A parsed code: its network and secret.
struct ParsedCode {
    Network network{Network::kMain};
    CodeSecret secret;

    CodeId Id() const;
};

//! Canonical printable form: "RGC-XXXX-...-XXXX" (43 characters).
std::string FormatCode(Network network, const CodeSecret& secret);

//! URI form for QR codes: "MONAGIFT:RGCXXXX...".
std::string FormatCodeUri(Network network, const CodeSecret& secret);

//! Parses text typed or scanned by a person.
//! Fails with kMalformedCode (not shaped like a code), kBadChecksum (shaped
//! like a code, but some symbol is wrong) or kWrongNetwork (a valid code of
//! a network other than `expected`). Never throws, whatever the input.
Result<ParsedCode> ParseCode(const std::string& text, Network expected);

//! The longest input ParseCode looks at; longer text is malformed at once.
constexpr size_t MAX_CODE_INPUT = 128;

} // namespace giftcode

#endif // GIFTCODE_CORE_CODE_H
