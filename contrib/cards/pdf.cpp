// PDF writing; the file layout is in pdf.h.
#include "pdf.h"

#include <cassert>
#include <cstdio>

namespace giftcode::cards {
namespace {

// Advance widths (1/1000 em) of characters 32 to 126 in WinAnsiEncoding,
// from Adobe's font metrics (Helvetica, Helvetica-Bold). 39 is quotesingle
// and 96 grave in this encoding, not the quoteright and quoteleft of
// StandardEncoding that the AFM files list at those codes.
constexpr short HELVETICA_WIDTHS[95] = {
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
};
constexpr short HELVETICA_BOLD_WIDTHS[95] = {
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
};
constexpr short COURIER_WIDTH = 600;

constexpr int CATALOG = 1;
constexpr int PAGE_TREE = 2;
constexpr int FIRST_FONT = 3; // F1, F2, F3 in the order of FONTS
constexpr int INFO = 6;
constexpr int FIRST_PAGE = 7;

const char* BaseFont(Font font)
{
    switch (font) {
    case Font::kHelvetica: return "Helvetica";
    case Font::kHelveticaBold: return "Helvetica-Bold";
    case Font::kCourier: return "Courier";
    }
    return "Helvetica";
}

void Append(SecretString& out, const char* text) { out.append(text); }

void AppendInt(SecretString& out, size_t value)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%zu", value);
    out.append(digits);
}

int PageObject(size_t page) { return FIRST_PAGE + 2 * int(page); }

constexpr Font FONTS[] = {Font::kHelvetica, Font::kHelveticaBold, Font::kCourier};

int FontObject(Font font)
{
    switch (font) {
    case Font::kHelvetica: return FIRST_FONT;
    case Font::kHelveticaBold: return FIRST_FONT + 1;
    case Font::kCourier: return FIRST_FONT + 2;
    }
    return FIRST_FONT;
}

} // namespace

const char* FontResource(Font font)
{
    switch (font) {
    case Font::kHelvetica: return "/F1";
    case Font::kHelveticaBold: return "/F2";
    case Font::kCourier: return "/F3";
    }
    return "/F1";
}

bool IsPrintableAscii(const std::string& text)
{
    for (char ch : text) {
        if (ch < ' ' || ch > '~') return false;
    }
    return true;
}

double TextWidth(Font font, const std::string& text, double size)
{
    long units = 0;
    for (char ch : text) {
        assert(ch >= ' ' && ch <= '~');
        const int index = ch - ' ';
        switch (font) {
        case Font::kHelvetica: units += HELVETICA_WIDTHS[index]; break;
        case Font::kHelveticaBold: units += HELVETICA_BOLD_WIDTHS[index]; break;
        case Font::kCourier: units += COURIER_WIDTH; break;
        }
    }
    return double(units) * size / 1000.0;
}

void AppendPdfString(SecretString& out, const char* text, size_t len)
{
    out.push_back('(');
    for (size_t i = 0; i < len; ++i) {
        const char ch = text[i];
        assert(ch >= ' ' && ch <= '~');
        if (ch == '(' || ch == ')' || ch == '\\') out.push_back('\\');
        out.push_back(ch);
    }
    out.push_back(')');
}

void AppendNumber(SecretString& out, double value)
{
    char number[48];
    int len = snprintf(number, sizeof(number), "%.3f", value);
    assert(len > 0 && size_t(len) < sizeof(number));
    // Trailing zeros (and a bare point) say nothing; "-0" is "0".
    while (len > 1 && number[len - 1] == '0') --len;
    if (number[len - 1] == '.') --len;
    number[len] = '\0';
    out.append(std::string(number) == "-0" ? "0" : number);
}

SecretString PdfWriter::Finish() const
{
    const size_t object_count = size_t(FIRST_PAGE - 1) + 2 * m_pages.size(); // objects 1..object_count
    std::vector<size_t> offsets(object_count + 1, 0);
    SecretString out;
    size_t reserve = 4096;
    for (const SecretString& page : m_pages) reserve += page.size() + 512;
    out.reserve(reserve);

    // The second line's bytes above 127 tell transfer tools the file is binary.
    Append(out, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    const auto begin = [&](int object) {
        offsets[size_t(object)] = out.size();
        AppendInt(out, size_t(object));
        Append(out, " 0 obj\n");
    };
    const auto end = [&]() { Append(out, "endobj\n"); };

    begin(CATALOG);
    Append(out, "<< /Type /Catalog /Pages 2 0 R >>\n");
    end();

    begin(PAGE_TREE);
    Append(out, "<< /Type /Pages /Kids [");
    for (size_t i = 0; i < m_pages.size(); ++i) {
        if (i) out.push_back(' ');
        AppendInt(out, size_t(PageObject(i)));
        Append(out, " 0 R");
    }
    Append(out, "] /Count ");
    AppendInt(out, m_pages.size());
    Append(out, " >>\n");
    end();

    for (Font font : FONTS) {
        begin(FontObject(font));
        Append(out, "<< /Type /Font /Subtype /Type1 /BaseFont /");
        Append(out, BaseFont(font));
        Append(out, " /Encoding /WinAnsiEncoding >>\n");
        end();
    }

    begin(INFO);
    Append(out, "<< /Producer (giftcode-cards) >>\n");
    end();

    for (size_t i = 0; i < m_pages.size(); ++i) {
        begin(PageObject(i));
        Append(out, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ");
        AppendNumber(out, m_width);
        out.push_back(' ');
        AppendNumber(out, m_height);
        Append(out, "] /Resources << /Font <<");
        for (Font font : FONTS) {
            out.push_back(' ');
            Append(out, FontResource(font));
            out.push_back(' ');
            AppendInt(out, size_t(FontObject(font)));
            Append(out, " 0 R");
        }
        Append(out, " >> >> /Contents ");
        AppendInt(out, size_t(PageObject(i) + 1));
        Append(out, " 0 R >>\n");
        end();

        begin(PageObject(i) + 1);
        Append(out, "<< /Length ");
        AppendInt(out, m_pages[i].size());
        Append(out, " >>\nstream\n");
        out.append(m_pages[i]);
        Append(out, "\nendstream\n");
        end();
    }

    const size_t xref = out.size();
    Append(out, "xref\n0 ");
    AppendInt(out, object_count + 1);
    // Every entry is exactly 20 bytes, its end of line included.
    Append(out, "\n0000000000 65535 f \n");
    for (size_t object = 1; object <= object_count; ++object) {
        char entry[32];
        snprintf(entry, sizeof(entry), "%010zu 00000 n \n", offsets[object]);
        out.append(entry);
    }
    Append(out, "trailer\n<< /Size ");
    AppendInt(out, object_count + 1);
    Append(out, " /Root 1 0 R /Info 6 0 R >>\nstartxref\n");
    AppendInt(out, xref);
    Append(out, "\n%%EOF\n");
    return out;
}

} // namespace giftcode::cards
