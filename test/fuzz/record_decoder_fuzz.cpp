// Fuzz target: DecodeCodeRecord never crashes on any bytes, and whatever it
// accepts encodes back to exactly the same bytes (one encoding per record).
#include "records.h"

#include <cstdlib>
#include <string>

using namespace giftcode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string value(reinterpret_cast<const char*>(data), size);
    CodeId id;
    Result<CodeRecord> record = DecodeCodeRecord(id, value);
    if (record.ok() && EncodeCodeRecord(record.value()) != value) abort();
    (void)DecodeCodeKey(value);
    return 0;
}
