// The gift-code RPCs as the node sees them: help text (RPCHelpMan) for each,
// the wallet lookup of the request, and the translation of the core's
// RpcReply into a result or a JSONRPCError. The bodies are the core's
// (plugin/core/rpc.cpp); nothing is decided here.
#include "hooks.h"
#include "wallet_ports.h"

#include "../core/rpc.h"

#include <chainparamsbase.h>
#include <interfaces/chain.h>
#include <interfaces/handler.h>
#include <rpc/server.h>
#include <rpc/util.h>
#include <wallet/rpcwallet.h>
#include <wallet/wallet.h>

namespace giftcode {
namespace host {
namespace {

using Arg = RPCArg;
using Res = RPCResult;

const std::string EXAMPLE_CODE = "\"RGC-0004-1061-050R-3GG2-8A1C-60T3-GFFR-W3WB\"";
const std::string EXAMPLE_ID = "\"e5e7d45bae4fa457beb7471d728de4b8\"";
const std::string EXAMPLE_ADDRESS = "\"rmona1qxtkdjped56vg6qk296jqnyzz2h5p6ev9jx85z9\"";

const std::string PAYMENT_STATES =
    "where the payment stands: mempool, confirmed (1-5 blocks), buried (6+, final), not_in_mempool "
    "(resubmitted every block), conflicted (a conflicting transaction is confirmed), dead (one is 6+ deep: "
    "the holder was not paid), abandoned, missing (the wallet lacks it)";

std::vector<Res> CodeFields()
{
    return {
        {Res::Type::STR_HEX, "id", "The code's id (a hash; it cannot redeem the code)"},
        {Res::Type::STR, "state", "issued, redeemed, cancelled or expired"},
        {Res::Type::STR_AMOUNT, "amount", "The amount in " + CURRENCY_UNIT},
        {Res::Type::STR, "label", "The label given at creation"},
        {Res::Type::NUM_TIME, "created_at", "Creation time"},
        {Res::Type::NUM_TIME, "expires_at", "Unix time from which the code cannot be redeemed; null for never"},
        {Res::Type::STR_HEX, "txid", /* optional */ true, "Redeemed: the payment's transaction id"},
        {Res::Type::NUM, "vout", true, "Redeemed: the payment's output that pays the holder; null for a code redeemed by an earlier version of the module, or a payment found on the chain without such an output"},
        {Res::Type::STR, "address", true, "Redeemed: the payee"},
        {Res::Type::NUM_TIME, "redeemed_at", true, "Redeemed: when"},
        {Res::Type::STR_AMOUNT, "fee", true, "Redeemed: this code's share of the payment's network fee (a payment of several codes shares it evenly)"},
        {Res::Type::NUM, "confirmations", true, "Redeemed: confirmations of the payment"},
        {Res::Type::BOOL, "in_mempool", true, "Redeemed: whether the payment is in the mempool"},
        {Res::Type::BOOL, "abandoned", true, "Redeemed: whether the payment was abandoned"},
        {Res::Type::BOOL, "conflicted", true, "Redeemed: whether a conflicting transaction is confirmed"},
        {Res::Type::STR, "payment_state", true, "Redeemed: " + PAYMENT_STATES},
        {Res::Type::ARR, "replaced_txids", true, "Redeemed: payments this one replaced (bumpfee), oldest first", {
            {Res::Type::STR_HEX, "", "txid"},
        }},
        {Res::Type::BOOL, "found_on_chain", true, "Redeemed: whether the payment was found on the chain, made before the wallet was put back from an older backup"},
        {Res::Type::STR, "broadcast_error", true, "Redeemed: why the payment is not in the mempool yet"},
        {Res::Type::NUM_TIME, "cancelled_at", true, "Cancelled: when"},
    };
}

//! getgiftcodeinfo's breaker object, and what the breaker's RPCs return.
std::vector<Res> BreakerFields();

//! The method's "Errors:" section, from the core's one table.
std::string ErrorsNote(const char* name)
{
    for (const RpcMethod& method : RpcMethods()) {
        if (method.name == std::string(name)) return RpcErrorsHelp(method);
    }
    assert(!"a help text for a method the core does not have");
    return "";
}

//! A curl example on this network's default RPC port (the node's own
//! HelpExampleRpc names Bitcoin's 8332).
std::string ExampleRpc(const std::string& method, const std::string& args)
{
    return "> curl --user myusername --data-binary '{\"jsonrpc\": \"1.0\", \"id\": \"curltest\", \"method\": \"" +
           method + "\", \"params\": [" + args + "]}' -H 'content-type: text/plain;' http://127.0.0.1:" +
           std::to_string(BaseParams().RPCPort()) + "/wallet/issuer\n";
}

RPCHelpMan CreateHelp()
{
    return RPCHelpMan{"creategiftcode",
        "\nIssue gift codes worth a fixed amount each, redeemable once with redeemgiftcode.\n"
        "All codes of a call are created in one durable database commit, or none is.\n"
        "The codes are shown only in this reply: the wallet stores only their hashes.\n"
        "A code reserves no funds: the wallet pays each redemption from what it can spend then. The reply\n"
        "says whether the wallet could pay every outstanding code now, and warns (in the log too) when not.\n"
        "A wallet that cannot sign (private keys disabled) is refused: its codes could never be paid.\n" +
            ErrorsNote("creategiftcode"),
        {
            {"amount", Arg::Type::AMOUNT, Arg::Optional::NO, "The amount in " + CURRENCY_UNIT + " per code; at least 0.00000546"},
            {"count", Arg::Type::NUM, /* default */ "1", "How many codes, 1 to 10000"},
            {"label", Arg::Type::STR, /* default */ "\"\"", "A label for listings, up to 256 bytes, no NUL character; null for the default"},
            {"expires_at", Arg::Type::NUM, /* default */ "0", "Unix time from which the codes cannot be redeemed; 0 for never"},
        },
        RPCResult{Res::Type::OBJ, "", "", {
            {Res::Type::STR_AMOUNT, "amount", "The amount per code"},
            {Res::Type::NUM, "count", "How many codes were created"},
            {Res::Type::STR, "label", "The label"},
            {Res::Type::NUM_TIME, "expires_at", "Unix time from which the code cannot be redeemed; null for never"},
            {Res::Type::ARR, "codes", "", {
                {Res::Type::OBJ, "", "", {
                    {Res::Type::STR_HEX, "id", "The code's id"},
                    {Res::Type::STR, "code", "The gift code: a bearer secret, shown only now"},
                    {Res::Type::STR, "uri", "The code as a URI for QR codes"},
                }},
            }},
            {Res::Type::STR_AMOUNT, "outstanding_liability", "Sum of the wallet's issued, unexpired codes, these included"},
            {Res::Type::STR_AMOUNT, "spendable", "What the wallet can spend now (as getgiftcodeinfo's solvency); null if it could not be read"},
            {Res::Type::BOOL, "solvent", "outstanding_liability <= spendable (fees not counted); null if not known"},
            {Res::Type::STR, "warning", /* optional */ true, "When not solvent, or not known: what to do. Logged, and told to -giftcodenotify as an insolvent event"},
        }},
        RPCExamples{
            HelpExampleCli("creategiftcode", "1.5") +
            HelpExampleCli("creategiftcode", "0.1 100 \"campaign\"") +
            HelpExampleCli("creategiftcode", "0.5 3 null 1893456000") +
            ExampleRpc("creategiftcode", "0.1, 100, \"campaign\", 1893456000")
        },
    };
}

RPCHelpMan GetHelp()
{
    return RPCHelpMan{"getgiftcode",
        "\nShow the state of one gift code, by its text or by its id.\n" + ErrorsNote("getgiftcode"),
        {
            {"code_or_id", Arg::Type::STR, Arg::Optional::NO, "The gift code, or its id (32 hex digits)"},
        },
        RPCResult{Res::Type::OBJ, "", "", CodeFields()},
        RPCExamples{
            HelpExampleCli("getgiftcode", EXAMPLE_CODE) +
            ExampleRpc("getgiftcode", EXAMPLE_ID)
        },
    };
}

RPCResult StateTotalHelp(const std::string& state)
{
    return {Res::Type::OBJ, state, "The label's " + state + " codes", {
        {Res::Type::NUM, "count", "How many"},
        {Res::Type::STR_AMOUNT, "amount", "Their amounts together, in " + CURRENCY_UNIT},
    }};
}

RPCHelpMan ListHelp()
{
    return RPCHelpMan{"listgiftcodes",
        "\nList gift codes, oldest first, filtered and paged. Shows ids, never the codes.\n" + ErrorsNote("listgiftcodes"),
        {
            {"state", Arg::Type::STR, /* default */ "\"\"", "issued, redeemed, cancelled, expired, or \"\" or null for all"},
            {"label", Arg::Type::STR, Arg::Optional::OMITTED_NAMED_ARG, "Only codes with exactly this label; null for all"},
            {"skip", Arg::Type::NUM, /* default */ "0", "How many matching codes to skip"},
            {"count", Arg::Type::NUM, /* default */ "100", "How many to return, 1 to 10000"},
        },
        RPCResult{Res::Type::OBJ, "", "", {
            {Res::Type::NUM, "total", "How many codes match the filter"},
            {Res::Type::NUM, "skip", "How many were skipped"},
            {Res::Type::ARR, "codes", "", {{Res::Type::OBJ, "", "", CodeFields()}}},
            {Res::Type::ARR, "totals", "Every matching code (not only this page) per label and state", {
                {Res::Type::OBJ, "", "", {
                    {Res::Type::STR, "label", "The label"},
                    StateTotalHelp("issued"),
                    StateTotalHelp("redeemed"),
                    StateTotalHelp("cancelled"),
                    StateTotalHelp("expired"),
                }},
            }},
        }},
        RPCExamples{
            HelpExampleCli("listgiftcodes", "") +
            HelpExampleCli("listgiftcodes", "issued \"campaign\" 0 50") +
            HelpExampleCli("listgiftcodes", "redeemed null 0 10") +
            ExampleRpc("listgiftcodes", "\"redeemed\", null, 100, 100")
        },
    };
}

RPCHelpMan RedeemHelp()
{
    return RPCHelpMan{"redeemgiftcode",
        "\nPay a gift code's amount to an address, once. The wallet pays the network fee.\n"
        "The code is marked redeemed together with its payment in one durable database commit\n"
        "before the payment is broadcast. Redemptions that arrive while a payment is being made\n"
        "are paid together by the next one, one output each (-giftcodemaxbatch). Calling again\n"
        "with the same code and address returns the same txid and vout with \"replay\": true and\n"
        "sends nothing; another address gets -405.\n" + ErrorsNote("redeemgiftcode"),
        {
            {"code", Arg::Type::STR, Arg::Optional::NO, "The gift code"},
            {"address", Arg::Type::STR, Arg::Optional::NO, "The address to pay"},
        },
        RPCResult{Res::Type::OBJ, "", "", {
            {Res::Type::STR_HEX, "id", "The code's id"},
            {Res::Type::STR_HEX, "txid", "The payment's transaction id"},
            {Res::Type::NUM, "vout", "The payment's output that pays the address (null only for a code redeemed by an earlier version of the module)"},
            {Res::Type::STR_AMOUNT, "amount", "The amount paid to the address"},
            {Res::Type::STR_AMOUNT, "fee", "This code's share of the payment's network fee (a payment of several codes shares it evenly)"},
            {Res::Type::STR, "address", "The payee"},
            {Res::Type::NUM_TIME, "redeemed_at", "When the code was redeemed"},
            {Res::Type::BOOL, "replay", "true if the code had already been redeemed to this address"},
            {Res::Type::BOOL, "broadcast", "true once the payment is in the mempool or confirmed"},
            {Res::Type::STR, "broadcast_error", /* optional */ true, "Why the payment is not in the mempool yet; it is retried on every block"},
            {Res::Type::STR, "payment_state", PAYMENT_STATES},
        }},
        RPCExamples{
            HelpExampleCli("redeemgiftcode", EXAMPLE_CODE + " " + EXAMPLE_ADDRESS) +
            ExampleRpc("redeemgiftcode", EXAMPLE_CODE + ", " + EXAMPLE_ADDRESS)
        },
    };
}

RPCHelpMan CancelHelp()
{
    return RPCHelpMan{"cancelgiftcode",
        "\nMake an issued (or expired) gift code unredeemable, durably.\n" + ErrorsNote("cancelgiftcode"),
        {
            {"code_or_id", Arg::Type::STR, Arg::Optional::NO, "The gift code, or its id"},
        },
        RPCResult{Res::Type::OBJ, "", "", CodeFields()},
        RPCExamples{
            HelpExampleCli("cancelgiftcode", EXAMPLE_ID) +
            ExampleRpc("cancelgiftcode", EXAMPLE_ID)
        },
    };
}

RPCHelpMan InfoHelp()
{
    return RPCHelpMan{"getgiftcodeinfo",
        "\nSummary of this wallet's gift codes, and the health of their ledger.\n" + ErrorsNote("getgiftcodeinfo"),
        {},
        RPCResult{Res::Type::OBJ, "", "", {
            {Res::Type::STR, "build_id", "Hash of the gift-code module sources this node was built from"},
            {Res::Type::STR, "network", "Code prefix of this network: MGC, TGC or RGC"},
            {Res::Type::OBJ, "counts", "Codes per state", {
                {Res::Type::NUM, "issued", ""}, {Res::Type::NUM, "redeemed", ""},
                {Res::Type::NUM, "cancelled", ""}, {Res::Type::NUM, "expired", ""},
            }},
            {Res::Type::STR_AMOUNT, "outstanding_liability", "Sum of issued, unexpired codes"},
            {Res::Type::OBJ, "solvency", "Whether the wallet could pay every outstanding code now (fees not counted); checked after every block and on each call", {
                {Res::Type::BOOL, "checked", "Whether the wallet's balance could be read"},
                {Res::Type::STR, "error", /* optional */ true, "Why not"},
                {Res::Type::STR_AMOUNT, "liability", "Sum of issued, unexpired codes"},
                {Res::Type::STR_AMOUNT, "spendable", "What a payment may spend now: the wallet's confirmed coins and the change of its own transactions in the mempool, mature, not locked (lockunspent), that it can sign for"},
                {Res::Type::BOOL, "solvent", "liability <= spendable; when it turns false, the wallet logs a warning and -giftcodenotify runs an insolvent event"},
                {Res::Type::STR_AMOUNT, "shortfall", "liability - spendable when not solvent, else 0"},
                {Res::Type::ARR, "labels", "Each label with outstanding codes, in byte order", {
                    {Res::Type::OBJ, "", "", {
                        {Res::Type::STR, "label", "The label (empty for codes without one)"},
                        {Res::Type::STR_AMOUNT, "liability", "Sum of its issued, unexpired codes"},
                        {Res::Type::BOOL, "covered", "Whether spendable alone covers them"},
                    }},
                }},
            }},
            {Res::Type::STR_AMOUNT, "redeemed_amount", "Sum paid to holders"},
            {Res::Type::STR_AMOUNT, "redeemed_fees", "Sum of network fees paid for redemptions"},
            {Res::Type::OBJ_DYN, "failed_redemptions", "Refused redemptions since the wallet was loaded, by reason", {
                {Res::Type::NUM, "reason", "How many"},
            }},
            {Res::Type::ARR, "unbroadcast", "Committed payments not yet accepted by the mempool", {
                {Res::Type::OBJ, "", "", {
                    {Res::Type::STR_HEX, "txid", "The payment"},
                    {Res::Type::STR, "reason", "Why it is not in the mempool"},
                }},
            }},
            {Res::Type::ARR, "attention", "Redeemed codes whose payment needs a human", {
                {Res::Type::OBJ, "", "", {
                    {Res::Type::STR_HEX, "id", "The code's id"},
                    {Res::Type::STR_HEX, "txid", "Its payment"},
                    {Res::Type::STR, "state", "not_in_mempool, conflicted, dead, abandoned or missing"},
                    {Res::Type::STR, "reason", "What happened, and what can safely be done"},
                }},
            }},
            {Res::Type::OBJ, "consistency", "Check of redeemed codes against the wallet's payments, at load and after every block", {
                {Res::Type::BOOL, "checked", "Whether the check ran"},
                {Res::Type::NUM, "height", "Chain height when it last ran"},
                {Res::Type::BOOL, "clean", "Whether every redeemed code has its payment and vice versa"},
                {Res::Type::ARR, "redeemed_without_payment", "Ids of redeemed codes whose payment is missing", {
                    {Res::Type::STR_HEX, "", "id"},
                }},
                {Res::Type::ARR, "payment_without_redemption", "Tagged payments whose code is not redeemed by them", {
                    {Res::Type::OBJ, "", "", {{Res::Type::STR_HEX, "id", "code id"}, {Res::Type::STR_HEX, "txid", "payment"}}},
                }},
                {Res::Type::STR, "error", /* optional */ true, "Why the check could not run"},
            }},
            {Res::Type::OBJ_DYN, "timings", "Where redemption time went since the wallet was loaded, per phase: build, commit, adopt, broadcast", {
                {Res::Type::OBJ, "phase", "", {
                    {Res::Type::NUM, "count", "Payments timed (a payment may pay several codes)"},
                    {Res::Type::NUM, "total_ms", "Milliseconds in all"},
                    {Res::Type::NUM, "avg_ms", "Milliseconds per payment"},
                    {Res::Type::NUM, "max_ms", "The longest"},
                }},
            }},
            {Res::Type::OBJ, "restore", "Whether this wallet was put back from a backup older than its last gift-code write", {
                {Res::Type::BOOL, "detected", "The wallet holds fewer ledger commits than the state file beside it: it was restored"},
                {Res::Type::NUM, "wallet_commits", "Ledger commits the wallet held when it was loaded"},
                {Res::Type::BOOL, "side_file", "Whether the state file beside the wallet was there when it was loaded"},
                {Res::Type::NUM, "side_file_commits", "Ledger commits that file held"},
                {Res::Type::NUM, "codes_missing", "When restored: codes issued after the backup was taken, which the wallet lacks (they answer -404; give their holders new codes unless they were paid)"},
                {Res::Type::NUM, "found_on_chain", "Codes the wallet read as unpaid whose payment it found on the chain since it was loaded; each now reads redeemed"},
                {Res::Type::NUM, "watched_at_load", "Unpaid codes with a payment key when the wallet was loaded"},
                {Res::Type::NUM, "search_ms", "Milliseconds the search of the wallet's transactions for their payments took at load"},
            }},
            {Res::Type::OBJ, "batches", "How redemptions were paid together since the wallet was loaded", {
                {Res::Type::NUM, "max_codes", "Most codes one payment pays (-giftcodemaxbatch)"},
                {Res::Type::NUM, "wait_ms", "Milliseconds a payment waits for more redemptions (-giftcodebatchwait)"},
                {Res::Type::NUM, "payments", "Payments made"},
                {Res::Type::NUM, "codes", "Codes they paid"},
                {Res::Type::NUM, "largest", "Most codes one payment paid"},
                {Res::Type::NUM, "splits", "Payments that could not be funded or built as a whole and were split"},
                {Res::Type::NUM, "waiting", "Redemptions waiting now for the payment under way"},
            }},
            {Res::Type::NUM, "payments_start_in", "Seconds before this wallet makes new payments after being loaded (-giftcodestartdelay); 0 once it does"},
            {Res::Type::BOOL, "payments_wait_for_block", "Whether new payments wait for the next block: the wallet was restored from a backup, or loaded without its state file, with codes unpaid"},
            {Res::Type::OBJ, "breaker", "Limits on what redemptions pay per window, and the operator's pause (setgiftcodelimits, pausegiftcodes)", BreakerFields()},
        }},
        RPCExamples{HelpExampleCli("getgiftcodeinfo", "") + ExampleRpc("getgiftcodeinfo", "")},
    };
}

std::vector<Res> BreakerFields()
{
    return {
        {Res::Type::BOOL, "paused", "Whether the operator paused redemptions (pausegiftcodes)"},
        {Res::Type::STR, "pause_reason", "The reason given; null when not paused"},
        {Res::Type::NUM_TIME, "paused_at", "When; null when not paused"},
        {Res::Type::STR, "limits_from", "wallet (setgiftcodelimits) or node (-giftcodelimit)"},
        {Res::Type::ARR, "limits", "Every limit in force, with what its window holds now", {
            {Res::Type::OBJ, "", "", {
                {Res::Type::STR, "label", "Only codes with this label; null for every code of the wallet"},
                {Res::Type::NUM, "window", "Seconds"},
                {Res::Type::STR_AMOUNT, "max_amount", "Most paid in any window; null for no limit on the amount"},
                {Res::Type::NUM, "max_count", "Most redemptions in any window; null for no limit on the count"},
                {Res::Type::STR_AMOUNT, "amount", "Paid in the window now"},
                {Res::Type::NUM, "count", "Redemptions in the window now"},
                {Res::Type::NUM_TIME, "next_release", "When the oldest of them leaves the window; null when it is empty"},
            }},
        }},
        {Res::Type::BOOL, "tripped", "A limit refused the last redemption that reached it, and none has been paid since"},
        {Res::Type::NUM_TIME, "tripped_at", "When; null when not tripped"},
        {Res::Type::STR, "tripped_by", "The limit; null when not tripped"},
        {Res::Type::NUM_TIME, "resumes_at", "From when that redemption fits the limit again, nothing more being paid; null when not tripped or when its amount alone exceeds the limit"},
    };
}

RPCHelpMan SetLimitsHelp()
{
    return RPCHelpMan{"setgiftcodelimits",
        "\nSet this wallet's gift-code breaker: limits on what its redemptions pay in a sliding window,\n"
        "for the whole wallet or for one label. A redemption that would pass a limit is refused with -409,\n"
        "its code still issued, and the breaker trips (logged, and -giftcodenotify runs a breaker event).\n"
        "The limits are stored in the wallet (a restart keeps them) and replace the node's -giftcodelimit;\n"
        "null goes back to the node's. What a window holds is the redemptions themselves, so setting a\n"
        "limit counts what was paid before it.\n" + ErrorsNote("setgiftcodelimits"),
        {
            {"limits", Arg::Type::ARR, Arg::Optional::NO, "The limits (at most 100), or null for the node's", {
                {"", Arg::Type::OBJ, Arg::Optional::OMITTED, "", {
                    {"window", Arg::Type::NUM, Arg::Optional::NO, "Seconds, 1 to 2678400 (31 days)"},
                    {"amount", Arg::Type::AMOUNT, Arg::Optional::OMITTED, "Most paid in any window, in " + CURRENCY_UNIT},
                    {"count", Arg::Type::NUM, Arg::Optional::OMITTED, "Most redemptions in any window"},
                    {"label", Arg::Type::STR, Arg::Optional::OMITTED, "Only codes with this label; omitted for every code"},
                }},
            }},
        },
        RPCResult{Res::Type::OBJ, "", "The breaker, as getgiftcodeinfo shows it", BreakerFields()},
        RPCExamples{
            HelpExampleCli("setgiftcodelimits", "'[{\"window\": 3600, \"amount\": 100}, {\"window\": 86400, \"amount\": 500, \"count\": 2000}]'") +
            HelpExampleCli("setgiftcodelimits", "'[{\"window\": 86400, \"amount\": 50, \"label\": \"spring\"}]'") +
            HelpExampleCli("setgiftcodelimits", "null") +
            ExampleRpc("setgiftcodelimits", "[{\"window\": 3600, \"amount\": 100}]")
        },
    };
}

RPCHelpMan PauseHelp()
{
    return RPCHelpMan{"pausegiftcodes",
        "\nTrip this wallet's gift-code breaker by hand: every new redemption is refused with -409, its code\n"
        "still issued, until resumegiftcodes. Replays of codes already redeemed are still answered. Stored\n"
        "in the wallet: a restart keeps it paused.\n" + ErrorsNote("pausegiftcodes"),
        {
            {"reason", Arg::Type::STR, /* default */ "\"\"", "Why, up to 256 bytes; holders' refusals name it"},
        },
        RPCResult{Res::Type::OBJ, "", "The breaker, as getgiftcodeinfo shows it", BreakerFields()},
        RPCExamples{
            HelpExampleCli("pausegiftcodes", "\"investigating a leak\"") +
            ExampleRpc("pausegiftcodes", "\"investigating a leak\"")
        },
    };
}

RPCHelpMan ResumeHelp()
{
    return RPCHelpMan{"resumegiftcodes",
        "\nLet redemptions through again after pausegiftcodes; the limits still apply.\n" +
            ErrorsNote("resumegiftcodes"),
        {},
        RPCResult{Res::Type::OBJ, "", "The breaker, as getgiftcodeinfo shows it", BreakerFields()},
        RPCExamples{HelpExampleCli("resumegiftcodes", "") + ExampleRpc("resumegiftcodes", "")},
    };
}

struct HostMethod {
    const char* name;
    RPCHelpMan (*help)();
    //! Wait for the wallet to catch up with the chain first, as sends do.
    bool sync_first;
};

const HostMethod HOST_METHODS[] = {
    {"creategiftcode", CreateHelp, false},
    {"getgiftcode", GetHelp, true},
    {"listgiftcodes", ListHelp, true},
    {"redeemgiftcode", RedeemHelp, true},
    {"cancelgiftcode", CancelHelp, false},
    {"getgiftcodeinfo", InfoHelp, false},
    {"setgiftcodelimits", SetLimitsHelp, false},
    {"pausegiftcodes", PauseHelp, false},
    {"resumegiftcodes", ResumeHelp, false},
};

UniValue Handle(const JSONRPCRequest& request, const RpcMethod& method, const HostMethod& host)
{
    std::shared_ptr<CWallet> const wallet = GetWalletForJSONRPCRequest(request);
    CWallet* const pwallet = wallet.get();
    if (!EnsureWalletIsAvailable(pwallet, request.fHelp)) return NullUniValue;
    host.help().Check(request);

    std::shared_ptr<WalletGiftCodes> state = FindWalletGiftCodes(pwallet);
    if (!state) throw JSONRPCError(RPC_WALLET_NOT_FOUND, "The wallet is being loaded or unloaded; retry");
    if (!state->ledger) {
        throw JSONRPCError(RpcErrorCodeFor(state->error_code),
                           "The gift-code ledger of this wallet did not open: " + state->error);
    }
    if (host.sync_first) pwallet->BlockUntilSyncedToCurrentChain();
    RpcReply reply = method.body(*state->ledger, request.params);
    if (reply.error) throw JSONRPCError(reply.error->code, reply.error->message);
    return reply.result;
}

std::vector<CRPCCommand> BuildCommands()
{
    std::vector<CRPCCommand> commands;
    for (const RpcMethod& method : RpcMethods()) {
        const HostMethod* host = nullptr;
        for (const HostMethod& h : HOST_METHODS) {
            if (method.name == std::string(h.name)) host = &h;
        }
        assert(host);  // every core method has its help here
        const RpcMethod* m = &method;
        commands.emplace_back("giftcode", method.name,
                              [m, host](const JSONRPCRequest& request, UniValue& result, bool) {
                                  result = Handle(request, *m, *host);
                                  return true;
                              },
                              method.arg_names, intptr_t(m));
    }
    return commands;
}

} // namespace

void RegisterRpcCommands(interfaces::Chain& chain, std::vector<std::unique_ptr<interfaces::Handler>>& handlers)
{
    // The chain keeps pointers to the commands: they must outlive it.
    static const std::vector<CRPCCommand> commands = BuildCommands();
    for (const CRPCCommand& command : commands) handlers.emplace_back(chain.handleRpc(command));
}

} // namespace host
} // namespace giftcode
