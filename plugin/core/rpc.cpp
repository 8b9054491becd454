// Bodies of the gift-code RPCs; see rpc.h. Argument errors are found before
// the ledger is touched, so a bad call changes nothing.
#include "rpc.h"

#include "sha256.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace giftcode {

int RpcErrorCodeFor(StatusCode code)
{
    switch (code) {
    case StatusCode::kOk: break;
    case StatusCode::kMalformedCode: return RPC_GIFTCODE_MALFORMED;
    case StatusCode::kBadChecksum: return RPC_GIFTCODE_BAD_CHECKSUM;
    case StatusCode::kWrongNetwork: return RPC_GIFTCODE_WRONG_NETWORK;
    case StatusCode::kUnknownCode: return RPC_GIFTCODE_UNKNOWN;
    case StatusCode::kAlreadyRedeemed: return RPC_GIFTCODE_ALREADY_REDEEMED;
    case StatusCode::kCancelled: return RPC_GIFTCODE_CANCELLED;
    case StatusCode::kExpired: return RPC_GIFTCODE_EXPIRED;
    case StatusCode::kInvalidAddress: return RPC_NODE_INVALID_ADDRESS_OR_KEY;
    case StatusCode::kInvalidAmount: return RPC_NODE_TYPE_ERROR;
    case StatusCode::kInvalidParameter: return RPC_NODE_INVALID_PARAMETER;
    case StatusCode::kNodeCatchingUp: return RPC_NODE_IN_INITIAL_DOWNLOAD;
    case StatusCode::kInsufficientFunds: return RPC_NODE_WALLET_INSUFFICIENT_FUNDS;
    case StatusCode::kFundsPending: return RPC_GIFTCODE_FUNDS_PENDING;
    case StatusCode::kWalletLocked: return RPC_NODE_WALLET_UNLOCK_NEEDED;
    case StatusCode::kWalletUnsupported: return RPC_NODE_WALLET_ERROR;
    case StatusCode::kPaymentFailed: return RPC_NODE_WALLET_ERROR;
    case StatusCode::kStoreFailure: return RPC_NODE_DATABASE_ERROR;
    case StatusCode::kCorruption: return RPC_NODE_DESERIALIZATION_ERROR;
    case StatusCode::kLimitReached: return RPC_GIFTCODE_LIMIT;
    case StatusCode::kPaused: return RPC_GIFTCODE_LIMIT;
    }
    assert(!"RpcErrorCodeFor called without a failure");
    return RPC_NODE_WALLET_ERROR;
}

