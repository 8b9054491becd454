/* powercut: an LD_PRELOAD library that lets a test cut the power of a real
 * process. It watches every write to the files under one directory tree
 * (POWERCUT_ROOT) and journals, before the write happens, what a power loss
 * would bring back: the bytes a write overwrites inside the file's last
 * synced size, the size itself, and which new files have a durable directory
 * entry. fsync and fdatasync move a file's synced state forward. The cut is
 * SIGKILL followed by powercut.py's rollback, which replays the journal and
 * puts every file back to what had last been synced.
 *
 * Environment:
 *   POWERCUT_ROOT     directory tree to watch (required; without it the
 *                     library only passes calls through)
 *   POWERCUT_JOURNAL  journal file, outside POWERCUT_ROOT (required)
 *   POWERCUT_EXCLUDE  ':'-separated substrings; matching paths are not
 *                     watched (for example a log file the test reads)
 *   POWERCUT_FAULTS   control file; while it exists and reads "KIND SUBSTRING",
 *                     calls on watched files whose path contains SUBSTRING
 *                     (any, if it is empty) fail. KIND enospc fails every
 *                     write that needs new blocks (it grows the file or lands
 *                     in a hole of a sparse file), and every truncate or
 *                     allocation that grows it; eio fails every write and
 *                     every fsync/fdatasync; eio-sync:N lets N
 *                     fsync/fdatasync calls through (0 if ":N" is left out),
 *                     then fails every later one, while writes succeed. A
 *                     change of the file's content starts the count again.
 *
 * Journal format (host byte order, records appended with one write() each,
 * so a SIGKILL leaves at most the last record short, which the rollback
 * ignores): a 32-byte header { u32 total_len; u8 type; u8 zero; u16 path_len;
 * u64 seq; u64 a; u64 b } then the path, then the payload.
 *   'B' base      first sight of an existing file: a = its size, all synced
 *   'C' create    a new file (journaled before it exists); its directory
 *                 entry is not durable until a sync in its directory
 *   'U' undo      before a write: the payload is the old content at offset a
 *   'S' sync      fsync/fdatasync of the file returned 0: a = the size when
 *                 it began, b = the seq when it began (undo records older
 *                 than b are void); makes pending entries of its directory
 *                 durable, as LevelDB's fault-injection test does
 *   'D' dir sync  fsync of a directory: its pending entries are durable
 *   'R' rename    after a rename: payload = new path; the state moves
 *   'X' unlink    after an unlink: the state is forgotten
 *
 * What it does not model: renames and unlinks are durable at once (a real
 * power loss may undo one whose directory was not synced); a write is lost
 * or kept whole per journal record (no torn sectors, no reordering inside
 * one file); writes through shared writable mappings are not seen (they are
 * reported on stderr); stdio streams on watched files are made unbuffered so
 * that fwrite reaches the file when it returns; file descriptors copied with
 * dup are not followed.
 *
 * Thread-safety: one mutex serialises the bookkeeping and each watched
 * write with it; fsync itself runs outside it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

struct range {
    uint64_t off, len, seq;
};

struct file_state {
    char* path;            /* NULL once renamed over or unlinked */
    uint64_t synced;       /* size at the last sync (or first sight) */
    uint64_t syncing;      /* size at the start of a sync in flight, or 0 */
    struct range* saved;   /* parts of [0, synced) already saved since the last sync */
    size_t n_saved, cap_saved;
    struct file_state* next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_ready;
static int g_journal = -1;
static char g_root[PATH_MAX];
static size_t g_root_len;
static char* g_exclude;
static const char* g_faults;
static uint64_t g_seq = 1;
static struct file_state* g_files;
static struct file_state** g_fds;
static size_t g_nfds;

