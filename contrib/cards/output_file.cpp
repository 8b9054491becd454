// Exclusive creation of the sheet's file; the guarantees are in
// output_file.h.
#include "output_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace giftcode::cards {
namespace {

std::string Reason(int error) { return std::strerror(error); }

//! Removes the partial file and says why writing failed.
Status Abandon(int fd, const std::string& path, const std::string& what, int error)
{
    if (fd >= 0) close(fd);
    unlink(path.c_str());
    return Status(StatusCode::kStoreFailure, "cannot " + what + " " + path + ": " + Reason(error) +
                                                 " (the partial file was removed)");
}

} // namespace

Status WriteNewFile(const std::string& path, const char* data, size_t len)
{
    // O_EXCL also refuses a symlink at the path, dangling or not.
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        const int error = errno;
        if (error == EEXIST) {
            return Status(StatusCode::kInvalidParameter, path + " exists; refusing to overwrite it (pick a new --out)");
        }
        return Status(StatusCode::kInvalidParameter, "cannot create " + path + ": " + Reason(error));
    }
    // open() applies the umask, which can only narrow 0600; fchmod makes the
    // mode exact either way.
    if (fchmod(fd, 0600) != 0) return Abandon(fd, path, "set the mode of", errno);
    size_t written = 0;
    while (written < len) {
        const ssize_t n = write(fd, data + written, len - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Abandon(fd, path, "write", errno);
        }
        if (n == 0) return Abandon(fd, path, "write", ENOSPC);
        written += size_t(n);
    }
    if (fsync(fd) != 0) return Abandon(fd, path, "sync", errno);
    if (close(fd) != 0) return Abandon(-1, path, "close", errno);
    return Status::Ok();
}

} // namespace giftcode::cards
