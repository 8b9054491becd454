// giftcode-claim: the claim server (doc/claim.md). libevent's evhttp serves
// HTTP on one thread; the API hands requests that need a node to the claim
// service's workers, whose answers come back to the event thread through a
// queue and a wake-up event. A request whose connection libevent closes
// before its answer is forgotten with it (libevent frees it).
#include "api.h"
#include "assets.h"
#include "config.h"
#include "log.h"
#include "node.h"
#include "service.h"

#include <sha256.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

using namespace giftcode::claim;

namespace {

const char* const USAGE =
    "Usage: giftcode-claim --config FILE [--check-config]\n"
    "       giftcode-claim --help | --version\n"
    "\n"
    "Serves the gift-code claim page and its JSON API in front of one or more\n"
    "patched monacoind wallets (doc/claim.md).\n"
    "\n"
    "  --config FILE    the configuration file (below)\n"
    "  --check-config   read the configuration and the credential files, then exit\n"
    "  --help           this text\n"
    "  --version        the module build id the server was built from\n"
    "\n"
    "Configuration file: key = value lines, '#' comments, sections:\n";

const char* Reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

const char* MethodName(evhttp_cmd_type command)
{
    switch (command) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "OTHER";
}

//! The path for the access log: the page's files and the API's paths as
//! they are, anything else as "-" (a mistyped claim URL may hold a code).
std::string LoggedPath(const std::string& uri)
{
    std::string path = uri.substr(0, uri.find('?'));
    for (const char* known : {"/api/status", "/api/lookup", "/api/claim", "/api/address"}) {
        if (path == known) return path;
    }
    return FindAsset(path) ? path : "-";
}

//! Requests waiting for their answer, by token; touched only on the event
//! thread except `m_ready`, which the workers fill.
class Bridge {
public:
    Bridge(event_base* base, const Config& config, Api& api) : m_config(config), m_api(api)
    {
        m_wake = event_new(base, -1, 0, &Bridge::OnWake, this);
    }
    ~Bridge() { event_free(m_wake); }

    static void OnRequest(evhttp_request* request, void* self) { static_cast<Bridge*>(self)->Accept(request); }

private:
    struct Pending {
        evhttp_request* request;
        evhttp_connection* connection;
        std::chrono::steady_clock::time_point start;
        std::string method;
        std::string path;
        std::string client;
    };

    void Accept(evhttp_request* raw)
    {
        HttpRequest request;
        request.method = MethodName(evhttp_request_get_command(raw));
        request.uri = evhttp_request_get_uri(raw);
        evhttp_connection* connection = evhttp_request_get_connection(raw);
        char* peer = nullptr;
        uint16_t port = 0;
        evhttp_connection_get_peer(connection, &peer, &port);
        request.peer = peer ? peer : "";
        evkeyvalq* headers = evhttp_request_get_input_headers(raw);
        for (evkeyval* header = headers->tqh_first; header; header = header->next.tqe_next) {
            std::string name = header->key;
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers[name] = header->value;
        }
        evbuffer* input = evhttp_request_get_input_buffer(raw);
        size_t length = evbuffer_get_length(input);
        if (length > 0 && length <= 1024 * 1024) {
            request.body.resize(length);
            evbuffer_remove(input, &request.body[0], length);
        } else if (length > 0) {
            request.body.assign(MAX_BODY + 1, ' ');
        }

        uint64_t token = m_next++;
        m_pending[token] = Pending{raw, connection, std::chrono::steady_clock::now(), request.method,
                                   LoggedPath(request.uri), m_api.ClientOf(request)};
        m_by_connection[connection].insert(token);
        evhttp_connection_set_closecb(connection, &Bridge::OnClose, this);
        m_api.Handle(request, [this, token](HttpResponse response) { Post(token, std::move(response)); });
        if (!request.body.empty()) giftcode::SecureWipe(&request.body[0], request.body.size());
    }

