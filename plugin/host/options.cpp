// The module's node options. -giftcodemininput keeps redemptions fast in a
// wallet flooded with tiny outputs: coin selection in this node examines every
// candidate output many times over, and an attacker can make thousands.
#include "hooks.h"
#include "wallet_ports.h"

#include <amount.h>
#include <policy/feerate.h>
#include <tinyformat.h>
#include <util/moneystr.h>
#include <util/system.h>

namespace giftcode {
namespace host {
namespace {

const char* const MIN_INPUT_ARG = "-giftcodemininput";
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
}

bool CheckOptions(std::string& error)
{
    CAmount value;
    if (!ParseMinInput(value)) {
        error = strprintf("Invalid amount for %s=<amount>: '%s'", MIN_INPUT_ARG, gArgs.GetArg(MIN_INPUT_ARG, ""));
        return false;
    }
    return true;
}

int64_t MinRedemptionInput()
{
    CAmount value;
    return ParseMinInput(value) ? value : DEFAULT_MIN_INPUT;
}

} // namespace host
} // namespace giftcode
