// The bodies of the gift-code RPCs: parameter parsing and result building on
// univalue, over a Ledger. The host adapter (plugin/host/) adds help text and
// the node's request plumbing, then calls these. Every failure leaves as an
// RpcError whose code comes from RpcErrorCodeFor, the one mapping from a
// Status to a JSON-RPC error code (doc/rpc.md lists it).
//
// Builds against univalue 1.0.3 (bundled in the node) and 1.1.1 (Debian):
// only their common subset is used.
//
// Thread-safety: as the Ledger's.
#ifndef GIFTCODE_CORE_RPC_H
#define GIFTCODE_CORE_RPC_H

#include "ledger.h"
#include "status.h"

#include <univalue.h>

#include <optional>
#include <string>
#include <vector>

namespace giftcode {

//! JSON-RPC error codes for gift-code failures. The node's own codes are
//! used where the node has one (address, amount, funds, lock, database).
enum RpcErrorCode : int {
    RPC_GIFTCODE_MALFORMED = -401,
    RPC_GIFTCODE_BAD_CHECKSUM = -402,
    RPC_GIFTCODE_WRONG_NETWORK = -403,
    RPC_GIFTCODE_UNKNOWN = -404,
    RPC_GIFTCODE_ALREADY_REDEEMED = -405,
    RPC_GIFTCODE_CANCELLED = -406,
    RPC_GIFTCODE_EXPIRED = -407,
    RPC_GIFTCODE_FUNDS_PENDING = -408,
    RPC_GIFTCODE_LIMIT = -409,
    // Node codes (src/rpc/protocol.h), repeated so the core needs no host header.
    RPC_NODE_TYPE_ERROR = -3,
    RPC_NODE_WALLET_ERROR = -4,
    RPC_NODE_INVALID_ADDRESS_OR_KEY = -5,
    RPC_NODE_WALLET_INSUFFICIENT_FUNDS = -6,
    RPC_NODE_INVALID_PARAMETER = -8,
    RPC_NODE_WALLET_UNLOCK_NEEDED = -13,
    RPC_NODE_IN_INITIAL_DOWNLOAD = -10,
    RPC_NODE_DATABASE_ERROR = -20,
    RPC_NODE_DESERIALIZATION_ERROR = -22,
};

//! The one mapping from a failure to its JSON-RPC error code.
int RpcErrorCodeFor(StatusCode code);

struct RpcError {
    int code{0};
    std::string message;
};

//! A result object, or the error to return instead.
struct RpcReply {
    UniValue result;
    std::optional<RpcError> error;
    bool ok() const { return !error; }
};

using RpcBody = RpcReply (*)(Ledger& ledger, const UniValue& params);

//! One JSON-RPC error a gift-code RPC can return, as its help and
//! doc/integration.md describe it.
struct RpcErrorDoc {
    int code;
    const char* meaning;
};

//! Every error the gift-code RPCs return themselves, in the order help
//! lists them. The one table help text is generated from.
const std::vector<RpcErrorDoc>& RpcErrorDocs();

//! The errors every gift-code RPC can return besides its own, from the
//! node's request handling and the wallet's state: wrong number of
//! arguments, wallet not found or not specified, node starting, and the
//! ledger that did not open (-22 or -20, RpcErrorCodeFor).
const std::vector<RpcErrorDoc>& RpcCommonErrorDocs();

//! One gift-code RPC: its name, positional argument names (for named
//! parameters), body and the errors it can return itself (codes of
//! RpcErrorDocs, in that order). The host iterates this table to register
//! them; the unit tests check that no body returns an error not listed.
struct RpcMethod {
    const char* name;
    RpcBody body;
    std::vector<std::string> arg_names;
    std::vector<int> errors;
};

const std::vector<RpcMethod>& RpcMethods();

//! The "Errors:" section of a method's help: its own errors, one a line,
//! then those every gift-code RPC can return.
std::string RpcErrorsHelp(const RpcMethod& method);

RpcReply CreateGiftCodeRpc(Ledger& ledger, const UniValue& params);
RpcReply GetGiftCodeRpc(Ledger& ledger, const UniValue& params);
RpcReply ListGiftCodesRpc(Ledger& ledger, const UniValue& params);
RpcReply RedeemGiftCodeRpc(Ledger& ledger, const UniValue& params);
RpcReply CancelGiftCodeRpc(Ledger& ledger, const UniValue& params);
RpcReply GetGiftCodeInfoRpc(Ledger& ledger, const UniValue& params);
RpcReply SetGiftCodeLimitsRpc(Ledger& ledger, const UniValue& params);
RpcReply PauseGiftCodesRpc(Ledger& ledger, const UniValue& params);
RpcReply ResumeGiftCodesRpc(Ledger& ledger, const UniValue& params);

//! Parses a JSON number or string of at most 8 decimals into satoshis.
//! Fails with kInvalidAmount.
Result<Amount> ParseAmount(const UniValue& value);
//! A JSON number with 8 decimals, as the node prints amounts.
UniValue AmountToValue(Amount amount);

} // namespace giftcode

#endif // GIFTCODE_CORE_RPC_H
