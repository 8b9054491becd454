// The HTTP surface: the page's files with their headers, the checks every
// API request passes (method, query string, origin, content type, size,
// JSON), codes and addresses refused before the node, per-client limits,
// and the client behind a trusted proxy.
#include "api.h"
#include "assets.h"
#include "service_fixture.h"

#include <boost/test/unit_test.hpp>

using namespace giftcode;
using namespace giftcode::claim;
using namespace giftcode::claim::test;

namespace {

struct ApiFixture : ServiceFixture {
    explicit ApiFixture(Config c = TestConfig()) : ServiceFixture(std::move(c)), api(config, *service) {}

    HttpResponse Send(HttpRequest request)
    {
        auto promise = std::make_shared<std::promise<HttpResponse>>();
        auto future = promise->get_future();
        api.Handle(request, [promise](HttpResponse response) { promise->set_value(std::move(response)); });
        BOOST_REQUIRE(future.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
        return future.get();
    }
    HttpResponse Post(const std::string& path, const std::string& body, const std::string& peer = "10.0.0.1")
    {
        HttpRequest request;
        request.method = "POST";
        request.uri = path;
        request.peer = peer;
        request.headers = {{"host", "gift.test:8080"}, {"origin", "http://gift.test:8080"},
                           {"content-type", "application/json"}, {"sec-fetch-site", "same-origin"}};
        request.body = body;
        return Send(request);
    }

    Api api;
};

std::string Header(const HttpResponse& response, const std::string& name)
{
    for (const auto& [key, value] : response.headers) {
        if (key == name) return value;
    }
    return "";
}

UniValue Json(const HttpResponse& response)
{
    UniValue value;
    BOOST_REQUIRE_MESSAGE(value.read(response.body), response.body);
    return value;
}

std::string Key(const HttpResponse& response) { return Json(response)["error"]["key"].get_str(); }

std::string Body(const std::string& code, const std::string& address = "")
{
    UniValue body(UniValue::VOBJ);
    body.pushKV("code", code);
    if (!address.empty()) body.pushKV("address", address);
    return body.write();
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_tests)

BOOST_AUTO_TEST_CASE(the_page_is_served_with_a_strict_policy)
{
    ApiFixture f;
    HttpRequest request;
    request.method = "GET";
    request.uri = "/?lang=ja";
    HttpResponse page = f.Send(request);
    BOOST_CHECK_EQUAL(page.status, 200);
    BOOST_CHECK_EQUAL(page.body, std::string(FindAsset("/index.html")->body));
    BOOST_CHECK_EQUAL(Header(page, "Content-Type"), "text/html; charset=utf-8");
    BOOST_CHECK_EQUAL(Header(page, "Content-Security-Policy"), CONTENT_SECURITY_POLICY);
    BOOST_CHECK(std::string(CONTENT_SECURITY_POLICY).find("default-src 'none'") == 0);
    BOOST_CHECK(std::string(CONTENT_SECURITY_POLICY).find("unsafe") == std::string::npos);
    BOOST_CHECK_EQUAL(Header(page, "X-Frame-Options"), "DENY");
    BOOST_CHECK_EQUAL(Header(page, "Referrer-Policy"), "no-referrer");
    BOOST_CHECK_EQUAL(Header(page, "X-Content-Type-Options"), "nosniff");
    for (const char* path : {"/claim.js", "/claim.css", "/messages.json"}) {
        request.uri = path;
        HttpResponse asset = f.Send(request);
        BOOST_CHECK_EQUAL(asset.status, 200);
        BOOST_CHECK_EQUAL(asset.body, std::string(FindAsset(path)->body));
    }
    BOOST_CHECK_EQUAL(Header(f.Send(request), "Content-Type"), "application/json; charset=utf-8");
    request.method = "HEAD";
    HttpResponse head = f.Send(request);
    BOOST_CHECK_EQUAL(head.status, 200);
    BOOST_CHECK(head.body.empty());
    request.method = "POST";
    BOOST_CHECK_EQUAL(f.Send(request).status, 405);
    request.method = "GET";
    request.uri = "/etc/passwd";
    HttpResponse missing = f.Send(request);
    BOOST_CHECK_EQUAL(missing.status, 404);
    BOOST_CHECK_EQUAL(Key(missing), "not_found");
    BOOST_CHECK_EQUAL(Header(missing, "Content-Security-Policy"), CONTENT_SECURITY_POLICY);
}

BOOST_AUTO_TEST_CASE(api_requests_pass_every_check_before_the_node)
{
    ApiFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    HttpRequest request;
    request.method = "POST";
    request.uri = "/api/lookup";
    request.peer = "10.0.0.1";
    request.headers = {{"host", "gift.test:8080"}, {"content-type", "application/json"}};
    request.body = Body(code);

    HttpResponse ok = f.Send(request); // a client without Origin (not a browser)
    BOOST_CHECK_EQUAL(ok.status, 200);
    BOOST_CHECK_EQUAL(Header(ok, "Cache-Control"), "no-store");
    BOOST_CHECK_EQUAL(ok.code_id, IdOf(code).substr(0, 8));

    auto refused = [&](HttpRequest r, int status, const std::string& key) {
        HttpResponse response = f.Send(r);
        BOOST_CHECK_EQUAL(response.status, status);
        BOOST_CHECK_EQUAL(Key(response), key);
        BOOST_CHECK(response.code_id.empty());
    };
    HttpRequest r = request;
    r.uri = "/api/lookup?code=" + code;
    refused(r, 400, "query_not_allowed");
    r = request;
    r.headers["origin"] = "http://evil.example";
    refused(r, 403, "forbidden_origin");
    r = request;
    r.headers["origin"] = "http://gift.test:8080";
    r.headers["sec-fetch-site"] = "cross-site";
    refused(r, 403, "forbidden_origin");
    r = request;
    r.headers["content-type"] = "text/plain";
    refused(r, 415, "unsupported_media_type");
    r.headers.erase("content-type");
    refused(r, 415, "unsupported_media_type");
    r = request;
    r.body = std::string(MAX_BODY + 1, ' ');
    refused(r, 413, "too_large");
    r = request;
    r.body = "[]";
    refused(r, 400, "bad_request");
    r.body = "{\"code\": 5}";
    refused(r, 400, "bad_request");
    r.body = "{";
    refused(r, 400, "bad_request");
    r = request;
    r.method = "GET";
    refused(r, 405, "method_not_allowed");
    r = request;
    r.uri = "/api/redeem";
    refused(r, 404, "not_found");
    r = request;
    r.uri = "/api/claim";
    refused(r, 400, "bad_request"); // no address
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("getgiftcode"), 1u);
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("redeemgiftcode"), 0u);

