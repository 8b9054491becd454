// Card sheet layout; what a card shows and why is in layout.h. Lengths are
// in PDF points (1/72 inch), from the bottom-left corner of the page or of
// the card.
#include "layout.h"

#include "pdf.h"
#include "qr.h"

#include <cassert>
#include <cmath>

namespace giftcode::cards {
namespace {

constexpr double MM = 72.0 / 25.4;
constexpr double PAGE_WIDTH = 595.28;  // A4
constexpr double PAGE_HEIGHT = 841.89;
constexpr int COLUMNS = 2;
constexpr int ROWS = 5;
static_assert(size_t(COLUMNS * ROWS) == CARDS_PER_PAGE, "the grid holds a page of cards");
constexpr double CARD_WIDTH = 85 * MM; // ISO/IEC 7810 ID-1, a wallet's card slot
constexpr double CARD_HEIGHT = 54 * MM;
constexpr double GRID_LEFT = (PAGE_WIDTH - COLUMNS * CARD_WIDTH) / 2;
constexpr double GRID_BOTTOM = (PAGE_HEIGHT - ROWS * CARD_HEIGHT) / 2;

// Cut marks continue the lines between cards into the margins, clear of
// the cards so a cut slightly off the line leaves no mark on one.
constexpr double CUT_MARK_GAP = 3;
constexpr double CUT_MARK_LENGTH = 12;
static_assert(GRID_BOTTOM > CUT_MARK_GAP + CUT_MARK_LENGTH && GRID_LEFT > CUT_MARK_GAP + CUT_MARK_LENGTH,
              "the cut marks fit in the margins");

// Within a card.
constexpr double PADDING = 10;
constexpr double QR_BOX = 86;         // the symbol and its quiet zone: 30.3 mm
constexpr double QR_INSET = 6;        // from the card's top and right edges
constexpr int QUIET_ZONE_MODULES = 4; // ISO/IEC 18004
constexpr double MIN_MODULE = 0.5 * MM;
constexpr double QR_LEFT = CARD_WIDTH - QR_INSET - QR_BOX;
constexpr double QR_BOTTOM = CARD_HEIGHT - QR_INSET - QR_BOX;
constexpr double COLUMN_GAP = 6;
constexpr double TEXT_COLUMN_WIDTH = QR_LEFT - COLUMN_GAP - PADDING; // beside the QR code
constexpr double FULL_WIDTH = CARD_WIDTH - 2 * PADDING;               // below it

constexpr double TITLE_BASELINE = CARD_HEIGHT - 20;
constexpr double TITLE_SIZE = 9, TITLE_MIN_SIZE = 6;
constexpr double AMOUNT_BASELINE = CARD_HEIGHT - 44;
constexpr double AMOUNT_SIZE = 16, AMOUNT_MIN_SIZE = 6;
constexpr double EXPIRY_BASELINE = CARD_HEIGHT - 62;
constexpr double ID_BASELINE = CARD_HEIGHT - 76;
constexpr double DETAIL_SIZE = 8.5;
constexpr double CODE_FIRST_BASELINE = 45;
constexpr double CODE_SECOND_BASELINE = 31;
constexpr double CODE_SIZE = 12;
constexpr double COURIER_ASCENT = 0.629; // of the em, from Courier's metrics
static_assert(CODE_FIRST_BASELINE + COURIER_ASCENT * CODE_SIZE < QR_BOTTOM, "the code stays below the QR code");
static_assert(ID_BASELINE > CODE_FIRST_BASELINE + CODE_SIZE, "the id stays above the code");
constexpr double URL_BASELINE = 12;
constexpr double URL_SIZE = 7, URL_MIN_SIZE = 5;

// The grouped code, "RGC-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX", breaks
// after its fifth dash; the dash stays at the end of the first line, where a
// reader sees the code goes on (dashes are ignored when it is typed).
constexpr size_t CODE_FIRST_LINE = 24;
constexpr size_t CODE_LENGTH = 43;
constexpr size_t MAX_TITLE = 64;
constexpr size_t MAX_CLAIM_URL = 200;

const char URL_LEAD[] = "Scan or visit ";

Status Refuse(const std::string& message) { return Status(StatusCode::kInvalidParameter, message); }

//! The largest size, in half points from `max_size` down to `min_size`, at
//! which `text` is at most `width` wide; 0 when none is.
double FitSize(Font font, const std::string& text, double max_size, double min_size, double width)
{
    for (double size = max_size; size >= min_size; size -= 0.5) {
        if (TextWidth(font, text, size) <= width) return size;
    }
    return 0;
}

class PageContent {
public:
    explicit PageContent(SecretString& out) : m_out(out) {}

    void Op(const char* op) { m_out.append(op); }
    void Num(double value)
    {
        AppendNumber(m_out, value);
        m_out.push_back(' ');
    }

