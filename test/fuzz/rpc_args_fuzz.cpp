// Fuzz target: every gift-code RPC body takes any params without undefined
// behaviour (the fuzz preset halts on the first sanitizer report), answers
// with a top-level object or an error with a message, and a refused call
// changes nothing stored.
//
// Input: the first byte picks the RPC from RpcMethods(); the rest is read as
// JSON (not an array: wrapped in one; not JSON: one string parameter). Each
// input gets a fresh ledger over the shared fakes holding one code in each
// stored state, and top-level string parameters "$issued", "$redeemed",
// "$cancelled", "$id" and "$addr" are replaced by such a code, the issued
// code's id and a valid address, so arguments reach the ledger's own checks.
#include "fakes.h"
#include "rpc.h"

#include <cstdlib>
#include <map>
#include <string>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

RpcReply Call(Ledger& ledger, const char* name, const UniValue& params)
{
    for (const RpcMethod& m : RpcMethods()) {
        if (std::string(name) == m.name) return m.body(ledger, params);
    }
    abort();
}

//! A new issued code, as creategiftcode returns it.
UniValue NewCode(Ledger& ledger)
{
    UniValue params(UniValue::VARR);
    params.push_back(UniValue(UniValue::VNUM, "1"));
    RpcReply created = Call(ledger, "creategiftcode", params);
    if (!created.ok()) abort();
    return created.result["codes"][0];
}

//! creategiftcode asking for more than 16 codes: each code costs a commit,
//! and listgiftcodes reads its count with the same parser, so such inputs
//! would only slow the run down. Counts the parser refuses stay in.
bool LargeBatch(const RpcMethod& method, const UniValue& params)
{
    if (std::string(method.name) != "creategiftcode" || params.size() < 2 || !params[1].isNum()) return false;
    const std::string& text = params[1].getValStr();
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
    return text.size() > 2 || (text.size() == 2 && text > "16");
}

std::string Stored(MemoryStore& store)
{
    std::vector<std::pair<std::string, std::string>> rows;
    if (!store.ReadAll(rows).ok()) abort();
    std::string out;
    for (const auto& [k, v] : rows) out += k + "=" + v + ";";
    for (const auto& [k, v] : store.ReadWalletRecords()) out += k + "=" + v + ";";
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0) return 0;
    const std::vector<RpcMethod>& methods = RpcMethods();
    const RpcMethod& method = methods[data[0] % methods.size()];
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

    UniValue params;
    if (!params.read(text)) params = UniValue(text);
    if (!params.isArray()) {
        UniValue wrapped(UniValue::VARR);
        wrapped.push_back(params);
        params = wrapped;
    }
    if (LargeBatch(method, params)) return 0;

    MemoryStore store;
    FakeNode node(store);
    std::unique_ptr<Ledger> ledger = node.Open();
    const UniValue issued = NewCode(*ledger);
    const UniValue redeemed = NewCode(*ledger);
    const UniValue cancelled = NewCode(*ledger);
    UniValue redeem(UniValue::VARR);
    redeem.push_back(redeemed["code"]);
    redeem.push_back(UniValue(TestAddress(1)));
    UniValue cancel(UniValue::VARR);
    cancel.push_back(cancelled["id"]);
    if (!Call(*ledger, "redeemgiftcode", redeem).ok() || !Call(*ledger, "cancelgiftcode", cancel).ok()) abort();

    const std::map<std::string, UniValue> placeholders = {
        {"$issued", issued["code"]}, {"$redeemed", redeemed["code"]}, {"$cancelled", cancelled["code"]},
        {"$id", issued["id"]},       {"$addr", UniValue(TestAddress(2))},
    };
    UniValue call_params(UniValue::VARR);
    for (size_t i = 0; i < params.size(); ++i) {
        const auto it = params[i].isStr() ? placeholders.find(params[i].get_str()) : placeholders.end();
        call_params.push_back(it == placeholders.end() ? params[i] : it->second);
    }

    const std::string before = Stored(store);
    RpcReply reply = method.body(*ledger, call_params);
    if (reply.ok()) {
        if (!reply.result.isObject()) abort();
    } else {
        if (reply.error->code == 0 || reply.error->message.empty()) abort();
        if (Stored(store) != before) abort();
    }
    return 0;
}
