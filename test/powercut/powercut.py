#!/usr/bin/env python3
"""Power cuts for a real process, with libpowercut.so (see powercut.c).

A process started with `environment(...)` in its environment runs with
libpowercut.so preloaded: every write to a file under the watched directory
is journaled first with what a power loss would bring back. `cut()` is the
power loss: SIGKILL the process, then `rollback()` the journal, which puts
each file back to what had last been synced:

  * the bytes overwritten since the file's last sync are put back, newest
    write undone first;
  * the file is cut back to its size at the last sync (or when first seen);
  * a file created since, whose directory entry no sync has made durable
    (a sync of any file in its directory, or of the directory, does, as in
    LevelDB's fault-injection test), is removed.

Directories are left alone; renames and unlinks count as durable at once.
The journal is emptied after a rollback, so the next run starts from the
rolled-back state.

Usage as a command: powercut.py rollback JOURNAL
"""
import os
import struct
import sys

HEADER = struct.Struct("=IBBHQQQ")


class FileState:
    __slots__ = ("synced", "pending", "undo")

    def __init__(self, synced, pending):
        self.synced = synced
        self.pending = pending
        self.undo = []  # (seq, offset, old bytes), oldest first


def read_journal(path):
    """Yields (type, seq, path, a, b, payload) for each whole record."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return
    pos = 0
    while pos + HEADER.size <= len(data):
        total, kind, _zero, path_len, seq, a, b = HEADER.unpack_from(data, pos)
        if total < HEADER.size + path_len or pos + total > len(data):
            break  # the last record, cut short by the kill
        name = data[pos + HEADER.size:pos + HEADER.size + path_len].decode("utf-8", "surrogateescape")
        payload = data[pos + HEADER.size + path_len:pos + total]
        yield chr(kind), seq, name, a, b, payload
        pos += total


def replay(journal):
    """The state of every file the journal knows, after its last record."""
    files = {}

    def make_durable(directory):
        for name, state in files.items():
            if state.pending and os.path.dirname(name) == directory:
                state.pending = False

    for kind, seq, name, a, b, payload in read_journal(journal):
        if kind == "B":
            files[name] = FileState(a, False)
        elif kind == "C":
            files[name] = FileState(0, True)
        elif kind == "U":
            if name in files:
                files[name].undo.append((seq, a, payload))
        elif kind == "S":
            state = files.get(name)
            if state is not None:
                state.synced = a
                state.undo = [u for u in state.undo if u[0] >= b]
            make_durable(os.path.dirname(name))
        elif kind == "D":
            make_durable(name)
        elif kind == "R":
            target = payload.decode("utf-8", "surrogateescape")
            moving = files.pop(name, None)
            files.pop(target, None)
            if moving is not None:
                files[target] = moving
        elif kind == "X":
            files.pop(name, None)
    return files


def rollback(journal):
    """Puts every file the journal knows back to its last synced state and
    empties the journal. Returns counts of what was discarded."""
    stats = {"files": 0, "removed": 0, "restored_bytes": 0, "truncated_bytes": 0}
    for name, state in replay(journal).items():
        if os.path.isdir(name) or not os.path.exists(name):
            continue
        if state.pending:
            os.unlink(name)
            stats["removed"] += 1
            stats["files"] += 1
            continue
        touched = False
        if state.undo:
            with open(name, "r+b") as f:
                for _seq, offset, old in reversed(state.undo):
                    f.seek(offset)
                    f.write(old)
                    stats["restored_bytes"] += len(old)
            touched = True
        size = os.path.getsize(name)
        if size != state.synced:
            if size > state.synced:
                stats["truncated_bytes"] += size - state.synced
            os.truncate(name, state.synced)
            touched = True
        stats["files"] += touched
    with open(journal, "wb"):
        pass
    return stats


def environment(library, root, journal, exclude=(), faults=None):
    """Environment variables that run a process under libpowercut.so."""
    env = {
        "LD_PRELOAD": os.path.abspath(library),
        "POWERCUT_ROOT": os.path.abspath(root),
        "POWERCUT_JOURNAL": os.path.abspath(journal),
    }
    if exclude:
        env["POWERCUT_EXCLUDE"] = ":".join(exclude)
    if faults:
        env["POWERCUT_FAULTS"] = os.path.abspath(faults)
    return env


def set_fault(control, kind, substring=""):
    """Makes watched writes fail: kind "enospc" or "eio"; None clears it."""
    if kind is None:
        try:
            os.unlink(control)
        except FileNotFoundError:
            pass
        return
    with open(control + ".tmp", "w") as f:
        f.write("%s %s\n" % (kind, substring))
    os.replace(control + ".tmp", control)


def cut(process, journal):
    """The power loss: SIGKILL `process` (a subprocess.Popen), wait for it,
    and roll its files back. Returns rollback()'s counts."""
    process.kill()
    process.wait()
    return rollback(journal)


def main(argv):
    if len(argv) == 3 and argv[1] == "rollback":
        stats = rollback(argv[2])
        print("rolled back %(files)d files: %(removed)d removed, %(restored_bytes)d bytes restored, "
              "%(truncated_bytes)d bytes cut off" % stats)
        return 0
    print(__doc__.strip().splitlines()[-1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
