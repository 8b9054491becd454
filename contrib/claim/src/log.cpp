#include "log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace giftcode::claim {
namespace {
std::mutex g_log_mutex;
std::atomic<bool> g_logging{true};
} // namespace

void SetLogging(bool enabled) { g_logging = enabled; }

void Log(const std::string& line)
{
    if (!g_logging) return;
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &utc);
    std::lock_guard<std::mutex> lock(g_log_mutex);
    std::fprintf(stderr, "%s %s\n", stamp, line.c_str());
    std::fflush(stderr);
}

} // namespace giftcode::claim
