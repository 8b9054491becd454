#include "errors.h"

#include <rpc.h>
#include <status.h>

#include <cassert>

namespace giftcode::claim {
namespace {

struct ServerKey {
    const char* key;
    int http;
};

const ServerKey SERVER_KEYS[] = {
    {"bad_request", 400},
    {"query_not_allowed", 400},
    {"forbidden_origin", 403},
    {"not_found", 404},
    {"method_not_allowed", 405},
    {"too_large", 413},
    {"unsupported_media_type", 415},
    {"address_wrong_network", 422},
    {"claim_in_progress", 409},
    {"rate_limited", 429},
    {"busy", 503},
    {"node_unavailable", 503},
    {"node_error", 502},
};

constexpr StatusCode FIRST_REASON = StatusCode::kMalformedCode;
constexpr StatusCode LAST_REASON = StatusCode::kLimitReached;

//! The module's reason for a node code. -4 stands for two reasons (the
//! wallet cannot sign; the payment could not be built): the holder's message
//! is the same, payment_failed. -409 too (a limit of the breaker, or the
//! operator's pause): limit_reached.
std::optional<StatusCode> ReasonFor(int rpc_code)
{
    if (rpc_code == RPC_NODE_WALLET_ERROR) return StatusCode::kPaymentFailed;
    for (int i = static_cast<int>(FIRST_REASON); i <= static_cast<int>(LAST_REASON); ++i) {
        StatusCode reason = static_cast<StatusCode>(i);
        if (RpcErrorCodeFor(reason) == rpc_code) return reason;
    }
    return std::nullopt;
}

int HttpStatusFor(StatusCode reason)
{
    switch (reason) {
    case StatusCode::kMalformedCode:
    case StatusCode::kBadChecksum:
    case StatusCode::kWrongNetwork:
    case StatusCode::kUnknownCode:
    case StatusCode::kInvalidAddress:
        return 422;
    case StatusCode::kAlreadyRedeemed:
    case StatusCode::kCancelled:
    case StatusCode::kExpired:
        return 409;
    case StatusCode::kNodeCatchingUp:
    case StatusCode::kFundsPending:
    case StatusCode::kStoreFailure:
    case StatusCode::kLimitReached:
    case StatusCode::kPaused:
        return 503;
    case StatusCode::kOk:
    case StatusCode::kInvalidAmount:
    case StatusCode::kInvalidParameter:
    case StatusCode::kInsufficientFunds:
    case StatusCode::kWalletLocked:
    case StatusCode::kWalletUnsupported:
    case StatusCode::kPaymentFailed:
    case StatusCode::kCorruption:
        return 502;
    }
    return 502;
}

} // namespace

ApiError ServerError(const std::string& key, std::optional<int> retry_after)
{
    for (const ServerKey& entry : SERVER_KEYS) {
        if (key == entry.key) return ApiError{entry.http, entry.key, std::nullopt, retry_after};
    }
    assert(!"an error key the table lacks");
    return ApiError{500, key, std::nullopt, retry_after};
}

//! The node's answer while it starts (src/rpc/protocol.h, RPC_IN_WARMUP):
//! it changed nothing, like no answer at all.
constexpr int RPC_NODE_IN_WARMUP = -28;

bool IsRetryableRpcCode(int rpc_code)
{
    return rpc_code == RPC_NODE_IN_INITIAL_DOWNLOAD || rpc_code == RPC_GIFTCODE_FUNDS_PENDING ||
           rpc_code == RPC_NODE_DATABASE_ERROR || rpc_code == RPC_NODE_IN_WARMUP || rpc_code == RPC_GIFTCODE_LIMIT;
}

ApiError NodeError(int rpc_code)
{
    std::optional<StatusCode> reason = ReasonFor(rpc_code);
    std::optional<int> retry_after;
    if (IsRetryableRpcCode(rpc_code)) retry_after = 5;
    if (rpc_code == RPC_NODE_IN_WARMUP) return ApiError{503, "node_unavailable", rpc_code, retry_after};
    if (!reason) return ApiError{502, "node_error", rpc_code, retry_after};
    return ApiError{HttpStatusFor(*reason), StatusCodeName(*reason), rpc_code, retry_after};
}

UniValue ErrorValue(const ApiError& error)
{
    UniValue value(UniValue::VOBJ);
    value.pushKV("key", error.key);
    value.pushKV("rpc_code", error.rpc_code ? UniValue(*error.rpc_code) : UniValue(UniValue::VNULL));
    value.pushKV("retry_after", error.retry_after ? UniValue(*error.retry_after) : UniValue(UniValue::VNULL));
    return value;
}

std::vector<std::string> AllErrorKeys()
{
    std::vector<std::string> keys;
    for (const ServerKey& entry : SERVER_KEYS) keys.emplace_back(entry.key);
    for (int i = static_cast<int>(FIRST_REASON); i <= static_cast<int>(LAST_REASON); ++i) {
        keys.emplace_back(StatusCodeName(static_cast<StatusCode>(i)));
    }
    return keys;
}

} // namespace giftcode::claim
