// The per-wallet registry and the load, release and block hooks the patched
// wallet calls. A wallet's ledger lives exactly as long as the wallet.
#include "hooks.h"
#include "wallet_ports.h"

#include <wallet/wallet.h>

#include <map>
#include <mutex>

namespace giftcode {
namespace host {
namespace {

std::mutex g_registry_mutex;
std::map<const CWallet*, std::shared_ptr<WalletGiftCodes>> g_registry;

void LogOpened(const CWallet& wallet, Ledger& ledger)
{
    const LedgerInfo info = ledger.Info();
    wallet.WalletLogPrintf("gift codes: %u issued, %u redeemed, %u cancelled, %u expired (build %s)\n",
                           info.counts.at(CodeState::kIssued), info.counts.at(CodeState::kRedeemed),
                           info.counts.at(CodeState::kCancelled), info.counts.at(CodeState::kExpired), BuildId());
    const RestoreInfo& r = info.restore;
    if (r.detected) {
        wallet.WalletLogPrintf("gift codes: WARNING: this wallet was put back from a backup: it holds %d gift-code "
                               "commits, the state file beside it %d. %u codes issued in the backup were redeemed "
                               "after it was taken; they were found on the chain and read redeemed. %d codes issued "
                               "after the backup are not in this wallet: they answer unknown code, and their "
                               "holders need new codes unless they were paid (see doc/design.md, \"Restored from a "
                               "backup\").\n",
                               r.wallet_commits, r.side_commits, r.found_on_chain, r.codes_missing);
    } else if (r.found_on_chain > 0) {
        wallet.WalletLogPrintf("gift codes: %u codes that read unpaid were found paid on the chain and now read "
                               "redeemed\n",
                               r.found_on_chain);
    }
    const ConsistencyReport& c = info.consistency;
    if (!c.checked) {
        wallet.WalletLogPrintf("gift codes: WARNING: consistency check could not run: %s\n", c.error);
    } else if (!c.clean()) {
        wallet.WalletLogPrintf("gift codes: WARNING: CONSISTENCY CHECK FAILED: %u redeemed codes without their "
                               "payment, %u tagged payments without a redeemed code. Nothing was changed; see "
                               "getgiftcodeinfo.\n",
                               c.redeemed_without_payment.size(), c.payment_without_redemption.size());
        for (const CodeId& id : c.redeemed_without_payment) {
            wallet.WalletLogPrintf("gift codes: code %s is redeemed but its payment is missing\n", id.ShortHex());
        }
        for (const TaggedPayment& p : c.payment_without_redemption) {
            wallet.WalletLogPrintf("gift codes: payment %s is tagged with code %s, which is not redeemed by it\n",
                                   TxidToHex(p.txid), p.code.ShortHex());
        }
    }
}

void LogNotice(const CWallet& wallet, const PaymentNotice& notice)
{
    if (notice.reason.empty()) {
        wallet.WalletLogPrintf("gift codes: payment %s of code %s is %s again; nothing needs doing\n",
                               TxidToHex(notice.txid), notice.id.ShortHex(), PaymentStateName(notice.state));
    } else {
        wallet.WalletLogPrintf("gift codes: WARNING: payment %s of code %s is %s: %s\n", TxidToHex(notice.txid),
                               notice.id.ShortHex(), PaymentStateName(notice.state), notice.reason);
    }
}

} // namespace

void OnWalletLoaded(const std::shared_ptr<CWallet>& wallet)
{
    std::shared_ptr<WalletGiftCodes> state = std::make_shared<WalletGiftCodes>();
    state->store = MakeWalletStore(*wallet);
    state->payer = MakeWalletPayer(*wallet);
    state->chain = MakeWalletChainView(*wallet);
    state->clock = MakeNodeClock();
    state->randomness = MakeNodeRandomness();
    state->addresses = MakeNodeAddressValidator();
    const Ports ports{*state->store, *state->payer, *state->chain, *state->clock, *state->randomness, *state->addresses};
    LedgerPolicy policy;
    policy.network = ActiveNetwork();
    policy.start_delay = StartDelay();
    policy.max_payment_codes = MaxPaymentCodes();
    policy.payment_wait_ms = PaymentWaitMillis();
    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(ports, policy);
    if (ledger.ok()) {
        state->ledger = std::move(ledger.value());
        LogOpened(*wallet, *state->ledger);
        const ConsistencyReport consistency = state->ledger->Consistency();
        state->logged_mismatch = {consistency.redeemed_without_payment.size(),
                                  consistency.payment_without_redemption.size()};
        for (const PaymentNotice& notice : state->ledger->Info().attention) LogNotice(*wallet, notice);
    } else {
        state->error_code = ledger.status().code();
        state->error = ledger.status().message();
        wallet->WalletLogPrintf("gift codes: ERROR: the ledger did not open, gift-code RPCs are disabled for this "
                                "wallet: %s\n",
                                state->error);
    }
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    g_registry[wallet.get()] = std::move(state);
}

void OnWalletReleased(CWallet* wallet)
{
    std::shared_ptr<WalletGiftCodes> state;
    {
        std::lock_guard<std::mutex> lock(g_registry_mutex);
        auto it = g_registry.find(wallet);
        if (it == g_registry.end()) return;
        state = std::move(it->second);
        g_registry.erase(it);
    }
}

void OnBlockConnected(CWallet& wallet)
{
    std::shared_ptr<WalletGiftCodes> state = FindWalletGiftCodes(&wallet);
    if (!state || !state->ledger) return;
    for (const PaymentNotice& notice : state->ledger->FollowPayments()) LogNotice(wallet, notice);
    // Logged when a mismatch appears or changes, not again on every block.
    const ConsistencyReport consistency = state->ledger->Consistency();
    const std::pair<size_t, size_t> mismatch{consistency.redeemed_without_payment.size(),
                                             consistency.payment_without_redemption.size()};
    if (consistency.checked && mismatch != state->logged_mismatch) {
        state->logged_mismatch = mismatch;
        if (consistency.clean()) return;
        wallet.WalletLogPrintf("gift codes: WARNING: CONSISTENCY CHECK FAILED at height %d: %u redeemed codes "
                               "without their payment, %u tagged payments without a redeemed code. Nothing was "
                               "changed; see getgiftcodeinfo.\n",
                               consistency.height, consistency.redeemed_without_payment.size(),
                               consistency.payment_without_redemption.size());
    }
}

std::shared_ptr<WalletGiftCodes> FindWalletGiftCodes(const CWallet* wallet)
{
    std::lock_guard<std::mutex> lock(g_registry_mutex);
    auto it = g_registry.find(wallet);
    return it == g_registry.end() ? nullptr : it->second;
}

} // namespace host
} // namespace giftcode
