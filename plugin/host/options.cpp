// The module's node options. -giftcodemininput keeps redemptions fast in a
// wallet flooded with tiny outputs: coin selection in this node examines every
// candidate output many times over, and an attacker can make thousands.
// -giftcodetestfault (regtest only, a debug option) makes one step fail, so
// the functional tests can drive the recovery paths a healthy node never
// takes.
#include "hooks.h"
#include "wallet_ports.h"

#include <amount.h>
#include <chainparams.h>
#include <policy/feerate.h>
#include <script/standard.h>
#include <tinyformat.h>
#include <util/moneystr.h>
#include <util/strencodings.h>
#include <util/system.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <vector>

namespace giftcode {
namespace host {
namespace {

const char* const MIN_INPUT_ARG = "-giftcodemininput";
const char* const TEST_FAULT_ARG = "-giftcodetestfault";
const char* const NOTIFY_ARG = "-giftcodenotify";
const char* const LIMIT_ARG = "-giftcodelimit";

//! One -giftcodelimit=<window>:<amount>[:<count>]: the window in seconds
//! (or with a suffix h or d), the most amount (0: none), the most count.
bool ParseLimit(const std::string& text, WindowLimit& limit, std::string& why)
{
    std::vector<std::string> parts(1);
    for (char c : text) {
        if (c == ':') {
            parts.emplace_back();
        } else {
            parts.back().push_back(c);
        }
    }
    if (parts.size() < 2 || parts.size() > 3) {
        why = "expected <window>:<amount>[:<count>]";
        return false;
    }
    std::string window = parts[0];
    int64_t unit = 1;
    if (!window.empty() && (window.back() == 'h' || window.back() == 'd')) {
        unit = window.back() == 'h' ? 3600 : 86400;
        window.pop_back();
    }
    int64_t n;
    if (!ParseInt64(window, &n) || n < 1 || n > MAX_LIMIT_WINDOW / unit) {
        why = strprintf("the window must be 1 to %d seconds (or hours with h, days with d)", MAX_LIMIT_WINDOW);
        return false;
    }
    limit.window = n * unit;
    CAmount amount;
    if (!ParseMoney(parts[1], amount) || !MoneyRange(amount)) {
        why = "the amount must be a number of " + CURRENCY_UNIT + " (0: no limit on the amount)";
        return false;
    }
    limit.max_amount = amount;
    if (parts.size() == 3) {
        int64_t count;
        if (!ParseInt64(parts[2], &count) || count < 0 || count > std::numeric_limits<int32_t>::max()) {
            why = "the count must be a whole number (0: no limit on the count)";
            return false;
        }
        limit.max_count = uint64_t(count);
    }
    Status checked = CheckLimit(limit);
    if (!checked.ok()) {
        why = checked.message();
        return false;
    }
    return true;
}
//! A whole-number option, its range and its help.
struct IntOption {
    const char* name;
    int64_t default_value;
    int64_t min;
    int64_t max;
    const char* unit;
    const char* arg;   //!< the value's name in the help
    const char* help;  //!< followed by the range and the default
};
//! Long enough for the node to reload its mempool file and for peers to
//! relay what is new; see doc/design.md, "Restored from a backup".
const IntOption START_DELAY{"-giftcodestartdelay", 60, 0, 24 * 60 * 60, "seconds", "n",
                            "Seconds after a wallet is loaded before gift-code redemptions make new payments, so that "
                            "payments of its codes still unconfirmed reach it first"};
//! Group commit (doc/design.md, "Paying redemptions together"): as many
//! codes as a payment's tags can name, and no wait (a payment takes the
//! redemptions that came while the one before was made).
const IntOption MAX_BATCH{"-giftcodemaxbatch", int64_t(MAX_TAGS), 1, int64_t(MAX_TAGS), "codes", "n",
                          "Most gift-code redemptions one payment pays: redemptions that arrive while a payment is "
                          "being made are paid together by the next one, one output each (1 pays each alone)"};
const IntOption BATCH_WAIT{"-giftcodebatchwait", 0, 0, 1000, "milliseconds", "ms",
                           "Milliseconds a gift-code payment waits for more redemptions to pay together before it is "
                           "made, while fewer than -giftcodemaxbatch wait (0: no wait)"};
//! A service sees a few refusals a minute (mistyped codes, a reload after
//! a timeout); the 2018 attack made thousands.
const IntOption REFUSAL_ALERT{"-giftcoderefusalalert", 100, 0, 100000, "requests", "n",
                              "Gift-code requests that pay or find nothing (redemptions refused for the holder's "
                              "reasons, replays of finished ones, look-ups of codes that do not resolve) within a "
                              "minute that make a wallet log a warning and run -giftcodenotify's refusals event "
                              "(0: never)"};
const IntOption* const INT_OPTIONS[] = {&START_DELAY, &MAX_BATCH, &BATCH_WAIT, &REFUSAL_ALERT};

bool ParseIntOption(const IntOption& option, int64_t& value)
{
    value = option.default_value;
    if (!gArgs.IsArgSet(option.name)) return true;
    return ParseInt64(gArgs.GetArg(option.name, ""), &value) && value >= option.min && value <= option.max;
}

int64_t IntOptionValue(const IntOption& option)
{
    int64_t value;
    return ParseIntOption(option, value) ? value : option.default_value;
}
//! The steps -giftcodetestfault can make fail.
const char* const TEST_FAULTS[] = {"adopt"};
//! An output of 0.01 MONA is worth several times what spending it costs at
//! the default fallback fee (about 0.0014 to 0.003 MONA an input).
constexpr CAmount DEFAULT_MIN_INPUT = COIN / 100;

bool ParseMinInput(CAmount& value)
{
    value = DEFAULT_MIN_INPUT;
    if (!gArgs.IsArgSet(MIN_INPUT_ARG)) return true;
    return ParseMoney(gArgs.GetArg(MIN_INPUT_ARG, ""), value) && MoneyRange(value);
}

} // namespace

void AddOptions()
{
    gArgs.AddArg("-giftcodemininput=<amt>",
                 strprintf("Gift-code redemptions spend no output below this amount (in %s) while larger outputs "
                           "suffice, so a flood of tiny outputs cannot slow them down; 0 to consider every output "
                           "(default: %s)",
                           CURRENCY_UNIT, FormatMoney(DEFAULT_MIN_INPUT)),
                 ArgsManager::ALLOW_ANY, OptionsCategory::WALLET);
    for (const IntOption* option : INT_OPTIONS) {
        gArgs.AddArg(strprintf("%s=<%s>", option->name, option->arg),
                     strprintf("%s (%d to %d; default: %d)", option->help, option->min, option->max,
                               option->default_value),
                     ArgsManager::ALLOW_ANY, OptionsCategory::WALLET);
    }
    gArgs.AddArg(strprintf("%s=<window>:<amt>[:<n>]", LIMIT_ARG),
                 strprintf("A limit of the gift-code breaker for every wallet that has not set its own "
                           "(setgiftcodelimits): in any <window> (seconds, or hours with h, days with d; at most 31 "
                           "days), redemptions pay at most <amt> %s (0: no limit on the amount) and at most <n> "
                           "codes (0 or none: no limit on the count); a redemption that would pass it is refused "
                           "with -409, its code still issued. Repeat for several windows (default: none)",
                           CURRENCY_UNIT),
                 ArgsManager::ALLOW_ANY, OptionsCategory::WALLET);
#if HAVE_SYSTEM
    gArgs.AddArg(strprintf("%s=<cmd>", NOTIFY_ARG),
                 "Execute command on each gift-code event that an operator should hear of (a redemption committed, "
                 "a payment the mempool refused, a payment needing attention, replaced or buried, a consistency "
                 "problem, a restore from a backup, outstanding codes above the spendable balance and back, an "
                 "unusual rate of refused redemptions), one at a time, never delaying a redemption. In cmd, %e is "
                 "replaced by the event's name, %c by the code's id (never the code), %s by the payment's txid ('-' "
                 "where there is none), %w by the wallet's name and %r by the reason, both quoted for the shell "
                 "(do not quote them again). See doc/rpc.md",
                 ArgsManager::ALLOW_ANY, OptionsCategory::WALLET);
#endif
    gArgs.AddArg("-giftcodetestfault=<step>",
                 "Regtest only, for tests: make a gift-code step fail. adopt: the wallet does not take a committed "
                 "redemption payment into memory (it is put back from its record)",
                 ArgsManager::ALLOW_ANY | ArgsManager::DEBUG_ONLY, OptionsCategory::WALLET_DEBUG_TEST);
}

bool CheckOptions(std::string& error)
{
    CAmount value;
    if (!ParseMinInput(value)) {
        error = strprintf("Invalid amount for %s=<amount>: '%s'", MIN_INPUT_ARG, gArgs.GetArg(MIN_INPUT_ARG, ""));
        return false;
    }
    for (const IntOption* option : INT_OPTIONS) {
        int64_t ignored;
        if (!ParseIntOption(*option, ignored)) {
            error = strprintf("Invalid value for %s: '%s' (a whole number of %s from %d to %d)", option->name,
                              gArgs.GetArg(option->name, ""), option->unit, option->min, option->max);
            return false;
        }
    }
    for (const std::string& text : gArgs.GetArgs(LIMIT_ARG)) {
        WindowLimit limit;
        std::string why;
        if (!ParseLimit(text, limit, why)) {
            error = strprintf("Invalid value for %s: '%s' (%s)", LIMIT_ARG, text, why);
            return false;
        }
    }
    for (const std::string& step : gArgs.GetArgs(TEST_FAULT_ARG)) {
        if (Params().NetworkIDString() != CBaseChainParams::REGTEST) {
            error = strprintf("%s is only allowed on regtest", TEST_FAULT_ARG);
            return false;
        }
        if (std::find(std::begin(TEST_FAULTS), std::end(TEST_FAULTS), step) == std::end(TEST_FAULTS)) {
            error = strprintf("Invalid value for %s: '%s' (known: adopt)", TEST_FAULT_ARG, step);
            return false;
        }
    }
    return true;
}

bool TestFault(const std::string& step)
{
    const std::vector<std::string> steps = gArgs.GetArgs(TEST_FAULT_ARG);
    return std::find(steps.begin(), steps.end(), step) != steps.end();
}

int64_t StartDelay() { return IntOptionValue(START_DELAY); }

size_t MaxPaymentCodes()
{
    // A payment of several codes carries their tags in an OP_RETURN output,
    // which this node's policy (-datacarrier, -datacarriersize) must relay:
    // never more codes than its tags fit, and one if it relays none.
    size_t most = size_t(IntOptionValue(MAX_BATCH));
    if (!fAcceptDatacarrier) return 1;
    while (most > 1 && TagsScriptSize(most) > nMaxDatacarrierBytes) --most;
    return most;
}

int64_t PaymentWaitMillis() { return IntOptionValue(BATCH_WAIT); }

uint64_t RefusalAlert() { return uint64_t(IntOptionValue(REFUSAL_ALERT)); }

std::vector<WindowLimit> Limits()
{
    std::vector<WindowLimit> limits;
    for (const std::string& text : gArgs.GetArgs(LIMIT_ARG)) {
        WindowLimit limit;
        std::string why;
        if (ParseLimit(text, limit, why)) limits.push_back(limit);  // CheckOptions refused the node otherwise
    }
    return limits;
}

std::string NotifyCommandTemplate()
{
#if HAVE_SYSTEM
    return gArgs.GetArg(NOTIFY_ARG, "");
#else
    return "";
#endif
}

int64_t MinRedemptionInput()
{
    CAmount value;
    return ParseMinInput(value) ? value : DEFAULT_MIN_INPUT;
}

} // namespace host
} // namespace giftcode
