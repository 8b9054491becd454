// The claim server's port to a node: one JSON-RPC call, and what came back.
// A call either got the node's JSON-RPC answer (a result or an error with its
// code) or did not (timeout, refused, closed, the node's work queue full,
// credentials refused, a reply that is not JSON-RPC). The distinction is the
// retry rule of doc/rpc.md: only a JSON answer tells whether a redemption
// happened; everything else is retried with the same code and address.
//
// Thread-safety: a NodeRpc may be called from several threads at once.
#ifndef GIFTCODE_CLAIM_NODE_H
#define GIFTCODE_CLAIM_NODE_H

#include "config.h"

#include <univalue.h>

#include <memory>
#include <optional>
#include <string>

namespace giftcode::claim {

enum class NodeFailure {
    kNone,         //!< the node answered (result or JSON-RPC error)
    kTimeout,      //!< no complete answer within the time limit
    kRefused,      //!< could not connect
    kClosed,       //!< the connection ended before a complete answer
    kWorkQueue,    //!< HTTP 500 without JSON: "Work queue depth exceeded"
    kUnauthorized, //!< HTTP 401: wrong credentials, or a stale cookie
    kForbidden,    //!< HTTP 403: this user may not call the method
    kBadReply,     //!< an HTTP answer that is not JSON-RPC
};

const char* NodeFailureName(NodeFailure failure);

struct NodeReply {
    NodeFailure failure{NodeFailure::kNone};
    UniValue result;                 //!< when answered without error
    std::optional<int> error_code;   //!< when answered with a JSON-RPC error
    std::string error_message;
    std::string detail;              //!< for the log, never holds a code

    bool answered() const { return failure == NodeFailure::kNone; }
    bool ok() const { return answered() && !error_code; }
};

class NodeRpc {
public:
    virtual ~NodeRpc() = default;
    //! Calls `method` with positional `params` (an array).
    virtual NodeReply Call(const std::string& method, const UniValue& params) = 0;
};

//! What an HTTP status and body from a node mean.
NodeReply InterpretHttpReply(int status, const std::string& body);

//! What the claim server's credentials may do on a node, by one harmless call.
enum class Spending {
    kRefused,  //!< HTTP 403 (a claim-only user) or -32601 (no wallet): it cannot send
    kAllowed,  //!< the node ran sendtoaddress for this user (and refused it for want of arguments)
    kUnknown,  //!< no answer: the node is down, busy, or refused the credentials
};

struct SpendingProbe {
    Spending verdict{Spending::kUnknown};
    std::string detail;  //!< for the log
};

//! Calls sendtoaddress without arguments as these credentials. A user the
//! node lets call it gets the method's help as error -1, and nothing is
//! sent (the call is incomplete); a user an -rpcwhitelist keeps out gets
//! HTTP 403 before the method runs.
SpendingProbe ProbeSpending(NodeRpc& rpc);

//! Reads the credentials `node` names into "user:password"; false and
//! `error` set when a file cannot be read or is empty.
bool ReadCredentials(const NodeConfig& node, std::string& user_password, std::string& error);

//! A NodeRpc over HTTP/1.1 to `node` (one connection per call). The cookie
//! file, when configured, is read again after a 401.
std::unique_ptr<NodeRpc> MakeHttpNodeRpc(const NodeConfig& node, const std::string& user_password);

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_NODE_H
