// Telling the operator: how an event (ports.h, Event) becomes the command
// the node's -giftcodenotify names, the queue that runs those commands one
// at a time away from every redemption, and the watch that tells an
// unusual number of redemptions that paid nothing.
//
// Thread-safety: NotifyCommand and the text helpers are pure. CommandQueue,
// CommandNotifier and RefusalWatch may be called from any thread.
#ifndef GIFTCODE_CORE_NOTIFY_H
#define GIFTCODE_CORE_NOTIFY_H

#include "ports.h"
#include "records.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace giftcode {

//! Stable lowercase name of an event kind, as %e gives it.
const char* EventName(EventKind kind);

//! An amount in coins with 8 decimals ("1.50000000").
std::string FormatAmount(Amount amount);

//! `text` with every byte outside letters, digits and " .,;-_/:?@()" (the
//! node's SanitizeString set) written as %XX: safe inside single quotes
//! and on one log line, and nothing lost (a Japanese label stays readable
//! once decoded).
std::string SafeText(const std::string& text);

//! `text` as one single-quoted shell word, any quote in it escaped (the
//! node's ShellEscape).
std::string ShellQuote(const std::string& text);

//! The operator's command with the event put in:
//!   %e  the event's name (EventName)
//!   %c  the code's id, 32 hex digits, or "-" for an event of no code
//!   %s  the payment's txid, or "-"
//!   %w  the wallet's name, shell-quoted
//!   %r  the reason as SafeText, single-quoted
//!   %%  a percent sign
//! Any other % is left as it is. Substitution is one pass: text put in
//! is never read again for placeholders.
std::string NotifyCommand(const std::string& command, const std::string& wallet, const Event& event);

//! Runs commands one at a time, in the order they came, on a thread of its
//! own, so that whoever pushes one never waits for it. Holds at most
//! `capacity` waiting commands: a push beyond that is dropped and counted
//! (a command that hangs cannot make the node's memory grow).
class CommandQueue {
public:
    using Runner = std::function<void(const std::string& command)>;
    CommandQueue(Runner runner, size_t capacity);
    //! Drops what still waits and waits for the command being run.
    ~CommandQueue();
    CommandQueue(const CommandQueue&) = delete;
    CommandQueue& operator=(const CommandQueue&) = delete;

    //! False if the queue was full and the command was dropped.
    bool Push(std::string command);
    //! Waits until every command pushed so far has been run.
    void WaitIdle();
    uint64_t dropped() const;
    uint64_t run() const;
    //! The destructor has begun: nothing that still waits will run.
    bool stopping() const;

private:
    void Work();

    const Runner m_runner;
    const size_t m_capacity;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::string> m_waiting;
    bool m_running{false};  //!< a command is being run
    bool m_stop{false};
    uint64_t m_dropped{0};
    uint64_t m_run{0};
    std::thread m_thread;
};

//! The node's -giftcodenotify for one wallet: every event becomes the
//! command NotifyCommand makes of it, pushed onto a shared queue.
class CommandNotifier final : public Notifier {
public:
    //! `on_drop` is called (with the command's event) when the queue was
    //! full; it must return at once too.
    CommandNotifier(CommandQueue& queue, std::string command, std::string wallet,
                    std::function<void(const Event&)> on_drop);
    void Notify(const Event& event) override;

private:
    CommandQueue& m_queue;
    const std::string m_command;
    const std::string m_wallet;
    const std::function<void(const Event&)> m_on_drop;
};

//! Seconds over which refused redemptions are counted.
constexpr int64_t REFUSAL_WINDOW = 60;

//! Watches the requests that paid or found nothing: redemptions refused
//! for the holder's reasons, replays of finished ones, and look-ups of
//! codes that do not resolve. When `threshold` of them fall within the last
//! REFUSAL_WINDOW seconds, the one that reaches it gives a kRefusals event
//! saying how many, of which kinds; while the rate lasts, at most one a
//! window. A threshold of 0 never gives one. Keeps at most `threshold`
//! entries.
class RefusalWatch {
public:
    explicit RefusalWatch(uint64_t threshold) : m_threshold(threshold) {}
    //! Counts one of kind `what` at unix time `now`.
    std::optional<Event> Note(const std::string& what, int64_t now);

private:
    std::mutex m_mutex;
    const uint64_t m_threshold;
    //! The latest requests counted, oldest first: when, and of which kind
    //! (an index into m_kinds).
    std::deque<std::pair<int64_t, size_t>> m_recent;
    std::vector<std::string> m_kinds;
    //! No event before this time: one was given less than a window ago.
    int64_t m_quiet_until{std::numeric_limits<int64_t>::min()};
};

} // namespace giftcode

#endif // GIFTCODE_CORE_NOTIFY_H
