// JSON-RPC over HTTP/1.1 to a node, on plain blocking sockets with one
// deadline per call (connect, send and answer together). The request body
// holds a code during a redemption; it is wiped once sent.
#include "node.h"

#include <sha256.h>

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace giftcode::claim {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Base64(const std::string& in)
{
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    while (i + 2 < in.size()) {
        uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        out += table[n >> 18]; out += table[(n >> 12) & 63]; out += table[(n >> 6) & 63]; out += table[n & 63];
        i += 3;
    }
    if (i + 1 == in.size()) {
        uint32_t n = uint8_t(in[i]) << 16;
        out += table[n >> 18]; out += table[(n >> 12) & 63]; out += "==";
    } else if (i + 2 == in.size()) {
        uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
        out += table[n >> 18]; out += table[(n >> 12) & 63]; out += table[(n >> 6) & 63]; out += '=';
    }
    return out;
}

bool FirstLine(const std::string& path, std::string& line)
{
    std::ifstream file(path);
    if (!file || !std::getline(file, line)) return false;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return !line.empty();
}

void Wipe(std::string& text)
{
    if (!text.empty()) SecureWipe(&text[0], text.size());
    text.clear();
}

class Socket {
public:
    ~Socket() { if (m_fd >= 0) close(m_fd); }
    int fd() const { return m_fd; }
    void reset(int fd) { if (m_fd >= 0) close(m_fd); m_fd = fd; }
private:
    int m_fd{-1};
};

int MillisecondsLeft(SteadyClock::time_point deadline)
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

//! Waits until `fd` is ready for `events`; false at the deadline.
bool WaitFor(int fd, short events, SteadyClock::time_point deadline)
{
    for (;;) {
        int left = MillisecondsLeft(deadline);
        if (left == 0) return false;
        pollfd p{fd, events, 0};
        int n = poll(&p, 1, left);
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

NodeReply Failure(NodeFailure failure, std::string detail)
{
    NodeReply reply;
    reply.failure = failure;
    reply.detail = std::move(detail);
    return reply;
}

class HttpNodeRpc final : public NodeRpc {
public:
    HttpNodeRpc(NodeConfig node, std::string user_password)
        : m_node(std::move(node)), m_authorization(Base64(user_password))
    {
        Wipe(user_password);
    }
    ~HttpNodeRpc() override { Wipe(m_authorization); }

    NodeReply Call(const std::string& method, const UniValue& params) override
    {
        // One deadline for the call, a second try after a new cookie included.
        const auto deadline = SteadyClock::now() + std::chrono::milliseconds(m_node.timeout_ms);
        NodeReply reply = CallOnce(method, params, deadline);
        if (reply.failure == NodeFailure::kUnauthorized && !m_node.cookie_file.empty() && ReloadCookie()) {
            reply = CallOnce(method, params, deadline);
        }
        return reply;
    }

private:
    bool ReloadCookie()
    {
        std::string cookie;
        if (!FirstLine(m_node.cookie_file, cookie)) return false;
        std::lock_guard<std::mutex> lock(m_mutex);
        Wipe(m_authorization);
        m_authorization = Base64(cookie);
        Wipe(cookie);
        return true;
    }

    NodeReply CallOnce(const std::string& method, const UniValue& params, SteadyClock::time_point deadline)
    {
        UniValue request(UniValue::VOBJ);
        request.pushKV("jsonrpc", "1.0");
        request.pushKV("id", "claim");
        request.pushKV("method", method);
        request.pushKV("params", params);
        std::string body = request.write();
        // HTTP/1.0: one answer, never chunked, then the connection closes.
        std::string host = m_node.host.find(':') == std::string::npos ? m_node.host : "[" + m_node.host + "]";
        std::string message;
        message.reserve(512 + m_authorization.size() + body.size());
        message += "POST " + m_node.path + " HTTP/1.0\r\nHost: " + host + ":" + std::to_string(m_node.port) + "\r\n";
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            message += "Authorization: Basic ";
            message += m_authorization;
        }
        message += "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
        message += body;
        Wipe(body);
        NodeReply reply = Exchange(message, deadline);
        Wipe(message);
        return reply;
    }

    NodeReply Exchange(const std::string& message, SteadyClock::time_point deadline)
    {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        std::string port = std::to_string(m_node.port);
        if (getaddrinfo(m_node.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
            return Failure(NodeFailure::kRefused, "cannot resolve " + m_node.host);
        }
        Socket socket;
        std::string why = "connection refused";
        for (addrinfo* a = found; a; a = a->ai_next) {
            socket.reset(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
            if (socket.fd() < 0) continue;
            if (connect(socket.fd(), a->ai_addr, a->ai_addrlen) == 0) break;
            if (errno == EINPROGRESS) {
                if (!WaitFor(socket.fd(), POLLOUT, deadline)) {
                    freeaddrinfo(found);
                    return Failure(NodeFailure::kTimeout, "timed out connecting");
                }
                int error = 0;
                socklen_t len = sizeof(error);
                getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &error, &len);
                if (error == 0) break;
                why = std::strerror(error);
            } else {
                why = std::strerror(errno);
            }
            socket.reset(-1);
        }
        freeaddrinfo(found);
        if (socket.fd() < 0) return Failure(NodeFailure::kRefused, why);

        size_t sent = 0;
        while (sent < message.size()) {
            if (!WaitFor(socket.fd(), POLLOUT, deadline)) return Failure(NodeFailure::kTimeout, "timed out sending");
            ssize_t n = send(socket.fd(), message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) return Failure(NodeFailure::kClosed, "connection closed while sending");
            sent += static_cast<size_t>(n);
        }

        std::string received;
        char buffer[16384];
        for (;;) {
            if (!WaitFor(socket.fd(), POLLIN, deadline)) return Failure(NodeFailure::kTimeout, "timed out waiting for the answer");
            ssize_t n = recv(socket.fd(), buffer, sizeof(buffer), 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n < 0) return Failure(NodeFailure::kClosed, std::strerror(errno));
            if (n == 0) break;
            received.append(buffer, static_cast<size_t>(n));
            if (received.size() > (32u << 20)) return Failure(NodeFailure::kBadReply, "answer too large");
            if (Complete(received)) break;
        }
        return Parse(received);
    }

    //! True once the headers and Content-Length bytes of body are in.
    static bool Complete(const std::string& received)
    {
        size_t end = received.find("\r\n\r\n");
        if (end == std::string::npos) return false;
        size_t length = 0;
        if (!ContentLength(received.substr(0, end), length)) return false;
        return received.size() >= end + 4 + length;
    }

    static bool ContentLength(const std::string& headers, size_t& length)
    {
        std::string lower = headers;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t at = lower.find("\r\ncontent-length:");
        if (at == std::string::npos) return false;
        length = std::strtoul(lower.c_str() + at + 17, nullptr, 10);
        return true;
    }

    static NodeReply Parse(const std::string& received)
    {
        size_t end = received.find("\r\n\r\n");
        if (received.empty()) return Failure(NodeFailure::kClosed, "connection closed without an answer");
        if (end == std::string::npos || received.rfind("HTTP/1.", 0) != 0 || received.size() < 12) {
            return Failure(NodeFailure::kClosed, "incomplete answer");
        }
        int status = std::atoi(received.c_str() + 9);
        size_t length = 0;
        std::string body = received.substr(end + 4);
        if (ContentLength(received.substr(0, end), length)) {
            if (body.size() < length) return Failure(NodeFailure::kClosed, "answer cut short");
            body.resize(length);
        }
        return InterpretHttpReply(status, body);
    }

    const NodeConfig m_node;
    std::mutex m_mutex;
    std::string m_authorization;
};

} // namespace

const char* NodeFailureName(NodeFailure failure)
{
    switch (failure) {
    case NodeFailure::kNone: return "answered";
    case NodeFailure::kTimeout: return "timeout";
    case NodeFailure::kRefused: return "refused";
    case NodeFailure::kClosed: return "closed";
    case NodeFailure::kWorkQueue: return "work_queue_full";
    case NodeFailure::kUnauthorized: return "unauthorized";
    case NodeFailure::kForbidden: return "forbidden";
    case NodeFailure::kBadReply: return "bad_reply";
    }
    return "unknown";
}

SpendingProbe ProbeSpending(NodeRpc& rpc)
{
    const NodeReply reply = rpc.Call("sendtoaddress", UniValue(UniValue::VARR));
    if (reply.failure == NodeFailure::kForbidden) {
        return {Spending::kRefused, "sendtoaddress is refused to this user (HTTP 403)"};
    }
    if (!reply.answered()) {
        return {Spending::kUnknown, std::string("no answer (") + NodeFailureName(reply.failure) + "): " + reply.detail};
    }
    if (reply.error_code && *reply.error_code == -32601) {
        return {Spending::kRefused, "the node has no sendtoaddress (-32601)"};
    }
    return {Spending::kAllowed, reply.error_code ? "sendtoaddress answered this user with error " +
                                                       std::to_string(*reply.error_code)
                                                 : std::string("sendtoaddress answered this user with a result")};
}

NodeReply InterpretHttpReply(int status, const std::string& body)
{
    if (status == 401) return Failure(NodeFailure::kUnauthorized, "HTTP 401: the node refused the credentials");
    if (status == 403) return Failure(NodeFailure::kForbidden, "HTTP 403: this RPC user may not call the method");
    UniValue answer;
    if (!answer.read(body) || !answer.isObject()) {
        if (status == 500) return Failure(NodeFailure::kWorkQueue, "HTTP 500 without JSON (work queue full)");
        return Failure(NodeFailure::kBadReply, "HTTP " + std::to_string(status) + " without JSON");
    }
    const UniValue& error = answer["error"];
    NodeReply reply;
    if (error.isObject()) {
        const UniValue& code = error["code"];
        errno = 0;
        char* end = nullptr;
        long long number = code.isNum() ? std::strtoll(code.getValStr().c_str(), &end, 10) : 0;
        if (!code.isNum() || *end != '\0' || errno != 0 || number < INT_MIN || number > INT_MAX) {
            return Failure(NodeFailure::kBadReply, "a JSON-RPC error without a whole-number code");
        }
        reply.error_code = static_cast<int>(number);
        reply.error_message = error["message"].isStr() ? error["message"].get_str() : "";
        return reply;
    }
    if (status != 200) return Failure(NodeFailure::kBadReply, "HTTP " + std::to_string(status) + " without a JSON-RPC error");
    // Every method called here answers an object.
    if (!answer["result"].isObject()) return Failure(NodeFailure::kBadReply, "HTTP 200 without a result object");
    reply.result = answer["result"];
    return reply;
}

bool ReadCredentials(const NodeConfig& node, std::string& user_password, std::string& error)
{
    if (!node.cookie_file.empty()) {
        if (!FirstLine(node.cookie_file, user_password) || user_password.find(':') == std::string::npos) {
            error = node.cookie_file + ": cannot read a user:password cookie";
            return false;
        }
        return true;
    }
    std::string password;
    if (!FirstLine(node.password_file, password)) {
        error = node.password_file + ": cannot read the password (its first line)";
        return false;
    }
    user_password = node.user + ":" + password;
    Wipe(password);
    return true;
}

std::unique_ptr<NodeRpc> MakeHttpNodeRpc(const NodeConfig& node, const std::string& user_password)
{
    return std::make_unique<HttpNodeRpc>(node, user_password);
}

} // namespace giftcode::claim