    request.headers["content-type"] = "application/json; charset=utf-8";
    request.headers["origin"] = "http://gift.test:8080";
    BOOST_CHECK_EQUAL(f.Send(request).status, 200);
}

BOOST_AUTO_TEST_CASE(a_configured_origin_is_the_only_one)
{
    Config config = TestConfig();
    config.public_origin = "https://gift.example.com";
    ApiFixture f(config);
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    HttpResponse wrong = f.Post("/api/lookup", Body(code)); // Origin http://gift.test:8080
    BOOST_CHECK_EQUAL(wrong.status, 403);
    HttpRequest request;
    request.method = "POST";
    request.uri = "/api/lookup";
    request.headers = {{"host", "127.0.0.1:8080"}, {"origin", "https://gift.example.com"}, {"content-type", "application/json"}};
    request.body = Body(code);
    BOOST_CHECK_EQUAL(f.Send(request).status, 200);
}

BOOST_AUTO_TEST_CASE(codes_the_server_can_judge_never_reach_the_node)
{
    ApiFixture f;
    std::string code = NewCode();
    std::string typo = code;
    typo[5] = typo[5] == 'X' ? 'Y' : 'X';
    struct Case {
        std::string code;
        std::string key;
        int rpc_code;
    };
    for (const Case& c : std::vector<Case>{{"hello", "malformed_code", -401},
                                           {typo, "bad_checksum", -402},
                                           {NewCode(Network::kTest), "wrong_network", -403},
                                           {NewCode(Network::kMain), "wrong_network", -403}}) {
        HttpResponse response = f.Post("/api/lookup", Body(c.code), "10.0.0." + std::to_string(c.rpc_code + 500));
        BOOST_CHECK_EQUAL(response.status, 422);
        UniValue error = Json(response)["error"];
        BOOST_CHECK_EQUAL(error["key"].get_str(), c.key);
        BOOST_CHECK_EQUAL(error["rpc_code"].get_int(), c.rpc_code);
    }
    BOOST_CHECK_EQUAL(f.nodes[0].Calls().size(), 0u);

    f.nodes[0].Issue(code);
    HttpResponse bad_address = f.Post("/api/claim", Body(code, "rmona1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc5td6tfy"));
    BOOST_CHECK_EQUAL(bad_address.status, 422);
    BOOST_CHECK_EQUAL(Key(bad_address), "invalid_address");
    BOOST_CHECK(Json(bad_address)["error"]["rpc_code"].isNull());
    HttpResponse other_network = f.Post("/api/claim", Body(code, "M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEX"));
    BOOST_CHECK_EQUAL(Key(other_network), "address_wrong_network");
    BOOST_CHECK_EQUAL(f.nodes[0].Calls().size(), 0u);

    HttpResponse claimed = f.Post("/api/claim", Body("  " + code + "  ", ADDRESS));
    BOOST_CHECK_EQUAL(claimed.status, 200);
    BOOST_CHECK_EQUAL(f.nodes[0].Calls().at(0).code, code); // the canonical form
}

