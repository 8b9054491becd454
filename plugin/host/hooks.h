// The module's entry points, called by the patched node. This header is
// included by the node's own sources, which compile as C++11: it declares
// only, with forward declarations, and must stay C++11-clean.
//
// Thread-safety: every hook may be called from any thread; the registry of
// per-wallet ledgers behind them has its own lock.
#ifndef GIFTCODE_HOST_HOOKS_H
#define GIFTCODE_HOST_HOOKS_H

#include <memory>
#include <string>
#include <vector>

class CWallet;
namespace interfaces {
class Chain;
class Handler;
} // namespace interfaces

namespace giftcode {
namespace host {

//! Registers the module's options (-giftcodemininput) with the node's.
void AddOptions();

//! Checks the module's option values at startup; false, with `error` set
//! to the message to show, stops the node.
bool CheckOptions(std::string& error);

//! A wallet finished loading (cs_main and cs_wallet held): open its ledger
//! from the wallet database and check it against the wallet's transactions.
//! Never fails the load: a ledger that cannot open is reported in the log
//! and by every gift-code RPC on that wallet.
void OnWalletLoaded(const std::shared_ptr<CWallet>& wallet);

//! The wallet is about to be deleted: drop its ledger.
void OnWalletReleased(CWallet* wallet);

//! The wallet processed a connected block (cs_main and cs_wallet held):
//! hand committed but unaccepted redemption payments to the network again.
void OnBlockConnected(CWallet& wallet);

//! Adds the gift-code RPCs beside the wallet's.
void RegisterRpcCommands(interfaces::Chain& chain, std::vector<std::unique_ptr<interfaces::Handler>>& handlers);

} // namespace host
} // namespace giftcode

#endif // GIFTCODE_HOST_HOOKS_H