    //! From any thread: queue an answer for the event thread.
    void Post(uint64_t token, HttpResponse response)
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_ready.emplace_back(token, std::move(response));
        }
        event_active(m_wake, 0, 0);
    }

    static void OnWake(evutil_socket_t, short, void* self) { static_cast<Bridge*>(self)->Deliver(); }

    void Deliver()
    {
        std::deque<std::pair<uint64_t, HttpResponse>> ready;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            ready.swap(m_ready);
        }
        for (auto& [token, response] : ready) {
            auto it = m_pending.find(token);
            if (it == m_pending.end()) continue; // the client went away
            Pending pending = it->second;
            m_pending.erase(it);
            auto by = m_by_connection.find(pending.connection);
            if (by != m_by_connection.end()) {
                by->second.erase(token);
                if (by->second.empty()) m_by_connection.erase(by);
            }
            evkeyvalq* headers = evhttp_request_get_output_headers(pending.request);
            for (const auto& [name, value] : response.headers) evhttp_add_header(headers, name.c_str(), value.c_str());
            evbuffer* body = evbuffer_new();
            evbuffer_add(body, response.body.data(), response.body.size());
            evhttp_send_reply(pending.request, response.status, Reason(response.status), body);
            evbuffer_free(body);
            if (m_config.log_requests) {
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - pending.start).count();
                Log(pending.client + " " + pending.method + " " + pending.path + " " + std::to_string(response.status) + " " +
                    std::to_string(ms) + "ms" + (response.code_id.empty() ? "" : " code " + response.code_id));
            }
        }
    }

    static void OnClose(evhttp_connection* connection, void* self)
    {
        Bridge* bridge = static_cast<Bridge*>(self);
        auto by = bridge->m_by_connection.find(connection);
        if (by == bridge->m_by_connection.end()) return;
        for (uint64_t token : by->second) bridge->m_pending.erase(token);
        bridge->m_by_connection.erase(by);
    }

    const Config& m_config;
    Api& m_api;
    event* m_wake{nullptr};
    uint64_t m_next{1};
    std::map<uint64_t, Pending> m_pending;
    std::map<evhttp_connection*, std::set<uint64_t>> m_by_connection;
    std::mutex m_mutex;
    std::deque<std::pair<uint64_t, HttpResponse>> m_ready;
};

void OnSignal(evutil_socket_t, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); }

