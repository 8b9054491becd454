// The configuration file: every option read, every mistake named with its
// line, and --help generated from the same table.
#include "config.h"

#include <boost/test/unit_test.hpp>

using namespace giftcode;
using namespace giftcode::claim;

namespace {

const char* const FULL = R"(# a service with two wallets
listen = 0.0.0.0:8443
network = regtest
public_origin = https://gift.example.com
trusted_proxy = 127.0.0.1
trusted_proxy = ::1
claim_wait_ms = 1500   # then 202
poll_ms = 2000
retry_min_ms = 100
retry_max_ms = 9000
keep_finished_s = 60
startup_wait_s = 5
log_requests = false

[limits]
failed_lookups_per_minute = 5
claims_per_minute = 3
clients = 99

[node]
url = http://127.0.0.1:19443/wallet/gifts
user = claim
password_file = /etc/giftcode-claim/node1.password
connections = 8
queue = 100
timeout_ms = 5000
allow_spending = true

[node]
url = http://[::1]:19444/
cookie_file = /var/lib/monacoind/regtest/.cookie
)";

std::string ErrorOf(const std::string& text)
{
    std::string error;
    BOOST_CHECK(!ParseConfig(text, "claim.conf", error));
    return error;
}

const char* const NODE = "[node]\nurl = http://127.0.0.1:9402/\ncookie_file = /c\n";

} // namespace

BOOST_AUTO_TEST_SUITE(config_tests)

BOOST_AUTO_TEST_CASE(every_option_is_read)
{
    std::string error;
    std::optional<Config> config = ParseConfig(FULL, "claim.conf", error);
    BOOST_REQUIRE_MESSAGE(config, error);
    BOOST_CHECK_EQUAL(config->listen_host, "0.0.0.0");
    BOOST_CHECK_EQUAL(config->listen_port, 8443);
    BOOST_CHECK(config->network == Network::kRegtest);
    BOOST_CHECK_EQUAL(config->public_origin, "https://gift.example.com");
    BOOST_CHECK_EQUAL(config->trusted_proxies.size(), 2u);
    BOOST_CHECK_EQUAL(config->claim_wait_ms, 1500);
    BOOST_CHECK_EQUAL(config->poll_ms, 2000);
    BOOST_CHECK_EQUAL(config->retry_min_ms, 100);
    BOOST_CHECK_EQUAL(config->retry_max_ms, 9000);
    BOOST_CHECK_EQUAL(config->keep_finished_s, 60);
    BOOST_CHECK_EQUAL(config->startup_wait_s, 5);
    BOOST_CHECK(!config->log_requests);
    BOOST_CHECK_EQUAL(config->limits.failed_lookups_per_minute, 5);
    BOOST_CHECK_EQUAL(config->limits.claims_per_minute, 3);
    BOOST_CHECK_EQUAL(config->limits.clients, 99);
    BOOST_REQUIRE_EQUAL(config->nodes.size(), 2u);
    const NodeConfig& first = config->nodes[0];
    BOOST_CHECK_EQUAL(first.host, "127.0.0.1");
    BOOST_CHECK_EQUAL(first.port, 19443);
    BOOST_CHECK_EQUAL(first.path, "/wallet/gifts");
    BOOST_CHECK_EQUAL(first.user, "claim");
    BOOST_CHECK_EQUAL(first.password_file, "/etc/giftcode-claim/node1.password");
    BOOST_CHECK_EQUAL(first.connections, 8);
    BOOST_CHECK_EQUAL(first.queue, 100);
    BOOST_CHECK_EQUAL(first.timeout_ms, 5000);
    BOOST_CHECK(first.allow_spending);
    BOOST_CHECK(!config->nodes[1].allow_spending);
    BOOST_CHECK_EQUAL(config->nodes[1].host, "::1");
    BOOST_CHECK_EQUAL(config->nodes[1].path, "/");
    BOOST_CHECK_EQUAL(config->nodes[1].cookie_file, "/var/lib/monacoind/regtest/.cookie");
    BOOST_CHECK_EQUAL(config->nodes[1].connections, 4);
}

BOOST_AUTO_TEST_CASE(defaults)
{
    std::string error;
    std::optional<Config> config = ParseConfig(NODE, "c", error);
    BOOST_REQUIRE_MESSAGE(config, error);
    BOOST_CHECK_EQUAL(config->listen_host, "127.0.0.1");
    BOOST_CHECK_EQUAL(config->listen_port, 8080);
    BOOST_CHECK(config->network == Network::kMain);
    BOOST_CHECK(config->public_origin.empty());
    BOOST_CHECK_EQUAL(config->claim_wait_ms, 3000);
    BOOST_CHECK_EQUAL(config->limits.claims_per_minute, 6);
    BOOST_CHECK_EQUAL(config->nodes[0].queue, 64);
    BOOST_CHECK_EQUAL(config->nodes[0].timeout_ms, 30000);
    BOOST_CHECK(!config->nodes[0].allow_spending);
    BOOST_CHECK_EQUAL(config->startup_wait_s, 60);
}

