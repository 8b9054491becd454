#!/usr/bin/env python3
"""giftcode-cards end to end: the sheet it prints scans back to exactly the
codes it was given.

Makes creategiftcode-shaped JSON with fresh regtest codes (23 codes in three
objects, so three pages, with amounts 0.00000546, 1.5 and 105120000 and
expiries null, 0 and a timestamp), prints it twice (QR codes of MONAGIFT:
URIs, then of claim URLs) and proves that:

- each run exits 0 and creates its file with mode 0600, even under umask 000;
- a second run onto the same path is refused (exit 1), the file unchanged;
- bad input (a mistyped code, an id that does not match, mixed networks, a
  code twice, not JSON) and bad options exit 1 and create no file, a
  write that fails halfway leaves no file, and no code ever reaches the
  program's output;
- the PDF is well formed (every xref offset points at its object), A4, with
  as many pages as it takes at 10 cards a page;
- every card, rendered on its own at 200 dpi as a phone would see it, holds
  exactly one QR code, its own URI or claim URL, which parses back to its
  id, next to its own grouped code, short id, amount and expiry; the strings
  read are exactly the expected ones, one per code;
- every whole page, rendered at 200 dpi, reads back only its own cards' QR
  codes. zbar misses a symbol now and then among many on an exact grid
  (mchehab/zbar#182), so a page that reads short is logged, not failed: the
  card-by-card reading is the proof.

Usage: cards_test.py PATH/giftcode-cards
Needs pdftoppm and pdftotext (poppler-utils) and zbarimg (zbar-tools).
"""
import hashlib
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "contrib"))
sys.dont_write_bytecode = True  # leave the source tree as it is
from giftcodekit import codeformat as gf  # noqa: E402

CLAIM_URL = "https://gift.example.com/"
# The sheet (contrib/cards/layout.h): A4 portrait, 2 x 5 cards of 85 x 54 mm,
# centred, filled row by row from the top left. Points (1/72 inch).
PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89
CARD_WIDTH, CARD_HEIGHT = 85 * 72 / 25.4, 54 * 72 / 25.4
COLUMNS, ROWS = 2, 5
CARDS_PER_PAGE = COLUMNS * ROWS
DPI = 200
# (amount as the JSON number's text, expires_at as JSON text, codes, the
# amount and expiry lines a card must show)
BATCHES = [
    ("0.00000546", "null", 10, "0.00000546 MONA", "No expiry"),
    ("1.5", "0", 8, "1.50000000 MONA", "No expiry"),
    ("105120000", "1790000000", 5, "105120000.00000000 MONA", "Expires 2026-09-21 14:13 UTC"),
]


class TestFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def log(message):
    print("cards_test: " + message, flush=True)


def new_code(prefix=gf.REGTEST):
    """(grouped code, uri, id) of a fresh code."""
    code = gf.random_code(prefix)
    found_prefix, _, secret = gf.parse_code(code)
    return code, gf.format_uri(found_prefix, secret), gf.id_of(code)


def batch_json(amount, expires_at, codes):
    """The text creategiftcode prints, with the amount written as given."""
    entries = ",\n    ".join(
        '{"id": "%s", "code": "%s", "uri": "%s"}' % (code_id, code, uri) for code, uri, code_id in codes)
    return ('{"amount": %s, "count": %d, "label": "cards test", "expires_at": %s,\n  "codes": [\n    %s\n  ]}'
            % (amount, len(codes), expires_at, entries))


def sheet_json(batches):
    return "[\n" + ",\n".join(batch_json(*b) for b in batches) + "\n]\n"


