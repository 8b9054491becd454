// A claim service on fake nodes, and a way to wait for its answers.
#ifndef GIFTCODE_CLAIM_TEST_SERVICE_FIXTURE_H
#define GIFTCODE_CLAIM_TEST_SERVICE_FIXTURE_H

#include "fake_node.h"
#include "service.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <future>
#include <memory>

namespace giftcode::claim::test {

//! Passes calls on to a FakeNode the test keeps.
class NodeRef final : public NodeRpc {
public:
    explicit NodeRef(FakeNode& node) : m_node(node) {}
    NodeReply Call(const std::string& method, const UniValue& params) override { return m_node.Call(method, params); }
private:
    FakeNode& m_node;
};

inline Config TestConfig(size_t nodes = 1)
{
    Config config;
    config.network = Network::kRegtest;
    config.claim_wait_ms = 5000;
    config.retry_min_ms = 10;
    config.retry_max_ms = 40;
    for (size_t i = 0; i < nodes; ++i) {
        NodeConfig node;
        node.url = "http://127.0.0.1:1/wallet/w" + std::to_string(i);
        node.connections = 2;
        node.queue = 8;
        config.nodes.push_back(node);
    }
    return config;
}

//! An answer that has arrived, or will.
class Pending {
public:
    Pending() : m_promise(std::make_shared<std::promise<Answer>>()), m_future(m_promise->get_future()) {}
    Reply reply()
    {
        auto promise = m_promise;
        return [promise](Answer answer) { promise->set_value(std::move(answer)); };
    }
    bool ready() { return m_future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
    Answer get()
    {
        BOOST_REQUIRE_MESSAGE(m_future.wait_for(std::chrono::seconds(20)) == std::future_status::ready, "no answer in 20 s");
        return m_future.get();
    }
private:
    std::shared_ptr<std::promise<Answer>> m_promise;
    std::future<Answer> m_future;
};

struct ServiceFixture {
    explicit ServiceFixture(Config c = TestConfig()) : config(std::move(c)), nodes(config.nodes.size())
    {
        std::vector<std::unique_ptr<NodeRpc>> refs;
        for (FakeNode& node : nodes) refs.push_back(std::make_unique<NodeRef>(node));
        service = std::make_unique<ClaimService>(config, std::move(refs));
    }
    ~ServiceFixture() { for (FakeNode& node : nodes) node.Release(); service->Stop(); }

    //! As the API does: a failed-lookup token first, then the lookup.
    Answer Lookup(const std::string& code, const std::string& client = "10.0.0.1")
    {
        int wait = 0;
        BOOST_REQUIRE(service->TakeLookupToken(client, wait));
        Pending pending;
        service->Lookup(Parse(code), client, pending.reply());
        return pending.get();
    }
    Answer Claim(const std::string& code, const std::string& address, const std::string& client = "10.0.0.1")
    {
        int wait = 0;
        BOOST_REQUIRE(service->TakeLookupToken(client, wait));
        Pending pending;
        service->Claim(Parse(code), address, client, pending.reply());
        return pending.get();
    }

    Config config;
    std::vector<FakeNode> nodes;
    std::unique_ptr<ClaimService> service;
};

//! Regtest addresses for claims.
inline const std::string ADDRESS = "rmona1qqypqxpq9qcrsszg2pvxq6rs0zqg3yyc5td6tfz";
inline const std::string OTHER_ADDRESS = "mfcHP2WMCVLsVZA8yrovmhMgxNFW9r98xw";

} // namespace giftcode::claim::test

#endif // GIFTCODE_CLAIM_TEST_SERVICE_FIXTURE_H
