// LevelDB-backed test store; see leveldb_store.h.
#include "leveldb_store.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <stdexcept>

namespace giftcode::testing {
namespace {

constexpr char LEDGER_PREFIX = 'g';
constexpr char WALLET_PREFIX = 'w';

} // namespace

LevelDbStore::LevelDbStore(const std::string& path, leveldb::Env* env, SyncedCommits synced) : m_synced(synced)
{
    leveldb::Options options;
    options.create_if_missing = true;
    if (env) options.env = env;
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, path, &db);
    if (!s.ok()) throw std::runtime_error("cannot open LevelDB at " + path + ": " + s.ToString());
    m_db.reset(db);
}

LevelDbStore::~LevelDbStore() = default;

std::vector<std::pair<std::string, std::string>> LevelDbStore::ReadPrefix(char prefix)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<leveldb::Iterator> it(m_db->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(std::string(1, prefix)); it->Valid() && it->key()[0] == prefix; it->Next()) {
        out.emplace_back(it->key().ToString().substr(1), it->value().ToString());
    }
    if (!it->status().ok()) throw std::runtime_error("LevelDB read failed: " + it->status().ToString());
    return out;
}

Status LevelDbStore::ReadAll(std::vector<std::pair<std::string, std::string>>& records)
{
    try {
        records = ReadPrefix(LEDGER_PREFIX);
    } catch (const std::exception& e) {
        return Status(StatusCode::kStoreFailure, e.what());
    }
    return Status::Ok();
}

Status LevelDbStore::CommitWithWallet(const RecordWrites& ledger, const RecordWrites& wallet, Durability durability)
{
    leveldb::WriteBatch batch;
    for (const auto& [prefix, writes] : {std::make_pair(LEDGER_PREFIX, &ledger), std::make_pair(WALLET_PREFIX, &wallet)}) {
        for (const RecordWrite& w : *writes) {
            if (w.erase) {
                batch.Delete(prefix + w.key);
            } else {
                batch.Put(prefix + w.key, w.value);
            }
        }
    }
    leveldb::WriteOptions options;
    switch (m_synced) {
    case SyncedCommits::kAsAsked:
        options.sync = durability == Durability::kPowerLoss;
        break;
    case SyncedCommits::kNone:
        options.sync = false;
        break;
    }
    leveldb::Status s = m_db->Write(options, &batch);
    if (!s.ok()) return Status(StatusCode::kStoreFailure, s.ToString());
    return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> LevelDbStore::ReadWalletRecords()
{
    return ReadPrefix(WALLET_PREFIX);
}

} // namespace giftcode::testing
