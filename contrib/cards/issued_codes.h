// Reading the codes a sheet prints: the JSON object creategiftcode returns
// (doc/rpc.md), or a JSON array of such objects when several calls go on one
// sheet:
//
//     {"amount": 1.50000000, "count": 2, "label": "...", "expires_at": null,
//      "codes": [{"id": "<32 hex>", "code": "RGC-XXXX-...", "uri": "MONAGIFT:RGC..."}]}
//
// Every code is checked before a card is made of it: it parses (any
// network, but one network for the whole sheet), its id is the id of the
// code, its uri (when given) is the same code, and it appears once. The
// amount is taken from the JSON number's text, never through a double.
// Other fields (count, label) are not printed and not checked.
//
// Failures name a code by its position and short id, never by the code.
//
// Thread-safety: pure functions over values.
#ifndef GIFTCODE_CARDS_ISSUED_CODES_H
#define GIFTCODE_CARDS_ISSUED_CODES_H

#include "secret.h"

#include "code.h"
#include "status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace giftcode::cards {

//! Everything one card shows.
struct Card {
    CodeId id;
    Network network{Network::kMain};
    //! "1.50000000 MONA"
    std::string amount;
    //! "Expires 2027-01-31 00:00 UTC" or "No expiry"
    std::string expiry;
    //! FormatCode: "RGC-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX"
    SecretString code;
    //! FormatCodeUri: "MONAGIFT:RGCXXXX..."
    SecretString uri;
};

//! The cards of `json`, in input order. Fails with kInvalidParameter and a
//! message fit for the operator when the input is not JSON of that shape,
//! holds no code, or any code fails a check above.
Result<std::vector<Card>> ReadIssuedCodes(const SecretString& json);

//! The expiry line of a card: "No expiry" for 0, else the time (unix
//! seconds) in UTC to the minute, rounded down so a card never promises
//! more time than the code has. Fails for times before 1970 or after 9999.
Result<std::string> ExpiryText(int64_t expires_at);

} // namespace giftcode::cards

#endif // GIFTCODE_CARDS_ISSUED_CODES_H