namespace {

RpcReply Error(const Status& status)
{
    RpcReply reply;
    reply.error = RpcError{RpcErrorCodeFor(status.code()), status.message()};
    return reply;
}

RpcReply Reply(UniValue result)
{
    RpcReply reply;
    reply.result = std::move(result);
    return reply;
}

Status BadParam(const std::string& message) { return Status(StatusCode::kInvalidParameter, message); }

const UniValue& Param(const UniValue& params, size_t index)
{
    static const UniValue null_value;
    if (!params.isArray() || index >= params.size()) return null_value;
    return params[index];
}

Status CheckArity(const UniValue& params, size_t min, size_t max)
{
    const size_t n = params.isArray() ? params.size() : 0;
    if (n < min || n > max) {
        return BadParam("expected " + (min == max ? std::to_string(min) : std::to_string(min) + " to " +
                                                                            std::to_string(max)) +
                        " arguments, got " + std::to_string(n));
    }
    return Status::Ok();
}

Result<std::string> StringParam(const UniValue& value, const char* name)
{
    if (!value.isStr()) return BadParam(std::string(name) + " must be a string");
    return value.get_str();
}

//! A whole number in [min, max], given as a JSON number. A string is refused
//! even when it holds digits: monacoin-cli converts these arguments to
//! numbers (patch 0006), so a string means the caller sent the wrong type.
//! The number's text is read digit by digit with an overflow check; a
//! fraction or an exponent is refused, and -0 is 0.
Result<int64_t> IntegerParam(const UniValue& value, const char* name, int64_t min, int64_t max)
{
    if (!value.isNum()) return BadParam(std::string(name) + " must be a number, got " + uvTypeName(value.getType()));
    const Status out_of_range = BadParam(std::string(name) + " must be a whole number from " + std::to_string(min) +
                                         " to " + std::to_string(max));
    const std::string& text = value.getValStr();
    const bool negative = !text.empty() && text[0] == '-';
    const size_t first = negative ? 1 : 0;
    if (first == text.size()) return out_of_range;
    // The magnitude of the most negative int64_t. The loop never lets the
    // magnitude pass it, so neither the loop nor the negation can overflow.
    constexpr uint64_t MAX_MAGNITUDE = uint64_t(std::numeric_limits<int64_t>::max()) + 1;
    uint64_t magnitude = 0;
    for (size_t i = first; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return out_of_range;
        const uint64_t digit = uint64_t(text[i] - '0');
        if (magnitude > (MAX_MAGNITUDE - digit) / 10) return out_of_range;
        magnitude = magnitude * 10 + digit;
    }
    int64_t n;
    if (!negative) {
        if (magnitude == MAX_MAGNITUDE) return out_of_range;
        n = int64_t(magnitude);
    } else {
        n = magnitude == MAX_MAGNITUDE ? std::numeric_limits<int64_t>::min() : -int64_t(magnitude);
    }
    if (n < min || n > max) return out_of_range;
    return n;
}

//! Microseconds as milliseconds with three decimals.
std::string MillisText(uint64_t us)
{
    std::string frac = std::to_string(us % 1000);
    frac.insert(0, 3 - frac.size(), '0');
    return std::to_string(us / 1000) + "." + frac;
}

UniValue IdValue(const CodeId& id) { return UniValue(id.ToHex()); }

//! An output index, or null when it is not known.
UniValue VoutValue(uint32_t vout) { return vout == NO_VOUT ? UniValue() : UniValue(uint64_t(vout)); }

UniValue TxidsValue(const std::vector<Txid>& txids)
{
    UniValue out(UniValue::VARR);
    for (const Txid& txid : txids) out.push_back(UniValue(TxidToHex(txid)));
    return out;
}

UniValue ViewToValue(const CodeView& view)
{
    const CodeRecord& r = view.record;
    UniValue out(UniValue::VOBJ);
    out.pushKV("id", IdValue(r.id));
    out.pushKV("state", UniValue(CodeStateName(view.state)));
    out.pushKV("amount", AmountToValue(r.amount));
    out.pushKV("label", UniValue(r.label));
    out.pushKV("created_at", UniValue(r.created_at));
    out.pushKV("expires_at", r.expires_at ? UniValue(r.expires_at) : UniValue());
    switch (r.state) {
    case StoredState::kIssued:
        break;
    case StoredState::kRedeemed:
        out.pushKV("txid", UniValue(TxidToHex(r.txid)));
        out.pushKV("vout", VoutValue(r.vout));
        out.pushKV("address", UniValue(r.address));
        out.pushKV("redeemed_at", UniValue(r.redeemed_at));
        out.pushKV("fee", AmountToValue(r.fee));
        out.pushKV("confirmations", UniValue(int64_t(view.payment.confirmations)));
        out.pushKV("in_mempool", UniValue(view.payment.in_mempool));
        out.pushKV("abandoned", UniValue(view.payment.abandoned));
        out.pushKV("conflicted", UniValue(view.payment.conflicted));
        out.pushKV("payment_state", UniValue(PaymentStateName(view.payment_state)));
        out.pushKV("replaced_txids", TxidsValue(r.replaced));
        out.pushKV("found_on_chain", UniValue(r.found_on_chain));
        if (!view.broadcast_error.empty()) out.pushKV("broadcast_error", UniValue(view.broadcast_error));
        break;
    case StoredState::kCancelled:
        out.pushKV("cancelled_at", UniValue(r.cancelled_at));
        break;
    }
    return out;
}

} // namespace

