// The card sheet: A4 portrait pages of ten 85 x 54 mm cards (two columns,
// five rows, centred, edge to edge), with cut marks in the margins on every
// line between cards. No border is drawn: a cut a little off the line
// leaves no stray line on a card, and nothing but white paper lies beyond a
// QR code's quiet zone.
//
// A card reads, top left: the title (the issuing service), the amount, the
// expiry and the code's short id; top right: the QR code; across the
// bottom: the code in its grouped form on two lines, in Courier (one
// column a character, so a group of four is easy to read and type), and
// with --claim-url the line "Scan or visit <url>".
//
// The QR code holds the card's claim URL, "<url>#<RGC + 32 symbols>"
// (doc/claim.md, Claim URLs), or its "MONAGIFT:" URI without a URL. Its
// modules are at least 0.5 mm, with a quiet zone of 4 modules, so a phone
// reads it off an office printer's output; a URL too long for that is
// refused rather than printed smaller.
//
// Thread-safety: pure functions over values.
#ifndef GIFTCODE_CARDS_LAYOUT_H
#define GIFTCODE_CARDS_LAYOUT_H

#include "issued_codes.h"
#include "secret.h"

#include "status.h"

#include <string>
#include <vector>

namespace giftcode::cards {

constexpr size_t CARDS_PER_PAGE = 10;

struct SheetOptions {
    //! The service name on every card: printable ASCII.
    std::string title{"Monacoin gift card"};
    //! The claim page's public URL; empty for MONAGIFT: URIs.
    std::string claim_url;
};

//! Fails with kInvalidParameter unless `title` is 1 to 64 printable ASCII
//! characters.
Status CheckTitle(const std::string& title);

//! Fails with kInvalidParameter unless `url` starts with https:// or
//! http://, names something after that, and is printable ASCII without
//! spaces or '#' (the code is appended after a '#').
Status CheckClaimUrl(const std::string& url);

//! What a card's QR code holds.
SecretString QrText(const Card& card, const std::string& claim_url);

size_t PageCount(size_t cards);

//! The PDF of `cards` (at least one), CARDS_PER_PAGE a page in their order.
//! Fails with kInvalidParameter when the title or the URL does not fit on a
//! card, or a QR code would need modules under 0.5 mm.
Result<SecretString> RenderSheet(const std::vector<Card>& cards, const SheetOptions& options);

} // namespace giftcode::cards

#endif // GIFTCODE_CARDS_LAYOUT_H
