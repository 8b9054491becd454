// Writing the sheet. A sheet is a stack of bearer notes, so its file is
// created by this program alone (never an existing file, never through a
// symlink left at its path), readable and writable by its owner only
// whatever the umask, and either written whole and synced to disk or
// removed.
//
// Thread-safety: one call per path at a time.
#ifndef GIFTCODE_CARDS_OUTPUT_FILE_H
#define GIFTCODE_CARDS_OUTPUT_FILE_H

#include "status.h"

#include <cstddef>
#include <string>

namespace giftcode::cards {

//! Creates `path` with mode 0600, writes `len` bytes of `data`, fsyncs and
//! closes it. Fails with kInvalidParameter, touching nothing, when `path`
//! exists (a dangling symlink included) or cannot be created; with
//! kStoreFailure when a write, the sync or the close fails, after removing
//! the partial file.
Status WriteNewFile(const std::string& path, const char* data, size_t len);

} // namespace giftcode::cards

#endif // GIFTCODE_CARDS_OUTPUT_FILE_H
