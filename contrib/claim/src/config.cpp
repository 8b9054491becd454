// Parsing of the claim server's configuration file. Every option is one row
// of a table (section, key, range, meaning), which also prints --help, so the
// two cannot drift.
#include "config.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace giftcode::claim {
namespace {

enum class Section { kTop, kLimits, kNode };

struct Option {
    Section section;
    const char* key;
    const char* value;    //!< what the value looks like, for --help
    const char* meaning;
    //! Stores `text` into `config`; returns an error message or "".
    std::function<std::string(Config& config, const std::string& text)> set;
};

std::string Trim(const std::string& text)
{
    const char* space = " \t\r";
    size_t begin = text.find_first_not_of(space);
    if (begin == std::string::npos) return "";
    size_t end = text.find_last_not_of(space);
    return text.substr(begin, end - begin + 1);
}

std::string SetInt(int& out, const std::string& text, long min, long max)
{
    errno = 0;
    char* end = nullptr;
    long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || value < min || value > max) {
        return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    }
    out = static_cast<int>(value);
    return "";
}

std::string SetBool(bool& out, const std::string& text)
{
    if (text == "true" || text == "1" || text == "yes") { out = true; return ""; }
    if (text == "false" || text == "0" || text == "no") { out = false; return ""; }
    return "must be true or false";
}

NodeConfig& CurrentNode(Config& config) { return config.nodes.back(); }

