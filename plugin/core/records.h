// The gift-code record: what the ledger stores for each code, and its byte
// encoding. This file owns the on-disk format.
//
// Key:   "c" || CodeId (16 bytes)                       (17 bytes)
// Value: little-endian, strings as u32 length + bytes
//   u8   format version (1; any other value is refused as corruption)
//   u8   state (0 issued, 1 redeemed, 2 cancelled; others are corruption)
//   i64  amount in satoshis (> 0)
//   i64  created_at, unix seconds
//   i64  expires_at, unix seconds; 0 means never
//   str  label (at most MAX_LABEL bytes)
//   if redeemed:
//     32 bytes payment txid (internal byte order)
//     str  payee address
//     i64  redeemed_at
//     i64  fee paid by the wallet, satoshis
//   if cancelled:
//     i64  cancelled_at
// Trailing bytes are corruption. The host stores keys under its own prefix;
// the ledger never sees other records.
//
// Expiry is not a stored state: an issued code whose expires_at has passed
// is reported as expired, and may still be cancelled (to drop it from the
// liability explicitly) but never redeemed.
//
// Thread-safety: plain values.
#ifndef GIFTCODE_CORE_RECORDS_H
#define GIFTCODE_CORE_RECORDS_H

#include "code.h"
#include "status.h"

#include <array>
#include <cstdint>
#include <string>

namespace giftcode {

using Amount = int64_t;  //!< satoshis
using Txid = std::array<uint8_t, 32>;

//! Hex of a txid in the node's display order (byte-reversed).
std::string TxidToHex(const Txid& txid);
//! Parses the display form; false unless exactly 64 hex digits.
bool TxidFromHex(const std::string& hex, Txid& txid);

enum class StoredState : uint8_t { kIssued = 0, kRedeemed = 1, kCancelled = 2 };

constexpr uint8_t RECORD_VERSION = 1;
constexpr size_t MAX_LABEL = 256;
constexpr char CODE_KEY_TAG = 'c';

struct CodeRecord {
    CodeId id;
    StoredState state{StoredState::kIssued};
    Amount amount{0};
    int64_t created_at{0};
    int64_t expires_at{0};
    std::string label;
    // Meaningful when state == kRedeemed.
    Txid txid{};
    std::string address;
    int64_t redeemed_at{0};
    Amount fee{0};
    // Meaningful when state == kCancelled.
    int64_t cancelled_at{0};

    bool ExpiredAt(int64_t now) const
    {
        return state == StoredState::kIssued && expires_at != 0 && now >= expires_at;
    }
    bool operator==(const CodeRecord& other) const;
};

std::string EncodeCodeKey(const CodeId& id);
//! Fails with kCorruption unless `key` is a well-formed code key.
Result<CodeId> DecodeCodeKey(const std::string& key);

std::string EncodeCodeRecord(const CodeRecord& record);
//! Fails with kCorruption on any unknown version, state, truncation or
//! trailing byte. `id` comes from the key.
Result<CodeRecord> DecodeCodeRecord(const CodeId& id, const std::string& value);

} // namespace giftcode

#endif // GIFTCODE_CORE_RECORDS_H
