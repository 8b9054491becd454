// A Store over a real LevelDB database, for the crash and concurrency tests.
// Ledger records live under the key prefix "g", wallet records (the fake
// payer's payments) under "w"; a commit of both is one leveldb::WriteBatch,
// and kPowerLoss commits are written with sync = true (unless the store is
// made to skip syncs, to show that a test notices).
//
// Thread-safety: LevelDB's; any thread may commit.
#ifndef GIFTCODE_TEST_TESTING_LEVELDB_STORE_H
#define GIFTCODE_TEST_TESTING_LEVELDB_STORE_H

#include "fakes.h"

#include <memory>
#include <string>

namespace leveldb {
class DB;
class Env;
}

namespace giftcode::testing {

//! Which commits are written with sync = true.
enum class SyncedCommits {
    kAsAsked,  //!< kPowerLoss commits, as the Store port asks
    kNone,     //!< none: a broken store, whose commits a power cut loses
};

class LevelDbStore : public TestStore {
public:
    //! Opens (creating if missing) the database in `path`, through `env`
    //! (leveldb::Env::Default() if null; it must outlive the store); throws
    //! std::runtime_error if it cannot, which ends the test.
    explicit LevelDbStore(const std::string& path, leveldb::Env* env = nullptr,
                          SyncedCommits synced = SyncedCommits::kAsAsked);
    ~LevelDbStore() override;

    Status ReadAll(std::vector<std::pair<std::string, std::string>>& records) override;
    Status CommitWithWallet(const RecordWrites& ledger, const RecordWrites& wallet, Durability durability) override;
    std::vector<std::pair<std::string, std::string>> ReadWalletRecords() override;

private:
    std::vector<std::pair<std::string, std::string>> ReadPrefix(char prefix);
    const SyncedCommits m_synced;
    std::unique_ptr<leveldb::DB> m_db;
};

} // namespace giftcode::testing

#endif // GIFTCODE_TEST_TESTING_LEVELDB_STORE_H
