// Gift code text format; the layout and its reasons are in code.h.
#include "code.h"

#include "sha256.h"

#include <vector>

namespace giftcode {
namespace {

constexpr char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t DATA_SYMBOLS = 26;     // 2 version bits + 128 secret bits
constexpr size_t CHECKSUM_SYMBOLS = 6;
constexpr size_t PREFIX_CHARS = 3;
constexpr size_t COMPACT_CHARS = PREFIX_CHARS + DATA_SYMBOLS + CHECKSUM_SYMBOLS;
constexpr uint8_t FORMAT_VERSION = 0;
constexpr uint32_t BECH32M_CONST = 0x2bc830a3;
constexpr char URI_SCHEME[] = "MONAGIFT:";
constexpr char ID_DOMAIN[] = "monacoin-giftcode";

uint32_t PolyMod(const std::vector<uint8_t>& values)
{
    uint32_t c = 1;
    for (uint8_t v : values) {
        const uint8_t c0 = c >> 25;
        c = ((c & 0x1ffffff) << 5) ^ v;
        if (c0 & 1) c ^= 0x3b6a57b2;
        if (c0 & 2) c ^= 0x26508e6d;
        if (c0 & 4) c ^= 0x1ea119fa;
        if (c0 & 8) c ^= 0x3d4233dd;
        if (c0 & 16) c ^= 0x2a1462b3;
    }
    return c;
}

std::string LowerPrefix(Network network)
{
    std::string hrp = NetworkPrefix(network);
    for (char& ch : hrp) ch = char(ch - 'A' + 'a');
    return hrp;
}

std::vector<uint8_t> ExpandPrefix(Network network)
{
    const std::string hrp = LowerPrefix(network);
    std::vector<uint8_t> out;
    for (char ch : hrp) out.push_back(uint8_t(ch) >> 5);
    out.push_back(0);
    for (char ch : hrp) out.push_back(uint8_t(ch) & 31);
    return out;
}

std::vector<uint8_t> ChecksumInput(Network network, const std::vector<uint8_t>& data)
{
    std::vector<uint8_t> values = ExpandPrefix(network);
    values.insert(values.end(), data.begin(), data.end());
    return values;
}

//! 26 symbols: the version in the top 2 bits, then the secret, big-endian.
std::vector<uint8_t> ToSymbols(const CodeSecret& secret)
{
    std::vector<uint8_t> symbols;
    uint32_t acc = FORMAT_VERSION;
    int bits = 2;
    for (uint8_t byte : secret.bytes()) {
        acc = (acc << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            symbols.push_back((acc >> bits) & 31);
        }
    }
    SecureWipe(&acc, sizeof(acc));
    return symbols;
}

std::string Compact(Network network, const CodeSecret& secret)
{
    std::vector<uint8_t> data = ToSymbols(secret);
    std::vector<uint8_t> input = ChecksumInput(network, data);
    input.insert(input.end(), CHECKSUM_SYMBOLS, 0);
    const uint32_t mod = PolyMod(input) ^ BECH32M_CONST;
    for (size_t i = 0; i < CHECKSUM_SYMBOLS; ++i) data.push_back((mod >> (5 * (5 - i))) & 31);
    std::string out = NetworkPrefix(network);
    for (uint8_t s : data) out.push_back(ALPHABET[s]);
    SecureWipe(data.data(), data.size());
    SecureWipe(input.data(), input.size());
    return out;
}

//! Crockford decoding of one upper-case character; -1 if it is no symbol.
int SymbolValue(char ch)
{
    if (ch == 'I' || ch == 'L') return 1;
    if (ch == 'O') return 0;
    for (int i = 0; i < 32; ++i) {
        if (ALPHABET[i] == ch) return i;
    }
    return -1;
}

bool PrefixNetwork(const std::string& prefix, Network& network)
{
    for (Network n : {Network::kMain, Network::kTest, Network::kRegtest}) {
        if (prefix == NetworkPrefix(n)) {
            network = n;
            return true;
        }
    }
    return false;
}

char HexDigit(int v) { return "0123456789abcdef"[v & 15]; }

int HexValue(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

} // namespace

const char* NetworkPrefix(Network network)
{
    switch (network) {
    case Network::kMain: return "MGC";
    case Network::kTest: return "TGC";
    case Network::kRegtest: return "RGC";
    }
    return "MGC";
}

std::string CodeId::ToHex() const
{
    std::string out;
    for (uint8_t b : bytes) {
        out.push_back(HexDigit(b >> 4));
        out.push_back(HexDigit(b));
    }
    return out;
}

Result<CodeId> CodeId::FromHex(const std::string& hex)
{
    CodeId id;
    if (hex.size() != 2 * id.bytes.size()) {
        return Status(StatusCode::kInvalidParameter, "a gift code id is 32 hex digits");
    }
    for (size_t i = 0; i < id.bytes.size(); ++i) {
        const int hi = HexValue(hex[2 * i]);
        const int lo = HexValue(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return Status(StatusCode::kInvalidParameter, "a gift code id is 32 hex digits");
        id.bytes[i] = uint8_t(hi << 4 | lo);
    }
    return id;
}

CodeSecret::~CodeSecret() { SecureWipe(m_bytes.data(), m_bytes.size()); }

CodeId ParsedCode::Id() const
{
    const std::string prefix = LowerPrefix(network);
    Sha256 hasher;
    hasher.Write(ID_DOMAIN).Write(prefix).Write(secret.bytes().data(), secret.bytes().size());
    const Hash256 digest = hasher.Finalize();
    CodeId id;
    for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = digest[i];
    return id;
}

std::string FormatCode(Network network, const CodeSecret& secret)
{
    std::string compact = Compact(network, secret);
    std::string out = compact.substr(0, PREFIX_CHARS);
    for (size_t i = PREFIX_CHARS; i < compact.size(); i += 4) {
        out.push_back('-');
        out.append(compact, i, 4);
    }
    SecureWipe(&compact[0], compact.size());
    return out;
}

std::string FormatCodeUri(Network network, const CodeSecret& secret)
{
    std::string compact = Compact(network, secret);
    std::string out = URI_SCHEME + compact;
    SecureWipe(&compact[0], compact.size());
    return out;
}

Result<ParsedCode> ParseCode(const std::string& text, Network expected)
{
    if (text.size() > MAX_CODE_INPUT) return Status(StatusCode::kMalformedCode, "gift code is too long");

    std::string upper;
    for (char ch : text) {
        if (ch >= 'a' && ch <= 'z') ch = char(ch - 'a' + 'A');
        upper.push_back(ch);
    }
    const std::string scheme = URI_SCHEME;
    if (upper.compare(0, scheme.size(), scheme) == 0) upper.erase(0, scheme.size());

    std::string compact;
    for (char ch : upper) {
        if (ch == '-' || ch == ' ' || ch == '_') continue;
        compact.push_back(ch);
    }
    SecureWipe(&upper[0], upper.size());

    struct Wiper {
        std::string& s;
        std::vector<uint8_t> symbols;
        ~Wiper()
        {
            SecureWipe(&s[0], s.size());
            SecureWipe(symbols.data(), symbols.size());
        }
    } wiper{compact, {}};

    if (compact.size() != COMPACT_CHARS) {
        return Status(StatusCode::kMalformedCode, "gift code has the wrong length");
    }
    Network network;
    if (!PrefixNetwork(compact.substr(0, PREFIX_CHARS), network)) {
        return Status(StatusCode::kMalformedCode, "gift code does not start with MGC, TGC or RGC");
    }
    std::vector<uint8_t>& symbols = wiper.symbols;
    for (size_t i = PREFIX_CHARS; i < compact.size(); ++i) {
        const int v = SymbolValue(compact[i]);
        if (v < 0) return Status(StatusCode::kMalformedCode, "gift code contains a character that is not allowed");
        symbols.push_back(uint8_t(v));
    }
    std::vector<uint8_t> input = ChecksumInput(network, symbols);
    const bool checksum_ok = PolyMod(input) == BECH32M_CONST;
    SecureWipe(input.data(), input.size());
    if (!checksum_ok) {
        return Status(StatusCode::kBadChecksum, "gift code checksum does not match: a character is mistyped");
    }

    // Unpack 130 bits: 2 version bits, then 128 secret bits.
    std::array<uint8_t, CodeSecret::SIZE> bytes{};
    uint32_t acc = 0;
    int bits = 0;
    size_t out = 0;
    uint8_t version = 0;
    for (size_t i = 0; i < DATA_SYMBOLS; ++i) {
        acc = (acc << 5) | symbols[i];
        bits += 5;
        if (i == 0) {
            version = uint8_t(acc >> 3);
            acc &= 7;
            bits = 3;
        }
        if (bits >= 8) {
            bits -= 8;
            bytes[out++] = uint8_t(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    SecureWipe(&acc, sizeof(acc));
    assert(out == CodeSecret::SIZE && bits == 0);
    ParsedCode parsed;
    parsed.network = network;
    parsed.secret = CodeSecret(bytes);
    SecureWipe(bytes.data(), bytes.size());
    if (version != FORMAT_VERSION) {
        return Status(StatusCode::kMalformedCode, "gift code has an unsupported format version");
    }
    if (network != expected) {
        return Status(StatusCode::kWrongNetwork,
                      std::string("gift code is for another network (") + NetworkPrefix(network) +
                          "), this node expects " + NetworkPrefix(expected));
    }
    return parsed;
}

} // namespace giftcode