Result<Amount> ParseAmount(const UniValue& value)
{
    const Status bad(StatusCode::kInvalidAmount, "amount must be a number of MONA with at most 8 decimals");
    if (!value.isNum() && !value.isStr()) return bad;
    // A string must read as a JSON number, the grammar the node's own
    // amount parser (ParseFixedPoint) accepts:
    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    const std::string& text = value.getValStr();
    const auto digit_at = [&text](size_t at) { return at < text.size() && text[at] >= '0' && text[at] <= '9'; };
    size_t i = 0;
    const bool negative = !text.empty() && text[0] == '-';
    if (negative) ++i;
    std::string digits;   // integer and fraction digits, without the point
    int64_t fraction = 0; // digits after the point
    if (!digit_at(i)) return bad;
    if (text[i] == '0') {
        digits.push_back(text[i++]);
    } else {
        while (digit_at(i)) digits.push_back(text[i++]);
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digit_at(i)) return bad;
        for (; digit_at(i); ++i, ++fraction) digits.push_back(text[i]);
    }
    int64_t exponent = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        bool exp_negative = false;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
        if (!digit_at(i)) return bad;
        // Stops growing past 10^15: no text that fits in memory has so many
        // digits that such an exponent could give an amount in range.
        for (; digit_at(i); ++i) {
            if (exponent < 1000000000000000) exponent = exponent * 10 + (text[i] - '0');
        }
        if (exp_negative) exponent = -exponent;
    }
    if (i != text.size()) return bad;
    const size_t first = digits.find_first_not_of('0');
    if (negative || first == std::string::npos) return Status(StatusCode::kInvalidAmount, "amount must be positive");
    digits.erase(0, first);
    // The amount is digits * 10^(exponent - fraction) MONA, so digits *
    // 10^shift satoshis. digits starts with a non-zero digit, so dropping
    // trailing zeros stops before it is empty.
    int64_t shift = 8 + exponent - fraction;
    while (shift < 0 && digits.back() == '0') {
        digits.pop_back();
        ++shift;
    }
    if (shift < 0) return Status(StatusCode::kInvalidAmount, "amount has more than 8 decimals");
    if (int64_t(digits.size()) + shift > 18) {
        return Status(StatusCode::kInvalidAmount, "amount is out of the money range");
    }
    digits.append(size_t(shift), '0');
    int64_t satoshis = 0;
    for (char c : digits) satoshis = satoshis * 10 + (c - '0');
    return satoshis;
}

UniValue AmountToValue(Amount amount) { return UniValue(UniValue::VNUM, FormatAmount(amount)); }

RpcReply CreateGiftCodeRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 1, 4); !s.ok()) return Error(s);
    Result<Amount> amount = ParseAmount(Param(params, 0));
    if (!amount.ok()) return Error(amount.status());
    int64_t count = 1;
    if (!Param(params, 1).isNull()) {
        Result<int64_t> n = IntegerParam(Param(params, 1), "count", 1, int64_t(ledger.policy().max_batch));
        if (!n.ok()) return Error(n.status());
        count = n.value();
    }
    std::string label;
    if (!Param(params, 2).isNull()) {
        Result<std::string> l = StringParam(Param(params, 2), "label");
        if (!l.ok()) return Error(l.status());
        label = l.value();
    }
    int64_t expires_at = 0;
    if (!Param(params, 3).isNull()) {
        Result<int64_t> e = IntegerParam(Param(params, 3), "expires_at", 0, std::numeric_limits<int64_t>::max() / 2);
        if (!e.ok()) return Error(e.status());
        expires_at = e.value();
    }
    Solvency solvency;
    Result<std::vector<IssuedCode>> issued =
        ledger.Create(amount.value(), size_t(count), label, expires_at, &solvency);
    if (!issued.ok()) return Error(issued.status());
    UniValue codes(UniValue::VARR);
    for (IssuedCode& c : issued.value()) {
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("id", IdValue(c.id));
        entry.pushKV("code", UniValue(c.code));
        entry.pushKV("uri", UniValue(c.uri));
        codes.push_back(entry);
        SecureWipe(&c.code[0], c.code.size());
        SecureWipe(&c.uri[0], c.uri.size());
    }
    UniValue out(UniValue::VOBJ);
    out.pushKV("amount", AmountToValue(amount.value()));
    out.pushKV("count", UniValue(count));
    out.pushKV("label", UniValue(label));
    out.pushKV("expires_at", expires_at ? UniValue(expires_at) : UniValue());
    out.pushKV("codes", codes);
    // A code reserves no funds: say so when the promises now outrun the
    // wallet, while the issuer can still fund it or cancel.
    out.pushKV("outstanding_liability", AmountToValue(solvency.liability));
    out.pushKV("spendable", solvency.checked ? AmountToValue(solvency.spendable) : UniValue());
    out.pushKV("solvent", solvency.checked ? UniValue(solvency.solvent) : UniValue());
    if (!solvency.checked) {
        out.pushKV("warning", UniValue("The codes were created, but the wallet's spendable balance could not be read (" +
                                       solvency.error + "): check getgiftcodeinfo's solvency"));
    } else if (!solvency.solvent) {
        out.pushKV("warning", UniValue("The wallet's outstanding codes are worth " + FormatAmount(solvency.liability) +
                                       " MONA, more than the " + FormatAmount(solvency.spendable) +
                                       " MONA it can spend now. A code reserves no funds: fund the wallet by " +
                                       FormatAmount(solvency.shortfall) + " MONA or more (plus fees) before "
                                       "the codes are redeemed, or cancel some"));
    }
    return Reply(out);
}

