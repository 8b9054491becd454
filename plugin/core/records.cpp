// Encoding of gift-code records; the format is documented in records.h.
#include "records.h"

#include "sha256.h"

#include <cassert>

namespace giftcode {
namespace {

class Writer {
public:
    void U8(uint8_t v) { m_out.push_back(char(v)); }
    void I64(int64_t v)
    {
        const uint64_t u = uint64_t(v);
        for (int i = 0; i < 8; ++i) m_out.push_back(char(uint8_t(u >> (8 * i))));
    }
    void Str(const std::string& s)
    {
        const uint32_t n = uint32_t(s.size());
        for (int i = 0; i < 4; ++i) m_out.push_back(char(uint8_t(n >> (8 * i))));
        m_out += s;
    }
    void Bytes(const uint8_t* p, size_t n) { m_out.append(reinterpret_cast<const char*>(p), n); }
    void U32(uint32_t v)
    {
        for (int i = 0; i < 4; ++i) m_out.push_back(char(uint8_t(v >> (8 * i))));
    }
    std::string Take() { return std::move(m_out); }

private:
    std::string m_out;
};

class Reader {
public:
    explicit Reader(const std::string& in) : m_in(in) {}
    bool U8(uint8_t& v)
    {
        if (m_in.size() - m_pos < 1) return false;
        v = uint8_t(m_in[m_pos++]);
        return true;
    }
    bool I64(int64_t& v)
    {
        if (m_in.size() - m_pos < 8) return false;
        uint64_t u = 0;
        for (int i = 0; i < 8; ++i) u |= uint64_t(uint8_t(m_in[m_pos + i])) << (8 * i);
        m_pos += 8;
        v = int64_t(u);
        return true;
    }
    bool U32(uint32_t& v)
    {
        if (m_in.size() - m_pos < 4) return false;
        v = 0;
        for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(m_in[m_pos + i])) << (8 * i);
        m_pos += 4;
        return true;
    }
    bool Str(std::string& s, size_t max)
    {
        if (m_in.size() - m_pos < 4) return false;
        uint32_t n = 0;
        for (int i = 0; i < 4; ++i) n |= uint32_t(uint8_t(m_in[m_pos + i])) << (8 * i);
        m_pos += 4;
        if (n > max || m_in.size() - m_pos < n) return false;
        s.assign(m_in, m_pos, n);
        m_pos += n;
        return true;
    }
    bool Bytes(uint8_t* p, size_t n)
    {
        if (m_in.size() - m_pos < n) return false;
        for (size_t i = 0; i < n; ++i) p[i] = uint8_t(m_in[m_pos + i]);
        m_pos += n;
        return true;
    }
    bool AtEnd() const { return m_pos == m_in.size(); }

private:
    const std::string& m_in;
    size_t m_pos{0};
};

constexpr size_t MAX_ADDRESS = 128;

Status Corrupt(const CodeId& id, const std::string& what)
{
    return Status(StatusCode::kCorruption, "gift-code record " + id.ShortHex() + ": " + what);
}

} // namespace

std::string TxidToHex(const Txid& txid)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (size_t i = txid.size(); i-- > 0;) {
        out.push_back(digits[txid[i] >> 4]);
        out.push_back(digits[txid[i] & 15]);
    }
    return out;
}

bool TxidFromHex(const std::string& hex, Txid& txid)
{
    if (hex.size() != 64) return false;
    auto value = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return -1;
    };
    for (size_t i = 0; i < 32; ++i) {
        const int hi = value(hex[2 * i]);
        const int lo = value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        txid[31 - i] = uint8_t(hi << 4 | lo);
    }
    return true;
}

bool CodeRecord::operator==(const CodeRecord& o) const
{
    return id == o.id && state == o.state && amount == o.amount && created_at == o.created_at &&
           expires_at == o.expires_at && label == o.label && sequence == o.sequence && txid == o.txid &&
           address == o.address && redeemed_at == o.redeemed_at && fee == o.fee && payment_tx == o.payment_tx &&
           replaced == o.replaced && cancelled_at == o.cancelled_at && payment_key == o.payment_key &&
           found_on_chain == o.found_on_chain && vout == o.vout;
}

std::string EncodeCodeKey(const CodeId& id)
{
    std::string key(1, CODE_KEY_TAG);
    key.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
    return key;
}

Result<CodeId> DecodeCodeKey(const std::string& key)
{
    CodeId id;
    if (key.size() != 1 + id.bytes.size() || key[0] != CODE_KEY_TAG) {
        return Status(StatusCode::kCorruption, "gift-code key of unknown shape");
    }
    for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = uint8_t(key[1 + i]);
    return id;
}