class Cards:
    """Runs giftcode-cards, and checks that no code ever reaches its output."""

    def __init__(self, binary):
        self.binary = binary
        self.secrets = []  # every code and URI made, to prove none is ever printed

    def remember(self, codes):
        for code, uri, _ in codes:
            self.secrets += [code, uri, gf.normalise(code)]

    def run(self, json_text, out, extra=(), preexec_fn=None):
        """Runs the program under umask 000 with json_text on stdin (and
        without --out when out is None)."""
        out_args = ["--out", out] if out is not None else []
        proc = subprocess.run([self.binary, *out_args, *extra], input=json_text.encode(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, umask=0, timeout=120,
                              preexec_fn=preexec_fn)
        stdout, stderr = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        for secret in self.secrets:
            check(secret not in stdout and secret not in stderr,
                  "giftcode-cards printed a code (run with %s)" % (list(extra) or "no options"))
        check(stdout == "", "giftcode-cards wrote to stdout: %r" % stdout[:200])
        return proc.returncode, stderr.strip()


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_pdf_structure(path, pages):
    """The xref table's offsets point at their objects, startxref at the
    table, and each stream's /Length at its end. PDF readers repair all of
    these silently, so only a check of the bytes finds them wrong."""
    with open(path, "rb") as f:
        data = f.read()
    check(data.startswith(b"%PDF-1."), "%s: no PDF header" % path)
    startxref = re.search(rb"startxref\n(\d+)\n%%EOF\n$", data)
    check(startxref, "%s: does not end with startxref and %%%%EOF" % path)
    start = int(startxref.group(1))
    header = re.match(rb"xref\n0 (\d+)\n", data[start:])
    check(header, "%s: startxref does not point at an xref table" % path)
    count = int(header.group(1))
    table = data[start + header.end():start + header.end() + 20 * count]
    for number in range(count):
        entry = table[20 * number:20 * number + 20]
        check(len(entry) == 20 and entry.endswith(b" \n"), "%s: xref entry %d is not 20 bytes" % (path, number))
        offset, kind = int(entry[:10]), entry[17:18]
        if number == 0:
            check(kind == b"f", "%s: xref entry 0 is not free" % path)
            continue
        check(kind == b"n" and data.startswith(b"%d 0 obj" % number, offset),
              "%s: xref offset of object %d does not point at it" % (path, number))
    streams = list(re.finditer(rb"<< /Length (\d+) >>\nstream\n", data))
    check(len(streams) == pages, "%s: %d content streams for %d pages" % (path, len(streams), pages))
    for stream in streams:
        check(data.startswith(b"\nendstream\n", stream.end() + int(stream.group(1))),
              "%s: a stream's /Length does not end at endstream" % path)
    check(len(re.findall(rb"/Type /Page\b", data)) == pages, "%s: not %d pages" % (path, pages))
    check(data.count(b"/MediaBox [0 0 595.28 841.89]") == pages, "%s: pages are not A4 portrait" % path)


def render_page(pdf, page, workdir):
    """Page `page` (1-based) as a PNG at DPI."""
    prefix = os.path.join(workdir, "page")
    subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", "-png",
                    pdf, prefix], check=True, timeout=300)
    return prefix + ".png"


def card_crop(slot):
    """pdftoppm/pdftotext crop arguments (pixels at DPI) of a card's slot on
    its page, 2 pixels inside its edges."""
    row, column = divmod(slot, COLUMNS)
    left = (PAGE_WIDTH - COLUMNS * CARD_WIDTH) / 2 + column * CARD_WIDTH
    top = (PAGE_HEIGHT - ROWS * CARD_HEIGHT) / 2 + row * CARD_HEIGHT
    scale = DPI / 72
    return ["-x", str(round(left * scale) + 2), "-y", str(round(top * scale) + 2),
            "-W", str(int(CARD_WIDTH * scale) - 4), "-H", str(int(CARD_HEIGHT * scale) - 4)]


def zbar(image):
    """The strings of the QR codes zbarimg reads in `image`, one a symbol."""
    proc = subprocess.run(["zbarimg", "--raw", "-q", image], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          timeout=300)
    os.unlink(image)
    return [line for line in proc.stdout.decode().splitlines() if line]