RpcReply GetGiftCodeRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 1, 1); !s.ok()) return Error(s);
    Result<std::string> key = StringParam(Param(params, 0), "code_or_id");
    if (!key.ok()) return Error(key.status());
    Result<CodeView> view = ledger.Get(key.value());
    if (!view.ok()) return Error(view.status());
    return Reply(ViewToValue(view.value()));
}

RpcReply ListGiftCodesRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 0, 4); !s.ok()) return Error(s);
    ListFilter filter;
    if (!Param(params, 0).isNull()) {
        Result<std::string> name = StringParam(Param(params, 0), "state");
        if (!name.ok()) return Error(name.status());
        CodeState state;
        if (!name->empty()) {
            if (!ParseCodeState(name.value(), state)) {
                return Error(BadParam("state must be one of issued, redeemed, cancelled, expired, or \"\" for all"));
            }
            filter.state = state;
        }
    }
    if (!Param(params, 1).isNull()) {
        Result<std::string> label = StringParam(Param(params, 1), "label");
        if (!label.ok()) return Error(label.status());
        filter.label = label.value();
    }
    if (!Param(params, 2).isNull()) {
        Result<int64_t> skip = IntegerParam(Param(params, 2), "skip", 0, std::numeric_limits<int32_t>::max());
        if (!skip.ok()) return Error(skip.status());
        filter.skip = size_t(skip.value());
    }
    if (!Param(params, 3).isNull()) {
        Result<int64_t> count = IntegerParam(Param(params, 3), "count", 1, int64_t(ledger.policy().max_batch));
        if (!count.ok()) return Error(count.status());
        filter.count = size_t(count.value());
    }
    Result<CodePage> page = ledger.List(filter);
    if (!page.ok()) return Error(page.status());
    UniValue codes(UniValue::VARR);
    for (const CodeView& view : page->codes) codes.push_back(ViewToValue(view));
    UniValue out(UniValue::VOBJ);
    UniValue totals(UniValue::VARR);
    for (const LabelTotals& label : page->totals) {
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("label", UniValue(label.label));
        for (CodeState state : {CodeState::kIssued, CodeState::kRedeemed, CodeState::kCancelled, CodeState::kExpired}) {
            const StateTotal& total = label.by_state[static_cast<size_t>(state)];
            UniValue value(UniValue::VOBJ);
            value.pushKV("count", UniValue(total.count));
            value.pushKV("amount", AmountToValue(total.amount));
            entry.pushKV(CodeStateName(state), value);
        }
        totals.push_back(entry);
    }
    out.pushKV("total", UniValue(uint64_t(page->total)));
    out.pushKV("skip", UniValue(uint64_t(filter.skip)));
    out.pushKV("codes", codes);
    out.pushKV("totals", totals);
    return Reply(out);
}

RpcReply RedeemGiftCodeRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 2, 2); !s.ok()) return Error(s);
    Result<std::string> code = StringParam(Param(params, 0), "code");
    if (!code.ok()) return Error(Status(StatusCode::kMalformedCode, "code must be a string"));
    Result<std::string> address = StringParam(Param(params, 1), "address");
    if (!address.ok()) return Error(Status(StatusCode::kInvalidAddress, "address must be a string"));
    Result<Redemption> done = ledger.Redeem(code.value(), address.value());
    if (!done.ok()) return Error(done.status());
    const Redemption& r = done.value();
    UniValue out(UniValue::VOBJ);
    out.pushKV("id", IdValue(r.id));
    out.pushKV("txid", UniValue(TxidToHex(r.txid)));
    out.pushKV("vout", VoutValue(r.vout));
    out.pushKV("amount", AmountToValue(r.amount));
    out.pushKV("fee", AmountToValue(r.fee));
    out.pushKV("address", UniValue(r.address));
    out.pushKV("redeemed_at", UniValue(r.redeemed_at));
    out.pushKV("replay", UniValue(r.replay));
    out.pushKV("broadcast", UniValue(r.broadcast));
    if (!r.broadcast) out.pushKV("broadcast_error", UniValue(r.broadcast_error));
    out.pushKV("payment_state", UniValue(PaymentStateName(r.payment_state)));
    return Reply(out);
}

RpcReply CancelGiftCodeRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 1, 1); !s.ok()) return Error(s);
    Result<std::string> key = StringParam(Param(params, 0), "code_or_id");
    if (!key.ok()) return Error(key.status());
    Result<CodeView> view = ledger.Cancel(key.value());
    if (!view.ok()) return Error(view.status());
    return Reply(ViewToValue(view.value()));
}

