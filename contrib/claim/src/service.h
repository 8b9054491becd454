// The claim service: lookups and claims of gift codes, sent to the node that
// issued each code through a bounded queue per node, and the claims under
// way, one per code.
//
// The rules it keeps (doc/claim.md, What it protects):
// - A claim is (code, address). While one is under way for a code, another
//   with the same address joins it; one with another address is refused.
// - A claim that got no JSON answer from the node, or an answer that changed
//   nothing (-10, -408, -20), is sent again with the same code and address
//   until the node answers, with a backoff from retry_min_ms doubling up to
//   retry_max_ms. Its tries go ahead of new requests and never count
//   against the queue's bound.
// - Each node has `connections` workers and a queue of at most `queue` new
//   requests; a request that finds it full is answered `busy` at once.
// - Failed lookups and new claims are rate limited per client.
// The node alone decides whether a code is paid; a finished claim is shown
// for keep_finished_s, and its code is wiped as soon as it is finished.
//
// Thread-safety: every public method may be called from any thread. Replies
// are called on the service's own threads (or the caller's, for answers
// known at once), never with the service's lock held.
#ifndef GIFTCODE_CLAIM_SERVICE_H
#define GIFTCODE_CLAIM_SERVICE_H

#include "config.h"
#include "errors.h"
#include "node.h"
#include "ratelimit.h"

#include <code.h>
#include <univalue.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace giftcode::claim {

enum class ClaimState { kQueued, kSending, kRetrying, kDone, kFailed };

const char* ClaimStateName(ClaimState state);

//! An answer to the HTTP layer: status and JSON body.
struct Answer {
    int http{200};
    UniValue body;
    std::optional<int> retry_after;
};

using Reply = std::function<void(Answer)>;

//! What a holder may see of the node's getgiftcode answer.
UniValue HolderView(const UniValue& node_code);

//! The code as a holder sees it once redeemed: the redemption's fields over
//! what the node said of the code `before` (null when nothing was said).
UniValue RedeemedView(const UniValue& before, const UniValue& redemption);

//! An answer carrying one error.
Answer ErrorAnswer(const ApiError& error);

class ClaimService {
public:
    //! Claims kept at once, under way or finished; past it, new claims are busy.
    static constexpr size_t MAX_RECORDS = 100000;

    //! `nodes[i]` talks to config.nodes[i].
    ClaimService(const Config& config, std::vector<std::unique_ptr<NodeRpc>> nodes);
    ~ClaimService();
    ClaimService(const ClaimService&) = delete;
    ClaimService& operator=(const ClaimService&) = delete;

    //! The code's state on its node, and this server's claim of it.
    void Lookup(const ParsedCode& code, const std::string& client, Reply reply);
    //! Claims the code to `address` (checked by the caller for the network).
    void Claim(const ParsedCode& code, const std::string& address, const std::string& client, Reply reply);
    //! The queues and claims, for /api/status.
    UniValue Status();

    //! Takes one of `client`'s failed-lookup tokens before a lookup or claim
    //! (false, with the seconds to wait, when none is left). Lookup and Claim
    //! give it back unless no node knows the code; a code refused before the
    //! node keeps it.
    bool TakeLookupToken(const std::string& client, int& retry_after);
    //! Gives back a token taken for a request that went no further.
    void RefundLookupToken(const std::string& client);
    //! 0 when `client` has a failed-lookup token now, else seconds to wait.
    int FailedLookupWait(const std::string& client);

    //! Stops the workers; later requests are answered `busy`.
    void Stop();

private:
    struct Waiter {
        uint64_t id;
        Reply reply;
    };
    struct ClaimRecord {
        uint64_t generation{0};
        std::optional<ParsedCode> code; //!< wiped once finished
        std::string address;
        std::string client;             //!< holds a failed-lookup token until the claim ends
        ClaimState state{ClaimState::kQueued};
        int attempts{0};
        int64_t started_at{0};
        int64_t retry_at{0};
        size_t node{0};
        std::string txid;
        UniValue vout;
        bool replay{false};
        std::optional<ApiError> error;
        std::optional<ApiError> last_answer; //!< why it is retrying
        UniValue code_view;                  //!< the node's view after the claim
        std::vector<Waiter> waiters;
    };
    struct Lane {
        std::unique_ptr<NodeRpc> rpc;
        int capacity{0};
        std::deque<std::function<void()>> retries; //!< go first, unbounded
        std::deque<std::function<void()>> fresh;   //!< bounded by capacity
        int running{0};
        bool reachable{true};
        std::condition_variable wake;
        std::vector<std::thread> workers;
    };
    using Replies = std::vector<std::pair<Reply, Answer>>;

    void Work(size_t lane);
    //! Queues `job` on `lane`; false (nothing queued) when it is full.
    bool Enqueue(size_t lane, std::function<void()> job, bool retry);
    void At(Clock::time_point when, std::function<void()> task);
    void RunTimers();

    void LookupOn(size_t lane, const ParsedCode& code, const std::string& client, bool unanswered, Reply reply);
    void Attempt(const CodeId& id, uint64_t generation);
    void Finish(ClaimRecord& record, const CodeId& id, Replies& replies);
    void ScheduleRetry(ClaimRecord& record, const CodeId& id);
    //! Registers `reply` for the claim's outcome for claim_wait_ms; or, with
    //! no wait configured, the answer to send now.
    std::optional<Answer> Wait(ClaimRecord& record, const CodeId& id, Reply reply);
    Answer PendingAnswer(const ClaimRecord& record) const;
    size_t Load(size_t lane) const;
    bool Full(size_t lane) const;
    UniValue ClaimValue(const ClaimRecord& record) const;
    UniValue ClaimOf(const CodeId& id);
    Answer FinishedAnswer(const ClaimRecord& record) const;
    static void Send(Replies& replies);

    const Config m_config;
    RateLimiter m_failed_lookups;
    RateLimiter m_claims;

    std::mutex m_mutex;
    bool m_stopping{false};
    uint64_t m_next_id{1};
    std::vector<std::unique_ptr<Lane>> m_lanes;
    std::map<CodeId, ClaimRecord> m_records; //!< at most MAX_RECORDS
    size_t m_active{0};                      //!< records of claims under way
    std::map<CodeId, size_t> m_owner; //!< which node issued a code, once known
    std::multimap<Clock::time_point, std::function<void()>> m_timers;
    std::condition_variable m_timer_wake;
    std::thread m_timer_thread;
};

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_SERVICE_H