std::string EncodeCodeRecord(const CodeRecord& r)
{
    Writer w;
    w.U8(RECORD_VERSION);
    w.U8(uint8_t(r.state));
    w.I64(r.amount);
    w.I64(r.created_at);
    w.I64(r.expires_at);
    w.Str(r.label);
    w.I64(r.sequence);
    assert(r.payment_key.size() <= MAX_PAYMENT_KEY);
    w.Str(r.payment_key);
    switch (r.state) {
    case StoredState::kIssued:
        break;
    case StoredState::kRedeemed: {
        w.Bytes(r.txid.data(), r.txid.size());
        w.Str(r.address);
        w.I64(r.redeemed_at);
        w.I64(r.fee);
        assert(r.payment_tx.size() <= MAX_PAYMENT_TX);
        w.Str(r.payment_tx);
        // Only the newest MAX_REPLACED are kept.
        const size_t first = r.replaced.size() > MAX_REPLACED ? r.replaced.size() - MAX_REPLACED : 0;
        w.U8(uint8_t(r.replaced.size() - first));
        for (size_t i = first; i < r.replaced.size(); ++i) w.Bytes(r.replaced[i].data(), r.replaced[i].size());
        w.U8(r.found_on_chain ? 1 : 0);
        w.U32(r.vout);
        break;
    }
    case StoredState::kCancelled:
        w.I64(r.cancelled_at);
        break;
    }
    return w.Take();
}

Result<CodeRecord> DecodeCodeRecord(const CodeId& id, const std::string& value)
{
    Reader r(value);
    CodeRecord rec;
    rec.id = id;
    uint8_t version = 0;
    if (!r.U8(version)) return Corrupt(id, "empty record");
    if (version < RECORD_VERSION_V1 || version > RECORD_VERSION) {
        return Corrupt(id, "unknown record version " + std::to_string(version));
    }
    const bool v2 = version >= RECORD_VERSION_V2;
    const bool v3 = version >= RECORD_VERSION_V3;
    const bool v4 = version >= RECORD_VERSION;
    uint8_t state = 0;
    if (!r.U8(state) || !r.I64(rec.amount) || !r.I64(rec.created_at) || !r.I64(rec.expires_at) ||
        !r.Str(rec.label, MAX_LABEL) || (v2 && !r.I64(rec.sequence)) ||
        (v3 && !r.Str(rec.payment_key, MAX_PAYMENT_KEY))) {
        return Corrupt(id, "truncated record");
    }
    if (rec.amount <= 0) return Corrupt(id, "non-positive amount");
    if (rec.sequence < 0) return Corrupt(id, "negative sequence");
    switch (state) {
    case uint8_t(StoredState::kIssued):
        rec.state = StoredState::kIssued;
        break;
    case uint8_t(StoredState::kRedeemed):
        rec.state = StoredState::kRedeemed;
        if (!r.Bytes(rec.txid.data(), rec.txid.size()) || !r.Str(rec.address, MAX_ADDRESS) ||
            !r.I64(rec.redeemed_at) || !r.I64(rec.fee)) {
            return Corrupt(id, "truncated redemption");
        }
        if (v2) {
            uint8_t n = 0;
            if (!r.Str(rec.payment_tx, MAX_PAYMENT_TX) || !r.U8(n)) return Corrupt(id, "truncated redemption");
            rec.replaced.resize(n);
            for (Txid& txid : rec.replaced) {
                if (!r.Bytes(txid.data(), txid.size())) return Corrupt(id, "truncated redemption");
            }
        }
        if (v3) {
            uint8_t found = 0;
            if (!r.U8(found)) return Corrupt(id, "truncated redemption");
            if (found > 1) return Corrupt(id, "unknown origin " + std::to_string(found));
            rec.found_on_chain = found == 1;
        }
        if (v4 && !r.U32(rec.vout)) return Corrupt(id, "truncated redemption");
        break;
    case uint8_t(StoredState::kCancelled):
        rec.state = StoredState::kCancelled;
        if (!r.I64(rec.cancelled_at)) return Corrupt(id, "truncated cancellation");
        break;
    default:
        return Corrupt(id, "unknown state " + std::to_string(state));
    }
    if (!r.AtEnd()) return Corrupt(id, "trailing bytes");
    return rec;
}

uint32_t PaymentTagOf(const std::string& payment_key)
{
    if (payment_key.empty()) return 0;
    const Hash256 hash = Sha256().Write("monacoin gift-code payment tag").Write(payment_key).Finalize();
    const uint32_t tag = uint32_t(hash[0]) | uint32_t(hash[1]) << 8 | uint32_t(hash[2]) << 16 | uint32_t(hash[3]) << 24;
    return tag != 0 ? tag : 1;
}

std::string EncodePaymentTag(uint32_t tag)
{
    Writer w;
    w.U32(tag);
    return w.Take();
}

std::string EncodeStateKey() { return std::string(1, STATE_KEY_TAG); }

bool IsStateKey(const std::string& key) { return key == EncodeStateKey(); }

std::string EncodeLedgerState(int64_t commits)
{
    Writer w;
    w.U8(1);
    w.I64(commits);
    return w.Take();
}

Result<int64_t> DecodeLedgerState(const std::string& value)
{
    Reader r(value);
    uint8_t version = 0;
    int64_t commits = 0;
    if (!r.U8(version) || version != 1 || !r.I64(commits) || !r.AtEnd() || commits < 0) {
        return Status(StatusCode::kCorruption, "the gift-code ledger's state record is malformed");
    }
    return commits;
}

} // namespace giftcode