namespace {

UniValue TimeOrNull(int64_t time) { return time ? UniValue(time) : UniValue(); }

UniValue BreakerValue(const BreakerInfo& info)
{
    UniValue out(UniValue::VOBJ);
    out.pushKV("paused", UniValue(info.paused));
    out.pushKV("pause_reason", info.paused ? UniValue(info.pause_reason) : UniValue());
    out.pushKV("paused_at", TimeOrNull(info.paused_at));
    out.pushKV("limits_from", UniValue(info.own_limits ? "wallet" : "node"));
    UniValue limits(UniValue::VARR);
    for (const LimitState& l : info.limits) {
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("label", l.limit.label ? UniValue(*l.limit.label) : UniValue());
        entry.pushKV("window", UniValue(l.limit.window));
        entry.pushKV("max_amount", l.limit.max_amount ? AmountToValue(l.limit.max_amount) : UniValue());
        entry.pushKV("max_count", l.limit.max_count ? UniValue(l.limit.max_count) : UniValue());
        entry.pushKV("amount", AmountToValue(l.amount));
        entry.pushKV("count", UniValue(l.count));
        entry.pushKV("next_release", TimeOrNull(l.next_release));
        limits.push_back(entry);
    }
    out.pushKV("limits", limits);
    out.pushKV("tripped", UniValue(info.tripped.has_value()));
    out.pushKV("tripped_at", TimeOrNull(info.tripped_at));
    out.pushKV("tripped_by", info.tripped ? UniValue(DescribeLimit(info.tripped->limit)) : UniValue());
    out.pushKV("resumes_at", info.tripped ? TimeOrNull(info.tripped->fits_at) : UniValue());
    return out;
}

//! A JSON number that is a whole number from min to max, named `name`.
Result<int64_t> FieldInteger(const UniValue& object, const char* name, int64_t min, int64_t max)
{
    return IntegerParam(object[name], name, min, max);
}

Result<WindowLimit> ParseLimit(const UniValue& value)
{
    if (!value.isObject()) return BadParam("each limit must be an object {\"window\", \"amount\", \"count\", \"label\"}");
    for (const std::string& key : value.getKeys()) {
        if (key != "window" && key != "amount" && key != "count" && key != "label") {
            return BadParam("a limit has no field \"" + key + "\"");
        }
    }
    WindowLimit limit;
    Result<int64_t> window = FieldInteger(value, "window", 1, MAX_LIMIT_WINDOW);
    if (!window.ok()) return window.status();
    limit.window = window.value();
    if (!value["amount"].isNull()) {
        Result<Amount> amount = ParseAmount(value["amount"]);
        if (!amount.ok()) return BadParam("a limit's amount: " + amount.status().message());
        limit.max_amount = amount.value();
    }
    if (!value["count"].isNull()) {
        Result<int64_t> count = FieldInteger(value, "count", 1, std::numeric_limits<int32_t>::max());
        if (!count.ok()) return count.status();
        limit.max_count = uint64_t(count.value());
    }
    if (!value["label"].isNull()) {
        Result<std::string> label = StringParam(value["label"], "label");
        if (!label.ok()) return label.status();
        limit.label = label.value();
    }
    if (Status s = CheckLimit(limit); !s.ok()) return s;
    return limit;
}

} // namespace

RpcReply SetGiftCodeLimitsRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 1, 1); !s.ok()) return Error(s);
    const UniValue& value = Param(params, 0);
    std::optional<std::vector<WindowLimit>> limits;
    if (!value.isNull()) {
        if (!value.isArray()) return Error(BadParam("limits must be an array of limits, or null for the node's"));
        limits.emplace();
        for (size_t i = 0; i < value.size(); ++i) {
            Result<WindowLimit> limit = ParseLimit(value[i]);
            if (!limit.ok()) return Error(limit.status());
            limits->push_back(limit.value());
        }
    }
    Result<BreakerInfo> info = ledger.SetLimits(limits);
    if (!info.ok()) return Error(info.status());
    return Reply(BreakerValue(info.value()));
}

RpcReply PauseGiftCodesRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 0, 1); !s.ok()) return Error(s);
    std::string reason;
    if (!Param(params, 0).isNull()) {
        Result<std::string> r = StringParam(Param(params, 0), "reason");
        if (!r.ok()) return Error(r.status());
        reason = r.value();
    }
    Result<BreakerInfo> info = ledger.Pause(reason);
    if (!info.ok()) return Error(info.status());
    return Reply(BreakerValue(info.value()));
}