BOOST_AUTO_TEST_CASE(mistakes_are_named_with_their_line)
{
    std::string node = NODE;
    BOOST_CHECK_EQUAL(ErrorOf("listen = 1.2.3.4\n" + node), "claim.conf:1: listen must be HOST:PORT");
    BOOST_CHECK_EQUAL(ErrorOf("\nlisten = 1.2.3.4:0\n" + node), "claim.conf:2: listen port must be from 1 to 65535");
    BOOST_CHECK_EQUAL(ErrorOf("network = mainnet\n" + node), "claim.conf:1: network must be main, test or regtest");
    BOOST_CHECK_EQUAL(ErrorOf("colour = blue\n" + node), "claim.conf:1: unknown option 'colour'");
    BOOST_CHECK_EQUAL(ErrorOf(node + "listen = 1.2.3.4:80\n"), "claim.conf:4: unknown option 'listen' in [node]");
    BOOST_CHECK_EQUAL(ErrorOf("[nodes]\n"), "claim.conf:1: unknown section [nodes] (sections: [limits], [node])");
    BOOST_CHECK_EQUAL(ErrorOf("listen\n"), "claim.conf:1: expected key = value");
    BOOST_CHECK_EQUAL(ErrorOf("poll_ms =\n" + node), "claim.conf:1: poll_ms needs a value");
    BOOST_CHECK_EQUAL(ErrorOf("poll_ms = 10\n" + node), "claim.conf:1: poll_ms must be a whole number from 500 to 600000");
    BOOST_CHECK_EQUAL(ErrorOf("poll_ms = 1000x\n" + node), "claim.conf:1: poll_ms must be a whole number from 500 to 600000");
    BOOST_CHECK_EQUAL(ErrorOf("log_requests = maybe\n" + node), "claim.conf:1: log_requests must be true or false");
    BOOST_CHECK_EQUAL(ErrorOf("public_origin = https://a.example/\n" + node),
                      "claim.conf:1: public_origin must be http(s)://host[:port], without a path");
    BOOST_CHECK_EQUAL(ErrorOf("public_origin = ftp://a.example\n" + node),
                      "claim.conf:1: public_origin must be http(s)://host[:port], without a path");
    BOOST_CHECK_EQUAL(ErrorOf("retry_min_ms = 5000\nretry_max_ms = 1000\n" + node), "claim.conf: retry_min_ms is above retry_max_ms");
    BOOST_CHECK_EQUAL(ErrorOf(""), "claim.conf: no [node] section: name at least one node");
    BOOST_CHECK_EQUAL(ErrorOf("[node]\ncookie_file = /c\n"), "claim.conf: node 1: url is required");
    BOOST_CHECK_EQUAL(ErrorOf("[node]\nurl = https://a:1/\n"), "claim.conf:2: url must be http://host:port/path");
    BOOST_CHECK_EQUAL(ErrorOf("[node]\nurl = http://a/\n"), "claim.conf:2: url must be http://host:port/path");
    BOOST_CHECK_EQUAL(ErrorOf("[node]\nurl = http://a:1/\n"), "claim.conf: node 1: give either user and password_file, or cookie_file");
    BOOST_CHECK_EQUAL(ErrorOf(node + "user = u\n"), "claim.conf: node 1: give either user and password_file, or cookie_file");
    BOOST_CHECK_EQUAL(ErrorOf("[node]\nurl = http://a:1/\nuser = u\n"),
                      "claim.conf: node 1: user needs password_file, and password_file needs user");
    BOOST_CHECK_EQUAL(ErrorOf(node + "connections = 0\n"), "claim.conf:4: connections must be a whole number from 1 to 256");
    BOOST_CHECK_EQUAL(ErrorOf("[limits]\nclaims_per_minute = 0\n" + node), "claim.conf:2: claims_per_minute must be a whole number from 1 to 100000");
    BOOST_CHECK_EQUAL(ErrorOf("trusted_proxy = 127.0.0.1\n" + node), "claim.conf: trusted_proxy needs public_origin");
}

BOOST_AUTO_TEST_CASE(an_ipv6_listen_address_may_be_bracketed)
{
    std::string error;
    std::optional<Config> config = ParseConfig(std::string("listen = [::1]:8443\n") + NODE, "c", error);
    BOOST_REQUIRE_MESSAGE(config, error);
    BOOST_CHECK_EQUAL(config->listen_host, "::1");
    BOOST_CHECK_EQUAL(config->listen_port, 8443);
}

BOOST_AUTO_TEST_CASE(urls_are_split)
{
    std::string host, path;
    uint16_t port = 0;
    BOOST_CHECK(SplitHttpUrl("http://node.lan:9402/wallet/a", host, port, path));
    BOOST_CHECK_EQUAL(host, "node.lan");
    BOOST_CHECK_EQUAL(port, 9402);
    BOOST_CHECK_EQUAL(path, "/wallet/a");
    BOOST_CHECK(SplitHttpUrl("http://node.lan:9402", host, port, path));
    BOOST_CHECK_EQUAL(path, "/");
    BOOST_CHECK(!SplitHttpUrl("http://node.lan:9402/a?b", host, port, path));
    BOOST_CHECK(!SplitHttpUrl("http://node.lan:99999/", host, port, path));
    BOOST_CHECK(!SplitHttpUrl("http://:1/", host, port, path));
}

BOOST_AUTO_TEST_CASE(help_lists_every_option)
{
    std::string help = ConfigHelp();
    for (const char* key : {"listen", "network", "public_origin", "trusted_proxy", "claim_wait_ms", "poll_ms",
                            "retry_min_ms", "retry_max_ms", "keep_finished_s", "log_requests", "failed_lookups_per_minute",
                            "claims_per_minute", "clients", "url", "user", "password_file", "cookie_file", "connections",
                            "queue", "timeout_ms"}) {
        BOOST_CHECK_MESSAGE(help.find("  " + std::string(key) + " = ") != std::string::npos, key);
    }
    BOOST_CHECK(help.find("[limits]") != std::string::npos);
    BOOST_CHECK(help.find("[node]") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_named)
{
    std::string error;
    BOOST_CHECK(!LoadConfig("/nonexistent/claim.conf", error));
    BOOST_CHECK_EQUAL(error, "/nonexistent/claim.conf: cannot read the configuration file");
}

BOOST_AUTO_TEST_SUITE_END()
