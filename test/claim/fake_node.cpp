#include "fake_node.h"

#include <rpc.h>

#include <array>
#include <cassert>
#include <random>

namespace giftcode::claim::test {

std::string NewCode(Network network)
{
    static std::mt19937_64 random(20180901);
    static std::mutex mutex;
    std::array<uint8_t, CodeSecret::SIZE> bytes{};
    {
        std::lock_guard<std::mutex> lock(mutex);
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(random());
    }
    return FormatCode(network, CodeSecret(bytes));
}

ParsedCode Parse(const std::string& code_text, Network network)
{
    Result<ParsedCode> parsed = ParseCode(code_text, network);
    assert(parsed.ok());
    return parsed.value();
}

std::string IdOf(const std::string& code_text, Network network) { return Parse(code_text, network).Id().ToHex(); }

void FakeNode::Issue(const std::string& code, const std::string& amount, const std::string& state)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_codes[IdOf(code)] = Code{state, amount, "", "", 0};
}

void FakeNode::Script(Fault fault)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_faults.push_back(fault);
}

void FakeNode::Hold()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_hold = true;
}

void FakeNode::Release()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_hold = false;
    m_cv.notify_all();
}

void FakeNode::WaitForHeld(size_t count)
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_cv.wait(lock, [&] { return m_held >= count; });
}

size_t FakeNode::Payments(const std::string& code) const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_codes.find(IdOf(code));
    return it == m_codes.end() ? 0 : it->second.payments;
}

size_t FakeNode::CallCount(const std::string& method) const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    size_t n = 0;
    for (const auto& call : m_calls) n += call.method == method ? 1 : 0;
    return n;
}

std::vector<FakeNode::RecordedCall> FakeNode::Calls() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_calls;
}

NodeReply FakeNode::Call(const std::string& method, const UniValue& params)
{
    std::string code = params.size() > 0 && params[0].isStr() ? params[0].get_str() : "";
    std::string address = params.size() > 1 && params[1].isStr() ? params[1].get_str() : "";
    std::unique_lock<std::mutex> lock(m_mutex);
    m_calls.push_back({method, code, address});
    if (m_hold) {
        ++m_held;
        m_cv.notify_all();
        m_cv.wait(lock, [&] { return !m_hold; });
        --m_held;
    }
    if (!m_faults.empty() && (m_faults.front().only.empty() || m_faults.front().only == method)) {
        Fault fault = m_faults.front();
        m_faults.pop_front();
        if (fault.perform) Answer(method, code, address);
        NodeReply reply;
        if (fault.failure != NodeFailure::kNone) {
            reply.failure = fault.failure;
            reply.detail = "scripted";
        } else {
            reply.error_code = fault.error_code;
            reply.error_message = "scripted";
        }
        return reply;
    }
    return Answer(method, code, address);
}

NodeReply FakeNode::Answer(const std::string& method, const std::string& code, const std::string& address)
{
    NodeReply reply;
    Result<ParsedCode> parsed = ParseCode(code, Network::kRegtest);
    auto it = parsed.ok() ? m_codes.find(parsed->Id().ToHex()) : m_codes.end();
    if (it == m_codes.end()) {
        reply.error_code = RPC_GIFTCODE_UNKNOWN;
        return reply;
    }
    Code& entry = it->second;
    UniValue amount;
    amount.setNumStr(entry.amount);
    if (method == "getgiftcode") {
        reply.result = UniValue(UniValue::VOBJ);
        reply.result.pushKV("id", it->first);
        reply.result.pushKV("state", entry.state);
        reply.result.pushKV("amount", amount);
        reply.result.pushKV("label", "campaign");
        reply.result.pushKV("created_at", 1790000000);
        reply.result.pushKV("expires_at", UniValue(UniValue::VNULL));
        if (entry.state == "redeemed") {
            reply.result.pushKV("txid", entry.txid);
            reply.result.pushKV("vout", 0);
            reply.result.pushKV("address", entry.address);
            reply.result.pushKV("fee", 0.0001);
            reply.result.pushKV("confirmations", 0);
            reply.result.pushKV("payment_state", "mempool");
        }
        return reply;
    }
    assert(method == "redeemgiftcode");
    if (entry.state == "cancelled") { reply.error_code = RPC_GIFTCODE_CANCELLED; return reply; }
    if (entry.state == "expired") { reply.error_code = RPC_GIFTCODE_EXPIRED; return reply; }
    bool replay = false;
    if (entry.state == "redeemed") {
        if (entry.address != address) { reply.error_code = RPC_GIFTCODE_ALREADY_REDEEMED; return reply; }
        replay = true;
    } else {
        entry.state = "redeemed";
        entry.address = address;
        entry.txid = std::string(62, 'a') + std::to_string(10 + m_next_tx++ % 90);
        ++entry.payments;
    }
    reply.result = UniValue(UniValue::VOBJ);
    reply.result.pushKV("id", it->first);
    reply.result.pushKV("txid", entry.txid);
    reply.result.pushKV("vout", 0);
    reply.result.pushKV("amount", amount);
    reply.result.pushKV("fee", 0.0001);
    reply.result.pushKV("address", address);
    reply.result.pushKV("redeemed_at", 1790000100);
    reply.result.pushKV("replay", replay);
    reply.result.pushKV("broadcast", true);
    reply.result.pushKV("payment_state", "mempool");
    return reply;
}

} // namespace giftcode::claim::test