    void Text(Font font, double size, double x, double y, const char* text, size_t len)
    {
        Op("BT ");
        Op(FontResource(font));
        m_out.push_back(' ');
        Num(size);
        Op("Tf ");
        Num(x);
        Num(y);
        Op("Td ");
        AppendPdfString(m_out, text, len);
        Op(" Tj ET\n");
    }
    void Text(Font font, double size, double x, double y, const std::string& text)
    {
        Text(font, size, x, y, text.data(), text.size());
    }

    void Line(double x0, double y0, double x1, double y1)
    {
        Num(x0);
        Num(y0);
        Op("m ");
        Num(x1);
        Num(y1);
        Op("l S\n");
    }

    //! A rectangle between two corners, added to the current path.
    void Rect(double left, double bottom, double right, double top)
    {
        Num(left);
        Num(bottom);
        Num(right - left);
        Num(top - bottom);
        Op("re\n");
    }

private:
    SecretString& m_out;
};

void DrawCutMarks(PageContent& page)
{
    const double right = GRID_LEFT + COLUMNS * CARD_WIDTH;
    const double top = GRID_BOTTOM + ROWS * CARD_HEIGHT;
    page.Op("0 G 0.4 w\n");
    for (int c = 0; c <= COLUMNS; ++c) {
        const double x = GRID_LEFT + c * CARD_WIDTH;
        page.Line(x, GRID_BOTTOM - CUT_MARK_GAP, x, GRID_BOTTOM - CUT_MARK_GAP - CUT_MARK_LENGTH);
        page.Line(x, top + CUT_MARK_GAP, x, top + CUT_MARK_GAP + CUT_MARK_LENGTH);
    }
    for (int r = 0; r <= ROWS; ++r) {
        const double y = GRID_BOTTOM + r * CARD_HEIGHT;
        page.Line(GRID_LEFT - CUT_MARK_GAP, y, GRID_LEFT - CUT_MARK_GAP - CUT_MARK_LENGTH, y);
        page.Line(right + CUT_MARK_GAP, y, right + CUT_MARK_GAP + CUT_MARK_LENGTH, y);
    }
}

//! The symbol's dark modules as one filled path, a rectangle per run of
//! dark modules in a row. Each edge is computed once from the module grid,
//! so neighbouring runs meet exactly and no hairline shows between them.
void DrawQr(PageContent& page, const QrSymbol& qr, double left, double bottom, double module)
{
    const double top = bottom + QR_BOX;
    const auto x_at = [&](int column) { return left + (QUIET_ZONE_MODULES + column) * module; };
    const auto y_at = [&](int row) { return top - (QUIET_ZONE_MODULES + row) * module; };
    page.Op("0 g\n");
    for (int row = 0; row < qr.width; ++row) {
        int column = 0;
        while (column < qr.width) {
            if (!qr.Dark(row, column)) {
                ++column;
                continue;
            }
            const int run_start = column;
            while (column < qr.width && qr.Dark(row, column)) ++column;
            page.Rect(x_at(run_start), y_at(row + 1), x_at(column), y_at(row));
        }
    }
    page.Op("f\n");
}

struct FittedText {
    double title_size{0};
    double url_size{0};
    std::string url_line;
};

Result<FittedText> FitSheetText(const SheetOptions& options)
{
    FittedText fitted;
    fitted.title_size = FitSize(Font::kHelveticaBold, options.title, TITLE_SIZE, TITLE_MIN_SIZE, TEXT_COLUMN_WIDTH);
    if (fitted.title_size == 0) return Refuse("the title is too long to fit on a card");
    if (!options.claim_url.empty()) {
        fitted.url_line = URL_LEAD + options.claim_url;
        fitted.url_size = FitSize(Font::kHelvetica, fitted.url_line, URL_SIZE, URL_MIN_SIZE, FULL_WIDTH);
        if (fitted.url_size == 0) return Refuse("the claim URL is too long to print on a card");
    }
    return fitted;
}

Status DrawCard(PageContent& page, const Card& card, const SheetOptions& options, const FittedText& fitted,
                double x, double y)
{
    const double amount_size = FitSize(Font::kHelveticaBold, card.amount, AMOUNT_SIZE, AMOUNT_MIN_SIZE, TEXT_COLUMN_WIDTH);
    if (amount_size == 0) return Refuse("code id " + card.id.ShortHex() + ": the amount does not fit on a card");
    const Result<QrSymbol> qr = EncodeQr(QrText(card, options.claim_url));
    if (!qr.ok()) return Status(qr.status().code(), "code id " + card.id.ShortHex() + ": " + qr.status().message());
    const double module = QR_BOX / (qr->width + 2 * QUIET_ZONE_MODULES);
    if (module < MIN_MODULE) {
        return Refuse("the claim URL is too long: its QR codes would need modules under 0.5 mm; use a shorter URL");
    }

    page.Op("0 g\n");
    page.Text(Font::kHelveticaBold, fitted.title_size, x + PADDING, y + TITLE_BASELINE, options.title);
    page.Text(Font::kHelveticaBold, amount_size, x + PADDING, y + AMOUNT_BASELINE, card.amount);
    page.Text(Font::kHelvetica, DETAIL_SIZE, x + PADDING, y + EXPIRY_BASELINE, card.expiry);
    page.Text(Font::kHelvetica, DETAIL_SIZE, x + PADDING, y + ID_BASELINE, "ID " + card.id.ShortHex());
    assert(card.code.size() == CODE_LENGTH);
    page.Text(Font::kCourier, CODE_SIZE, x + PADDING, y + CODE_FIRST_BASELINE, card.code.data(), CODE_FIRST_LINE);
    page.Text(Font::kCourier, CODE_SIZE, x + PADDING, y + CODE_SECOND_BASELINE, card.code.data() + CODE_FIRST_LINE,
              CODE_LENGTH - CODE_FIRST_LINE);
    if (!fitted.url_line.empty()) {
        page.Text(Font::kHelvetica, fitted.url_size, x + PADDING, y + URL_BASELINE, fitted.url_line);
    }
    DrawQr(page, qr.value(), x + QR_LEFT, y + QR_BOTTOM, module);
    return Status::Ok();
}

} // namespace

Status CheckTitle(const std::string& title)
{
    if (title.empty() || title.size() > MAX_TITLE || !IsPrintableAscii(title)) {
        return Refuse("--title must be 1 to " + std::to_string(MAX_TITLE) + " printable ASCII characters");
    }
    return Status::Ok();
}

Status CheckClaimUrl(const std::string& url)
{
    size_t scheme = 0;
    if (url.compare(0, 8, "https://") == 0) {
        scheme = 8;
    } else if (url.compare(0, 7, "http://") == 0) {
        scheme = 7;
    } else {
        return Refuse("--claim-url must start with https:// or http://");
    }
    if (url.size() == scheme || url[scheme] == '/') return Refuse("--claim-url names no host");
    if (url.size() > MAX_CLAIM_URL) {
        return Refuse("--claim-url is longer than " + std::to_string(MAX_CLAIM_URL) + " characters");
    }
    if (!IsPrintableAscii(url) || url.find(' ') != std::string::npos) {
        return Refuse("--claim-url must be printable ASCII without spaces (percent-encode anything else)");
    }
    if (url.find('#') != std::string::npos) {
        return Refuse("--claim-url must not hold a '#': the code goes after one (pass the base URL, e.g. https://gift.example.com/)");
    }
    return Status::Ok();
}

SecretString QrText(const Card& card, const std::string& claim_url)
{
    if (claim_url.empty()) return card.uri;
    // The compact code: the URI form without its scheme ("MONAGIFT:").
    const size_t scheme = card.uri.find(':');
    assert(scheme != SecretString::npos);
    SecretString text(claim_url.data(), claim_url.size());
    text.push_back('#');
    text.append(card.uri, scheme + 1, SecretString::npos);
    return text;
}

size_t PageCount(size_t cards) { return (cards + CARDS_PER_PAGE - 1) / CARDS_PER_PAGE; }

Result<SecretString> RenderSheet(const std::vector<Card>& cards, const SheetOptions& options)
{
    assert(!cards.empty());
    if (Status s = CheckTitle(options.title); !s.ok()) return s;
    if (!options.claim_url.empty()) {
        if (Status s = CheckClaimUrl(options.claim_url); !s.ok()) return s;
    }
    const Result<FittedText> fitted = FitSheetText(options);
    if (!fitted.ok()) return fitted.status();

    PdfWriter pdf(PAGE_WIDTH, PAGE_HEIGHT);
    for (size_t first = 0; first < cards.size(); first += CARDS_PER_PAGE) {
        SecretString content;
        PageContent page(content);
        DrawCutMarks(page);
        for (size_t slot = 0; slot < CARDS_PER_PAGE && first + slot < cards.size(); ++slot) {
            const int row = int(slot) / COLUMNS; // from the top
            const int column = int(slot) % COLUMNS;
            const double x = GRID_LEFT + column * CARD_WIDTH;
            const double y = GRID_BOTTOM + (ROWS - 1 - row) * CARD_HEIGHT;
            if (Status s = DrawCard(page, cards[first + slot], options, fitted.value(), x, y); !s.ok()) return s;
        }
        pdf.AddPage(std::move(content));
    }
    assert(pdf.PageCount() == PageCount(cards.size()));
    return pdf.Finish();
}

} // namespace giftcode::cards
