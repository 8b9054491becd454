"""The gift-code text format in Python, for tests that need codes the node
did not make (another network's, never issued, mistyped) and to check the
codes the node does make. As a command, it makes such codes for an
integrator's tests (doc/integration.md, "Codes to test with"):

    python3 contrib/giftcodekit/codeformat.py random MGC    # a mainnet code: -403 on regtest
    python3 contrib/giftcodekit/codeformat.py mistype CODE  # one symbol off: -402
    python3 contrib/giftcodekit/codeformat.py id CODE       # the id the node will name it by
    python3 contrib/giftcodekit/codeformat.py self-test

A code is 26 data symbols -- 2 format-version bits (0) followed by 128 secret
bits, big-endian, in Crockford base32 ("0123456789ABCDEFGHJKMNPQRSTVWXYZ") --
and a 6-symbol bech32m checksum (constant 0x2bc830a3, bech32's generator)
over the hrp-expanded lowercase network prefix ("mgc", "tgc", "rgc") and the
data symbols. It is written "RGC-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX":
the prefix, then the 32 symbols in 8 groups of 4. The URI form is
"MONAGIFT:RGCXXXX...". A code's id is the first 16 bytes of
SHA-256("monacoin-giftcode" || lowercase prefix || secret), in hex.

Also here: bech32 (BIP 173) segwit address encoding, to make valid
addresses of other networks.
"""

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BECH32M_CONST = 0x2BC830A3
BECH32_CONST = 1
GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
DATA_SYMBOLS = 26
CHECKSUM_SYMBOLS = 6
PREFIXES = ("MGC", "TGC", "RGC")
MAINNET, TESTNET, REGTEST = PREFIXES
URI_SCHEME = "MONAGIFT:"
ID_DOMAIN = b"monacoin-giftcode"


class MalformedCode(ValueError):
    """Not shaped like a code."""


class BadChecksum(ValueError):
    """Shaped like a code, but the checksum does not match."""


def polymod(values):
    chk = 1
    for v in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= GENERATOR[i]
    return chk


def hrp_expand(hrp):
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def to_symbols(secret, version=0):
    """26 five-bit symbols: 2 version bits then the 128 secret bits."""
    if len(secret) != 16:
        raise ValueError("a secret is 16 bytes")
    if not 0 <= version <= 3:
        raise ValueError("the format version has 2 bits")
    n = (version << 128) | int.from_bytes(secret, "big")
    return [(n >> (5 * (DATA_SYMBOLS - 1 - i))) & 31 for i in range(DATA_SYMBOLS)]


def from_symbols(symbols):
    """(version, secret) of 26 data symbols."""
    n = 0
    for s in symbols:
        n = (n << 5) | s
    return n >> 128, (n & ((1 << 128) - 1)).to_bytes(16, "big")


def checksum(prefix, data):
    values = hrp_expand(prefix.lower()) + list(data) + [0] * CHECKSUM_SYMBOLS
    mod = polymod(values) ^ BECH32M_CONST
    return [(mod >> (5 * (CHECKSUM_SYMBOLS - 1 - i))) & 31 for i in range(CHECKSUM_SYMBOLS)]


def compact_form(prefix, secret, version=0):
    data = to_symbols(secret, version)
    return prefix + "".join(ALPHABET[s] for s in data + checksum(prefix, data))


def group(compact):
    """"RGCXXXX..." -> "RGC-XXXX-...": the prefix, then groups of 4."""
    body = compact[3:]
    return compact[:3] + "".join("-" + body[i:i + 4] for i in range(0, len(body), 4))


def format_code(prefix, secret, version=0):
    """The canonical printable form of a code."""
    return group(compact_form(prefix, secret, version))


def format_uri(prefix, secret, version=0):
    return URI_SCHEME + compact_form(prefix, secret, version)


def random_secret():
    return secrets.token_bytes(16)


def random_code(prefix=REGTEST):
    """A well-formed code with a fresh random secret (never issued by anyone)."""
    return format_code(prefix, random_secret())


def code_id(prefix, secret):
    return hashlib.sha256(ID_DOMAIN + prefix.lower().encode() + secret).digest()[:16].hex()


def symbol_value(ch):
    if ch in "IL":
        return 1
    if ch == "O":
        return 0
    i = ALPHABET.find(ch)
    if i < 0:
        raise MalformedCode("character %r is not allowed" % ch)
    return i


def normalise(text):
    """Upper case, URI scheme and separators removed (as the node parses)."""
    upper = text.upper()
    if upper.startswith(URI_SCHEME):
        upper = upper[len(URI_SCHEME):]
    return "".join(c for c in upper if c not in "- _")


