// The power-loss Env and the power cut; see fault_env.h.
//
// The journal is text, one event a line, each line written with one write()
// to a file opened O_APPEND:
//   NEW <path>                  before a file is created (or truncated) to be written
//   OPEN <size> <path>          before an existing file of <size> bytes is opened to append
//   SYNC <pos> <path>[ <path>]* after a Sync returned ok: the first path is durable up
//                               to byte <pos>; each further path (a new file) now has a
//                               durable directory entry
//   RENAME <from> <to>          after a rename succeeded
//   REMOVE <path>               after a removal succeeded
// A <path> is written as its length in bytes, ':', then the path, so paths
// may hold any byte. A last line without its '\n' is ignored.
#include "fault_env.h"

#include "sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <leveldb/env.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace giftcode::testing {
namespace {

namespace fs = std::filesystem;

//! LevelDB's human-readable info logs: not part of the database's state.
bool IsInfoLog(const std::string& path)
{
    const std::string name = fs::path(path).filename().string();
    return name == "LOG" || name == "LOG.old";
}

std::string PathField(const std::string& path) { return std::to_string(path.size()) + ":" + path; }

class PowerLossEnv;

//! A file being written, which counts the bytes appended so that a Sync
//! can journal the position it made durable.
class JournalledFile : public leveldb::WritableFile {
public:
    JournalledFile(PowerLossEnv& env, std::string path, leveldb::WritableFile* target, uint64_t size)
        : m_env(env), m_path(std::move(path)), m_target(target), m_size(size)
    {
    }

    leveldb::Status Append(const leveldb::Slice& data) override
    {
        leveldb::Status s = m_target->Append(data);
        if (s.ok()) m_size += data.size();
        return s;
    }
    leveldb::Status Close() override { return m_target->Close(); }
    leveldb::Status Flush() override { return m_target->Flush(); }
    leveldb::Status Sync() override;

private:
    PowerLossEnv& m_env;
    const std::string m_path;
    const std::unique_ptr<leveldb::WritableFile> m_target;
    //! The file's size once every Append so far reaches the disk. LevelDB
    //! uses a WritableFile from one thread at a time.
    uint64_t m_size;
};

class PowerLossEnv : public leveldb::EnvWrapper {
public:
    explicit PowerLossEnv(int journal_fd) : leveldb::EnvWrapper(leveldb::Env::Default()), m_journal_fd(journal_fd) {}
    ~PowerLossEnv() override { close(m_journal_fd); }

    leveldb::Status NewWritableFile(const std::string& path, leveldb::WritableFile** result) override
    {
        if (IsInfoLog(path)) return target()->NewWritableFile(path, result);
        // Journalled first: a file on disk that the journal does not know
        // would survive the cut whole.
        if (!Journal("NEW " + PathField(path))) return JournalFailure(path);
        leveldb::WritableFile* file = nullptr;
        leveldb::Status s = target()->NewWritableFile(path, &file);
        if (!s.ok()) return s;
        {
            MutexLock lock(m_mutex);
            m_entries_not_durable.insert(path);
        }
        *result = new JournalledFile(*this, path, file, 0);
        return s;
    }

    leveldb::Status NewAppendableFile(const std::string& path, leveldb::WritableFile** result) override
    {
        if (IsInfoLog(path)) return target()->NewAppendableFile(path, result);
        uint64_t size = 0;
        const bool exists = target()->FileExists(path);
        if (exists) {
            leveldb::Status s = target()->GetFileSize(path, &size);
            if (!s.ok()) return s;
        }
        const std::string line = exists ? "OPEN " + std::to_string(size) + " " + PathField(path) : "NEW " + PathField(path);
        if (!Journal(line)) return JournalFailure(path);
        leveldb::WritableFile* file = nullptr;
        leveldb::Status s = target()->NewAppendableFile(path, &file);
        if (!s.ok()) return s;
        if (!exists) {
            MutexLock lock(m_mutex);
            m_entries_not_durable.insert(path);
        }
        *result = new JournalledFile(*this, path, file, size);
        return s;
    }

