// Reading creategiftcode's JSON into cards; the accepted shape and the
// checks are in issued_codes.h.
#include "issued_codes.h"

#include "ledger.h"
#include "rpc.h"
#include "sha256.h"

#include <univalue.h>

#include <cstdio>
#include <ctime>
#include <map>
#include <optional>

namespace giftcode::cards {
namespace {

constexpr int64_t LAST_PRINTABLE_TIME = 253402300799; // 9999-12-31 23:59:59 UTC

Status Refuse(const std::string& message) { return Status(StatusCode::kInvalidParameter, message); }

//! Overwrites every string and number the parsed input holds: the values
//! of "code" and "uri" are codes. The tree is ours and not const, so
//! writing through getValStr() is sound; univalue has no other way in.
void WipeJson(UniValue& value)
{
    std::string& text = const_cast<std::string&>(value.getValStr());
    SecureWipe(&text[0], text.size());
    if (value.isArray() || value.isObject()) {
        for (const UniValue& child : value.getValues()) WipeJson(const_cast<UniValue&>(child));
    }
}

//! "object 2, code 3" (1-based), or "code 3" when the input is one object.
std::string Position(bool several, size_t object, size_t code)
{
    std::string out = several ? "object " + std::to_string(object + 1) + ", " : "";
    return out + "code " + std::to_string(code + 1);
}

std::string ObjectPosition(bool several, size_t object)
{
    return several ? "object " + std::to_string(object + 1) : "the input object";
}

//! The code's network, trying each: ParseCode says kWrongNetwork only of a
//! code that is valid on another network.
Result<ParsedCode> ParseAnyNetwork(const std::string& text)
{
    Status failure;
    for (Network network : {Network::kMain, Network::kTest, Network::kRegtest}) {
        Result<ParsedCode> parsed = ParseCode(text, network);
        if (parsed.ok()) return parsed;
        if (parsed.status().code() != StatusCode::kWrongNetwork) return parsed.status();
        failure = parsed.status();
    }
    return failure;
}

Result<std::string> AmountText(const UniValue& amount, const std::string& where)
{
    if (!amount.isNum()) return Refuse(where + ": amount must be a JSON number of MONA");
    const Result<Amount> satoshis = ParseAmount(amount);
    if (!satoshis.ok()) return Refuse(where + ": " + satoshis.status().message());
    if (satoshis.value() > LedgerPolicy{}.max_money) return Refuse(where + ": amount is out of the money range");
    return AmountToValue(satoshis.value()).getValStr() + " MONA";
}

Result<std::string> ExpiryField(const UniValue& expires_at, const std::string& where)
{
    const Status bad = Refuse(where + ": expires_at must be null, 0 or unix seconds");
    if (expires_at.isNull()) return std::string("No expiry");
    if (!expires_at.isNum()) return bad;
    const std::string& text = expires_at.getValStr();
    if (text.empty() || text.size() > 18) return bad;
    int64_t seconds = 0;
    for (char ch : text) {
        if (ch < '0' || ch > '9') return bad;
        seconds = seconds * 10 + (ch - '0');
    }
    Result<std::string> line = ExpiryText(seconds);
    if (!line.ok()) return Refuse(where + ": " + line.status().message());
    return line;
}

} // namespace

Result<std::string> ExpiryText(int64_t expires_at)
{
    if (expires_at == 0) return std::string("No expiry");
    if (expires_at < 0 || expires_at > LAST_PRINTABLE_TIME) {
        return Refuse("expires_at is outside the years 1970 to 9999");
    }
    const time_t seconds = time_t(expires_at);
    struct tm utc {};
    if (!gmtime_r(&seconds, &utc)) return Refuse("expires_at is outside the years 1970 to 9999");
    char line[64];
    snprintf(line, sizeof(line), "Expires %04d-%02d-%02d %02d:%02d UTC", utc.tm_year + 1900, utc.tm_mon + 1,
             utc.tm_mday, utc.tm_hour, utc.tm_min);
    return std::string(line);
}

Result<std::vector<Card>> ReadIssuedCodes(const SecretString& json)
{
    UniValue root;
    struct JsonWiper {
        UniValue& json;
        ~JsonWiper() { WipeJson(json); }
    } wiper{root};
    if (!root.read(json.data(), json.size()) || !(root.isObject() || root.isArray())) {
        return Refuse("the input is not JSON: expected the object creategiftcode prints, or an array of them");
    }
    const bool several = root.isArray();
    std::vector<const UniValue*> batches;
    if (several) {
        for (const UniValue& batch : root.getValues()) batches.push_back(&batch);
    } else {
        batches.push_back(&root);
    }

    std::vector<Card> cards;
    std::map<CodeId, std::string> seen; // id -> position, to refuse a code printed twice
    std::optional<Network> sheet_network;
    for (size_t b = 0; b < batches.size(); ++b) {
        const UniValue& batch = *batches[b];
        const std::string batch_where = ObjectPosition(several, b);
        if (!batch.isObject()) return Refuse(batch_where + " is not a JSON object of creategiftcode");
        const UniValue& codes = find_value(batch, "codes");
        if (!codes.isArray()) return Refuse(batch_where + " has no \"codes\" array");
        if (codes.empty()) return Refuse(batch_where + " has an empty \"codes\" array");
        if (!batch.exists("amount")) return Refuse(batch_where + " has no \"amount\"");
        if (!batch.exists("expires_at")) return Refuse(batch_where + " has no \"expires_at\"");
        Result<std::string> amount = AmountText(find_value(batch, "amount"), batch_where);
        if (!amount.ok()) return amount.status();
        Result<std::string> expiry = ExpiryField(find_value(batch, "expires_at"), batch_where);
        if (!expiry.ok()) return expiry.status();

        for (size_t c = 0; c < codes.size(); ++c) {
            const UniValue& entry = codes[c];
            std::string where = Position(several, b, c);
            if (!entry.isObject()) return Refuse(where + " is not a JSON object");
            const UniValue& id_field = find_value(entry, "id");
            const UniValue& code_field = find_value(entry, "code");
            const UniValue& uri_field = find_value(entry, "uri");
            if (!id_field.isStr()) return Refuse(where + " has no \"id\" string");
            if (!code_field.isStr()) return Refuse(where + " has no \"code\" string");
            const Result<CodeId> id = CodeId::FromHex(id_field.get_str());
            if (!id.ok()) return Refuse(where + ": its id is not 32 hex digits");
            where += " (id " + id->ShortHex() + ")";

            const Result<ParsedCode> parsed = ParseAnyNetwork(code_field.get_str());
            if (!parsed.ok()) return Refuse(where + ": " + parsed.status().message());
            const CodeId code_id = parsed->Id();
            if (code_id != id.value()) return Refuse(where + ": the id does not match the code");
            if (!uri_field.isNull()) {
                if (!uri_field.isStr()) return Refuse(where + ": its uri is not a string");
                const Result<ParsedCode> uri = ParseCode(uri_field.get_str(), parsed->network);
                if (!uri.ok() || uri->Id() != code_id) return Refuse(where + ": its uri is not the same code");
            }
            if (!sheet_network) sheet_network = parsed->network;
            if (parsed->network != *sheet_network) {
                return Refuse(where + " is a " + NetworkPrefix(parsed->network) + " code, but the first code is " +
                              NetworkPrefix(*sheet_network) + ": a sheet holds codes of one network");
            }
            const auto [earlier, inserted] = seen.emplace(code_id, where);
            if (!inserted) return Refuse(where + " is the same code as " + earlier->second);

            Card card;
            card.id = code_id;
            card.network = parsed->network;
            card.amount = amount.value();
            card.expiry = expiry.value();
            std::string code = FormatCode(parsed->network, parsed->secret);
            card.code = TakeSecret(code);
            std::string uri = FormatCodeUri(parsed->network, parsed->secret);
            card.uri = TakeSecret(uri);
            cards.push_back(std::move(card));
        }
    }
    if (cards.empty()) return Refuse("the input holds no codes");
    return cards;
}

} // namespace giftcode::cards
