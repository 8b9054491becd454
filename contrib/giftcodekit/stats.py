"""Figures the tools compute alike from their samples.

Percentiles are nearest-rank over all samples (no interpolation): the p-th
percentile of n ascending values is the value at rank ceil(p/100 * n),
counted from 1, so every percentile reported is a value that was measured.
Functions of an empty sample return None rather than guessing.
"""

import math


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, int(math.ceil(p / 100.0 * len(sorted_values))))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(seconds, points=(50, 99), scale=1.0, suffix=""):
    """n, the percentiles `points`, max, min and mean of latencies given in
    seconds, each multiplied by `scale` (1000 for milliseconds), under the
    keys "p50" + suffix, ..., "max" + suffix, "min" + suffix, "mean" + suffix."""
    values = sorted(s * scale for s in seconds)
    out = {"n": len(values)}
    for p in points:
        out["p%d%s" % (p, suffix)] = percentile(values, p)
    out["max" + suffix] = values[-1] if values else None
    out["min" + suffix] = values[0] if values else None
    out["mean" + suffix] = (sum(values) / len(values)) if values else None
    return out


def corrected_latencies(latencies, interval):
    """The samples of a probe sent every `interval` seconds, plus those of
    the probe slots a slow answer kept from being sent (each at the latency
    it would have seen: L - interval, L - 2 x interval, ...), as a load
    generator with a fixed schedule would have recorded them."""
    out = list(latencies)
    for value in latencies:
        missed = value - interval
        while missed > 0:
            out.append(missed)
            missed -= interval
    return out


def rate_over_first(done_at, k):
    """Events per second over the first k of the given completion times
    (seconds since the start); None when there are fewer than k."""
    done = sorted(done_at)
    if k < 1 or len(done) < k or done[k - 1] <= 0:
        return None
    return k / done[k - 1]


def ratio(a, b):
    """a / b, or None when either is unknown or b is zero."""
    return a / b if a is not None and b else None


def mean(values):
    """The arithmetic mean; None for no values."""
    values = list(values)
    return sum(values) / len(values) if values else None