    leveldb::Status RenameFile(const std::string& from, const std::string& to) override
    {
        leveldb::Status s = target()->RenameFile(from, to);
        if (!s.ok() || IsInfoLog(from) || IsInfoLog(to)) return s;
        {
            // The entry's durability moves with the name.
            MutexLock lock(m_mutex);
            if (m_entries_not_durable.erase(from)) {
                m_entries_not_durable.insert(to);
            } else {
                m_entries_not_durable.erase(to);
            }
        }
        if (!Journal("RENAME " + PathField(from) + " " + PathField(to))) return JournalFailure(to);
        return s;
    }

    leveldb::Status RemoveFile(const std::string& path) override
    {
        leveldb::Status s = target()->RemoveFile(path);
        if (!s.ok() || IsInfoLog(path)) return s;
        {
            MutexLock lock(m_mutex);
            m_entries_not_durable.erase(path);
        }
        if (!Journal("REMOVE " + PathField(path))) return JournalFailure(path);
        return s;
    }

    //! Syncs `file`, then journals that `path` is durable up to `size`.
    //! When `path` is a file created since the last directory sync, that
    //! directory counts as synced too: every new file in it created before
    //! this Sync began gets a durable entry.
    leveldb::Status SyncFile(const std::string& path, leveldb::WritableFile& file, uint64_t size)
    {
        std::vector<std::string> entries;
        {
            MutexLock lock(m_mutex);
            if (m_entries_not_durable.count(path)) {
                const fs::path dir = fs::path(path).parent_path();
                for (const std::string& p : m_entries_not_durable) {
                    if (fs::path(p).parent_path() == dir) entries.push_back(p);
                }
            }
        }
        leveldb::Status s = file.Sync();
        if (!s.ok()) return s;
        std::string line = "SYNC " + std::to_string(size) + " " + PathField(path);
        for (const std::string& p : entries) line += " " + PathField(p);
        if (!Journal(line)) return JournalFailure(path);
        MutexLock lock(m_mutex);
        for (const std::string& p : entries) m_entries_not_durable.erase(p);
        return s;
    }

private:
    //! Appends `line` in one write(): lines of several threads never
    //! interleave, and each one is whole or absent after a SIGKILL.
    bool Journal(std::string line)
    {
        line += '\n';
        return write(m_journal_fd, line.data(), line.size()) == ssize_t(line.size());
    }

    static leveldb::Status JournalFailure(const std::string& path)
    {
        return leveldb::Status::IOError(path, "cannot write the power-loss journal");
    }