RpcReply ResumeGiftCodesRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 0, 0); !s.ok()) return Error(s);
    Result<BreakerInfo> info = ledger.Resume();
    if (!info.ok()) return Error(info.status());
    return Reply(BreakerValue(info.value()));
}

RpcReply GetGiftCodeInfoRpc(Ledger& ledger, const UniValue& params)
{
    if (Status s = CheckArity(params, 0, 0); !s.ok()) return Error(s);
    const LedgerInfo info = ledger.Info();
    UniValue counts(UniValue::VOBJ);
    for (const auto& [state, n] : info.counts) counts.pushKV(CodeStateName(state), UniValue(uint64_t(n)));
    UniValue failures(UniValue::VOBJ);
    for (const auto& [code, n] : info.failed_redemptions) failures.pushKV(StatusCodeName(code), UniValue(n));
    UniValue unbroadcast(UniValue::VARR);
    for (const auto& [txid, reason] : info.unbroadcast) {
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("txid", UniValue(TxidToHex(txid)));
        entry.pushKV("reason", UniValue(reason));
        unbroadcast.push_back(entry);
    }
    UniValue attention(UniValue::VARR);
    for (const PaymentNotice& notice : info.attention) {
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("id", IdValue(notice.id));
        entry.pushKV("txid", UniValue(TxidToHex(notice.txid)));
        entry.pushKV("state", UniValue(PaymentStateName(notice.state)));
        entry.pushKV("reason", UniValue(notice.reason));
        attention.push_back(entry);
    }
    UniValue consistency(UniValue::VOBJ);
    consistency.pushKV("checked", UniValue(info.consistency.checked));
    consistency.pushKV("height", UniValue(int64_t(info.consistency.height)));
    consistency.pushKV("clean", UniValue(info.consistency.clean()));
    UniValue missing_payment(UniValue::VARR);
    for (const CodeId& id : info.consistency.redeemed_without_payment) missing_payment.push_back(IdValue(id));
    consistency.pushKV("redeemed_without_payment", missing_payment);
    UniValue missing_record(UniValue::VARR);
    for (const TaggedPayment& p : info.consistency.payment_without_redemption) {
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("id", IdValue(p.code));
        entry.pushKV("txid", UniValue(TxidToHex(p.txid)));
        missing_record.push_back(entry);
    }
    consistency.pushKV("payment_without_redemption", missing_record);
    if (!info.consistency.error.empty()) consistency.pushKV("error", UniValue(info.consistency.error));

    UniValue timings(UniValue::VOBJ);
    for (Phase phase : {Phase::kBuild, Phase::kCommit, Phase::kAdopt, Phase::kBroadcast}) {
        const auto it = info.timings.find(phase);
        const PhaseTiming t = it == info.timings.end() ? PhaseTiming{} : it->second;
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("count", UniValue(t.count));
        entry.pushKV("total_ms", UniValue(UniValue::VNUM, MillisText(t.total_us)));
        entry.pushKV("avg_ms", UniValue(UniValue::VNUM, MillisText(t.count ? t.total_us / t.count : 0)));
        entry.pushKV("max_ms", UniValue(UniValue::VNUM, MillisText(t.max_us)));
        timings.pushKV(PhaseName(phase), entry);
    }

    UniValue restore(UniValue::VOBJ);
    restore.pushKV("detected", UniValue(info.restore.detected));
    restore.pushKV("wallet_commits", UniValue(info.restore.wallet_commits));
    restore.pushKV("side_file", UniValue(info.restore.side_state));
    restore.pushKV("side_file_commits", UniValue(info.restore.side_commits));
    restore.pushKV("codes_missing", UniValue(info.restore.codes_missing));
    restore.pushKV("found_on_chain", UniValue(uint64_t(info.restore.found_on_chain)));
    restore.pushKV("watched_at_load", UniValue(uint64_t(info.restore.watched)));
    restore.pushKV("search_ms", UniValue(UniValue::VNUM, MillisText(info.restore.search_us)));

    const Solvency& sv = info.solvency;
    UniValue solvency(UniValue::VOBJ);
    solvency.pushKV("checked", UniValue(sv.checked));
    if (!sv.checked) solvency.pushKV("error", UniValue(sv.error));
    solvency.pushKV("liability", AmountToValue(sv.liability));
    solvency.pushKV("spendable", AmountToValue(sv.spendable));
    solvency.pushKV("solvent", UniValue(sv.solvent));
    solvency.pushKV("shortfall", AmountToValue(sv.shortfall));
    UniValue label_solvency(UniValue::VARR);
    for (const LabelSolvency& l : sv.labels) {
        UniValue entry(UniValue::VOBJ);
        entry.pushKV("label", UniValue(l.label));
        entry.pushKV("liability", AmountToValue(l.liability));
        entry.pushKV("covered", UniValue(l.covered));
        label_solvency.push_back(entry);
    }
    solvency.pushKV("labels", label_solvency);

    UniValue batches(UniValue::VOBJ);
    batches.pushKV("max_codes", UniValue(uint64_t(ledger.policy().max_payment_codes)));
    batches.pushKV("wait_ms", UniValue(ledger.policy().payment_wait_ms));
    batches.pushKV("payments", UniValue(info.batches.payments));
    batches.pushKV("codes", UniValue(info.batches.codes));
    batches.pushKV("largest", UniValue(uint64_t(info.batches.largest)));
    batches.pushKV("splits", UniValue(info.batches.splits));
    batches.pushKV("waiting", UniValue(uint64_t(info.waiting)));

    UniValue out(UniValue::VOBJ);
    out.pushKV("build_id", UniValue(BuildId()));
    out.pushKV("network", UniValue(NetworkPrefix(ledger.policy().network)));
    out.pushKV("counts", counts);
    out.pushKV("outstanding_liability", AmountToValue(info.outstanding_liability));
    out.pushKV("solvency", solvency);
    out.pushKV("redeemed_amount", AmountToValue(info.redeemed_amount));
    out.pushKV("redeemed_fees", AmountToValue(info.redeemed_fees));
    out.pushKV("failed_redemptions", failures);
    out.pushKV("unbroadcast", unbroadcast);
    out.pushKV("attention", attention);
    out.pushKV("consistency", consistency);
    out.pushKV("timings", timings);
    out.pushKV("restore", restore);
    out.pushKV("batches", batches);
    out.pushKV("payments_start_in", UniValue(info.start_wait));
    out.pushKV("payments_wait_for_block", UniValue(info.waits_for_block));
    out.pushKV("breaker", BreakerValue(info.breaker));
    return Reply(out);
}

