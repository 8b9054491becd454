// Fuzz target: DecodeCodeRecord never crashes on any bytes; whatever it
// accepts in the current version encodes back to exactly the same bytes
// (one encoding per record), and an older record it accepts is written in
// the current version and reads back as the same record. The ledger's
// state record decodes the same way: one encoding per value.
#include "records.h"

#include <cstdlib>
#include <string>

using namespace giftcode;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string value(reinterpret_cast<const char*>(data), size);
    CodeId id;
    Result<CodeRecord> record = DecodeCodeRecord(id, value);
    if (record.ok()) {
        const std::string encoded = EncodeCodeRecord(record.value());
        if (uint8_t(value[0]) == RECORD_VERSION && encoded != value) abort();
        Result<CodeRecord> again = DecodeCodeRecord(id, encoded);
        if (!again.ok() || !(again.value() == record.value())) abort();
    }
    (void)DecodeCodeKey(value);
    Result<int64_t> commits = DecodeLedgerState(value);
    if (commits.ok() && EncodeLedgerState(commits.value()) != value) abort();
    return 0;
}