#define REAL(name) static __typeof__(name)* real_##name
REAL(open); REAL(open64); REAL(openat); REAL(openat64); REAL(creat); REAL(creat64);
REAL(fopen); REAL(fopen64); REAL(fclose); REAL(fwrite); REAL(close);
REAL(write); REAL(pwrite); REAL(pwrite64); REAL(writev); REAL(pread);
REAL(ftruncate); REAL(ftruncate64); REAL(fallocate); REAL(posix_fallocate); REAL(posix_fallocate64);
REAL(fsync); REAL(fdatasync); REAL(rename); REAL(renameat); REAL(unlink); REAL(unlinkat); REAL(remove);
REAL(mmap); REAL(mmap64);
static int (*real___open_2)(const char*, int);
static int (*real___open64_2)(const char*, int);
static int (*real___openat_2)(int, const char*, int);
static int (*real___openat64_2)(int, const char*, int);
static int (*real_renameat2)(int, const char*, int, const char*, unsigned);

static void Die(const char* what)
{
    static const char prefix[] = "powercut: fatal: ";
    ssize_t ignored = real_write(2, prefix, sizeof(prefix) - 1);
    ignored = real_write(2, what, strlen(what));
    ignored = real_write(2, "\n", 1);
    (void)ignored;
    abort();
}

#define LOAD(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)

__attribute__((constructor)) static void Init(void)
{
    if (g_ready) return;
    LOAD(open); LOAD(open64); LOAD(openat); LOAD(openat64); LOAD(creat); LOAD(creat64);
    LOAD(fopen); LOAD(fopen64); LOAD(fclose); LOAD(fwrite); LOAD(close);
    LOAD(write); LOAD(pwrite); LOAD(pwrite64); LOAD(writev); LOAD(pread);
    LOAD(ftruncate); LOAD(ftruncate64); LOAD(fallocate); LOAD(posix_fallocate); LOAD(posix_fallocate64);
    LOAD(fsync); LOAD(fdatasync); LOAD(rename); LOAD(renameat); LOAD(unlink); LOAD(unlinkat); LOAD(remove);
    LOAD(mmap); LOAD(mmap64);
    LOAD(__open_2); LOAD(__open64_2); LOAD(__openat_2); LOAD(__openat64_2); LOAD(renameat2);
    g_ready = 1;
    const char* root = getenv("POWERCUT_ROOT");
    const char* journal = getenv("POWERCUT_JOURNAL");
    if (!root || !*root || !journal || !*journal) return;
    if (!realpath(root, g_root)) Die("POWERCUT_ROOT does not exist");
    g_root_len = strlen(g_root);
    const char* exclude = getenv("POWERCUT_EXCLUDE");
    if (exclude && *exclude) g_exclude = strdup(exclude);
    g_faults = getenv("POWERCUT_FAULTS");
    g_journal = real_open(journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (g_journal < 0) Die("cannot open POWERCUT_JOURNAL");
    g_nfds = 4096;
    g_fds = calloc(g_nfds, sizeof(*g_fds));
    if (!g_fds) Die("out of memory");
}

static void Ensure(void)
{
    if (!g_ready) Init();
}

/* ---- paths ---- */

/* Lexically normalises `in` (absolute) into `out`: no "//", "." or "..". */
static void Normalise(const char* in, char* out)
{
    size_t n = 0;
    const char* p = in;
    while (*p) {
        while (*p == '/') ++p;
        if (!*p) break;
        const char* end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 1 && p[0] == '.') {
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/') --n;
            if (n > 0) --n;
        } else if (n + 1 + len < PATH_MAX) {
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
    }
    if (n == 0) out[n++] = '/';
    out[n] = 0;
}

/* Absolute path of `path` opened relative to `dirfd`; 0 if it cannot tell. */
static int Resolve(int dirfd, const char* path, char* out)
{
    char joined[PATH_MAX * 2];
    if (!path) return 0;
    if (path[0] == '/') {
        snprintf(joined, sizeof(joined), "%s", path);
    } else {
        char base[PATH_MAX];
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof(base))) return 0;
        } else {
            char link[64];
            snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
            ssize_t n = readlink(link, base, sizeof(base) - 1);
            if (n <= 0) return 0;
            base[n] = 0;
        }
        snprintf(joined, sizeof(joined), "%s/%s", base, path);
    }
    Normalise(joined, out);
    return 1;
}