BOOST_AUTO_TEST_CASE(every_spelling_of_a_code_is_the_same_claim)
{
    ApiFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    std::string compact;
    for (char c : code) if (c != '-') compact += c;
    std::string lower;
    for (char c : code) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const std::string& spelling : {code, compact, "MONAGIFT:" + compact, lower}) {
        HttpResponse response = f.Post("/api/claim", Body(spelling, ADDRESS));
        BOOST_CHECK_EQUAL(response.status, 200);
    }
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("redeemgiftcode"), 1u);
}

BOOST_AUTO_TEST_CASE(failed_lookups_are_limited_per_client)
{
    Config config = TestConfig();
    config.limits.failed_lookups_per_minute = 2;
    ApiFixture f(config);
    BOOST_CHECK_EQUAL(f.Post("/api/lookup", Body("nonsense"), "10.9.9.9").status, 422);
    BOOST_CHECK_EQUAL(f.Post("/api/lookup", Body(NewCode()), "10.9.9.9").status, 422); // unknown to the node
    HttpResponse limited = f.Post("/api/lookup", Body(NewCode()), "10.9.9.9");
    BOOST_CHECK_EQUAL(limited.status, 429);
    BOOST_CHECK_EQUAL(Key(limited), "rate_limited");
    BOOST_CHECK_EQUAL(Header(limited, "Retry-After"), "30");
    BOOST_CHECK_EQUAL(f.Post("/api/claim", Body(NewCode(), ADDRESS), "10.9.9.9").status, 429);
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("getgiftcode"), 1u);
    BOOST_CHECK_EQUAL(f.Post("/api/lookup", Body("nonsense"), "10.9.9.8").status, 422);
}

