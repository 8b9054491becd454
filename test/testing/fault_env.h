// A power cut for a real LevelDB database, after LevelDB's own
// db/fault_injection_test.cc. MakePowerLossEnv gives a leveldb::Env that
// writes through to the real files, so the database reads and writes as
// usual, and records in a journal (a file outside the database directory)
// what the disk would keep if the power failed: how far each file has been
// synced, and which new files have a durable directory entry. After the
// process using it has died (SIGKILL), PowerCut replays the journal and puts
// the directory back to what had last been synced.
//
// The model, as LevelDB's test has it:
//  - a file created by NewWritableFile, or by NewAppendableFile when it did
//    not exist, has no durable directory entry until a Sync of a file that
//    was itself created since the last directory sync returns: that Sync
//    syncs the parent directory too, making durable the entry of every new
//    file in that directory created before it began;
//  - the bytes of a file are durable up to the position of its last Sync
//    that returned ok; a file opened with NewAppendableFile counts as synced
//    up to the size it had then;
//  - RenameFile and RemoveFile are durable at once (a renamed file keeps its
//    state under its new name);
//  - the info logs (LOG, LOG.old) and files the journal never saw (older
//    than this process, already cut back) are left as they are.
// Its limits: no torn sectors or partly written pages (a file keeps exactly
// its synced prefix); no reordering of writes within a file; renames and
// removals never come undone; a file's data never survives beyond its last
// Sync, though a real disk may keep more. Each event is journalled with one
// write() to a file opened O_APPEND, so a SIGKILL keeps every line whose
// event completed, except in two windows: a process killed after a Sync
// returned but before its line was written loses that Sync (conservative:
// more is cut than a disk would lose; a Sync's caller is told of success only
// after its line is written); one killed after a rename or removal but
// before its line leaves an untracked file, which is kept as it is. A file
// is journalled before it is created, so a new file is never untracked.
//
// Thread-safety: the Env may be used from any number of threads, as LevelDB
// does (a writer and its compaction thread). PowerCut must not run while any
// process still writes the database or the journal.
#ifndef GIFTCODE_TEST_TESTING_FAULT_ENV_H
#define GIFTCODE_TEST_TESTING_FAULT_ENV_H

#include <cstdint>
#include <memory>
#include <string>

namespace leveldb {
class Env;
}

namespace giftcode::testing {

//! An Env over leveldb::Env::Default() that journals to `journal_path`
//! (created if missing, appended to otherwise). Throws std::runtime_error if
//! the journal cannot be opened. The Env must outlive every database opened
//! with it. A failed journal write fails the operation it records with an
//! IOError (the created file is not created; the Sync reports failure).
std::unique_ptr<leveldb::Env> MakePowerLossEnv(const std::string& journal_path);

//! What a power cut discarded.
struct PowerCutReport {
    size_t files_removed{0};    //!< new files whose directory entry was never durable
    size_t files_truncated{0};  //!< files cut back to their last Sync
    uint64_t bytes_discarded{0};  //!< from both
};

//! Cuts the power on the files of `db_dir` journalled in `journal_path`:
//! every journalled file is truncated to its last synced size, and every
//! file created without a durable directory entry is removed; files that
//! are missing, untracked, or outside `db_dir` are left alone. Then empties
//! the journal, so the next process starts from a fully durable directory.
//! Throws std::runtime_error if the journal cannot be read or is malformed,
//! or a file cannot be cut back.
PowerCutReport PowerCut(const std::string& db_dir, const std::string& journal_path);

} // namespace giftcode::testing

#endif // GIFTCODE_TEST_TESTING_FAULT_ENV_H