def parse_code(text):
    """(prefix, version, secret) of a code, as the node reads it.

    Raises MalformedCode or BadChecksum. The version is returned, not
    checked: the node refuses versions other than 0 as malformed."""
    compact = normalise(text)
    if len(compact) != 3 + DATA_SYMBOLS + CHECKSUM_SYMBOLS:
        raise MalformedCode("wrong length")
    prefix = compact[:3]
    if prefix not in PREFIXES:
        raise MalformedCode("unknown prefix %r" % prefix)
    symbols = [symbol_value(c) for c in compact[3:]]
    if polymod(hrp_expand(prefix.lower()) + symbols) != BECH32M_CONST:
        raise BadChecksum("checksum does not match")
    version, secret = from_symbols(symbols[:DATA_SYMBOLS])
    return prefix, version, secret


def checksum_ok(text):
    try:
        parse_code(text)
        return True
    except (MalformedCode, BadChecksum):
        return False


def id_of(text):
    prefix, _, secret = parse_code(text)
    return code_id(prefix, secret)


def substitute(code, position, offset=1):
    """The code with the symbol at `position` (0-based, counted over the 32
    symbols after the prefix, dashes not counted) replaced by another one.
    A single substitution always breaks the checksum."""
    prefix, body = code[:3], normalise(code)[3:]
    old = symbol_value(body[position])
    new = ALPHABET[(old + offset) % 32]
    body = body[:position] + new + body[position + 1:]
    return group(prefix + body)


def transpose(code, position):
    """The code with symbols position and position+1 swapped (they must differ)."""
    prefix, body = code[:3], normalise(code)[3:]
    if body[position] == body[position + 1]:
        raise ValueError("symbols are equal; the swap would change nothing")
    body = body[:position] + body[position + 1] + body[position] + body[position + 2:]
    return group(prefix + body)


# --- bech32 segwit addresses (BIP 173) ---------------------------------------

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _convertbits(data, frombits, tobits):
    acc, bits, out = 0, 0, []
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & ((1 << tobits) - 1))
    if bits:
        out.append((acc << (tobits - bits)) & ((1 << tobits) - 1))
    return out


def segwit_address(hrp, witver, program):
    """A bech32 (witness v0) address, e.g. segwit_address("mona", 0, bytes(20))."""
    data = [witver] + _convertbits(program, 8, 5)
    mod = polymod(hrp_expand(hrp) + data + [0] * 6) ^ BECH32_CONST
    chk = [(mod >> (5 * (5 - i))) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + chk)


def _self_test():
    secret = bytes(range(16))
    code = format_code(REGTEST, secret)
    assert len(code) == 43 and code.count("-") == 8, code
    assert parse_code(code) == (REGTEST, 0, secret)
    assert parse_code(code.lower().replace("-", " ")) == (REGTEST, 0, secret)
    assert parse_code(format_uri(REGTEST, secret)) == (REGTEST, 0, secret)
    for pos in range(32):
        for off in range(1, 32):
            try:
                parse_code(substitute(code, pos, off))
                raise AssertionError("substitution at %d undetected" % pos)
            except BadChecksum:
                pass
    # Pinned vector (doc/rpc.md's example code; the unit tests pin the same).
    assert code == "RGC-0004-1061-050R-3GG2-8A1C-60T3-GFFR-W3WB", code
    assert code_id(REGTEST, secret) == "e5e7d45bae4fa457beb7471d728de4b8"


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="Gift codes for tests: of any network, mistyped, or their ids.")
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("random", help="a fresh code of a network (never issued by any node)")
    make.add_argument("prefix", nargs="?", default=REGTEST, choices=PREFIXES)
    wrong = sub.add_parser("mistype", help="the code with one symbol changed: its checksum fails")
    wrong.add_argument("code")
    wrong.add_argument("--position", type=int, default=5, help="which of the 32 symbols (default 5)")
    ident = sub.add_parser("id", help="the code's id, 32 hex digits")
    ident.add_argument("code")
    sub.add_parser("self-test", help="check this encoder against a pinned vector")
    args = parser.parse_args(argv)
    if args.command == "mistype" and not 0 <= args.position < DATA_SYMBOLS + CHECKSUM_SYMBOLS:
        parser.error("--position is one of the 32 symbols: 0 to 31")
    try:
        if args.command == "random":
            print(random_code(args.prefix))
        elif args.command == "mistype":
            parse_code(args.code)
            print(substitute(args.code, args.position))
        elif args.command == "id":
            print(id_of(args.code))
        else:
            _self_test()
            print("codeformat self-test passed")
    except (MalformedCode, BadChecksum) as e:
        parser.exit(2, "codeformat: %s\n" % e)
    return 0


if __name__ == "__main__":
    main()
