// The per-wallet registry and the load, release and block hooks the patched
// wallet calls. A wallet's ledger lives exactly as long as the wallet.
#include "hooks.h"
#include "wallet_ports.h"

#include "../core/notify.h"

#include <interfaces/chain.h>
#include <util/system.h>
#include <wallet/wallet.h>

#include <atomic>
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

//! Commands that may wait for the one being run; more are dropped (and
//! logged) rather than kept, so a command that hangs cannot grow the node.
constexpr size_t NOTIFY_QUEUE_CAPACITY = 1000;

#if HAVE_SYSTEM
//! Runs -giftcodenotify's commands of every wallet, one at a time, in order.
//! Made by the first wallet that needs it and never destroyed: as with the
//! node's own notification commands, one still running at shutdown is
//! left to finish.
CommandQueue& NotifyQueue()
{
    static CommandQueue* const queue =
        new CommandQueue([](const std::string& command) { runCommand(command); }, NOTIFY_QUEUE_CAPACITY);
    return *queue;
}
#endif

//! A wallet's listener: logs the events nothing else logs, and hands every
//! event to -giftcodenotify's command when there is one.
class WalletNotifier final : public Notifier {
public:
    WalletNotifier(const CWallet& wallet, const std::string& command) : m_wallet(wallet)
    {
#if HAVE_SYSTEM
        if (command.empty()) return;
        m_command.reset(new CommandNotifier(NotifyQueue(), command, wallet.GetName(), [this](const Event& event) {
            // The first drop, then every tenfold: a hung command under load
            // must not flood the log from the payment path.
            const uint64_t dropped = ++m_dropped;
            uint64_t step = 1;
            while (step * 10 <= dropped) step *= 10;
            if (dropped % step != 0) return;
            m_wallet.WalletLogPrintf("gift codes: WARNING: %u -giftcodenotify commands are waiting; the %s event "
                                     "was not run (%u not run so far)\n",
                                     NOTIFY_QUEUE_CAPACITY, EventName(event.kind), dropped);
        }));
#endif
    }

    void Notify(const Event& event) override
    {
        switch (event.kind) {
        // Reasons may hold labels, which are anyone's text: one log line each.
        case EventKind::kInsolvent:
        case EventKind::kRefusals:
        case EventKind::kBreaker:
            m_wallet.WalletLogPrintf("gift codes: WARNING: %s\n", SafeText(event.reason));
            break;
        case EventKind::kSolvent:
            m_wallet.WalletLogPrintf("gift codes: %s\n", SafeText(event.reason));
            break;
        case EventKind::kNotAccepted:
            m_wallet.WalletLogPrintf("gift codes: WARNING: payment %s of code %s: %s\n",
                                     event.txid ? TxidToHex(*event.txid) : "-",
                                     event.code ? event.code->ShortHex() : "-", SafeText(event.reason));
            break;
        default:
            break;  // logged where they arise
        }
        if (m_command) m_command->Notify(event);
    }

private:
    const CWallet& m_wallet;
    std::atomic<uint64_t> m_dropped{0};
    std::unique_ptr<CommandNotifier> m_command;
};

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
    state->notifier.reset(new WalletNotifier(*wallet, NotifyCommandTemplate()));
    const Ports ports{*state->store,      *state->payer,     *state->chain,         *state->clock,
                      *state->randomness, *state->addresses, state->notifier.get()};
    LedgerPolicy policy;
    policy.network = ActiveNetwork();
    policy.start_delay = StartDelay();
    policy.max_payment_codes = MaxPaymentCodes();
    policy.payment_wait_ms = PaymentWaitMillis();
    policy.refusal_alert = RefusalAlert();
    policy.limits = Limits();
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
    // Not during initial block download: the balance is not settled, and
    // the walk over the wallet's coins would slow every block.
    if (!wallet.chain().isInitialBlockDownload()) (void)state->ledger->CheckSolvency();
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
