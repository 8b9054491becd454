"""Numbers, amounts and JSON as the tools print them.

A figure that is unknown prints as "-"; amounts print with exactly eight
decimals, never through a float; JSON keeps amounts exact and is indented
only at its top levels, so that a long list of per-request rows stays one
line a row.
"""

from decimal import Decimal

from giftcodekit.rpc import to_json

#: One unit of the coin's smallest denomination, in coins.
COIN = Decimal("0.00000001")


def fmt(value, spec="%.1f", none="-"):
    """value formatted with spec, or `none` when value is None."""
    return none if value is None else spec % value


def fmt_amount(value):
    """An amount in coins with exactly eight decimals."""
    return format(Decimal(value).quantize(COIN), "f")


def fmt_seconds(value):
    return fmt(value, "%.3f s")


def fmt_pct(value):
    """A share (0.5) as a percentage ("50.0%")."""
    return "-" if value is None else "%.1f%%" % (value * 100.0)


def fmt_counts(counts):
    """{name: count} as "name:count, ..." sorted by name; "0" when empty."""
    return ", ".join("%s:%d" % kv for kv in sorted(counts.items())) or "0"


def label_row(label, value, width=30):
    """One "label  value" line of a table, labels padded to `width`."""
    return "  %-*s %s" % (width, label, value)


def json_text(value, depth=0, flat_below=2):
    """JSON with exact decimal amounts, indented at the top `flat_below`
    levels and compact below."""
    if depth >= flat_below or not isinstance(value, (dict, list)) or not value:
        return to_json(value)
    pad = " " * (depth + 1)
    if isinstance(value, dict):
        items = ["%s%s: %s" % (pad, to_json(str(k)), json_text(v, depth + 1, flat_below))
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    items = ["%s%s" % (pad, json_text(v, depth + 1, flat_below)) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * depth + "]"