const std::vector<RpcErrorDoc>& RpcErrorDocs()
{
    static const std::vector<RpcErrorDoc> docs = {
        {RPC_GIFTCODE_MALFORMED, "not a gift code: wrong length, characters or prefix"},
        {RPC_GIFTCODE_BAD_CHECKSUM, "a character is mistyped: the checksum does not match"},
        {RPC_GIFTCODE_WRONG_NETWORK, "a code of another network (MGC main, TGC test, RGC regtest)"},
        {RPC_GIFTCODE_UNKNOWN, "no such code in this wallet"},
        {RPC_GIFTCODE_ALREADY_REDEEMED, "the code was already redeemed (by redeemgiftcode: to another address)"},
        {RPC_GIFTCODE_CANCELLED, "the code was cancelled"},
        {RPC_GIFTCODE_EXPIRED, "the code has expired"},
        {RPC_NODE_INVALID_ADDRESS_OR_KEY, "not an address of this network"},
        {RPC_NODE_TYPE_ERROR, "amount: not positive, below 0.00000546, over the money range, or more than 8 decimals"},
        {RPC_NODE_INVALID_PARAMETER, "an argument of the wrong type or out of range"},
        {RPC_NODE_WALLET_INSUFFICIENT_FUNDS, "the wallet does not hold the amount plus the fee"},
        {RPC_GIFTCODE_LIMIT, "the breaker: a limit on what the wallet pays per window is reached, or the operator "
                             "paused redemptions; the code stays issued: retry later"},
        {RPC_GIFTCODE_FUNDS_PENDING, "the wallet holds enough, in coins it cannot spend yet (unconfirmed, immature, "
                                     "locked): retry after a block"},
        {RPC_NODE_IN_INITIAL_DOWNLOAD, "the node or the wallet is catching up with the chain, or payments wait "
                                       "-giftcodestartdelay after loading: retry later"},
        {RPC_NODE_WALLET_UNLOCK_NEEDED, "the wallet is locked: walletpassphrase first"},
        {RPC_NODE_WALLET_ERROR, "the wallet cannot sign (private keys disabled), or could not build what was asked "
                                "(the message says why); nothing changed"},
        {RPC_NODE_DATABASE_ERROR, "the wallet database refused the write (a full or failing disk); nothing changed: "
                                  "retry"},
    };
    return docs;
}

