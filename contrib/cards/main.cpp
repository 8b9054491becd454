// giftcode-cards: prints the codes creategiftcode returned as an A4 PDF
// sheet of cards (doc/claim.md, Gift cards). This file only reads the
// options and the input; the checks live in issued_codes.cpp, the sheet in
// layout.cpp, the file in output_file.cpp.
#include "issued_codes.h"
#include "layout.h"
#include "output_file.h"
#include "secret.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using giftcode::Result;
using giftcode::Status;
using giftcode::StatusCode;
using giftcode::cards::SecretString;

//! creategiftcode's output is about 150 bytes a code; this is far above any batch.
constexpr size_t MAX_INPUT = 64 << 20;

const char USAGE[] = R"(Usage: giftcode-cards --out FILE [--in FILE] [--claim-url URL] [--title TEXT]

Prints gift codes as an A4 PDF sheet of cards, 10 a page (85 x 54 mm, with
cut marks). Each card shows the title, the amount, the expiry, the code's
short id, the code and a QR code of the code.

Reads the JSON creategiftcode printed, one object or an array of them, from
--in FILE or standard input. Every code is checked first (it parses, its id
matches, one network for the sheet, no code twice); on any problem nothing
is written.

Options:
  --out FILE        the PDF to create; it must not exist, and it is created
                    readable and writable by its owner only (mode 0600)
  --in FILE         read the JSON from FILE instead of standard input
  --claim-url URL   the claim page's public URL, starting with https:// or
                    http://, e.g. https://gift.example.com/ ; each QR code
                    then holds URL#<code> and the card says "Scan or visit
                    URL". Without it, the QR codes hold MONAGIFT:<code>.
  --title TEXT      the service name on each card, printable ASCII (default
                    "Monacoin gift card")
  --help            print this help and exit

Exit status: 0 when the sheet was written, 1 otherwise.

A sheet is a stack of bearer notes: print it from a machine you trust, then
delete the file and the JSON; cancel any card that is lost.
)";

struct Options {
    std::string out;
    std::optional<std::string> in;
    giftcode::cards::SheetOptions sheet;
    bool help{false};
};

Status UsageError(const std::string& message)
{
    return Status(StatusCode::kInvalidParameter, message + " (see --help)");
}

Result<Options> ParseOptions(int argc, char** argv)
{
    Options options;
    bool have_out = false, have_url = false, have_title = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            options.help = true;
            return options;
        }
        std::optional<std::string> value;
        if (const size_t eq = arg.find('='); arg.compare(0, 2, "--") == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.erase(eq);
        }
        bool* seen = nullptr;
        std::string* target = nullptr;
        if (arg == "--out") {
            seen = &have_out;
            target = &options.out;
        } else if (arg == "--claim-url") {
            seen = &have_url;
            target = &options.sheet.claim_url;
        } else if (arg == "--title") {
            seen = &have_title;
            target = &options.sheet.title;
        } else if (arg == "--in") {
            if (options.in) return UsageError("--in is given twice");
        } else if (arg.compare(0, 2, "--") == 0 && arg.size() <= 20) {
            return UsageError("unknown option " + arg);
        } else {
            // Not echoed: a stray argument may be a code pasted in the wrong place.
            return UsageError("unexpected argument number " + std::to_string(i));
        }
        if (!value) {
            if (i + 1 >= argc) return UsageError(arg + " needs a value");
            value = argv[++i];
        }
        if (arg == "--in") {
            if (value->empty()) return UsageError("--in needs a file name");
            options.in = *value;
            continue;
        }
        if (*seen) return UsageError(arg + " is given twice");
        *seen = true;
        *target = *value;
    }
    if (!have_out || options.out.empty()) return UsageError("--out FILE is required");
    if (Status s = giftcode::cards::CheckTitle(options.sheet.title); !s.ok()) return s;
    if (have_url) {
        if (Status s = giftcode::cards::CheckClaimUrl(options.sheet.claim_url); !s.ok()) return s;
    }
    return options;
}

//! The whole input, read with read(2) straight into wiped memory (no stdio
//! buffer keeps a copy of the codes).
Result<SecretString> ReadInput(const std::optional<std::string>& path)
{
    int fd = STDIN_FILENO;
    const std::string name = path ? *path : "standard input";
    if (path) {
        fd = open(path->c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return Status(StatusCode::kInvalidParameter, "cannot open " + name + ": " + std::strerror(errno));
    }
    SecretString input;
    input.reserve(64 << 10);
    char chunk[16 << 10];
    std::optional<Status> failure;
    while (!failure) {
        const ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            failure = Status(StatusCode::kInvalidParameter, "cannot read " + name + ": " + std::strerror(errno));
        } else if (n == 0) {
            break;
        } else if (input.size() + size_t(n) > MAX_INPUT) {
            failure = Status(StatusCode::kInvalidParameter, name + " is larger than " + std::to_string(MAX_INPUT >> 20) + " MiB");
        } else {
            input.append(chunk, size_t(n));
        }
    }
    giftcode::SecureWipe(chunk, sizeof(chunk));
    if (path) close(fd);
    if (failure) return *failure;
    return input;
}

int Fail(const Status& status)
{
    fprintf(stderr, "giftcode-cards: %s\n", status.message().c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv)
{
    const Result<Options> options = ParseOptions(argc, argv);
    if (!options.ok()) return Fail(options.status());
    if (options->help) {
        fputs(USAGE, stdout);
        return 0;
    }
    const Result<SecretString> input = ReadInput(options->in);
    if (!input.ok()) return Fail(input.status());
    const Result<std::vector<giftcode::cards::Card>> cards = giftcode::cards::ReadIssuedCodes(input.value());
    if (!cards.ok()) return Fail(cards.status());
    const Result<SecretString> pdf = giftcode::cards::RenderSheet(cards.value(), options->sheet);
    if (!pdf.ok()) return Fail(pdf.status());
    if (Status s = giftcode::cards::WriteNewFile(options->out, pdf->data(), pdf->size()); !s.ok()) return Fail(s);
    const size_t pages = giftcode::cards::PageCount(cards->size());
    fprintf(stderr, "giftcode-cards: wrote %zu card%s on %zu page%s to %s\n", cards->size(),
            cards->size() == 1 ? "" : "s", pages, pages == 1 ? "" : "s", options->out.c_str());
    return 0;
}
