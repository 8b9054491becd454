// Fuzz target: ParseCode never crashes on any input, and whatever it accepts
// formats back to a code that parses to the same secret and id.
#include "code.h"

#include <cstdlib>
#include <string>

using namespace giftcode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (Network net : {Network::kMain, Network::kTest, Network::kRegtest}) {
        Result<ParsedCode> parsed = ParseCode(text, net);
        if (!parsed.ok()) continue;
        if (parsed->network != net) abort();
        Result<ParsedCode> again = ParseCode(FormatCode(net, parsed->secret), net);
        if (!again.ok() || again->secret.bytes() != parsed->secret.bytes() || again->Id() != parsed->Id()) abort();
    }
    return 0;
}
