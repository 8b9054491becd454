// The gift-code record: what the ledger stores for each code, and its byte
// encoding. This file owns the on-disk format.
//
// Key:   "c" || CodeId (16 bytes)                       (17 bytes)
// Value: little-endian, strings as u32 length + bytes
//   u8   format version (4, written; 3, 2 and 1 are still read; any other
//        value is refused as corruption)
//   u8   state (0 issued, 1 redeemed, 2 cancelled; others are corruption)
//   i64  amount in satoshis (> 0)
//   i64  created_at, unix seconds
//   i64  expires_at, unix seconds; 0 means never
//   str  label (at most MAX_LABEL bytes)
//   v2:  i64 sequence: creation order within the wallet, from 1; 0 for a
//        code created before version 2 (and for every v1 record)
//   v3:  str  payment key: the host's name for the key that receives the
//             change of this code's payment (at most MAX_PAYMENT_KEY
//             bytes; empty for a code created before version 3, or in a
//             wallet that holds no private keys)
//   if redeemed:
//     32 bytes txid of the payment that pays the holder (internal order)
//     str  payee address
//     i64  redeemed_at
//     i64  fee of that payment, satoshis
//     v2:  str  the signed payment transaction (at most MAX_PAYMENT_TX
//               bytes; empty only for a record upgraded from v1)
//     v2:  u8   n, then n x 32 bytes: txids of the payments this one
//               replaced (bumpfee), oldest first
//     v3:  u8   1 if the payment was found on the chain (the wallet had
//               been restored from a backup older than it), else 0
//     v4:  u32  the index of the payment's output that pays the holder
//               (NO_VOUT if unknown: a record from before version 4, or
//               a payment found on the chain without such an output)
//   if cancelled:
//     i64  cancelled_at
// Trailing bytes are corruption. The host stores keys under its own prefix;
// the ledger never sees other records.
//
// One more record, the ledger's state:
// Key:   "s"
// Value: u8 version (1), i64 commits: how many commits the ledger has made
//        in this wallet. A wallet restored from a backup holds a smaller
//        number than the copy kept beside it (Store::ReadSideState).
//
// A redeemed record holds the signed payment itself so that the payment can
// be put back into the wallet (after -zapwallettxes, say) and resubmitted:
// the same transaction, never a new one.
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
#include <vector>

namespace giftcode {

using Amount = int64_t;  //!< satoshis
using Txid = std::array<uint8_t, 32>;

//! Hex of a txid in the node's display order (byte-reversed).
std::string TxidToHex(const Txid& txid);
//! Parses the display form; false unless exactly 64 hex digits.
bool TxidFromHex(const std::string& hex, Txid& txid);

enum class StoredState : uint8_t { kIssued = 0, kRedeemed = 1, kCancelled = 2 };

constexpr uint8_t RECORD_VERSION = 4;
constexpr uint8_t RECORD_VERSION_V3 = 3;
constexpr uint8_t RECORD_VERSION_V2 = 2;
constexpr uint8_t RECORD_VERSION_V1 = 1;
constexpr size_t MAX_PAYMENT_KEY = 64;
constexpr char STATE_KEY_TAG = 's';
//! Largest signed payment a record holds (the standard transaction limit).
constexpr size_t MAX_PAYMENT_TX = 400000;
//! Most replaced txids a record keeps; older ones are dropped.
constexpr size_t MAX_REPLACED = 255;
constexpr size_t MAX_LABEL = 256;
constexpr char CODE_KEY_TAG = 'c';
//! An output index that names no output.
constexpr uint32_t NO_VOUT = 0xffffffff;

//! A payment that pays several codes carries one OP_RETURN output holding,
//! for each code in the order of its outputs, PAYMENT_TAG_SIZE bytes of
//! PaymentTagOf(its payment key): a wallet restored from a backup that
//! holds a code recognises its payment by this tag. Tags look random to
//! anyone who does not hold the wallet's keys, and the ledger keeps them
//! unique among its codes. At most MAX_TAGS fit the standard 80 bytes.
constexpr size_t PAYMENT_TAG_SIZE = 4;
constexpr size_t MAX_TAGS = 20;
//! The tag of a payment key (empty key: 0, which no code is given).
uint32_t PaymentTagOf(const std::string& payment_key);
//! The tag's bytes as an OP_RETURN holds them (little-endian).
std::string EncodePaymentTag(uint32_t tag);

struct CodeRecord {
    CodeId id;
    StoredState state{StoredState::kIssued};
    Amount amount{0};
    int64_t created_at{0};
    int64_t expires_at{0};
    std::string label;
    //! Creation order in the wallet; 0 for a record written before it existed.
    int64_t sequence{0};
    //! The host's key for the change of this code's payment (Payer::NewPaymentKeys).
    std::string payment_key;
    // Meaningful when state == kRedeemed.
    Txid txid{};
    std::string address;
    int64_t redeemed_at{0};
    Amount fee{0};
    std::string payment_tx;
    std::vector<Txid> replaced;
    //! Recorded from the chain, not by this wallet's redemption.
    bool found_on_chain{false};
    //! The output of the payment that pays the holder.
    uint32_t vout{NO_VOUT};
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

//! The key of the ledger's state record.
std::string EncodeStateKey();
bool IsStateKey(const std::string& key);
std::string EncodeLedgerState(int64_t commits);
//! Fails with kCorruption unless `value` is a well-formed state record.
Result<int64_t> DecodeLedgerState(const std::string& value);

} // namespace giftcode

#endif // GIFTCODE_CORE_RECORDS_H
