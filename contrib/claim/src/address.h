// Is an address one the node of the configured network will pay? A
// holder's typing error or an address of another network (a testnet address
// on a mainnet service) is caught here, with its own message, before the
// node is asked anything. The node checks again: this check only has to
// refuse nothing the node would accept, and name the other network when it
// can.
//
// Monacoin's address forms: base58check with version bytes 50 (M), 5 (3) and
// 55 (P) on mainnet, 111, 196 and 117 on testnet and regtest (which share
// them); segwit addresses in bech32 (BIP 173) for witness version 0 and
// bech32m (BIP 350) above, with the prefixes mona, tmona and rmona.
//
// Thread-safety: pure functions.
#ifndef GIFTCODE_CLAIM_ADDRESS_H
#define GIFTCODE_CLAIM_ADDRESS_H

#include <code.h>

#include <string>

namespace giftcode::claim {

enum class AddressCheck {
    kValid,        //!< an address of the configured network
    kInvalid,      //!< not an address at all (a typing error, say)
    kWrongNetwork, //!< a valid address of another Monacoin network
};

AddressCheck CheckAddress(const std::string& address, Network network);

} // namespace giftcode::claim

#endif // GIFTCODE_CLAIM_ADDRESS_H
