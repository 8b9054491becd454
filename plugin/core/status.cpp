// Names of status codes; kept next to nothing else so the switch below is the
// single list a new code must be added to.
#include "status.h"

namespace giftcode {

const char* StatusCodeName(StatusCode code)
{
    switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kMalformedCode: return "malformed_code";
    case StatusCode::kBadChecksum: return "bad_checksum";
    case StatusCode::kWrongNetwork: return "wrong_network";
    case StatusCode::kUnknownCode: return "unknown_code";
    case StatusCode::kAlreadyRedeemed: return "already_redeemed";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kExpired: return "expired";
    case StatusCode::kInvalidAddress: return "invalid_address";
    case StatusCode::kInvalidAmount: return "invalid_amount";
    case StatusCode::kInvalidParameter: return "invalid_parameter";
    case StatusCode::kNodeCatchingUp: return "node_catching_up";
    case StatusCode::kInsufficientFunds: return "insufficient_funds";
    case StatusCode::kFundsPending: return "funds_pending";
    case StatusCode::kWalletLocked: return "wallet_locked";
    case StatusCode::kWalletUnsupported: return "wallet_unsupported";
    case StatusCode::kPaymentFailed: return "payment_failed";
    case StatusCode::kStoreFailure: return "store_failure";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kLimitReached: return "limit_reached";
    case StatusCode::kPaused: return "paused";
    }
    return "unknown";
}

} // namespace giftcode