def check_sheet(pdf, workdir, cards, claim_url):
    """Reads every QR code back, card by card and from whole pages, and the
    text of every card. `cards` are (code, uri, id, amount line, expiry line)
    in input order. Returns (pages, QR codes read card by card, read from
    whole pages)."""
    pages = -(-len(cards) // CARDS_PER_PAGE)
    check_pdf_structure(pdf, pages)
    expected = [(claim_url + "#" + uri[len(gf.URI_SCHEME):]) if claim_url else uri for _, uri, _, _, _ in cards]
    read_by_card = []
    read_from_pages = []
    for page in range(1, pages + 1):
        first = (page - 1) * CARDS_PER_PAGE
        on_page = expected[first:first + CARDS_PER_PAGE]

        # Each card on its own, as a phone sees it: exactly its own QR code,
        # next to its own text.
        for slot, text in enumerate(on_page):
            code, _, code_id, amount_line, expiry_line = cards[first + slot]
            where = "%s page %d card %d (id %s)" % (pdf, page, slot + 1, code_id[:8])
            prefix = os.path.join(workdir, "card")
            subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), *card_crop(slot),
                            "-singlefile", "-png", pdf, prefix], check=True, timeout=300)
            read = zbar(prefix + ".png")
            check(len(read) == 1, "%s: zbarimg read %d QR codes, expected 1" % (where, len(read)))
            check(read[0] == text, "%s: its QR code is not its own %s" % (where, "claim URL" if claim_url else "URI"))
            payload = read[0].split("#", 1)[1] if claim_url else read[0]
            check(gf.id_of(payload) == code_id, "%s: its QR code does not parse back to its id" % where)
            read_by_card.append(read[0])

            words = subprocess.run(["pdftotext", "-r", str(DPI), "-f", str(page), "-l", str(page), *card_crop(slot),
                                    "-raw", pdf, "-"], check=True, stdout=subprocess.PIPE,
                                   timeout=120).stdout.decode().split()
            spaced, unspaced = " ".join(words), "".join(words)
            check(code in unspaced, "%s: its grouped code is not printed on it" % where)
            check(unspaced.count(code[:4]) == 1, "%s: another card's code is printed on it" % where)
            for line in ("ID " + code_id[:8], amount_line, expiry_line):
                check(line in spaced, "%s: %r is not printed on it" % (where, line))
            if claim_url:
                check("Scan or visit " + claim_url in spaced, "%s: the claim URL is not printed on it" % where)

        # The whole page at once. zbar misses a symbol now and then among
        # many on an exact grid (mchehab/zbar#182), so a page may read short;
        # whatever it reads must be this page's codes, each once.
        read = zbar(render_page(pdf, page, workdir))
        check(len(read) == len(set(read)), "%s page %d: a QR code was read twice" % (pdf, page))
        check(set(read) <= set(on_page), "%s page %d: a QR code read from the page is none of its cards'"
              % (pdf, page))
        if len(read) < len(on_page):
            log("%s page %d: zbarimg read %d of %d QR codes from the whole page (all %d card by card)"
                % (os.path.basename(pdf), page, len(read), len(on_page), len(on_page)))
        read_from_pages += read

    check(sorted(read_by_card) == sorted(expected), "%s: the QR codes read are not exactly the expected ones" % pdf)
    return pages, len(read_by_card), len(read_from_pages)


