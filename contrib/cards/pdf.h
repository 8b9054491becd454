// A minimal PDF 1.4 writer for card sheets: pages of one size, each with one
// uncompressed content stream, and three of the standard 14 fonts (Type1,
// WinAnsiEncoding, never embedded: every PDF reader has them). The file
// layout is the plainest the format allows:
//
//     %PDF-1.4 header, a binary comment line
//     1 catalog, 2 page tree, 3-5 fonts F1 F2 F3, 6 document info
//     7 + 2i page i, 8 + 2i its content stream
//     xref table (one 20-byte entry per object), trailer, startxref, %%EOF
//
// Text is printable ASCII only, which WinAnsiEncoding maps to itself.
//
// Thread-safety: a PdfWriter is not shared; the functions are pure.
#ifndef GIFTCODE_CARDS_PDF_H
#define GIFTCODE_CARDS_PDF_H

#include "secret.h"

#include <string>
#include <vector>

namespace giftcode::cards {

enum class Font { kHelvetica, kHelveticaBold, kCourier };

//! The resource name a content stream selects `font` by ("/F1").
const char* FontResource(Font font);

//! Advance width of `text` set in `font` at `size` points. `text` is
//! printable ASCII (asserted).
double TextWidth(Font font, const std::string& text, double size);

//! Whether every character is printable ASCII (space to '~').
bool IsPrintableAscii(const std::string& text);

//! Appends `text` as a PDF literal string, "(...)", escaping '(', ')' and
//! '\'. `text` is printable ASCII (asserted).
void AppendPdfString(SecretString& out, const char* text, size_t len);

//! Appends a coordinate or length in points, to a thousandth.
void AppendNumber(SecretString& out, double value);

class PdfWriter {
public:
    //! Every page is `width` x `height` points.
    PdfWriter(double width, double height) : m_width(width), m_height(height) {}

    //! Adds a page drawn by `content`, a sequence of PDF operators that may
    //! use the fonts of FontResource.
    void AddPage(SecretString content) { m_pages.push_back(std::move(content)); }

    size_t PageCount() const { return m_pages.size(); }

    //! The whole file.
    SecretString Finish() const;

private:
    double m_width;
    double m_height;
    std::vector<SecretString> m_pages;
};

} // namespace giftcode::cards

#endif // GIFTCODE_CARDS_PDF_H