static int Watched(const char* abs)
{
    if (g_journal < 0 || g_root_len == 0) return 0;
    if (strncmp(abs, g_root, g_root_len) != 0 || (abs[g_root_len] != '/' && abs[g_root_len] != 0)) return 0;
    if (g_exclude) {
        const char* p = g_exclude;
        while (*p) {
            const char* end = strchr(p, ':');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len > 0) {
                char part[PATH_MAX];
                if (len >= sizeof(part)) len = sizeof(part) - 1;
                memcpy(part, p, len);
                part[len] = 0;
                if (strstr(abs, part)) return 0;
            }
            p += len;
            if (*p == ':') ++p;
        }
    }
    return 1;
}

/* ---- journal ---- */

struct header {
    uint32_t total_len;
    uint8_t type;
    uint8_t zero;
    uint16_t path_len;
    uint64_t seq, a, b;
};

static uint64_t Journal(char type, const char* path, uint64_t a, uint64_t b, const void* payload, size_t payload_len)
{
    struct header h;
    size_t path_len = strlen(path);
    h.total_len = (uint32_t)(sizeof(h) + path_len + payload_len);
    h.type = (uint8_t)type;
    h.zero = 0;
    h.path_len = (uint16_t)path_len;
    h.seq = g_seq++;
    h.a = a;
    h.b = b;
    struct iovec iov[3] = {{&h, sizeof(h)}, {(void*)path, path_len}, {(void*)payload, payload_len}};
    ssize_t want = (ssize_t)h.total_len;
    if (real_writev(g_journal, iov, 3) != want) Die("journal write failed");
    return h.seq;
}

/* ---- file states ---- */

static struct file_state* Find(const char* abs)
{
    for (struct file_state* f = g_files; f; f = f->next) {
        if (f->path && strcmp(f->path, abs) == 0) return f;
    }
    return NULL;
}

static struct file_state* Add(const char* abs, uint64_t synced)
{
    struct file_state* f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(abs))) Die("out of memory");
    f->synced = synced;
    f->next = g_files;
    g_files = f;
    return f;
}

static void Forget(struct file_state* f)
{
    if (!f) return;
    free(f->path);
    f->path = NULL;
    f->n_saved = 0;
}

static struct file_state* ForFd(int fd)
{
    if (fd < 0 || (size_t)fd >= g_nfds) return NULL;
    struct file_state* f = g_fds[fd];
    return f && f->path ? f : NULL;
}

static void Bind(int fd, struct file_state* f)
{
    if (fd < 0) return;
    if ((size_t)fd >= g_nfds) {
        size_t n = g_nfds;
        while ((size_t)fd >= n) n *= 2;
        struct file_state** grown = realloc(g_fds, n * sizeof(*grown));
        if (!grown) Die("out of memory");
        memset(grown + g_nfds, 0, (n - g_nfds) * sizeof(*grown));
        g_fds = grown;
        g_nfds = n;
    }
    g_fds[fd] = f;
}

/* Called with g_lock held, before a file at `abs` is opened (or created). */
static struct file_state* Sight(const char* abs, int creating, int truncating);

static uint64_t Limit(const struct file_state* f)
{
    return f->synced > f->syncing ? f->synced : f->syncing;
}

/* Journals the old content of [off, off+len) inside the synced size that
 * has not been saved since the last sync. Called with g_lock held. */