def small_file_limit():
    """In the child: files may not grow past 4 KiB, and a write past that
    fails with EFBIG instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def check_refused(cards, workdir, name, json_text, extra=(), expect=None, with_out=True, preexec_fn=None):
    out = os.path.join(workdir, name + ".pdf")
    before = set(os.listdir(workdir))
    rc, stderr = cards.run(json_text, out if with_out else None, extra, preexec_fn)
    check(rc == 1, "%s: exit status %d, expected 1 (stderr: %s)" % (name, rc, stderr))
    check(stderr, "%s: refused without a message" % name)
    check(not os.path.lexists(out) and set(os.listdir(workdir)) == before, "%s: a file was created" % name)
    if expect:
        check(re.search(expect, stderr), "%s: the message %r does not say %r" % (name, stderr, expect))
    log("refused %s: %s" % (name, stderr))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    for tool in ("pdftoppm", "pdftotext", "zbarimg"):
        check(shutil.which(tool), "%s is not installed (apt-get install poppler-utils zbar-tools)" % tool)

    with tempfile.TemporaryDirectory(prefix="cards-test-") as workdir:
        cards = Cards(binary)
        batches = []
        for amount, expires_at, count, amount_line, expiry_line in BATCHES:
            codes = [new_code() for _ in range(count)]
            cards.remember(codes)
            batches.append((amount, expires_at, codes, amount_line, expiry_line))
        all_codes = [c for b in batches for c in b[2]]
        all_cards = [(*c, b[3], b[4]) for b in batches for c in b[2]]
        good = sheet_json([b[:3] for b in batches])

        help_run = subprocess.run([binary, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        help_text = help_run.stdout.decode()
        check(help_run.returncode == 0, "--help exits %d" % help_run.returncode)
        for option in ("--out", "--in", "--claim-url", "--title", "--help"):
            check(option in help_text, "--help does not mention %s" % option)

        summary = []
        for claim_url in ("", CLAIM_URL):
            label = "claim URLs" if claim_url else "MONAGIFT: URIs"
            out = os.path.join(workdir, "sheet-url.pdf" if claim_url else "sheet-uri.pdf")
            extra = ("--claim-url", claim_url) if claim_url else ()
            rc, stderr = cards.run(good, out, extra)
            check(rc == 0, "%s: exit status %d (stderr: %s)" % (label, rc, stderr))
            log(stderr)
            counted = "%d cards on %d pages" % (len(all_codes), -(-len(all_codes) // CARDS_PER_PAGE))
            check(counted in stderr, "%s: the summary line %r does not say %s" % (label, stderr, counted))
            mode = stat.S_IMODE(os.stat(out).st_mode)
            check(mode == 0o600, "%s: the sheet has mode %o under umask 000, expected 600" % (label, mode))

            before = (file_digest(out), os.stat(out).st_mtime_ns)
            rc, stderr = cards.run(good, out, extra)
            check(rc == 1, "%s: a second run onto %s exits %d, expected 1" % (label, out, rc))
            check("exists" in stderr, "%s: the refusal to overwrite does not say so: %r" % (label, stderr))
            check((file_digest(out), os.stat(out).st_mtime_ns) == before, "%s: the refused run changed the file" % label)

            render_dir = os.path.join(workdir, "render")
            os.mkdir(render_dir)
            pages, by_card, from_pages = check_sheet(out, render_dir, all_cards, claim_url)
            os.rmdir(render_dir)
            log("%s: %d codes on %d pages; QR codes read back %d card by card, %d from whole pages"
                % (label, len(all_codes), pages, by_card, from_pages))
            summary.append("%s %d/%d" % (label, by_card, len(all_codes)))

        # Bad input: each case is the good sheet with one thing wrong.
        first_code, first_uri, first_id = batches[0][2][0]
        mistyped = gf.substitute(first_code, 7)
        cards.secrets += [mistyped]
        case_batch = batches[1][:3]
        one = lambda codes: batch_json(case_batch[0], case_batch[1], codes)  # noqa: E731
        other_code, other_uri, other_id = new_code()
        testnet = new_code(gf.TESTNET)
        cards.remember([(other_code, other_uri, other_id), testnet])
        check_refused(cards, workdir, "mistyped-code", one([(mistyped, first_uri, first_id)]),
                      expect="checksum")
        check_refused(cards, workdir, "id-mismatch", one([(first_code, first_uri, other_id)]),
                      expect="id does not match")
        check_refused(cards, workdir, "uri-mismatch", one([(first_code, other_uri, first_id)]),
                      expect="uri")
        check_refused(cards, workdir, "mixed-networks", sheet_json([b[:3] for b in batches] + [
            (case_batch[0], case_batch[1], [testnet])]), expect="one network")
        check_refused(cards, workdir, "duplicate", sheet_json([b[:3] for b in batches] + [
            (case_batch[0], case_batch[1], [batches[0][2][3]])]), expect="same code")
        check_refused(cards, workdir, "not-json", good[:-40], expect="not JSON")
        check_refused(cards, workdir, "empty", "", expect="not JSON")
        check_refused(cards, workdir, "no-codes", '{"amount": 1, "expires_at": null, "codes": []}')
        check_refused(cards, workdir, "amount-decimals", one([(first_code, first_uri, first_id)]).replace(
            '"amount": 1.5', '"amount": 1.000000001'), expect="8 decimals")
        check_refused(cards, workdir, "url-scheme", good, ("--claim-url", "ftp://gift.example.com/"),
                      expect="https://")
        check_refused(cards, workdir, "url-fragment", good, ("--claim-url", CLAIM_URL + "#x"), expect="'#'")
        check_refused(cards, workdir, "title", good, ("--title", "Caf\u00e9"), expect="ASCII")
        check_refused(cards, workdir, "no-out", good, expect="--out FILE is required", with_out=False)
        check_refused(cards, workdir, "code-as-argument", good, (first_code,), expect="unexpected argument")
        # A write that fails halfway leaves no partial sheet behind.
        check_refused(cards, workdir, "write-error", good, expect="partial file was removed",
                      preexec_fn=small_file_limit)

    log("PASS: %d codes, %d pages each; QR codes read back: %s" % (len(all_codes), pages, ", ".join(summary)))


if __name__ == "__main__":
    try:
        main()
    except TestFailure as failure:
        print("cards_test: FAIL: %s" % failure, file=sys.stderr, flush=True)
        sys.exit(1)
