// The claim server's configuration: one file of `key = value` lines, `#`
// comments, a `[limits]` section and one `[node]` section per node (doc/claim.md,
// Configuration). Credentials come from files the configuration names, so
// they never appear on a command line or in the configuration itself.
//
// Thread-safety: plain values, read-only once loaded.
#ifndef GIFTCODE_CLAIM_CONFIG_H
#define GIFTCODE_CLAIM_CONFIG_H

#include <code.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace giftcode::claim {

struct NodeConfig {
    std::string url;           //!< http://host:port/path, e.g. /wallet/NAME
    std::string host;
    uint16_t port{0};
    std::string path{"/"};
    std::string user;
    std::string password_file; //!< user's password, first line
    std::string cookie_file;   //!< the node's .cookie (user:password), read again after a 401
    int connections{4};        //!< calls to this node at once
    int queue{64};             //!< calls waiting for a connection
    int timeout_ms{30000};     //!< one call's limit: connect, send and answer
    //! Start even when these credentials can call sendtoaddress (checked
    //! at start-up with ProbeSpending).
    bool allow_spending{false};
};

struct LimitsConfig {
    int failed_lookups_per_minute{10};
    int claims_per_minute{6};
    int clients{10000};
};

struct Config {
    std::string listen_host{"127.0.0.1"};
    uint16_t listen_port{8080};
    Network network{Network::kMain};
    std::string public_origin;               //!< empty: the Host header's origin
    std::vector<std::string> trusted_proxies;
    int claim_wait_ms{3000};
    //! How long start-up waits for every node to answer the credentials
    //! check; then it gives up and exits.
    int startup_wait_s{60};
    int poll_ms{5000};
    int retry_min_ms{500};                   //!< first retry of a claim after no answer
    int retry_max_ms{30000};                 //!< longest wait between retries
    int keep_finished_s{600};                //!< a finished claim is shown this long
    bool log_requests{true};
    LimitsConfig limits;
    std::vector<NodeConfig> nodes;
};

//! The configuration file's options with their defaults and meaning, for --help.
std::string ConfigHelp();

//! Parses a configuration text. On failure returns nullopt and sets `error`
//! to "<name>:<line>: what is wrong". Credential files are not read here.
std::optional<Config> ParseConfig(const std::string& text, const std::string& name, std::string& error);

//! Reads and parses the file at `path`.
std::optional<Config> LoadConfig(const std::string& path, std::string& error);

//! Splits "http://host:port/path"; false when it is not such a URL.
bool SplitHttpUrl(const std::string& url, std::string& host, uint16_t& port, std::string& path);

//! Network names as the configuration and /api/status spell them.
const char* NetworkName(Network network);

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_CONFIG_H
