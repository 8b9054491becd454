// Status and Result: the one value type that carries every expected failure
// of the gift-code core. The core never throws across a port; every port
// method and every ledger operation that can fail for a reason a user or an
// operator could cause returns one of these. Programming errors (misuse of an
// API) are asserts instead.
//
// Thread-safety: plain values; copy freely.
#ifndef GIFTCODE_CORE_STATUS_H
#define GIFTCODE_CORE_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace giftcode {

//! Every expected failure the core knows. The RPC layer maps each to exactly
//! one JSON-RPC error code (see rpc.cpp, RpcErrorCodeFor); adding a value
//! here without mapping it there fails to compile (switch without default).
enum class StatusCode {
    kOk,
    kMalformedCode,      //!< not a gift code at all: length, characters, prefix
    kBadChecksum,        //!< looks like a code but a character is wrong
    kWrongNetwork,       //!< a valid code of another network
    kUnknownCode,        //!< well-formed, but this wallet never issued it
    kAlreadyRedeemed,    //!< redeemed before, to another address
    kCancelled,          //!< cancelled by the issuer
    kExpired,            //!< its expiry time has passed
    kInvalidAddress,     //!< not an address of the active network
    kInvalidAmount,      //!< zero, negative, dust or out of the money range
    kInvalidParameter,   //!< any other bad argument (count, label, expiry, paging)
    kNodeCatchingUp,     //!< the node or the wallet has not caught up with the chain yet; retry
    kInsufficientFunds,  //!< the wallet does not hold the amount plus fee, counting every coin
    kFundsPending,       //!< it does, but not in coins it can spend now (unconfirmed, immature, locked)
    kWalletLocked,       //!< encrypted wallet needs unlocking
    kWalletUnsupported,  //!< the wallet cannot sign (watch-only, no private keys)
    kPaymentFailed,      //!< the payer could not build a payment for another reason
    kStoreFailure,       //!< the database refused a write; nothing changed
    kCorruption,         //!< a stored record cannot be decoded
    kLimitReached,       //!< the breaker's limit would be exceeded (breaker.h); retry later
    kPaused,             //!< the operator paused redemptions; retry later
};

//! Stable lowercase name of a status code, used in getgiftcodeinfo counters
//! and in test output.
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message) : m_code(code), m_message(std::move(message))
    {
        assert(code != StatusCode::kOk);
    }
    static Status Ok() { return Status(); }

    bool ok() const { return m_code == StatusCode::kOk; }
    StatusCode code() const { return m_code; }
    const std::string& message() const { return m_message; }

private:
    StatusCode m_code{StatusCode::kOk};
    std::string m_message;
};

//! A value or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_value(std::move(value)) {}
    Result(Status status) : m_status(std::move(status)) { assert(!m_status.ok()); }

    bool ok() const { return m_status.ok(); }
    const Status& status() const { return m_status; }
    const T& value() const { assert(ok()); return *m_value; }
    T& value() { assert(ok()); return *m_value; }
    const T* operator->() const { return &value(); }
    T* operator->() { return &value(); }

private:
    Status m_status;
    std::optional<T> m_value;
};

} // namespace giftcode

#endif // GIFTCODE_CORE_STATUS_H
