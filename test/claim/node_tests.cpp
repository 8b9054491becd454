// The node client: what each HTTP answer means, and real calls over
// loopback to a server that answers, stays silent, closes, or refuses.
#include "node.h"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace giftcode::claim;

namespace {

//! A loopback HTTP server that answers each connection with the next of
//! its canned answers: a raw HTTP response, "" to close without answering,
//! or "hold" to say nothing until it stops.
class CannedServer {
public:
    explicit CannedServer(std::deque<std::string> answers) : m_answers(std::move(answers))
    {
        m_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        BOOST_REQUIRE(bind(m_listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
        socklen_t length = sizeof(address);
        getsockname(m_listener, reinterpret_cast<sockaddr*>(&address), &length);
        m_port = ntohs(address.sin_port);
        BOOST_REQUIRE(listen(m_listener, 8) == 0);
        m_thread = std::thread([this] { Serve(); });
    }
    ~CannedServer()
    {
        m_stop = true;
        shutdown(m_listener, SHUT_RDWR);
        close(m_listener);
        m_thread.join();
    }
    uint16_t port() const { return m_port; }
    std::vector<std::string> requests()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_requests;
    }

private:
    void Serve()
    {
        while (!m_stop) {
            int connection = accept(m_listener, nullptr, nullptr);
            if (connection < 0) return;
            std::string request;
            char buffer[4096];
            for (;;) {
                ssize_t n = recv(connection, buffer, sizeof(buffer), 0);
                if (n <= 0) break;
                request.append(buffer, static_cast<size_t>(n));
                size_t end = request.find("\r\n\r\n");
                size_t at = request.find("Content-Length: ");
                if (end != std::string::npos && at != std::string::npos &&
                    request.size() >= end + 4 + std::stoul(request.substr(at + 16))) break;
            }
            std::string answer;
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                m_requests.push_back(request);
                if (!m_answers.empty()) {
                    answer = m_answers.front();
                    m_answers.pop_front();
                }
            }
            if (answer == "hold") {
                while (!m_stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            } else if (!answer.empty()) {
                send(connection, answer.data(), answer.size(), MSG_NOSIGNAL);
            }
            close(connection);
        }
    }

    int m_listener{-1};
    uint16_t m_port{0};
    std::atomic<bool> m_stop{false};
    std::mutex m_mutex;
    std::deque<std::string> m_answers;
    std::vector<std::string> m_requests;
    std::thread m_thread;
};

std::string Http(int status, const std::string& body)
{
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

NodeConfig NodeAt(uint16_t port, int timeout_ms = 2000)
{
    NodeConfig node;
    node.host = "127.0.0.1";
    node.port = port;
    node.path = "/wallet/gifts";
    node.timeout_ms = timeout_ms;
    return node;
}

UniValue Params(const std::string& a, const std::string& b = "")
{
    UniValue params(UniValue::VARR);
    params.push_back(a);
    if (!b.empty()) params.push_back(b);
    return params;
}

} // namespace

BOOST_AUTO_TEST_SUITE(node_tests)

BOOST_AUTO_TEST_CASE(answers_are_told_from_failures)
{
    NodeReply ok = InterpretHttpReply(200, R"({"result":{"txid":"ab"},"error":null,"id":1})");
    BOOST_CHECK(ok.ok());
    BOOST_CHECK_EQUAL(ok.result["txid"].get_str(), "ab");

    NodeReply refused = InterpretHttpReply(500, R"({"result":null,"error":{"code":-405,"message":"redeemed"},"id":1})");
    BOOST_CHECK(refused.answered());
    BOOST_CHECK(!refused.ok());
    BOOST_CHECK_EQUAL(*refused.error_code, -405);
    BOOST_CHECK_EQUAL(refused.error_message, "redeemed");

    NodeReply missing = InterpretHttpReply(404, R"({"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1})");
    BOOST_CHECK_EQUAL(*missing.error_code, -32601);