const std::vector<RpcErrorDoc>& RpcCommonErrorDocs()
{
    static const std::vector<RpcErrorDoc> docs = {
        {-1, "wrong number of arguments: the message is this help"},
        {-18, "wallet not found, not loaded, or being loaded or unloaded"},
        {-19, "wallet not specified: several are loaded (use /wallet/NAME or -rpcwallet)"},
        {-28, "the node is starting: retry"},
        {RPC_NODE_DESERIALIZATION_ERROR, "the wallet's gift-code ledger did not open: a record cannot be read"},
        {RPC_NODE_DATABASE_ERROR, "the wallet's gift-code ledger did not open: the database failed"},
    };
    return docs;
}

namespace {

std::string ErrorLine(const RpcErrorDoc& doc)
{
    std::string code = std::to_string(doc.code);
    code.insert(0, code.size() < 4 ? 4 - code.size() : 0, ' ');
    return "  " + code + "  " + doc.meaning + "\n";
}

} // namespace

std::string RpcErrorsHelp(const RpcMethod& method)
{
    std::string out = "\nErrors:\n";
    for (const RpcErrorDoc& doc : RpcErrorDocs()) {
        if (std::find(method.errors.begin(), method.errors.end(), doc.code) != method.errors.end()) {
            out += ErrorLine(doc);
        }
    }
    out += "And, as every gift-code RPC:\n";
    for (const RpcErrorDoc& doc : RpcCommonErrorDocs()) out += ErrorLine(doc);
    return out;
}

const std::vector<RpcMethod>& RpcMethods()
{
    // What each body can return: its argument checks, and the failures of
    // the ledger operation and of the ports it calls.
    static const std::vector<RpcMethod> methods = {
        {"creategiftcode", CreateGiftCodeRpc, {"amount", "count", "label", "expires_at"},
         {RPC_NODE_TYPE_ERROR, RPC_NODE_INVALID_PARAMETER, RPC_NODE_WALLET_UNLOCK_NEEDED, RPC_NODE_WALLET_ERROR,
          RPC_NODE_DATABASE_ERROR}},
        {"getgiftcode", GetGiftCodeRpc, {"code_or_id"},
         {RPC_GIFTCODE_MALFORMED, RPC_GIFTCODE_BAD_CHECKSUM, RPC_GIFTCODE_WRONG_NETWORK, RPC_GIFTCODE_UNKNOWN,
          RPC_NODE_INVALID_PARAMETER}},
        {"listgiftcodes", ListGiftCodesRpc, {"state", "label", "skip", "count"}, {RPC_NODE_INVALID_PARAMETER}},
        {"redeemgiftcode", RedeemGiftCodeRpc, {"code", "address"},
         {RPC_GIFTCODE_MALFORMED, RPC_GIFTCODE_BAD_CHECKSUM, RPC_GIFTCODE_WRONG_NETWORK, RPC_GIFTCODE_UNKNOWN,
          RPC_GIFTCODE_ALREADY_REDEEMED, RPC_GIFTCODE_CANCELLED, RPC_GIFTCODE_EXPIRED, RPC_NODE_INVALID_ADDRESS_OR_KEY,
          RPC_NODE_WALLET_INSUFFICIENT_FUNDS, RPC_GIFTCODE_LIMIT, RPC_GIFTCODE_FUNDS_PENDING, RPC_NODE_IN_INITIAL_DOWNLOAD,
          RPC_NODE_WALLET_UNLOCK_NEEDED, RPC_NODE_WALLET_ERROR, RPC_NODE_DATABASE_ERROR}},
        {"cancelgiftcode", CancelGiftCodeRpc, {"code_or_id"},
         {RPC_GIFTCODE_MALFORMED, RPC_GIFTCODE_BAD_CHECKSUM, RPC_GIFTCODE_WRONG_NETWORK, RPC_GIFTCODE_UNKNOWN,
          RPC_GIFTCODE_ALREADY_REDEEMED, RPC_GIFTCODE_CANCELLED, RPC_NODE_INVALID_PARAMETER, RPC_NODE_DATABASE_ERROR}},
        {"getgiftcodeinfo", GetGiftCodeInfoRpc, {}, {}},
        {"setgiftcodelimits", SetGiftCodeLimitsRpc, {"limits"}, {RPC_NODE_INVALID_PARAMETER, RPC_NODE_DATABASE_ERROR}},
        {"pausegiftcodes", PauseGiftCodesRpc, {"reason"}, {RPC_NODE_INVALID_PARAMETER, RPC_NODE_DATABASE_ERROR}},
        {"resumegiftcodes", ResumeGiftCodesRpc, {}, {RPC_NODE_DATABASE_ERROR}},
    };
    return methods;
}

} // namespace giftcode
