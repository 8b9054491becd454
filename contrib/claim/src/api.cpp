#include "api.h"

#include "address.h"
#include "assets.h"
#include "errors.h"

#include <rpc.h>
#include <sha256.h>
#include <status.h>

#include <algorithm>

#include <arpa/inet.h>

namespace giftcode::claim {

const char* const CONTENT_SECURITY_POLICY =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

namespace {

void AddSecurityHeaders(HttpResponse& response)
{
    response.headers.emplace_back("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("X-Frame-Options", "DENY");
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
    response.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    response.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    response.headers.emplace_back("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
}

HttpResponse JsonResponse(const Answer& answer, const std::string& code_id = "")
{
    HttpResponse response;
    response.status = answer.http;
    response.body = answer.body.write() + "\n";
    response.code_id = code_id;
    AddSecurityHeaders(response);
    response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    response.headers.emplace_back("Cache-Control", "no-store");
    if (answer.retry_after) response.headers.emplace_back("Retry-After", std::to_string(*answer.retry_after));
    return response;
}

HttpResponse ErrorResponse(const ApiError& error, const std::string& code_id = "")
{
    return JsonResponse(ErrorAnswer(error), code_id);
}

std::string Header(const HttpRequest& request, const std::string& name)
{
    auto it = request.headers.find(name);
    return it == request.headers.end() ? "" : it->second;
}

std::string Trim(const std::string& text)
{
    size_t begin = text.find_first_not_of(" \t");
    if (begin == std::string::npos) return "";
    return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

//! The error for a code the server refuses itself, with the node's code
//! the node would have answered.
ApiError CodeError(const Status& status)
{
    ApiError error = NodeError(RpcErrorCodeFor(status.code()));
    error.http = 422;
    return error;
}

ApiError InvalidAddress()
{
    ApiError error = NodeError(RPC_NODE_INVALID_ADDRESS_OR_KEY);
    error.rpc_code.reset(); // checked here, not by the node
    return error;
}

void WipeString(std::string& text)
{
    if (!text.empty()) SecureWipe(&text[0], text.size());
}

} // namespace

Api::Api(const Config& config, ClaimService& service) : m_config(config), m_service(service) {}

std::string Api::ClientOf(const HttpRequest& request) const
{
    const auto& proxies = m_config.trusted_proxies;
    if (std::find(proxies.begin(), proxies.end(), request.peer) == proxies.end()) return ClientKey(request.peer);
    std::string forwarded = Header(request, "x-forwarded-for");
    if (forwarded.empty()) return ClientKey(request.peer);
    size_t comma = forwarded.rfind(',');
    std::string last = Trim(comma == std::string::npos ? forwarded : forwarded.substr(comma + 1));
    return ClientKey(last.empty() ? request.peer : last);
}

std::string ClientKey(const std::string& address)
{
    in6_addr ipv6{};
    if (inet_pton(AF_INET6, address.c_str(), &ipv6) != 1) return address;
    // One IPv6 subscriber holds a whole /64: it is one client.
    std::fill(ipv6.s6_addr + 8, ipv6.s6_addr + 16, 0);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &ipv6, text, sizeof(text));
    return std::string(text) + "/64";
}

std::string CanonicalAddress(const std::string& address)
{
    // Bech32 is case-insensitive and written in lower case; base58 is not.
    bool upper = !address.empty() && std::all_of(address.begin(), address.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
    std::string lower = address;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool segwit = lower.rfind("mona1", 0) == 0 || lower.rfind("tmona1", 0) == 0 || lower.rfind("rmona1", 0) == 0;
    return upper && segwit ? lower : address;
}

bool Api::SameOrigin(const HttpRequest& request) const
{
    std::string origin = Header(request, "origin");
    std::string expected = m_config.public_origin.empty() ? "http://" + Header(request, "host") : m_config.public_origin;
    if (!origin.empty() && origin != expected) return false;
    std::string site = Header(request, "sec-fetch-site");
    return site.empty() || site == "same-origin" || site == "none";
}

void Api::Handle(const HttpRequest& request, Respond respond)
{
    const std::string& uri = request.uri;
    size_t question = uri.find('?');
    std::string path = uri.substr(0, question);
    bool api = path.rfind("/api/", 0) == 0;

    if (!api) {
        const Asset* asset = FindAsset(path);
        if (!asset) return respond(ErrorResponse(ServerError("not_found")));
        if (request.method != "GET" && request.method != "HEAD") return respond(ErrorResponse(ServerError("method_not_allowed")));
        HttpResponse response;
        AddSecurityHeaders(response);
        response.headers.emplace_back("Content-Type", std::string(asset->content_type));
        response.headers.emplace_back("Cache-Control", "no-cache");
        if (request.method == "GET") response.body = std::string(asset->body);
        return respond(std::move(response));
    }
    if (question != std::string::npos) return respond(ErrorResponse(ServerError("query_not_allowed")));
    if (path == "/api/status") {
        if (request.method != "GET") return respond(ErrorResponse(ServerError("method_not_allowed")));
        Answer answer;
        answer.body = m_service.Status();
        return respond(JsonResponse(answer));
    }
    if (path != "/api/lookup" && path != "/api/claim" && path != "/api/address") {
        return respond(ErrorResponse(ServerError("not_found")));
    }
    if (request.method != "POST") return respond(ErrorResponse(ServerError("method_not_allowed")));
    if (!SameOrigin(request)) return respond(ErrorResponse(ServerError("forbidden_origin")));
    std::string type = Header(request, "content-type");
    if (type.substr(0, type.find(';')) != "application/json") return respond(ErrorResponse(ServerError("unsupported_media_type")));
    if (request.body.size() > MAX_BODY) return respond(ErrorResponse(ServerError("too_large")));
    Post(path, request, std::move(respond));
}

void Api::Post(const std::string& path, const HttpRequest& request, Respond respond)
{
    UniValue body;
    if (!body.read(request.body) || !body.isObject()) return respond(ErrorResponse(ServerError("bad_request")));
    auto text = [&](const char* field) -> const std::string* {
        const UniValue& value = body[field];
        return value.isStr() ? &value.get_str() : nullptr;
    };
    const std::string client = ClientOf(request);

    if (path == "/api/address") {
        const std::string* address = text("address");
        if (!address) return respond(ErrorResponse(ServerError("bad_request")));
        Answer answer;
        answer.body = UniValue(UniValue::VOBJ);
        AddressCheck check = CheckAddress(*address, m_config.network);
        answer.body.pushKV("valid", check == AddressCheck::kValid);
        if (check == AddressCheck::kInvalid) answer.body.pushKV("error", ErrorValue(InvalidAddress()));
        if (check == AddressCheck::kWrongNetwork) answer.body.pushKV("error", ErrorValue(ServerError("address_wrong_network")));
        return respond(JsonResponse(answer));
    }

    const std::string* code_text = text("code");
    const std::string* address = path == "/api/claim" ? text("address") : nullptr;
    if (!code_text || (path == "/api/claim" && !address)) return respond(ErrorResponse(ServerError("bad_request")));
    int wait = 0;
    if (!m_service.TakeLookupToken(client, wait)) return respond(ErrorResponse(ServerError("rate_limited", wait)));
    Result<ParsedCode> parsed = ParseCode(*code_text, m_config.network);
    // The request's copy of the code is not needed past this point.
    WipeString(const_cast<std::string&>(*code_text));
    if (!parsed.ok()) return respond(ErrorResponse(CodeError(parsed.status()))); // the token stays taken
    const std::string id = parsed->Id().ShortHex();
    auto reply = [respond, id](Answer answer) { respond(JsonResponse(answer, id)); };
    if (path == "/api/lookup") return m_service.Lookup(parsed.value(), client, reply);

    AddressCheck check = CheckAddress(*address, m_config.network);
    if (check != AddressCheck::kValid) {
        m_service.RefundLookupToken(client);
        if (check == AddressCheck::kInvalid) return respond(ErrorResponse(InvalidAddress(), id));
        return respond(ErrorResponse(ServerError("address_wrong_network"), id));
    }
    m_service.Claim(parsed.value(), CanonicalAddress(*address), client, reply);
}

} // namespace giftcode::claim
