// QR encoding through libqrencode; see qr.h.
#include "qr.h"

#include "sha256.h"

#include <qrencode.h>

#include <cerrno>

namespace giftcode::cards {

Result<QrSymbol> EncodeQr(const SecretString& text)
{
    errno = 0;
    QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        if (errno == ERANGE) return Status(StatusCode::kInvalidParameter, "the text is too long for a QR code");
        return Status(StatusCode::kStoreFailure, "the QR encoder failed (out of memory?)");
    }
    QrSymbol symbol;
    symbol.width = qr->width;
    const size_t count = size_t(qr->width) * size_t(qr->width);
    symbol.modules.resize(count);
    for (size_t i = 0; i < count; ++i) symbol.modules[i] = qr->data[i] & 1;
    // The modules spell the code: wipe libqrencode's copy before it is freed.
    SecureWipe(qr->data, count);
    QRcode_free(qr);
    return symbol;
}

} // namespace giftcode::cards