BOOST_AUTO_TEST_CASE(the_client_behind_a_trusted_proxy_is_the_forwarded_one)
{
    Config config = TestConfig();
    config.trusted_proxies = {"127.0.0.1"};
    ApiFixture f(config);
    HttpRequest request;
    request.peer = "127.0.0.1";
    request.headers["x-forwarded-for"] = "198.51.100.7, 203.0.113.9";
    BOOST_CHECK_EQUAL(f.api.ClientOf(request), "203.0.113.9");
    request.peer = "192.0.2.1";
    BOOST_CHECK_EQUAL(f.api.ClientOf(request), "192.0.2.1");
    request.peer = "127.0.0.1";
    request.headers.clear();
    BOOST_CHECK_EQUAL(f.api.ClientOf(request), "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(parallel_lookups_cannot_pass_the_failed_lookup_limit_together)
{
    Config config = TestConfig();
    config.limits.failed_lookups_per_minute = 3;
    config.nodes[0].connections = 8;
    ApiFixture f(config);
    f.nodes[0].Hold();
    std::vector<std::shared_ptr<std::promise<HttpResponse>>> answers;
    HttpRequest request;
    request.method = "POST";
    request.uri = "/api/lookup";
    request.peer = "10.5.5.5";
    request.headers = {{"content-type", "application/json"}};
    for (int i = 0; i < 6; ++i) {
        auto promise = std::make_shared<std::promise<HttpResponse>>();
        answers.push_back(promise);
        request.body = Body(NewCode());
        f.api.Handle(request, [promise](HttpResponse r) { promise->set_value(std::move(r)); });
    }
    f.nodes[0].WaitForHeld(3);
    f.nodes[0].Release();
    int unknown = 0, limited = 0;
    for (auto& promise : answers) {
        HttpResponse response = promise->get_future().get();
        unknown += response.status == 422 ? 1 : 0;
        limited += response.status == 429 ? 1 : 0;
    }
    BOOST_CHECK_EQUAL(unknown, 3);
    BOOST_CHECK_EQUAL(limited, 3);
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("getgiftcode"), 3u);
}

BOOST_AUTO_TEST_CASE(clients_and_addresses_have_one_key_each)
{
    BOOST_CHECK_EQUAL(ClientKey("203.0.113.9"), "203.0.113.9");
    BOOST_CHECK_EQUAL(ClientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
    BOOST_CHECK_EQUAL(ClientKey("2001:db8:1:2::7"), "2001:db8:1:2::/64");
    BOOST_CHECK_EQUAL(CanonicalAddress("RMONA1QQYPQXPQ9QCRSSZG2PVXQ6RS0ZQG3YYC5TD6TFZ"), ADDRESS);
    BOOST_CHECK_EQUAL(CanonicalAddress(ADDRESS), ADDRESS);
    BOOST_CHECK_EQUAL(CanonicalAddress(OTHER_ADDRESS), OTHER_ADDRESS);
    ApiFixture f;
    std::string code = NewCode();
    f.nodes[0].Issue(code);
    BOOST_CHECK_EQUAL(f.Post("/api/claim", Body(code, ADDRESS)).status, 200);
    BOOST_CHECK_EQUAL(f.Post("/api/claim", Body(code, "RMONA1QQYPQXPQ9QCRSSZG2PVXQ6RS0ZQG3YYC5TD6TFZ")).status, 200);
    BOOST_CHECK_EQUAL(f.nodes[0].CallCount("redeemgiftcode"), 1u);
}

BOOST_AUTO_TEST_CASE(addresses_are_checked_for_the_page)
{
    ApiFixture f;
    UniValue valid = Json(f.Post("/api/address", R"({"address":")" + ADDRESS + "\"}"));
    BOOST_CHECK(valid["valid"].get_bool());
    BOOST_CHECK(!valid.exists("error"));
    UniValue wrong = Json(f.Post("/api/address", R"({"address":"M7zVKQKmtV5Rc7erVGVVC3khZbXxsS5HEX"})"));
    BOOST_CHECK(!wrong["valid"].get_bool());
    BOOST_CHECK_EQUAL(wrong["error"]["key"].get_str(), "address_wrong_network");
    UniValue typo = Json(f.Post("/api/address", R"({"address":"rmona1qq"})"));
    BOOST_CHECK_EQUAL(typo["error"]["key"].get_str(), "invalid_address");
    BOOST_CHECK_EQUAL(f.Post("/api/address", R"({"address":1})").status, 400);
}

BOOST_AUTO_TEST_CASE(status_is_a_get)
{
    ApiFixture f;
    HttpRequest request;
    request.method = "GET";
    request.uri = "/api/status";
    HttpResponse status = f.Send(request);
    BOOST_CHECK_EQUAL(status.status, 200);
    BOOST_CHECK_EQUAL(Json(status)["network"].get_str(), "regtest");
    request.uri = "/api/status?x=1";
    BOOST_CHECK_EQUAL(f.Send(request).status, 400);
    request.uri = "/api/status";
    request.method = "POST";
    BOOST_CHECK_EQUAL(f.Send(request).status, 405);
}

BOOST_AUTO_TEST_SUITE_END()