static void SaveOld(struct file_state* f, uint64_t off, uint64_t len)
{
    uint64_t limit = Limit(f);
    if (off >= limit || len == 0) return;
    uint64_t end = off + len < limit ? off + len : limit;
    /* Walk [off, end) and save each piece no saved range covers. */
    uint64_t pos = off;
    while (pos < end) {
        uint64_t piece_end = end;
        int covered = 0;
        for (size_t i = 0; i < f->n_saved; ++i) {
            const struct range* r = &f->saved[i];
            if (r->off <= pos && pos < r->off + r->len) {
                covered = 1;
                pos = r->off + r->len;
                break;
            }
            if (r->off > pos && r->off < piece_end) piece_end = r->off;
        }
        if (covered) continue;
        uint64_t n = piece_end - pos;
        char* old = malloc(n ? n : 1);
        if (!old) Die("out of memory");
        int fd = real_open(f->path, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? real_pread(fd, old, n, (off_t)pos) : -1;
        if (fd >= 0) real_close(fd);
        if (got < 0) got = 0;
        uint64_t seq = Journal('U', f->path, pos, 0, old, (size_t)got);
        free(old);
        if (f->n_saved == f->cap_saved) {
            f->cap_saved = f->cap_saved ? f->cap_saved * 2 : 16;
            f->saved = realloc(f->saved, f->cap_saved * sizeof(*f->saved));
            if (!f->saved) Die("out of memory");
        }
        f->saved[f->n_saved++] = (struct range){pos, n, seq};
        pos = piece_end;
    }
}

static struct file_state* Sight(const char* abs, int creating, int truncating)
{
    struct stat st;
    int exists = stat(abs, &st) == 0;
    struct file_state* f = Find(abs);
    if (!f) {
        if (exists) {
            f = Add(abs, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
            Journal('B', abs, f->synced, 0, NULL, 0);
        } else if (creating) {
            Journal('C', abs, 0, 0, NULL, 0);
            f = Add(abs, 0);
        } else {
            return NULL;
        }
    }
    if (exists && truncating && S_ISREG(st.st_mode)) SaveOld(f, 0, (uint64_t)st.st_size);
    return f;
}

/* ---- faults ---- */

enum fault { NO_FAULT, FAULT_ENOSPC, FAULT_EIO, FAULT_EIO_SYNC };

static char g_fault_spec[PATH_MAX + 32];
static unsigned long g_syncs_let_through;

/* The fault the control file sets for `f` now. Called with g_lock held. */
static enum fault Fault(const struct file_state* f, unsigned long* syncs_allowed)
{
    *syncs_allowed = 0;
    if (!g_faults) return NO_FAULT;
    int fd = real_open(g_faults, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        g_fault_spec[0] = 0;
        return NO_FAULT;
    }
    char buf[sizeof(g_fault_spec)];
    ssize_t n = real_pread(fd, buf, sizeof(buf) - 1, 0);
    real_close(fd);
    if (n <= 0) return NO_FAULT;
    buf[n] = 0;
    if (strcmp(buf, g_fault_spec) != 0) {  /* a new fault: its sync count starts again */
        memcpy(g_fault_spec, buf, (size_t)n + 1);
        g_syncs_let_through = 0;
    }
    char* nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    char* sub = strchr(buf, ' ');
    if (sub) *sub++ = 0;
    if (sub && *sub && !strstr(f->path, sub)) return NO_FAULT;
    char* count = strchr(buf, ':');
    if (count) {
        *count++ = 0;
        *syncs_allowed = strtoul(count, NULL, 10);
    }
    if (strcmp(buf, "enospc") == 0) return FAULT_ENOSPC;
    if (strcmp(buf, "eio") == 0) return FAULT_EIO;
    if (strcmp(buf, "eio-sync") == 0) return FAULT_EIO_SYNC;
    return NO_FAULT;
}

/* Whether a fsync/fdatasync of `f` fails now. Called with g_lock held. */
static int SyncFails(const struct file_state* f)
{
    unsigned long allowed;
    switch (Fault(f, &allowed)) {
    case FAULT_EIO:
        return 1;
    case FAULT_EIO_SYNC:
        if (g_syncs_let_through < allowed) {
            ++g_syncs_let_through;
            return 0;
        }
        return 1;
    case FAULT_ENOSPC:
    case NO_FAULT:
        return 0;
    }
    return 0;
}

static uint64_t SizeOf(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Whether [off, off+len) of the file has a hole: a write there needs new
 * blocks, which a full disk refuses (sparse files, such as Berkeley DB's
 * log files, which it extends to their full size at creation). */
static int HasHole(const struct file_state* f, uint64_t off, uint64_t len)
{
    int fd = real_open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    off_t hole = lseek(fd, (off_t)off, SEEK_HOLE);
    real_close(fd);
    return hole >= 0 && (uint64_t)hole < off + len;
}

/* Before a write of `len` bytes at `off` (or at the end, for append): fails
 * it if a fault says so, else saves what it overwrites. 0 = go ahead. */
static int BeforeWrite(int fd, struct file_state* f, int64_t off, uint64_t len)
{
    uint64_t size = SizeOf(fd);
    if (off < 0) {
        int flags = fcntl(fd, F_GETFL);
        off = (flags >= 0 && (flags & O_APPEND)) ? (int64_t)size : (int64_t)lseek(fd, 0, SEEK_CUR);
        if (off < 0) off = (int64_t)size;
    }
    unsigned long allowed;
    switch (Fault(f, &allowed)) {
    case FAULT_EIO:
        errno = EIO;
        return -1;
    case FAULT_EIO_SYNC:
        break;
    case FAULT_ENOSPC:
        if ((uint64_t)off + len > size || HasHole(f, (uint64_t)off, len)) {
            errno = ENOSPC;
            return -1;
        }
        break;
    case NO_FAULT:
        break;
    }
    SaveOld(f, (uint64_t)off, len);
    return 0;
}

/* ---- opening and closing ---- */

static int Writable(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY;
}

#define OPEN_BODY(dirfd, path, flags, call)                                                \
    Ensure();                                                                              \
    char abs[PATH_MAX];                                                                    \
    if (g_journal < 0 || !Resolve(dirfd, path, abs) || !Watched(abs)) return call;         \
    pthread_mutex_lock(&g_lock);                                                           \
    struct file_state* f = Sight(abs, (flags) & O_CREAT, Writable(flags) && ((flags) & O_TRUNC)); \
    int fd = call;                                                                         \
    int saved_errno = errno;                                                               \
    if (fd >= 0 && f) Bind(fd, f);                                                         \
    pthread_mutex_unlock(&g_lock);                                                         \
    errno = saved_errno;                                                                   \
    return fd;

static mode_t ModeArg(int flags, va_list ap)
{
    return ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char* path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = ModeArg(flags, ap);
    va_end(ap);
    OPEN_BODY(AT_FDCWD, path, flags, real_open(path, flags, mode))
}

EXPORT int open64(const char* path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = ModeArg(flags, ap);
    va_end(ap);
    OPEN_BODY(AT_FDCWD, path, flags, real_open64(path, flags, mode))
}

EXPORT int openat(int dirfd, const char* path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = ModeArg(flags, ap);
    va_end(ap);
    OPEN_BODY(dirfd, path, flags, real_openat(dirfd, path, flags, mode))
}

EXPORT int openat64(int dirfd, const char* path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = ModeArg(flags, ap);
    va_end(ap);
    OPEN_BODY(dirfd, path, flags, real_openat64(dirfd, path, flags, mode))
}

EXPORT int __open_2(const char* path, int flags)
{
    OPEN_BODY(AT_FDCWD, path, flags, real___open_2(path, flags))
}

EXPORT int __open64_2(const char* path, int flags)
{
    OPEN_BODY(AT_FDCWD, path, flags, real___open64_2(path, flags))
}

EXPORT int __openat_2(int dirfd, const char* path, int flags)
{
    OPEN_BODY(dirfd, path, flags, real___openat_2(dirfd, path, flags))
}

EXPORT int __openat64_2(int dirfd, const char* path, int flags)
{
    OPEN_BODY(dirfd, path, flags, real___openat64_2(dirfd, path, flags))
}

EXPORT int creat(const char* path, mode_t mode)
{
    return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

EXPORT int creat64(const char* path, mode_t mode)
{
    return open64(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

static FILE* OpenStream(const char* path, const char* mode, FILE* (*call)(const char*, const char*))
{
    Ensure();
    char abs[PATH_MAX];
    if (g_journal < 0 || !Resolve(AT_FDCWD, path, abs) || !Watched(abs)) return call(path, mode);
    int writing = strpbrk(mode, "wa+") != NULL;
    pthread_mutex_lock(&g_lock);
    struct file_state* f = Sight(abs, writing, strchr(mode, 'w') != NULL);
    FILE* stream = call(path, mode);
    int saved_errno = errno;
    if (stream && f) {
        if (writing) setvbuf(stream, NULL, _IONBF, 0);
        Bind(fileno(stream), f);
    }
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return stream;
}

EXPORT FILE* fopen(const char* path, const char* mode)
{
    Ensure();
    return OpenStream(path, mode, real_fopen);
}

EXPORT FILE* fopen64(const char* path, const char* mode)
{
    Ensure();
    return OpenStream(path, mode, real_fopen64);
}

EXPORT int fclose(FILE* stream)
{
    Ensure();
    if (stream && g_journal >= 0) {
        pthread_mutex_lock(&g_lock);
        Bind(fileno(stream), NULL);
        pthread_mutex_unlock(&g_lock);
    }
    return real_fclose(stream);
}

EXPORT int close(int fd)
{
    Ensure();
    if (g_journal >= 0) {
        pthread_mutex_lock(&g_lock);
        if (fd >= 0 && (size_t)fd < g_nfds) g_fds[fd] = NULL;
        pthread_mutex_unlock(&g_lock);
    }
    return real_close(fd);
}

/* ---- writing ---- */

#define WRITE_BODY(fd, off, len, call)                          \
    Ensure();                                                   \
    if (g_journal < 0) return call;                             \
    pthread_mutex_lock(&g_lock);                                \
    struct file_state* f = ForFd(fd);                           \
    if (!f) {                                                   \
        pthread_mutex_unlock(&g_lock);                          \
        return call;                                            \
    }                                                           \
    if (BeforeWrite(fd, f, off, len) != 0) {                    \
        pthread_mutex_unlock(&g_lock);                          \
        return -1;                                              \
    }                                                           \
    __typeof__(call) result = call;                             \
    int saved_errno = errno;                                    \
    pthread_mutex_unlock(&g_lock);                              \
    errno = saved_errno;                                        \
    return result;

EXPORT ssize_t write(int fd, const void* buf, size_t len)
{
    WRITE_BODY(fd, -1, len, real_write(fd, buf, len))
}

EXPORT ssize_t pwrite(int fd, const void* buf, size_t len, off_t off)
{
    WRITE_BODY(fd, off, len, real_pwrite(fd, buf, len, off))
}

EXPORT ssize_t pwrite64(int fd, const void* buf, size_t len, off64_t off)
{
    WRITE_BODY(fd, off, len, real_pwrite64(fd, buf, len, off))
}

static uint64_t IovLen(const struct iovec* iov, int n)
{
    uint64_t total = 0;
    for (int i = 0; i < n; ++i) total += iov[i].iov_len;
    return total;
}

EXPORT ssize_t writev(int fd, const struct iovec* iov, int n)
{
    WRITE_BODY(fd, -1, IovLen(iov, n), real_writev(fd, iov, n))
}

EXPORT size_t fwrite(const void* buf, size_t size, size_t n, FILE* stream)
{
    Ensure();
    if (g_journal < 0) return real_fwrite(buf, size, n, stream);
    pthread_mutex_lock(&g_lock);
    int fd = fileno(stream);
    struct file_state* f = ForFd(fd);
    if (!f) {
        pthread_mutex_unlock(&g_lock);
        return real_fwrite(buf, size, n, stream);
    }
    /* The stream is unbuffered (OpenStream), so its position is the fd's. */
    if (BeforeWrite(fd, f, -1, (uint64_t)size * n) != 0) {
        pthread_mutex_unlock(&g_lock);
        return 0;
    }
    size_t result = real_fwrite(buf, size, n, stream);
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

static int Resize(int fd, uint64_t len, int (*call)(int, off_t))
{
    Ensure();
    if (g_journal < 0) return call(fd, (off_t)len);
    pthread_mutex_lock(&g_lock);
    struct file_state* f = ForFd(fd);
    if (f) {
        unsigned long allowed;
        enum fault fault = Fault(f, &allowed);
        if (fault == FAULT_EIO || (fault == FAULT_ENOSPC && len > SizeOf(fd))) {
            pthread_mutex_unlock(&g_lock);
            errno = fault == FAULT_EIO ? EIO : ENOSPC;
            return -1;
        }
        if (len < Limit(f)) SaveOld(f, len, Limit(f) - len);
    }
    int result = call(fd, (off_t)len);
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

EXPORT int ftruncate(int fd, off_t len)
{
    Ensure();
    return Resize(fd, (uint64_t)len, real_ftruncate);
}

EXPORT int ftruncate64(int fd, off64_t len)
{
    Ensure();
    return Resize(fd, (uint64_t)len, real_ftruncate64);
}

/* Allocation: growing is undone by the size rollback; punching a hole
 * overwrites, so its old content is saved. Returns an errno value or 0. */
static int BeforeAllocate(int fd, int mode, uint64_t off, uint64_t len)
{
    struct file_state* f = ForFd(fd);
    if (!f) return 0;
    unsigned long allowed;
    enum fault fault = Fault(f, &allowed);
    if (fault == FAULT_EIO) return EIO;
    if (fault == FAULT_ENOSPC && off + len > SizeOf(fd)) return ENOSPC;
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) {
        SaveOld(f, off, mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE) ? Limit(f) : len);
    }
    return 0;
}

EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
    Ensure();
    if (g_journal < 0) return real_fallocate(fd, mode, off, len);
    pthread_mutex_lock(&g_lock);
    int error = BeforeAllocate(fd, mode, (uint64_t)off, (uint64_t)len);
    int result = error ? -1 : real_fallocate(fd, mode, off, len);
    int saved_errno = error ? error : errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
    Ensure();
    if (g_journal < 0) return real_posix_fallocate(fd, off, len);
    pthread_mutex_lock(&g_lock);
    int error = BeforeAllocate(fd, 0, (uint64_t)off, (uint64_t)len);
    int result = error ? error : real_posix_fallocate(fd, off, len);
    pthread_mutex_unlock(&g_lock);
    return result;
}

EXPORT int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    Ensure();
    if (g_journal < 0) return real_posix_fallocate64(fd, off, len);
    pthread_mutex_lock(&g_lock);
    int error = BeforeAllocate(fd, 0, (uint64_t)off, (uint64_t)len);
    int result = error ? error : real_posix_fallocate64(fd, off, len);
    pthread_mutex_unlock(&g_lock);
    return result;
}

/* ---- syncing ---- */

static int Sync(int fd, int (*call)(int))
{
    Ensure();
    if (g_journal < 0) return call(fd);
    pthread_mutex_lock(&g_lock);
    struct file_state* f = ForFd(fd);
    if (!f) {
        pthread_mutex_unlock(&g_lock);
        return call(fd);
    }
    if (SyncFails(f)) {
        pthread_mutex_unlock(&g_lock);
        errno = EIO;
        return -1;
    }
    struct stat st;
    int is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    uint64_t size = is_dir ? 0 : (uint64_t)st.st_size;
    uint64_t begun = g_seq;
    if (!is_dir && size > f->syncing) f->syncing = size;
    pthread_mutex_unlock(&g_lock);

    int result = call(fd);
    int saved_errno = errno;

    pthread_mutex_lock(&g_lock);
    if (f->path) {
        if (is_dir) {
            if (result == 0) Journal('D', f->path, 0, 0, NULL, 0);
        } else {
            if (result == 0) {
                Journal('S', f->path, size, begun, NULL, 0);
                f->synced = size;
                size_t kept = 0;
                for (size_t i = 0; i < f->n_saved; ++i) {
                    if (f->saved[i].seq >= begun) f->saved[kept++] = f->saved[i];
                }
                f->n_saved = kept;
            }
            f->syncing = 0;
        }
    }
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

EXPORT int fsync(int fd)
{
    Ensure();
    return Sync(fd, real_fsync);
}

EXPORT int fdatasync(int fd)
{
    Ensure();
    return Sync(fd, real_fdatasync);
}

/* ---- names ---- */

static int Renamed(int olddir, const char* oldpath, int newdir, const char* newpath, int result)
{
    char from[PATH_MAX], to[PATH_MAX];
    if (result != 0 || !Resolve(olddir, oldpath, from) || !Resolve(newdir, newpath, to)) return result;
    if (!Watched(from) && !Watched(to)) return result;
    struct file_state* moving = Find(from);
    Forget(Find(to));
    if (moving) {
        free(moving->path);
        moving->path = strdup(to);
        if (!moving->path) Die("out of memory");
    }
    Journal('R', from, 0, 0, to, strlen(to));
    return result;
}

EXPORT int rename(const char* oldpath, const char* newpath)
{
    Ensure();
    if (g_journal < 0) return real_rename(oldpath, newpath);
    pthread_mutex_lock(&g_lock);
    int result = Renamed(AT_FDCWD, oldpath, AT_FDCWD, newpath, real_rename(oldpath, newpath));
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

EXPORT int renameat(int olddir, const char* oldpath, int newdir, const char* newpath)
{
    Ensure();
    if (g_journal < 0) return real_renameat(olddir, oldpath, newdir, newpath);
    pthread_mutex_lock(&g_lock);
    int result = Renamed(olddir, oldpath, newdir, newpath, real_renameat(olddir, oldpath, newdir, newpath));
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

EXPORT int renameat2(int olddir, const char* oldpath, int newdir, const char* newpath, unsigned flags)
{
    Ensure();
    if (g_journal < 0) return real_renameat2(olddir, oldpath, newdir, newpath, flags);
    pthread_mutex_lock(&g_lock);
    int result = Renamed(olddir, oldpath, newdir, newpath, real_renameat2(olddir, oldpath, newdir, newpath, flags));
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

static int Unlinked(int dirfd, const char* path, int result)
{
    char abs[PATH_MAX];
    if (result != 0 || !Resolve(dirfd, path, abs) || !Watched(abs)) return result;
    Forget(Find(abs));
    Journal('X', abs, 0, 0, NULL, 0);
    return result;
}

EXPORT int unlink(const char* path)
{
    Ensure();
    if (g_journal < 0) return real_unlink(path);
    pthread_mutex_lock(&g_lock);
    int result = Unlinked(AT_FDCWD, path, real_unlink(path));
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

EXPORT int unlinkat(int dirfd, const char* path, int flags)
{
    Ensure();
    if (g_journal < 0) return real_unlinkat(dirfd, path, flags);
    pthread_mutex_lock(&g_lock);
    int result = Unlinked(dirfd, path, real_unlinkat(dirfd, path, flags));
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

EXPORT int remove(const char* path)
{
    Ensure();
    if (g_journal < 0) return real_remove(path);
    pthread_mutex_lock(&g_lock);
    int result = Unlinked(AT_FDCWD, path, real_remove(path));
    int saved_errno = errno;
    pthread_mutex_unlock(&g_lock);
    errno = saved_errno;
    return result;
}

/* ---- mappings ---- */

static void WarnMapping(int prot, int flags, int fd)
{
    if (g_journal < 0 || !(prot & PROT_WRITE) || !(flags & MAP_SHARED)) return;
    pthread_mutex_lock(&g_lock);
    struct file_state* f = ForFd(fd);
    if (f) {
        char line[PATH_MAX + 80];
        int n = snprintf(line, sizeof(line), "powercut: writes through a shared mapping of %s are not modelled\n", f->path);
        ssize_t ignored = real_write(2, line, (size_t)n);
        (void)ignored;
    }
    pthread_mutex_unlock(&g_lock);
}

EXPORT void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off)
{
    Ensure();
    WarnMapping(prot, flags, fd);
    return real_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    Ensure();
    WarnMapping(prot, flags, fd);
    return real_mmap64(addr, len, prot, flags, fd, off);
}