    BOOST_CHECK(InterpretHttpReply(500, "<HTML><HEAD><TITLE>500 Work queue depth exceeded</TITLE>") .failure == NodeFailure::kWorkQueue);
    BOOST_CHECK(InterpretHttpReply(500, "Work queue depth exceeded").failure == NodeFailure::kWorkQueue);
    BOOST_CHECK(InterpretHttpReply(401, "").failure == NodeFailure::kUnauthorized);
    BOOST_CHECK(InterpretHttpReply(403, "").failure == NodeFailure::kForbidden);
    BOOST_CHECK(InterpretHttpReply(200, "not json").failure == NodeFailure::kBadReply);
    BOOST_CHECK(InterpretHttpReply(502, "").failure == NodeFailure::kBadReply);
    BOOST_CHECK(InterpretHttpReply(500, R"({"result":null,"error":{"message":"no code"}})").failure == NodeFailure::kBadReply);
    BOOST_CHECK(InterpretHttpReply(500, R"({"result":null,"error":null})").failure == NodeFailure::kBadReply);
    // Every method called answers an object; and a code must be a whole int.
    BOOST_CHECK(InterpretHttpReply(200, R"({})").failure == NodeFailure::kBadReply);
    BOOST_CHECK(InterpretHttpReply(200, R"({"result":null,"error":null})").failure == NodeFailure::kBadReply);
    BOOST_CHECK(InterpretHttpReply(500, R"({"error":{"code":1e12}})").failure == NodeFailure::kBadReply);
    BOOST_CHECK(InterpretHttpReply(500, R"({"error":{"code":-1.5}})").failure == NodeFailure::kBadReply);
    BOOST_CHECK(InterpretHttpReply(500, R"({"error":{"code":99999999999}})").failure == NodeFailure::kBadReply);
    BOOST_CHECK_EQUAL(NodeFailureName(NodeFailure::kWorkQueue), std::string("work_queue_full"));
}

BOOST_AUTO_TEST_CASE(a_call_sends_json_rpc_with_basic_auth_and_reads_the_answer)
{
    CannedServer server({Http(200, R"({"result":{"state":"issued"},"error":null,"id":"claim"})")});
    auto node = MakeHttpNodeRpc(NodeAt(server.port()), "claim:secret");
    NodeReply reply = node->Call("getgiftcode", Params("RGC-CODE"));
    BOOST_REQUIRE(reply.ok());
    BOOST_CHECK_EQUAL(reply.result["state"].get_str(), "issued");
    std::string request = server.requests().at(0);
    BOOST_CHECK(request.rfind("POST /wallet/gifts HTTP/1.0\r\n", 0) == 0);
    BOOST_CHECK(request.find("Authorization: Basic Y2xhaW06c2VjcmV0\r\n") != std::string::npos);
    BOOST_CHECK(request.find(R"("method":"getgiftcode","params":["RGC-CODE"])") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(silence_closing_and_refusal_are_failures_not_answers)
{
    {
        CannedServer server({"hold"});
        auto node = MakeHttpNodeRpc(NodeAt(server.port(), 200), "u:p");
        auto start = std::chrono::steady_clock::now();
        NodeReply reply = node->Call("redeemgiftcode", Params("c", "a"));
        auto took = std::chrono::steady_clock::now() - start;
        BOOST_CHECK(reply.failure == NodeFailure::kTimeout);
        BOOST_CHECK(took >= std::chrono::milliseconds(190));
        BOOST_CHECK(took < std::chrono::milliseconds(2000));
    }
    {
        CannedServer server({""});
        auto node = MakeHttpNodeRpc(NodeAt(server.port()), "u:p");
        BOOST_CHECK(node->Call("redeemgiftcode", Params("c", "a")).failure == NodeFailure::kClosed);
    }
    {
        CannedServer server({"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"result\":"});
        auto node = MakeHttpNodeRpc(NodeAt(server.port()), "u:p");
        BOOST_CHECK(node->Call("redeemgiftcode", Params("c", "a")).failure == NodeFailure::kClosed);
    }
    {
        CannedServer server({"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"result\":{\"ok\":true},\"error\":null}"});
        auto node = MakeHttpNodeRpc(NodeAt(server.port()), "u:p");
        BOOST_CHECK(node->Call("getgiftcode", Params("c")).ok()); // read to the end of the connection
    }
    uint16_t closed_port = 0;
    {
        CannedServer server({});
        closed_port = server.port();
    }
    auto node = MakeHttpNodeRpc(NodeAt(closed_port), "u:p");
    BOOST_CHECK(node->Call("getgiftcode", Params("c")).failure == NodeFailure::kRefused);
}

BOOST_AUTO_TEST_CASE(a_stale_cookie_is_read_again_after_401)
{
    char path[] = "/tmp/claim-cookie-XXXXXX";
    int fd = mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(path) << "__cookie__:new\n";
    CannedServer server({Http(401, ""), Http(200, R"({"result":{},"error":null,"id":1})")});
    NodeConfig config = NodeAt(server.port());
    config.cookie_file = path;
    auto node = MakeHttpNodeRpc(config, "__cookie__:old");
    BOOST_CHECK(node->Call("getgiftcode", Params("c")).ok());
    auto requests = server.requests();
    BOOST_REQUIRE_EQUAL(requests.size(), 2u);
    BOOST_CHECK(requests[0].find("Basic X19jb29raWVfXzpvbGQ=") != std::string::npos);
    BOOST_CHECK(requests[1].find("Basic X19jb29raWVfXzpuZXc=") != std::string::npos);
    std::remove(path);
}

BOOST_AUTO_TEST_CASE(credentials_come_from_files)
{
    char path[] = "/tmp/claim-password-XXXXXX";
    int fd = mkstemp(path);
    BOOST_REQUIRE(fd >= 0);
    close(fd);
    NodeConfig node;
    node.user = "claim";
    node.password_file = path;
    std::string credentials, error;
    BOOST_CHECK(!ReadCredentials(node, credentials, error));
    BOOST_CHECK_EQUAL(error, std::string(path) + ": cannot read the password (its first line)");
    std::ofstream(path) << "s3cret\r\nignored\n";
    BOOST_CHECK(ReadCredentials(node, credentials, error));
    BOOST_CHECK_EQUAL(credentials, "claim:s3cret");
    NodeConfig cookie;
    cookie.cookie_file = path;
    BOOST_CHECK(!ReadCredentials(cookie, credentials, error)); // no user:password in it
    std::ofstream(path) << "__cookie__:abc\n";
    BOOST_CHECK(ReadCredentials(cookie, credentials, error));
    BOOST_CHECK_EQUAL(credentials, "__cookie__:abc");
    std::remove(path);
}

BOOST_AUTO_TEST_CASE(the_spending_probe_tells_a_claim_only_user_from_one_that_can_send)
{
    // A NodeRpc that answers every call with one reply, and records the calls.
    struct OneReply final : NodeRpc {
        NodeReply reply;
        std::vector<std::string> calls;
        NodeReply Call(const std::string& method, const UniValue& params) override
        {
            calls.push_back(method + " " + params.write());
            return reply;
        }
    };
    OneReply forbidden;
    forbidden.reply = InterpretHttpReply(403, "");
    BOOST_CHECK(ProbeSpending(forbidden).verdict == Spending::kRefused);
    // The probe is sendtoaddress without arguments: it can never send.
    BOOST_REQUIRE_EQUAL(forbidden.calls.size(), 1u);
    BOOST_CHECK_EQUAL(forbidden.calls[0], "sendtoaddress []");

    OneReply full;  // what the node answers a user it lets call sendtoaddress
    full.reply = InterpretHttpReply(500, R"({"result":null,"error":{"code":-1,"message":"sendtoaddress \"address\" amount ..."},"id":1})");
    const SpendingProbe allowed = ProbeSpending(full);
    BOOST_CHECK(allowed.verdict == Spending::kAllowed);
    BOOST_CHECK_NE(allowed.detail.find("error -1"), std::string::npos);

    OneReply no_wallet;
    no_wallet.reply = InterpretHttpReply(404, R"({"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1})");
    BOOST_CHECK(ProbeSpending(no_wallet).verdict == Spending::kRefused);

    for (int status : {401, 500, 502}) {
        OneReply silent;
        silent.reply = InterpretHttpReply(status, status == 500 ? "Work queue depth exceeded" : "");
        BOOST_CHECK_MESSAGE(ProbeSpending(silent).verdict == Spending::kUnknown, status);
    }
    OneReply result;
    result.reply = InterpretHttpReply(200, R"({"result":{},"error":null,"id":1})");
    BOOST_CHECK(ProbeSpending(result).verdict == Spending::kAllowed);
}

BOOST_AUTO_TEST_SUITE_END()
