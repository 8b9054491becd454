// One line per event on standard error (the journal under systemd), with a
// UTC timestamp. Callers never pass a code: at most its short id.
//
// Thread-safety: Log may be called from any thread; lines never interleave.
#ifndef GIFTCODE_CLAIM_LOG_H
#define GIFTCODE_CLAIM_LOG_H

#include <string>

namespace giftcode::claim {

void Log(const std::string& line);

//! Turns logging off (the unit tests) or on.
void SetLogging(bool enabled);

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_LOG_H