//! Least privilege (doc/security.md): a claim server needs getgiftcode and
//! redeemgiftcode only. Each node is asked, as the configured user, whether
//! that user can call sendtoaddress; such credentials stop the start unless
//! the node allows them (allow_spending). A node that does not answer is
//! asked again until startup_wait_s has passed.
bool CheckCredentials(const Config& config, const std::vector<std::unique_ptr<NodeRpc>>& nodes)
{
    for (size_t i = 0; i < nodes.size(); ++i) {
        const NodeConfig& node = config.nodes[i];
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(config.startup_wait_s);
        SpendingProbe probe = ProbeSpending(*nodes[i]);
        bool waiting_logged = false;
        while (probe.verdict == Spending::kUnknown && std::chrono::steady_clock::now() < deadline) {
            if (!waiting_logged) {
                Log("giftcode-claim: waiting for " + node.url + " to answer the check of its credentials: " +
                    probe.detail);
                waiting_logged = true;
            }
            std::this_thread::sleep_for(std::chrono::seconds(1));
            probe = ProbeSpending(*nodes[i]);
        }
        switch (probe.verdict) {
        case Spending::kRefused:
            Log("giftcode-claim: " + node.url + ": this user cannot send (" + probe.detail + ")");
            break;
        case Spending::kAllowed:
            if (!node.allow_spending) {
                std::fprintf(stderr,
                             "giftcode-claim: %s: the configured user can call sendtoaddress (%s). A claim server "
                             "needs getgiftcode and redeemgiftcode only: give it a claim-only user "
                             "(contrib/giftcode_rpcauth.py claim; doc/security.md), or set allow_spending = true "
                             "in its [node] section.\n",
                             node.url.c_str(), probe.detail.c_str());
                return false;
            }
            Log("giftcode-claim: WARNING: " + node.url + ": this user can send (" + probe.detail +
                "); allowed by allow_spending");
            break;
        case Spending::kUnknown:
            std::fprintf(stderr,
                         "giftcode-claim: %s did not answer the check of its credentials within %d s (%s); not "
                         "starting\n",
                         node.url.c_str(), config.startup_wait_s, probe.detail.c_str());
            return false;
        }
    }
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    std::string config_path;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::printf("%s%s", USAGE, ConfigHelp().c_str());
            return 0;
        } else if (arg == "--version") {
            std::printf("giftcode-claim, module build id %s\n", GIFTCODE_BUILD_ID);
            return 0;
        } else if (arg == "--check-config") {
            check_only = true;
        } else if (arg == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            config_path = arg.substr(9);
        } else {
            std::fprintf(stderr, "giftcode-claim: unknown argument '%s' (see --help)\n", arg.c_str());
            return 2;
        }
    }
    if (config_path.empty()) {
        std::fprintf(stderr, "giftcode-claim: --config FILE is required (see --help)\n");
        return 2;
    }
    std::string error;
    std::optional<Config> config = LoadConfig(config_path, error);
    if (!config) {
        std::fprintf(stderr, "giftcode-claim: %s\n", error.c_str());
        return 1;
    }
    std::vector<std::unique_ptr<NodeRpc>> nodes;
    for (const NodeConfig& node : config->nodes) {
        std::string credentials;
        if (!ReadCredentials(node, credentials, error)) {
            std::fprintf(stderr, "giftcode-claim: %s\n", error.c_str());
            return 1;
        }
        nodes.push_back(MakeHttpNodeRpc(node, credentials));
        giftcode::SecureWipe(&credentials[0], credentials.size());
    }
    if (check_only) {
        std::printf("%s: fine; %zu node(s), would listen on %s:%u, network %s\n", config_path.c_str(), config->nodes.size(),
                    config->listen_host.c_str(), config->listen_port, NetworkName(config->network));
        return 0;
    }

    std::signal(SIGPIPE, SIG_IGN);
    if (!CheckCredentials(*config, nodes)) return 1;
    evthread_use_pthreads();
    event_base* base = event_base_new();
    evhttp* http = evhttp_new(base);
    evhttp_set_max_headers_size(http, 16 * 1024);
    // Bodies up to 1 MiB are read and refused by the API (over 4 KiB) with
    // its own headers; only what libevent refuses itself (a larger body,
    // headers over 16 KiB) gets libevent's plain answer.
    evhttp_set_max_body_size(http, 1024 * 1024);
    evhttp_set_timeout(http, 60);
    evhttp_set_allowed_methods(http, 0xffff);
    if (!evhttp_bind_socket_with_handle(http, config->listen_host.c_str(), config->listen_port)) {
        std::fprintf(stderr, "giftcode-claim: cannot listen on %s:%u\n", config->listen_host.c_str(), config->listen_port);
        return 1;
    }
    int status = 0;
    {
        ClaimService service(*config, std::move(nodes));
        Api api(*config, service);
        Bridge bridge(base, *config, api);
        evhttp_set_gencb(http, &Bridge::OnRequest, &bridge);
        event* interrupt = evsignal_new(base, SIGINT, OnSignal, base);
        event* terminate = evsignal_new(base, SIGTERM, OnSignal, base);
        event_add(interrupt, nullptr);
        event_add(terminate, nullptr);
        Log("giftcode-claim: listening on " + config->listen_host + ":" + std::to_string(config->listen_port) + ", network " +
            NetworkName(config->network) + ", " + std::to_string(config->nodes.size()) + " node(s)");
        if (event_base_dispatch(base) < 0) status = 1;
        Log("giftcode-claim: stopping");
        service.Stop();
        event_free(interrupt);
        event_free(terminate);
        evhttp_free(http);
    }
    event_base_free(base);
    return status;
}
