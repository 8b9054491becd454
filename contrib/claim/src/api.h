// The claim server's HTTP surface, apart from the HTTP library: the page's
// files, the JSON API (doc/claim.md), and the checks every request passes
// first (method, no query string on the API, same origin, JSON content type,
// size, per-client limits). Codes are read only from POST bodies, parsed
// with the module's own parser, and never logged: a response names at most
// the code's short id, for the access log.
//
// Thread-safety: Handle may be called from any thread; `respond` may be
// called before Handle returns or later on one of the service's threads.
#ifndef GIFTCODE_CLAIM_API_H
#define GIFTCODE_CLAIM_API_H

#include "config.h"
#include "service.h"

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace giftcode::claim {

struct HttpRequest {
    std::string method;                         //!< GET, HEAD, POST, ...
    std::string uri;                            //!< path and query as sent
    std::string peer;                           //!< the connection's IP address
    std::map<std::string, std::string> headers; //!< names in lower case
    std::string body;
};

struct HttpResponse {
    int status{200};
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string code_id; //!< short id of the code asked about, for the log
};

using Respond = std::function<void(HttpResponse)>;

//! The largest request body the API reads.
constexpr size_t MAX_BODY = 4096;

//! The content security policy of every response.
extern const char* const CONTENT_SECURITY_POLICY;

//! The rate limits' key for a client address: the address, or for IPv6 its /64.
std::string ClientKey(const std::string& address);

//! The form of a valid address the claim is kept under: bech32 in lower case.
std::string CanonicalAddress(const std::string& address);

class Api {
public:
    Api(const Config& config, ClaimService& service);

    void Handle(const HttpRequest& request, Respond respond);

    //! The client a request counts against: the connection's address, or
    //! the last X-Forwarded-For entry when the connection is a trusted proxy.
    std::string ClientOf(const HttpRequest& request) const;

private:
    void Post(const std::string& path, const HttpRequest& request, Respond respond);
    bool SameOrigin(const HttpRequest& request) const;

    const Config& m_config;
    ClaimService& m_service;
};

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_API_H
