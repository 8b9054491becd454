"""What the command-line tools share: argument types and exit statuses.

The argument types raise argparse.ArgumentTypeError with the text argparse
prints after the option's name.
"""

import argparse
import math
from decimal import Decimal

from giftcodekit.render import COIN

#: The run completed (a figure that misses its goal is data, not a failure).
EXIT_OK = 0
#: The run completed and an expectation or a goal the caller asked to be
#: checked does not hold.
EXIT_EXPECTATION = 1
#: The run could not be carried out: bad arguments, no node, a failed setup.
EXIT_TOOL_ERROR = 2


class ToolError(Exception):
    """The run could not be carried out (not a result of the run)."""


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1: %r" % text)
    return value


def nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative: %r" % text)
    return value


def positive_float(text):
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError("must be a positive number: %r" % text)
    return value


def amount_arg(text):
    """A positive amount in coins with at most eight decimals, as Decimal."""
    try:
        value = Decimal(text)
    except Exception:
        raise argparse.ArgumentTypeError("not an amount: %r" % text)
    if not value.is_finite() or value <= 0 or value != value.quantize(COIN):
        raise argparse.ArgumentTypeError("amount must be positive with at most 8 decimals: %r" % text)
    return value.quantize(COIN)