const std::vector<Option>& Options()
{
    static const std::vector<Option> options = {
        {Section::kTop, "listen", "HOST:PORT", "address and port to serve on (default 127.0.0.1:8080)",
         [](Config& c, const std::string& v) -> std::string {
             size_t colon = v.rfind(':');
             if (colon == std::string::npos || colon == 0) return "must be HOST:PORT";
             int port = 0;
             if (!SetInt(port, v.substr(colon + 1), 1, 65535).empty()) return "port must be from 1 to 65535";
             c.listen_host = v.substr(0, colon);
             if (c.listen_host.size() > 2 && c.listen_host.front() == '[' && c.listen_host.back() == ']') {
                 c.listen_host = c.listen_host.substr(1, c.listen_host.size() - 2);
             }
             c.listen_port = static_cast<uint16_t>(port);
             return "";
         }},
        {Section::kTop, "network", "main|test|regtest", "the network of the codes and addresses accepted (default main)",
         [](Config& c, const std::string& v) -> std::string {
             if (v == "main") c.network = Network::kMain;
             else if (v == "test") c.network = Network::kTest;
             else if (v == "regtest") c.network = Network::kRegtest;
             else return "must be main, test or regtest";
             return "";
         }},
        {Section::kTop, "public_origin", "URL", "scheme://host[:port] the page is served from; POSTs from any other origin are refused (default: the Host header's)",
         [](Config& c, const std::string& v) -> std::string {
             if ((v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) || v.back() == '/') {
                 return "must be http(s)://host[:port], without a path";
             }
             c.public_origin = v;
             return "";
         }},
        {Section::kTop, "trusted_proxy", "IP", "a proxy whose X-Forwarded-For names the client (repeatable)",
         [](Config& c, const std::string& v) -> std::string { c.trusted_proxies.push_back(v); return ""; }},
        {Section::kTop, "claim_wait_ms", "0-60000", "how long a claim request waits for the outcome before answering 202 (default 3000)",
         [](Config& c, const std::string& v) { return SetInt(c.claim_wait_ms, v, 0, 60000); }},
        {Section::kTop, "poll_ms", "500-600000", "how often the page follows a payment (default 5000)",
         [](Config& c, const std::string& v) { return SetInt(c.poll_ms, v, 500, 600000); }},
        {Section::kTop, "retry_min_ms", "10-60000", "first wait before a claim that got no answer is sent again (default 500)",
         [](Config& c, const std::string& v) { return SetInt(c.retry_min_ms, v, 10, 60000); }},
        {Section::kTop, "retry_max_ms", "10-600000", "longest wait between two tries of a claim (default 30000)",
         [](Config& c, const std::string& v) { return SetInt(c.retry_max_ms, v, 10, 600000); }},
        {Section::kTop, "keep_finished_s", "1-86400", "how long a finished claim is shown to a reloaded page (default 600)",
         [](Config& c, const std::string& v) { return SetInt(c.keep_finished_s, v, 1, 86400); }},
        {Section::kTop, "startup_wait_s", "0-86400", "how long start-up waits for each node to answer the check of its credentials; then it exits (default 60)",
         [](Config& c, const std::string& v) { return SetInt(c.startup_wait_s, v, 0, 86400); }},
        {Section::kTop, "log_requests", "true|false", "one log line per request: path, status, client, short code id (default true)",
         [](Config& c, const std::string& v) { return SetBool(c.log_requests, v); }},
        {Section::kLimits, "failed_lookups_per_minute", "1-100000", "a client's failed lookups (malformed, mistyped, unknown codes) a minute (default 10)",
         [](Config& c, const std::string& v) { return SetInt(c.limits.failed_lookups_per_minute, v, 1, 100000); }},
        {Section::kLimits, "claims_per_minute", "1-100000", "a client's new claims a minute (default 6)",
         [](Config& c, const std::string& v) { return SetInt(c.limits.claims_per_minute, v, 1, 100000); }},
        {Section::kLimits, "clients", "1-10000000", "clients tracked by the limits; the least recent are forgotten (default 10000)",
         [](Config& c, const std::string& v) { return SetInt(c.limits.clients, v, 1, 10000000); }},
        {Section::kNode, "url", "URL", "the node's JSON-RPC endpoint, http://host:port/wallet/NAME (required)",
         [](Config& c, const std::string& v) -> std::string {
             NodeConfig& node = CurrentNode(c);
             if (!SplitHttpUrl(v, node.host, node.port, node.path)) return "must be http://host:port/path";
             node.url = v;
             return "";
         }},
        {Section::kNode, "user", "NAME", "RPC user (with password_file)",
         [](Config& c, const std::string& v) -> std::string { CurrentNode(c).user = v; return ""; }},
        {Section::kNode, "password_file", "PATH", "file whose first line is the user's RPC password",
         [](Config& c, const std::string& v) -> std::string { CurrentNode(c).password_file = v; return ""; }},
        {Section::kNode, "cookie_file", "PATH", "the node's .cookie file instead of user and password_file",
         [](Config& c, const std::string& v) -> std::string { CurrentNode(c).cookie_file = v; return ""; }},
        {Section::kNode, "connections", "1-256", "calls to this node at once; at most the node's -rpcthreads (default 4)",
         [](Config& c, const std::string& v) { return SetInt(CurrentNode(c).connections, v, 1, 256); }},
        {Section::kNode, "queue", "0-100000", "calls waiting for a connection; beyond, requests get 'busy' (default 64)",
         [](Config& c, const std::string& v) { return SetInt(CurrentNode(c).queue, v, 0, 100000); }},
        {Section::kNode, "timeout_ms", "100-600000", "one call's time limit; a claim that times out is sent again (default 30000)",
         [](Config& c, const std::string& v) { return SetInt(CurrentNode(c).timeout_ms, v, 100, 600000); }},
        {Section::kNode, "allow_spending", "true|false", "start even if this user can call sendtoaddress (default false: at start-up the server asks the node and refuses such credentials; give it a claim-only user, doc/security.md)",
         [](Config& c, const std::string& v) { return SetBool(CurrentNode(c).allow_spending, v); }},
    };
    return options;
}

const char* SectionName(Section section)
{
    switch (section) {
    case Section::kTop: return "";
    case Section::kLimits: return "[limits]";
    case Section::kNode: return "[node]";
    }
    return "";
}

} // namespace

