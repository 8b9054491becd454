"""Assertions and waits of the functional tests, with Bitcoin Core's names.

assert_raises_rpc_error(code, message, fun, *args, **kwds) calls
fun(*args, **kwds), which must fail with an RpcError of exactly `code`
whose message contains `message` (None: any message); it returns the
RpcError so that a test can look further. wait_until polls with a timeout;
a test never sleeps a fixed time to wait for the node.
"""

import threading
import traceback

from giftcodekit.node import REPO_ROOT, wait_until  # noqa: F401  (part of this module's interface)
from giftcodekit.rpc import RpcError


class SkipTest(Exception):
    """Raised by a test that cannot run here; it exits with TEST_EXIT_SKIPPED."""


def assert_equal(actual, expected, message=""):
    if actual != expected:
        raise AssertionError("%s%r != %r" % (message + ": " if message else "", actual, expected))


def assert_true(condition, message="condition is false"):
    if not condition:
        raise AssertionError(message)


def assert_greater_than(a, b, message=""):
    if not a > b:
        raise AssertionError("%s%r is not greater than %r" % (message + ": " if message else "", a, b))


def assert_raises_rpc_error(code, message, fun, *args, **kwds):
    """fun(*args, **kwds) must raise RpcError with `code` (None: any code)
    and, unless `message` is None, a message containing `message`.
    Returns the RpcError."""
    try:
        result = fun(*args, **kwds)
    except RpcError as e:
        if code is not None and e.code != code:
            raise AssertionError("expected RPC error %d, got %d: %s" % (code, e.code, e.message))
        if message is not None and message not in (e.message or ""):
            raise AssertionError("RPC error %s message %r does not contain %r" % (e.code, e.message, message))
        return e
    raise AssertionError("expected RPC error %s, but the call succeeded: %r" % (code, result))


def run_threads(targets):
    """Starts one thread per callable, waits for all; fails with the first
    exception any of them raised."""
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported to the caller below
                errors.append((e, traceback.format_exc()))
        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise AssertionError("%d thread(s) failed; first:\n%s" % (len(errors), errors[0][1]))
