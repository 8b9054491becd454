// QR codes for cards, made by libqrencode: error correction level M (15% of
// the symbol may be lost to a smudge or a fold), the smallest version that
// holds the text, text in byte mode where it is not digits or upper-case
// letters (a claim URL's path may be case-sensitive).
//
// Thread-safety: pure function over values (libqrencode is reentrant).
#ifndef GIFTCODE_CARDS_QR_H
#define GIFTCODE_CARDS_QR_H

#include "secret.h"

#include "status.h"

namespace giftcode::cards {

//! A QR symbol without its quiet zone.
struct QrSymbol {
    //! Modules on a side (21 for version 1, 4 more per version).
    int width{0};
    //! width * width modules, row by row from the top; 1 is dark.
    SecretBytes modules;

    bool Dark(int row, int column) const { return modules[size_t(row) * size_t(width) + size_t(column)] != 0; }
};

//! The symbol of `text`. Fails with kInvalidParameter when the text is too
//! long for any QR version, kStoreFailure when libqrencode runs out of memory.
Result<QrSymbol> EncodeQr(const SecretString& text);

} // namespace giftcode::cards

#endif // GIFTCODE_CARDS_QR_H