const char* NetworkName(Network network)
{
    switch (network) {
    case Network::kMain: return "main";
    case Network::kTest: return "test";
    case Network::kRegtest: return "regtest";
    }
    return "main";
}

bool SplitHttpUrl(const std::string& url, std::string& host, uint16_t& port, std::string& path)
{
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) return false;
    std::string rest = url.substr(scheme.size());
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    path = slash == std::string::npos ? "/" : rest.substr(slash);
    size_t colon = authority.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    host = authority.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int number = 0;
    if (!SetInt(number, authority.substr(colon + 1), 1, 65535).empty()) return false;
    port = static_cast<uint16_t>(number);
    return path.find_first_of(" #?") == std::string::npos;
}

std::string ConfigHelp()
{
    std::ostringstream out;
    Section section = Section::kTop;
    for (const Option& option : Options()) {
        if (option.section != section) {
            section = option.section;
            out << "\n" << SectionName(section) << (section == Section::kNode ? "  (one section per node)" : "") << "\n";
        }
        out << "  " << option.key << " = " << option.value << "\n      " << option.meaning << "\n";
    }
    return out.str();
}

std::optional<Config> ParseConfig(const std::string& text, const std::string& name, std::string& error)
{
    Config config;
    Section section = Section::kTop;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    auto fail = [&](const std::string& why) {
        error = name + (number > 0 ? ":" + std::to_string(number) : "") + ": " + why;
        return std::nullopt;
    };
    while (std::getline(lines, line)) {
        ++number;
        size_t hash = line.find('#');
        if (hash != std::string::npos) line.erase(hash);
        line = Trim(line);
        if (line.empty()) continue;
        if (line == "[limits]") { section = Section::kLimits; continue; }
        if (line == "[node]") {
            section = Section::kNode;
            config.nodes.emplace_back();
            continue;
        }
        if (line.front() == '[') return fail("unknown section " + line + " (sections: [limits], [node])");
        size_t equals = line.find('=');
        if (equals == std::string::npos) return fail("expected key = value");
        std::string key = Trim(line.substr(0, equals));
        std::string value = Trim(line.substr(equals + 1));
        auto option = std::find_if(Options().begin(), Options().end(), [&](const Option& o) {
            return o.section == section && key == o.key;
        });
        if (option == Options().end()) {
            return fail("unknown option '" + key + "'" + (section == Section::kTop ? "" : std::string(" in ") + SectionName(section)));
        }
        if (value.empty()) return fail(key + " needs a value");
        std::string why = option->set(config, value);
        if (!why.empty()) return fail(key + " " + why);
    }
    number = 0;
    if (config.nodes.empty()) return fail("no [node] section: name at least one node");
    for (size_t i = 0; i < config.nodes.size(); ++i) {
        const NodeConfig& node = config.nodes[i];
        std::string which = "node " + std::to_string(i + 1) + ": ";
        if (node.url.empty()) return fail(which + "url is required");
        bool password = !node.user.empty() || !node.password_file.empty();
        if (password == !node.cookie_file.empty()) return fail(which + "give either user and password_file, or cookie_file");
        if (password && (node.user.empty() || node.password_file.empty())) return fail(which + "user needs password_file, and password_file needs user");
    }
    if (config.retry_min_ms > config.retry_max_ms) return fail("retry_min_ms is above retry_max_ms");
    // Behind a proxy the Host header says nothing of the origin browsers use.
    if (!config.trusted_proxies.empty() && config.public_origin.empty()) return fail("trusted_proxy needs public_origin");
    return config;
}

std::optional<Config> LoadConfig(const std::string& path, std::string& error)
{
    std::ifstream file(path);
    if (!file) {
        error = path + ": cannot read the configuration file";
        return std::nullopt;
    }
    std::ostringstream text;
    text << file.rdbuf();
    return ParseConfig(text.str(), path, error);
}

} // namespace giftcode::claim
