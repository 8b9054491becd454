// A plain mutex with clang thread-safety annotations, so -Wthread-safety can
// check GUARDED_BY and EXCLUSIVE_LOCKS_REQUIRED in the core without any host
// header. With other compilers the annotations expand to nothing.
#ifndef GIFTCODE_CORE_SYNC_H
#define GIFTCODE_CORE_SYNC_H

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define GC_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define GC_THREAD_ANNOTATION(x)
#endif

#define GC_CAPABILITY(x) GC_THREAD_ANNOTATION(capability(x))
#define GC_SCOPED_CAPABILITY GC_THREAD_ANNOTATION(scoped_lockable)
#define GC_GUARDED_BY(x) GC_THREAD_ANNOTATION(guarded_by(x))
#define GC_ACQUIRED_BEFORE(...) GC_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define GC_EXCLUSIVE_LOCKS_REQUIRED(...) GC_THREAD_ANNOTATION(exclusive_locks_required(__VA_ARGS__))
#define GC_LOCKS_EXCLUDED(...) GC_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define GC_ACQUIRE(...) GC_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define GC_RELEASE(...) GC_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define GC_ASSERT_CAPABILITY(x) GC_THREAD_ANNOTATION(assert_capability(x))
#define GC_TRY_ACQUIRE(...) GC_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))

namespace giftcode {

class GC_CAPABILITY("mutex") Mutex {
public:
    void lock() GC_ACQUIRE() { m_mutex.lock(); }
    void unlock() GC_RELEASE() { m_mutex.unlock(); }
    //! Takes the mutex if it is free; false, without waiting, if it is not.
    bool try_lock() GC_TRY_ACQUIRE(true) { return m_mutex.try_lock(); }
    //! Documents (and, under clang, tells the analysis) that the caller holds
    //! this mutex. std::mutex cannot check ownership at run time.
    void AssertHeld() const GC_ASSERT_CAPABILITY(this) {}

private:
    std::mutex m_mutex;
};

class GC_SCOPED_CAPABILITY MutexLock {
public:
    explicit MutexLock(Mutex& mutex) GC_ACQUIRE(mutex) : m_mutex(mutex) { m_mutex.lock(); }
    ~MutexLock() GC_RELEASE() { m_mutex.unlock(); }
    MutexLock(const MutexLock&) = delete;
    MutexLock& operator=(const MutexLock&) = delete;

private:
    Mutex& m_mutex;
};

} // namespace giftcode

#endif // GIFTCODE_CORE_SYNC_H
