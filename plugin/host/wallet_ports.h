// The core's ports over one monacoind wallet, and the per-wallet registry the
// hooks and the RPC table share. Adapters translate; the ledger decides.
//
// Store: records under the wallet database key ("giftcode", key); one
// Berkeley DB transaction per batch, under cs_wallet; kPowerLoss commits
// flush the database log to disk before returning.
// Payer: one operation under chain().lock() and cs_wallet from coin selection
// to adoption: CreateTransaction (confirmed coins first), the payment's
// CWalletTx written in the same database transaction as the redeemed record,
// committed with DB_TXN_SYNC, then taken into the wallet's memory through
// the same batch (CWallet::AddSentTransaction). Broadcast comes after.
#ifndef GIFTCODE_HOST_WALLET_PORTS_H
#define GIFTCODE_HOST_WALLET_PORTS_H

#include "../core/ledger.h"
#include "../core/ports.h"

#include <memory>
#include <string>
#include <utility>

class CWallet;

namespace giftcode {
namespace host {

//! The mapValue key that tags a payment's wallet transaction with its code id.
extern const char* const PAYMENT_TAG;

std::unique_ptr<Store> MakeWalletStore(CWallet& wallet);
std::unique_ptr<Payer> MakeWalletPayer(CWallet& wallet);
std::unique_ptr<ChainView> MakeWalletChainView(CWallet& wallet);
std::unique_ptr<Clock> MakeNodeClock();
std::unique_ptr<Randomness> MakeNodeRandomness();
std::unique_ptr<AddressValidator> MakeNodeAddressValidator();
//! The network of the running node (main, test or regtest).
Network ActiveNetwork();

//! -giftcodemininput: outputs below it are not spent by a redemption while
//! larger ones suffice. CheckOptions has validated it.
int64_t MinRedemptionInput();

//! -giftcodestartdelay: seconds after a wallet loads before it makes new
//! redemption payments. CheckOptions has validated it.
int64_t StartDelay();

//! -giftcodemaxbatch and -giftcodebatchwait: the most codes one payment
//! pays (fewer if the node's -datacarrier policy relays no OP_RETURN of
//! their tags), and how long a payment waits for more. CheckOptions has
//! validated them.
size_t MaxPaymentCodes();
//! Bytes of the OP_RETURN script that carries `codes` payment tags.
size_t TagsScriptSize(size_t codes);
int64_t PaymentWaitMillis();

//! -giftcoderefusalalert: redemptions that pay nothing within a minute that
//! raise a refusals event (0: never). CheckOptions has validated it.
uint64_t RefusalAlert();
//! -giftcodelimit: the breaker's limits of a wallet without its own.
std::vector<WindowLimit> Limits();
//! -giftcodenotify's command, empty when there is none (or the node cannot
//! run commands).
std::string NotifyCommandTemplate();

//! -giftcodetestfault names `step` (regtest only; CheckOptions enforces it).
bool TestFault(const std::string& step);

//! One wallet's ports and ledger. The ledger is null when it could not open;
//! `error` then says why.
struct WalletGiftCodes {
    std::unique_ptr<Store> store;
    std::unique_ptr<Payer> payer;
    std::unique_ptr<ChainView> chain;
    std::unique_ptr<Clock> clock;
    std::unique_ptr<Randomness> randomness;
    std::unique_ptr<AddressValidator> addresses;
    //! Logs what needs a warning and runs -giftcodenotify's command.
    std::unique_ptr<Notifier> notifier;
    std::unique_ptr<Ledger> ledger;  // last: destroyed before the ports it uses
    StatusCode error_code{StatusCode::kOk};
    std::string error;
    //! Sizes of the consistency mismatch last logged ({0, 0}: clean).
    std::pair<size_t, size_t> logged_mismatch{0, 0};
};

//! The gift-code state of a loaded wallet, or null if it has none.
std::shared_ptr<WalletGiftCodes> FindWalletGiftCodes(const CWallet* wallet);

} // namespace host
} // namespace giftcode

#endif // GIFTCODE_HOST_WALLET_PORTS_H
