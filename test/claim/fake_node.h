// A fake node for the claim server's tests: a NodeRpc that answers like a
// patched node's getgiftcode and redeemgiftcode (issued, redeemed,
// cancelled, expired codes; a replay to the same address; -405 to another),
// counts every call and payment, and can be scripted to fail calls (no
// answer, or an error) and to hold calls until released.
#ifndef GIFTCODE_CLAIM_TEST_FAKE_NODE_H
#define GIFTCODE_CLAIM_TEST_FAKE_NODE_H

#include "node.h"

#include <code.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace giftcode::claim::test {

//! A fresh code of `network`, its text in the canonical form.
std::string NewCode(Network network = Network::kRegtest);
//! The id (hex) of a code's text.
std::string IdOf(const std::string& code_text, Network network = Network::kRegtest);
//! A parsed code from its text.
ParsedCode Parse(const std::string& code_text, Network network = Network::kRegtest);

class FakeNode final : public NodeRpc {
public:
    struct RecordedCall {
        std::string method;
        std::string code;
        std::string address;
    };
    //! What the next call gets instead of the normal answer.
    struct Fault {
        NodeFailure failure{NodeFailure::kNone}; //!< a transport failure...
        int error_code{0};                       //!< ...or this JSON-RPC error
        bool perform{false};                     //!< redeem first (an answer lost on the way back)
        std::string only;                        //!< for a call of this method only ("": any)
    };

    void Issue(const std::string& code, const std::string& amount = "1.50000000", const std::string& state = "issued");
    void Script(Fault fault);
    //! Calls block until Release while held.
    void Hold();
    void Release();
    //! Waits until `count` calls are blocked in Hold.
    void WaitForHeld(size_t count);

    NodeReply Call(const std::string& method, const UniValue& params) override;

    size_t Payments(const std::string& code) const;
    size_t CallCount(const std::string& method) const;
    std::vector<RecordedCall> Calls() const;

private:
    struct Code {
        std::string state;
        std::string amount;
        std::string address;
        std::string txid;
        size_t payments{0};
    };
    NodeReply Answer(const std::string& method, const std::string& code, const std::string& address);

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_hold{false};
    size_t m_held{0};
    std::map<std::string, Code> m_codes; //!< by id
    std::deque<Fault> m_faults;
    std::vector<RecordedCall> m_calls;
    int m_next_tx{1};
};

} // namespace giftcode::claim::test

#endif // GIFTCODE_CLAIM_TEST_FAKE_NODE_H
