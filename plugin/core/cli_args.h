// The gift-code RPCs' string arguments that may be null, as monacoin-cli
// must send them. The CLI sends every argument its convert table does not
// name as a JSON string, so `listgiftcodes redeemed null 0 10` would filter
// on the label "null"; naming the argument in that table instead would make
// the CLI parse every label as JSON and refuse `campaign`. For these
// arguments the CLI (src/rpc/client.cpp, patch 0006) sends the exact text
// `null` as JSON null, and any other text as the string it is.
//
// Included by the node's rpc/client.cpp, which is C++11: this header stays
// C++11 and includes no node header. The unit tests check the table against
// the core's argument names (RpcMethods).
#ifndef GIFTCODE_CORE_CLI_ARGS_H
#define GIFTCODE_CORE_CLI_ARGS_H

#include <cstddef>
#include <string>

namespace giftcode {

struct CliNullableArg {
    const char* method;
    int index;
    const char* name;
};

inline const CliNullableArg* CliNullableArgs(size_t& count)
{
    static const CliNullableArg args[] = {
        {"creategiftcode", 2, "label"},
        {"listgiftcodes", 0, "state"},
        {"listgiftcodes", 1, "label"},
    };
    count = sizeof(args) / sizeof(args[0]);
    return args;
}

//! Whether monacoin-cli sends `text`, given for the argument at `index` or
//! named `name` (pass -1 or "" for the other), as JSON null.
inline bool CliSendsNull(const std::string& method, int index, const std::string& name, const std::string& text)
{
    if (text != "null") return false;
    size_t count;
    const CliNullableArg* args = CliNullableArgs(count);
    for (size_t i = 0; i < count; ++i) {
        if (method == args[i].method && (index == args[i].index || name == args[i].name)) return true;
    }
    return false;
}

} // namespace giftcode

#endif // GIFTCODE_CORE_CLI_ARGS_H