    const int m_journal_fd;
    Mutex m_mutex;
    //! Files created by this Env whose directory entry is not durable yet.
    std::set<std::string> m_entries_not_durable GC_GUARDED_BY(m_mutex);
};

leveldb::Status JournalledFile::Sync() { return m_env.SyncFile(m_path, *m_target, m_size); }

//! What a power cut keeps of one journalled file.
struct FileState {
    uint64_t synced{0};
    bool entry_durable{false};
};

//! Reads one <path> field starting at `at`; advances `at` past it.
std::string ReadPath(const std::string& line, size_t& at)
{
    const size_t colon = line.find(':', at);
    if (colon == std::string::npos) throw std::runtime_error("power-loss journal: no path in: " + line);
    const uint64_t length = std::stoull(line.substr(at, colon - at));
    if (colon + 1 + length > line.size()) throw std::runtime_error("power-loss journal: path too long in: " + line);
    std::string path = line.substr(colon + 1, length);
    at = colon + 1 + length;
    if (at < line.size()) {
        if (line[at] != ' ') throw std::runtime_error("power-loss journal: bad separator in: " + line);
        ++at;
    }
    return path;
}

//! Reads one decimal number followed by a space starting at `at`.
uint64_t ReadNumber(const std::string& line, size_t& at)
{
    const size_t space = line.find(' ', at);
    if (space == std::string::npos) throw std::runtime_error("power-loss journal: no number in: " + line);
    const uint64_t value = std::stoull(line.substr(at, space - at));
    at = space + 1;
    return value;
}

//! Replays the journal: the state a power cut leaves each journalled file
//! in, by path.
std::map<std::string, FileState> Replay(const std::string& journal)
{
    std::map<std::string, FileState> files;
    size_t start = 0;
    for (size_t end; (end = journal.find('\n', start)) != std::string::npos; start = end + 1) {
        const std::string line = journal.substr(start, end - start);
        const size_t space = line.find(' ');
        if (space == std::string::npos) throw std::runtime_error("power-loss journal: bad line: " + line);
        const std::string event = line.substr(0, space);
        size_t at = space + 1;
        if (event == "NEW") {
            files[ReadPath(line, at)] = FileState{0, false};
        } else if (event == "OPEN") {
            const uint64_t size = ReadNumber(line, at);
            // A file this process created keeps what it had; an older one
            // is durable as it stands.
            files.emplace(ReadPath(line, at), FileState{size, true});
        } else if (event == "SYNC") {
            const uint64_t pos = ReadNumber(line, at);
            auto it = files.find(ReadPath(line, at));
            if (it != files.end()) it->second.synced = pos;
            while (at < line.size()) {
                auto entry = files.find(ReadPath(line, at));
                if (entry != files.end()) entry->second.entry_durable = true;
            }
        } else if (event == "RENAME") {
            const std::string from = ReadPath(line, at);
            const std::string to = ReadPath(line, at);
            auto it = files.find(from);
            if (it != files.end()) {
                const FileState moved = it->second;
                files.erase(it);
                files[to] = moved;
            } else {
                // An untracked file now holds the name, durable as it is.
                files.erase(to);
            }
        } else if (event == "REMOVE") {
            files.erase(ReadPath(line, at));
        } else {
            throw std::runtime_error("power-loss journal: unknown event: " + line);
        }
        if (at != line.size()) throw std::runtime_error("power-loss journal: trailing bytes in: " + line);
    }
    return files;
}

} // namespace

std::unique_ptr<leveldb::Env> MakePowerLossEnv(const std::string& journal_path)
{
    const int fd = open(journal_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open the power-loss journal " + journal_path);
    return std::make_unique<PowerLossEnv>(fd);
}

PowerCutReport PowerCut(const std::string& db_dir, const std::string& journal_path)
{
    std::string journal;
    {
        std::ifstream in(journal_path, std::ios::binary);
        if (!in && fs::exists(journal_path)) throw std::runtime_error("cannot read " + journal_path);
        std::ostringstream content;
        content << in.rdbuf();
        journal = content.str();
    }
    const fs::path dir = fs::weakly_canonical(db_dir);
    PowerCutReport report;
    for (const auto& [path, state] : Replay(journal)) {
        if (fs::weakly_canonical(fs::path(path).parent_path()) != dir) continue;
        std::error_code error;
        const uint64_t size = fs::file_size(path, error);
        // Missing: removed, or killed between its NEW line and its creation.
        if (error) continue;
        if (!state.entry_durable) {
            if (!fs::remove(path, error) || error) throw std::runtime_error("cannot remove " + path);
            ++report.files_removed;
            report.bytes_discarded += size;
        } else if (size > state.synced) {
            fs::resize_file(path, state.synced, error);
            if (error) throw std::runtime_error("cannot truncate " + path + ": " + error.message());
            ++report.files_truncated;
            report.bytes_discarded += size - state.synced;
        }
    }
    if (!std::ofstream(journal_path, std::ios::trunc)) throw std::runtime_error("cannot empty " + journal_path);
    return report;
}

} // namespace giftcode::testing
