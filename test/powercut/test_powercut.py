#!/usr/bin/env python3
"""Tests of libpowercut.so and its rollback (powercut.py).

Each test runs a Python child with the library preloaded. The child does
file operations under a watched directory, says DONE (or what it saw), and
is cut: SIGKILLed and rolled back. The test then reads what a power loss
would have left. The child's calls reach the library exactly as a native
program's do: os.write is libc's write, os.fsync libc's fsync, and ctypes
calls libc's fopen/fwrite through the same symbol lookup.

Usage: test_powercut.py --lib PATH/libpowercut.so [unittest arguments]
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import powercut  # noqa: E402

LIBRARY = None

PRELUDE = textwrap.dedent("""
    import ctypes, errno, os, sys, threading, time
    ROOT = sys.argv[1]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fwrite.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p]
    libc.fwrite.restype = ctypes.c_size_t
    libc.fileno.argtypes = [ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.posix_fallocate.argtypes = [ctypes.c_int, ctypes.c_long, ctypes.c_long]
    def P(name):
        return os.path.join(ROOT, name)
    def create(name):
        return os.open(P(name), os.O_RDWR | os.O_CREAT, 0o644)
    def append(name, data):
        fd = os.open(P(name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, data)
        return fd
    def fallocate(fd, offset, length):
        error = libc.posix_fallocate(fd, offset, length)
        if error:
            raise OSError(error, os.strerror(error))
    def say(*words):
        os.write(1, (" ".join(str(w) for w in words) + "\\n").encode())
    def try_op(label, fn):
        try:
            fn()
            say(label, "ok")
        except OSError as e:
            say(label, errno.errorcode[e.errno])
""")


class PowerCutTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="powercut-test-")
        self.root = os.path.join(self.dir, "root")
        os.mkdir(self.root)
        self.journal = os.path.join(self.dir, "journal")
        self.faults = os.path.join(self.dir, "faults")
        self.stats = None

    def tearDown(self):
        shutil.rmtree(self.dir)

    def path(self, name):
        return os.path.join(self.root, name)

    def put(self, name, data):
        """A file that exists, fully synced, before the child starts."""
        with open(self.path(name), "wb") as f:
            f.write(data)

    def read(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def start(self, body, exclude=()):
        env = dict(os.environ)
        env.update(powercut.environment(LIBRARY, self.root, self.journal, exclude=exclude, faults=self.faults))
        script = PRELUDE + textwrap.dedent(body) + "\nsay('DONE')\ntime.sleep(600)\n"
        return subprocess.Popen([sys.executable, "-c", script, self.root], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run_and_kill(self, body):
        """Runs `body` in the child and SIGKILLs it once it is DONE, with no
        rollback: what a process crash leaves."""
        child = self.start(body)
        self.assertEqual(child.stdout.readline().strip(), "DONE")
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()

    def run_and_cut(self, body, exclude=()):
        """Runs `body` in the child, cuts the power once it is DONE, and
        returns the lines it printed before DONE."""
        child = self.start(body, exclude)
        lines = []
        for line in child.stdout:
            line = line.rstrip("\n")
            if line == "DONE":
                break
            lines.append(line)
        else:
            child.wait()
            self.fail("child ended early: %s" % child.stderr.read())
        self.stats = powercut.cut(child, self.journal)
        child.stdout.close()
        child.stderr.close()
        return lines

    def test_unsynced_append_is_lost(self):
        self.run_and_cut("""
            fd = create("log")
            os.write(fd, b"synced")
            os.fsync(fd)
            os.write(fd, b" lost")
        """)
        self.assertEqual(self.read("log"), b"synced")
        self.assertEqual(self.stats["truncated_bytes"], 5)

    def test_fdatasync_counts_as_a_sync(self):
        self.run_and_cut("""
            fd = append("log", b"one")
            os.fdatasync(fd)
            os.write(fd, b"two")
        """)
        self.assertEqual(self.read("log"), b"one")

    def test_without_a_cut_nothing_is_lost(self):
        # The same writes with no rollback: SIGKILL alone keeps them, which is
        # why a kill test cannot tell synced from unsynced.
        self.run_and_kill("""
            fd = create("log")
            os.write(fd, b"synced")
            os.fsync(fd)
            os.write(fd, b" kept")
        """)
        self.assertEqual(self.read("log"), b"synced kept")

    def test_new_file_never_synced_is_removed(self):
        self.run_and_cut("""
            fd = create("new")
            os.write(fd, b"data")
        """)
        self.assertFalse(os.path.exists(self.path("new")))
        self.assertEqual(self.stats["removed"], 1)

    def test_a_sync_in_the_directory_makes_new_entries_durable(self):
        # LevelDB's model: syncing one new file syncs its directory, so the
        # other new file survives, without its unsynced data.
        self.run_and_cut("""
            other = create("other")
            os.write(other, b"unsynced")
            fd = create("synced")
            os.write(fd, b"data")
            os.fsync(fd)
        """)
        self.assertEqual(self.read("synced"), b"data")
        self.assertEqual(self.read("other"), b"")

    def test_directory_fsync_makes_entries_durable(self):
        os.mkdir(self.path("sub"))
        self.run_and_cut("""
            fd = create("sub/file")
            os.write(fd, b"data")
            d = os.open(P("sub"), os.O_RDONLY)
            os.fsync(d)
            lost = create("sub2")
        """)
        self.assertEqual(self.read("sub/file"), b"")
        self.assertFalse(os.path.exists(self.path("sub2")))

    def test_overwrites_since_the_last_sync_are_undone(self):
        self.put("data", b"0123456789")
        self.run_and_cut("""
            fd = os.open(P("data"), os.O_RDWR)
            os.pwrite(fd, b"AB", 2)
            os.fsync(fd)
            os.pwrite(fd, b"CD", 2)
            os.pwrite(fd, b"EFG", 3)
            os.lseek(fd, 8, os.SEEK_SET)
            os.write(fd, b"HIJK")
        """)
        self.assertEqual(self.read("data"), b"01AB456789")

    def test_truncation_is_undone(self):
        self.put("data", b"abcdef")
        self.put("grown", b"abc")
        self.run_and_cut("""
            fd = os.open(P("data"), os.O_RDWR)
            os.ftruncate(fd, 2)
            g = os.open(P("grown"), os.O_RDWR)
            os.ftruncate(g, 100)
            t = os.open(P("data"), os.O_WRONLY | os.O_TRUNC)
        """)
        self.assertEqual(self.read("data"), b"abcdef")
        self.assertEqual(self.read("grown"), b"abc")

    def test_allocation_is_undone(self):
        self.put("blocks", b"xyz")
        self.run_and_cut("""
            fd = os.open(P("blocks"), os.O_RDWR)
            fallocate(fd, 0, 4096)
            os.pwrite(fd, b"block", 3)
        """)
        self.assertEqual(self.read("blocks"), b"xyz")

    def test_stdio_streams(self):
        self.put("old", b"old content")
        self.run_and_cut("""
            f = libc.fopen(P("stream").encode(), b"wb")
            assert libc.fwrite(b"hello", 1, 5, f) == 5
            os.fsync(libc.fileno(f))
            assert libc.fwrite(b" world", 1, 6, f) == 6
            g = libc.fopen(P("old").encode(), b"wb")
            assert libc.fwrite(b"new", 1, 3, g) == 3
            libc.fclose(g)
        """)
        self.assertEqual(self.read("stream"), b"hello")
        self.assertEqual(self.read("old"), b"old content")

    def test_a_synced_file_renamed_over_another_stays(self):
        self.put("current", b"MANIFEST-1\n")
        self.run_and_cut("""
            fd = create("current.tmp")
            os.write(fd, b"MANIFEST-2\\n")
            os.fsync(fd)
            os.close(fd)
            os.rename(P("current.tmp"), P("current"))
            fd = os.open(P("current"), os.O_WRONLY | os.O_APPEND)
            os.write(fd, b"unsynced")
        """)
        self.assertEqual(self.read("current"), b"MANIFEST-2\n")
        self.assertFalse(os.path.exists(self.path("current.tmp")))

    def test_unlinked_files_stay_unlinked(self):
        self.put("obsolete", b"x")
        self.run_and_cut("""
            os.unlink(P("obsolete"))
            fd = create("gone")
            os.write(fd, b"y")
            os.fsync(fd)
            os.remove(P("gone"))
        """)
        self.assertFalse(os.path.exists(self.path("obsolete")))
        self.assertFalse(os.path.exists(self.path("gone")))

    def test_files_outside_the_root_or_excluded_are_left_alone(self):
        outside = os.path.join(self.dir, "outside")
        self.run_and_cut("""
            fd = os.open(%r, os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b"kept")
            fd = create("debug.log")
            os.write(fd, b"kept too")
        """ % outside, exclude=("debug.log",))
        with open(outside, "rb") as f:
            self.assertEqual(f.read(), b"kept")
        self.assertEqual(self.read("debug.log"), b"kept too")

    def test_relative_paths_resolve(self):
        self.run_and_cut("""
            os.mkdir(P("d"))
            os.chdir(P("d"))
            fd = os.open("../rel", os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b"synced")
            os.fsync(fd)
            os.write(fd, b"lost")
            d = os.open(ROOT, os.O_RDONLY)
            fd2 = os.open("at", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d)
            os.write(fd2, b"gone")
        """)
        self.assertEqual(self.read("rel"), b"synced")
        self.assertFalse(os.path.exists(self.path("d/at")))
        self.assertFalse(os.path.exists(self.path("at")))

    def test_a_short_last_record_is_ignored(self):
        self.run_and_cut("""
            fd = create("log")
            os.write(fd, b"synced")
            os.fsync(fd)
            os.write(fd, b"lost")
        """)
        # A second run whose journal ends in half a record.
        self.run_and_kill("""
            fd = os.open(P("log"), os.O_RDWR)
            os.pwrite(fd, b"XX", 0)
        """)
        with open(self.journal, "ab") as f:
            f.write(powercut.HEADER.pack(4096, ord("U"), 0, 3, 99, 0, 0)[:20])
        powercut.rollback(self.journal)
        self.assertEqual(self.read("log"), b"synced")

    def test_enospc_fails_growth_only(self):
        self.put("wallet", b"0123456789")
        self.put("other", b"")
        lines = self.run_and_cut("""
            fd = os.open(P("wallet"), os.O_RDWR)
            other = os.open(P("other"), os.O_RDWR)
            with open(%r, "w") as c:
                c.write("enospc wallet\\n")
            try_op("append", lambda: os.pwrite(fd, b"abc", 9))
            try_op("overwrite", lambda: os.pwrite(fd, b"ab", 0))
            try_op("fsync", lambda: os.fsync(fd))
            try_op("grow", lambda: os.ftruncate(fd, 50))
            try_op("allocate", lambda: fallocate(fd, 0, 100))
            try_op("other", lambda: os.write(other, b"fine"))
            os.unlink(%r)
            try_op("after", lambda: os.pwrite(fd, b"abc", 9))
        """ % (self.faults, self.faults))
        self.assertEqual(lines, ["append ENOSPC", "overwrite ok", "fsync ok", "grow ENOSPC",
                                 "allocate ENOSPC", "other ok", "after ok"])
        self.assertEqual(self.read("wallet"), b"ab23456789")

    def test_enospc_fails_writes_into_holes(self):
        # A sparse file, like a Berkeley DB log file extended to its full
        # size at creation: writing into its hole needs blocks.
        with open(self.path("sparse"), "wb") as f:
            f.write(b"head")
            f.truncate(1 << 20)
        lines = self.run_and_cut("""
            fd = os.open(P("sparse"), os.O_RDWR)
            with open(%r, "w") as c:
                c.write("enospc\\n")
            try_op("data", lambda: os.pwrite(fd, b"HE", 0))
            try_op("hole", lambda: os.pwrite(fd, b"x", 500000))
        """ % self.faults)
        self.assertEqual(lines, ["data ok", "hole ENOSPC"])

    def test_eio_fails_writes_and_syncs(self):
        self.put("wallet", b"0123")
        lines = self.run_and_cut("""
            fd = os.open(P("wallet"), os.O_RDWR)
            f = libc.fopen(P("stream").encode(), b"ab")
            with open(%r, "w") as c:
                c.write("eio\\n")
            try_op("write", lambda: os.pwrite(fd, b"x", 0))
            try_op("fsync", lambda: os.fsync(fd))
            try_op("fdatasync", lambda: os.fdatasync(fd))
            say("fwrite", libc.fwrite(b"abc", 1, 3, f), errno.errorcode[ctypes.get_errno()])
            os.unlink(%r)
            try_op("write again", lambda: os.pwrite(fd, b"x", 0))
            try_op("fsync again", lambda: os.fsync(fd))
        """ % (self.faults, self.faults))
        self.assertEqual(lines, ["write EIO", "fsync EIO", "fdatasync EIO", "fwrite 0 EIO",
                                 "write again ok", "fsync again ok"])
        self.assertEqual(self.read("wallet"), b"x123")

    def test_eio_sync_lets_a_number_of_syncs_through(self):
        self.put("log", b"")
        lines = self.run_and_cut("""
            fd = os.open(P("log"), os.O_RDWR)
            with open(%r, "w") as c:
                c.write("eio-sync:1 log\\n")
            try_op("write", lambda: os.write(fd, b"one"))
            try_op("first sync", lambda: os.fsync(fd))
            try_op("write", lambda: os.write(fd, b"two"))
            try_op("second sync", lambda: os.fdatasync(fd))
            try_op("third sync", lambda: os.fsync(fd))
            with open(%r, "w") as c:
                c.write("eio-sync:2 log\\n")
            try_op("sync after a new fault", lambda: os.fsync(fd))
            os.write(fd, b"three")
        """ % (self.faults, self.faults))
        self.assertEqual(lines, ["write ok", "first sync ok", "write ok", "second sync EIO", "third sync EIO",
                                 "sync after a new fault ok"])
        # The cut keeps what the last sync that succeeded covered.
        self.assertEqual(self.read("log"), b"onetwo")

    def test_a_failed_sync_makes_nothing_durable(self):
        self.put("log", b"old")
        lines = self.run_and_cut("""
            fd = os.open(P("log"), os.O_RDWR | os.O_APPEND)
            with open(%r, "w") as c:
                c.write("eio-sync log\\n")
            os.write(fd, b" new")
            try_op("sync", lambda: os.fsync(fd))
        """ % self.faults)
        self.assertEqual(lines, ["sync EIO"])
        self.assertEqual(self.read("log"), b"old")

    def test_threads_lose_exactly_their_unsynced_tails(self):
        # Four threads append numbered lines to their own files and sync now
        # and then, saying how much each sync covered. After a cut at a
        # random moment, every file holds a prefix of what its thread wrote,
        # at least as long as the last sync it reported.
        rng = random.Random(8)
        for round_ in range(5):
            child = self.start("""
                def worker(n):
                    fd = create("t%d" % n)
                    i = 0
                    while True:
                        os.write(fd, b"%d:%06d\\n" % (n, i))
                        i += 1
                        if i % 7 == n:
                            size = os.fstat(fd).st_size
                            os.fsync(fd)
                            say("SYNCED", n, size)
                for n in range(4):
                    threading.Thread(target=worker, args=(n,), daemon=True).start()
                time.sleep(0.05)
            """)
            synced = {}
            for line in child.stdout:
                if line.startswith("SYNCED"):
                    _, n, size = line.split()
                    synced[int(n)] = int(size)
                if line.strip() == "DONE" or len(synced) == 4 and rng.random() < 0.02:
                    break
            # Lines printed after the kill decision are not counted.
            powercut.cut(child, self.journal)
            child.stdout.close()
            child.stderr.close()
            for n in range(4):
                name = "t%d" % n
                data = self.read(name) if os.path.exists(self.path(name)) else b""
                expected = b"".join(b"%d:%06d\n" % (n, i) for i in range(len(data) // 9 + 1))
                self.assertTrue(expected.startswith(data), "round %d: %s is not a prefix" % (round_, name))
                self.assertEqual(len(data) % 9, 0)
                self.assertGreaterEqual(len(data), synced.get(n, 0), "round %d: %s lost synced data" % (round_, name))
                if os.path.exists(self.path(name)):
                    os.unlink(self.path(name))


def main():
    global LIBRARY
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--lib":
        LIBRARY = args[1]
        args = args[2:]
    if not LIBRARY or not os.path.exists(LIBRARY):
        print("usage: test_powercut.py --lib PATH/libpowercut.so", file=sys.stderr)
        return 2
    return 0 if unittest.main(argv=[sys.argv[0]] + args, exit=False).result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
