// Every error the claim server answers with: its key (the name of the
// message the page shows, in contrib/claim/web/messages.json), its HTTP
// status, the node's JSON-RPC code when the node gave one, and when trying
// again makes sense. The node's codes are named after the module's own
// reasons (plugin/core/status.h) through the module's one mapping from a
// reason to a code (plugin/core/rpc.h), so the two cannot drift.
//
// Thread-safety: pure functions over constant tables.
#ifndef GIFTCODE_CLAIM_ERRORS_H
#define GIFTCODE_CLAIM_ERRORS_H

#include <univalue.h>

#include <optional>
#include <string>
#include <vector>

namespace giftcode::claim {

struct ApiError {
    int http{500};
    std::string key;
    std::optional<int> rpc_code;
    std::optional<int> retry_after; //!< seconds
};

//! An error of the server's own (bad_request, busy, ...); asserts on an
//! unknown key.
ApiError ServerError(const std::string& key, std::optional<int> retry_after = std::nullopt);

//! The error for a JSON-RPC error code the node answered with.
ApiError NodeError(int rpc_code);

//! The node's codes after which the same redemption is sent again: the
//! node changed nothing (doc/rpc.md, "Which errors to retry").
bool IsRetryableRpcCode(int rpc_code);

//! {"key", "rpc_code", "retry_after"}
UniValue ErrorValue(const ApiError& error);

//! Every key an answer can carry: the server's own and one per node reason.
std::vector<std::string> AllErrorKeys();

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_ERRORS_H
