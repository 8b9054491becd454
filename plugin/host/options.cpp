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
#include <tinyformat.h>
#include <util/moneystr.h>
#include <util/strencodings.h>
#include <util/system.h>

#include <algorithm>
#include <iterator>

namespace giftcode {
namespace host {
namespace {

const char* const MIN_INPUT_ARG = "-giftcodemininput";
const char* const TEST_FAULT_ARG = "-giftcodetestfault";
const char* const START_DELAY_ARG = "-giftcodestartdelay";
//! Long enough for the node to reload its mempool file and for peers to
//! relay what is new; see doc/design.md, "Restored from a backup".
constexpr int64_t DEFAULT_START_DELAY = 60;
constexpr int64_t MAX_START_DELAY = 24 * 60 * 60;
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
    gArgs.AddArg("-giftcodestartdelay=<n>",
                 strprintf("Seconds after a wallet is loaded before gift-code redemptions make new payments, so that "
                           "payments of its codes still unconfirmed reach it first (0 to %d; default: %d)",
                           MAX_START_DELAY, DEFAULT_START_DELAY),
                 ArgsManager::ALLOW_ANY, OptionsCategory::WALLET);
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
    if (gArgs.IsArgSet(START_DELAY_ARG)) {
        const std::string text = gArgs.GetArg(START_DELAY_ARG, "");
        int64_t delay = -1;
        if (!ParseInt64(text, &delay) || delay < 0 || delay > MAX_START_DELAY) {
            error = strprintf("Invalid value for %s: '%s' (a whole number of seconds from 0 to %d)", START_DELAY_ARG,
                              text, MAX_START_DELAY);
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

int64_t StartDelay()
{
    int64_t delay = DEFAULT_START_DELAY;
    if (!gArgs.IsArgSet(START_DELAY_ARG)) return delay;
    return ParseInt64(gArgs.GetArg(START_DELAY_ARG, ""), &delay) && delay >= 0 && delay <= MAX_START_DELAY
               ? delay
               : DEFAULT_START_DELAY;
}

int64_t MinRedemptionInput()
{
    CAmount value;
    return ParseMinInput(value) ? value : DEFAULT_MIN_INPUT;
}

} // namespace host
} // namespace giftcode
