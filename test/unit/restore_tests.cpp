// A wallet put back from a backup older than some of its redemptions: the
// payments made since are found on the chain by the codes' payment keys and
// never made again; the restore is detected from the state kept beside the
// database; new payments wait for the start delay; payment keys are made
// with the codes.
#include "ledger.h"

#include "fakes.h"

#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace giftcode;
using namespace giftcode::testing;

namespace {

TxChainState Confirmed(int confirmations)
{
    TxChainState state;
    state.known = true;
    state.confirmations = confirmations;
    return state;
}

TxChainState InMempool()
{
    TxChainState state;
    state.known = true;
    state.in_mempool = true;
    return state;
}

struct RestoreFixture {
    MemoryStore store;
    std::unique_ptr<FakeNode> node = std::make_unique<FakeNode>(store);
    std::unique_ptr<Ledger> ledger = node->Open();

    std::vector<IssuedCode> Create(size_t count)
    {
        Result<std::vector<IssuedCode>> codes = ledger->Create(COIN, count, "", 0);
        BOOST_REQUIRE(codes.ok());
        return codes.value();
    }
    Redemption Redeem(const IssuedCode& code, int payee)
    {
        Result<Redemption> r = ledger->Redeem(code.code, TestAddress(payee));
        BOOST_REQUIRE(r.ok());
        m_paid[r->txid] = node->payer.PaymentOf(r->txid);
        return r.value();
    }
    //! The wallet file is replaced by `backup` and the node restarts: a
    //! new payer and chain that know only what the chain tells them.
    void PutBack(const MemoryStore::Snapshot& backup)
    {
        ledger.reset();
        store.RestoreSnapshot(backup);
        node = std::make_unique<FakeNode>(store);
    }
    //! Backs the wallet up, redeems `code` to payee 1 and puts the backup
    //! back: returns the payment made since.
    Payment PaidSinceBackup(const IssuedCode& code)
    {
        const MemoryStore::Snapshot backup = store.TakeSnapshot();
        const Payment payment = node->payer.PaymentOf(Redeem(code, 1).txid);
        PutBack(backup);
        return payment;
    }
    //! The payment a redemption made before the wallet was put back.
    Payment PaymentOfBackup(const Redemption& r) { return m_paid.at(r.txid); }
    std::map<Txid, Payment> m_paid;
    CodeView View(const IssuedCode& code)
    {
        Result<CodeView> view = ledger->Get(code.id.ToHex());
        BOOST_REQUIRE(view.ok());
        return view.value();
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(restore_tests, RestoreFixture)

BOOST_AUTO_TEST_CASE(codes_get_their_payment_keys_when_created)
{
    const std::vector<IssuedCode> codes = Create(3);
    for (const IssuedCode& code : codes) BOOST_CHECK_EQUAL(View(code).record.payment_key, "key:" + code.id.ToHex());
    const Redemption r = Redeem(codes[0], 1);
    BOOST_CHECK_EQUAL(node->payer.PaymentOf(r.txid).payment_key, "key:" + codes[0].id.ToHex());
    // Kept across a reopen, with every other field.
    ledger = node->Open();
    BOOST_CHECK_EQUAL(View(codes[1]).record.payment_key, "key:" + codes[1].id.ToHex());

    // A locked wallet cannot store keys: nothing is created.
    const size_t before = ledger->Info().counts[CodeState::kIssued];
    node->payer.SetLocked(true);
    BOOST_CHECK(ledger->Create(COIN, 2, "", 0).status().code() == StatusCode::kWalletLocked);
    node->payer.SetLocked(false);
    node->payer.FailPaymentKeys(true);
    BOOST_CHECK(ledger->Create(COIN, 2, "", 0).status().code() == StatusCode::kStoreFailure);
    node->payer.FailPaymentKeys(false);
    // A payer that breaks the contract creates nothing either.
    for (int broken : {-1, 1}) {
        node->payer.SetBrokenPaymentKeys(broken);
        BOOST_CHECK(ledger->Create(COIN, 2, "", 0).status().code() == StatusCode::kPaymentFailed);
    }
    node->payer.SetBrokenPaymentKeys(0);
    BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kIssued], before);
    // A wallet that cannot sign issues nothing: its codes could never be paid.
    node->payer.SetUnsupported(true);
    BOOST_CHECK(ledger->Create(COIN, 2, "", 0).status().code() == StatusCode::kWalletUnsupported);
    node->payer.SetUnsupported(false);
    BOOST_CHECK_EQUAL(ledger->Info().counts[CodeState::kIssued], before);
}

BOOST_AUTO_TEST_CASE(a_code_from_before_payment_keys_gets_one_when_paid)
{
    node->payer.SetKeyless(true);
    const std::vector<IssuedCode> codes = Create(1);
    node->payer.SetKeyless(false);
    BOOST_REQUIRE(View(codes[0]).record.payment_key.empty());
    Redeem(codes[0], 1);
    BOOST_CHECK_EQUAL(View(codes[0]).record.payment_key, "key:" + codes[0].id.ToHex());
}

BOOST_AUTO_TEST_CASE(a_restored_wallet_finds_the_payments_made_after_its_backup)
{
    const std::vector<IssuedCode> codes = Create(4);
    const MemoryStore::Snapshot backup = store.TakeSnapshot();
    const Redemption confirmed = Redeem(codes[0], 1);
    const Redemption unconfirmed = Redeem(codes[1], 2);
    const Payment confirmed_payment = node->payer.PaymentOf(confirmed.txid);
    const Payment unconfirmed_payment = node->payer.PaymentOf(unconfirmed.txid);
    const int64_t commits = store.ReadSideState().commits;

    PutBack(backup);
    // The rescan at load finds the confirmed payment; the unconfirmed one
    // is relayed later.
    node->payer.LearnFromChain(confirmed_payment, Confirmed(3));
    ledger = node->Open();
    LedgerInfo info = ledger->Info();
    BOOST_CHECK(info.restore.detected);
    BOOST_CHECK(info.restore.side_state);
    BOOST_CHECK_EQUAL(info.restore.side_commits, commits);
    BOOST_CHECK_LT(info.restore.wallet_commits, commits);
    BOOST_CHECK_EQUAL(info.restore.codes_missing, 0);
    BOOST_CHECK_EQUAL(info.restore.found_on_chain, 1u);
    CodeView view = View(codes[0]);
    BOOST_CHECK(view.state == CodeState::kRedeemed);
    BOOST_CHECK(view.record.txid == confirmed.txid);
    BOOST_CHECK(view.record.found_on_chain);
    BOOST_CHECK_EQUAL(view.record.address, TestAddress(1));
    BOOST_CHECK(View(codes[1]).state == CodeState::kIssued);

    // Asked again, the same holder gets the same payment; anyone else nothing.
    Result<Redemption> again = ledger->Redeem(codes[0].code, TestAddress(1));
    BOOST_REQUIRE(again.ok());
    BOOST_CHECK(again->replay);
    BOOST_CHECK(again->txid == confirmed.txid);
    BOOST_CHECK(ledger->Redeem(codes[0].code, TestAddress(9)).status().code() == StatusCode::kAlreadyRedeemed);

    // The relayed payment is found before a redemption of its code is decided.
    node->payer.LearnFromChain(unconfirmed_payment, InMempool());
    BOOST_CHECK(ledger->Redeem(codes[1].code, TestAddress(8)).status().code() == StatusCode::kAlreadyRedeemed);
    BOOST_CHECK(View(codes[1]).record.txid == unconfirmed.txid);
    BOOST_CHECK_EQUAL(ledger->Info().restore.found_on_chain, 2u);

    // After the next block the other codes pay once; nothing was paid
    // twice; the wallet holds both earlier payments tagged with their codes.
    BOOST_CHECK(ledger->Redeem(codes[2].code, TestAddress(3)).status().code() == StatusCode::kNodeCatchingUp);
    node->chain.SetTipHeight(101);
    node->chain.SetTipTime(node->clock.Now());
    const Redemption fresh = Redeem(codes[2], 3);
    BOOST_CHECK(!fresh.replay);
    const auto recorded = FakePayer::RecordedPayments(store);
    BOOST_CHECK_EQUAL(recorded.size(), 3u);
    BOOST_CHECK(recorded.count(confirmed.txid) && recorded.count(unconfirmed.txid) && recorded.count(fresh.txid));
    (void)ledger->FollowPayments();
    BOOST_CHECK(ledger->Info().consistency.clean());

    // Found once, recorded durably: a later open finds nothing new.
    ledger = node->Open();
    BOOST_CHECK_EQUAL(ledger->Info().restore.found_on_chain, 0u);
    BOOST_CHECK(View(codes[1]).record.found_on_chain);
}

BOOST_AUTO_TEST_CASE(a_reader_sees_a_payment_found_since_the_last_write)
{
    const std::vector<IssuedCode> codes = Create(1);
    const Payment payment = PaidSinceBackup(codes[0]);
    ledger = node->Open();
    BOOST_CHECK(View(codes[0]).state == CodeState::kIssued);
    node->payer.LearnFromChain(payment, InMempool());
    Result<CodePage> page = ledger->List({});
    BOOST_REQUIRE(page.ok());
    BOOST_CHECK(page->codes.at(0).state == CodeState::kRedeemed);
}

BOOST_AUTO_TEST_CASE(a_reader_does_not_wait_for_a_write_under_way)
{
    const std::vector<IssuedCode> codes = Create(2);
    node->clock.Advance(1);
    node->chain.SetTipTime(node->clock.Now());
    // While a redemption holds the write lock, a read answers from the
    // index without searching (the writer searches itself).
    std::optional<CodeState> seen;
    node->payer.SetWhilePaying([&] {
        Result<CodeView> view = ledger->Get(codes[1].id.ToHex());
        if (view.ok()) seen = view->state;
    });
    Redeem(codes[0], 1);
    node->payer.SetWhilePaying({});
    BOOST_REQUIRE(seen.has_value());
    BOOST_CHECK(*seen == CodeState::kIssued);
}

BOOST_AUTO_TEST_CASE(a_cancelled_code_found_paid_reads_redeemed)
{
    const std::vector<IssuedCode> codes = Create(1);
    const Payment payment = PaidSinceBackup(codes[0]);
    ledger = node->Open();
    BOOST_REQUIRE(ledger->Cancel(codes[0].id.ToHex()).ok());
    node->payer.LearnFromChain(payment, Confirmed(1));
    node->chain.SetTipHeight(101);
    (void)ledger->FollowPayments();
    const CodeView view = View(codes[0]);
    BOOST_CHECK(view.state == CodeState::kRedeemed);
    BOOST_CHECK(view.record.txid == payment.txid);
}

BOOST_AUTO_TEST_CASE(a_payment_too_large_to_keep_is_followed_by_its_txid)
{
    const std::vector<IssuedCode> codes = Create(1);
    Payment payment = PaidSinceBackup(codes[0]);
    payment.serialized_tx.assign(MAX_PAYMENT_TX + 1, 'x');
    node->payer.LearnFromChain(payment, Confirmed(1));
    ledger = node->Open();
    const CodeView view = View(codes[0]);
    BOOST_CHECK(view.state == CodeState::kRedeemed);
    BOOST_CHECK(view.record.txid == payment.txid);
    BOOST_CHECK(view.record.payment_tx.empty());
}

BOOST_AUTO_TEST_CASE(payments_to_other_keys_are_not_taken_for_a_code)
{
    const std::vector<IssuedCode> codes = Create(1);
    Payment stranger = node->payer.MakePayment({codes[0].id, TestAddress(5), COIN, "key:someone-else"});
    node->payer.LearnFromChain(stranger, Confirmed(1));
    ledger = node->Open();
    BOOST_CHECK(View(codes[0]).state == CodeState::kIssued);
    BOOST_CHECK_EQUAL(ledger->Info().restore.found_on_chain, 0u);
}

BOOST_AUTO_TEST_CASE(a_failed_search_pays_nothing)
{
    const std::vector<IssuedCode> codes = Create(1);
    node->payer.FailFinding(true);
    BOOST_CHECK(Ledger::Open(node->ports(), node->policy()).status().code() == StatusCode::kStoreFailure);
    BOOST_CHECK(ledger->Redeem(codes[0].code, TestAddress(1)).status().code() == StatusCode::kStoreFailure);
    BOOST_CHECK(FakePayer::RecordedPayments(store).empty());
    node->payer.FailFinding(false);
    Redeem(codes[0], 1);
}

BOOST_AUTO_TEST_CASE(recording_a_found_payment_can_fail)
{
    const std::vector<IssuedCode> codes = Create(1);
    const Payment payment = PaidSinceBackup(codes[0]);
    node->payer.LearnFromChain(payment, Confirmed(1));
    store.FailNextCommits(1);
    BOOST_CHECK(Ledger::Open(node->ports(), node->policy()).status().code() == StatusCode::kStoreFailure);
    ledger = node->Open();
    BOOST_CHECK(View(codes[0]).record.txid == payment.txid);
}

BOOST_AUTO_TEST_CASE(a_restore_is_told_from_the_state_beside_the_wallet)
{
    // First open: no state beside the wallet yet; it is written.
    MemoryStore fresh;
    FakeNode other(fresh);
    std::unique_ptr<Ledger> first = other.Open();
    RestoreInfo info = first->Info().restore;
    BOOST_CHECK(!info.side_state);
    BOOST_CHECK(!info.detected);
    BOOST_CHECK(fresh.ReadSideState().present);

    // Every commit counts, in the wallet and beside it.
    const std::vector<IssuedCode> codes = Create(2);
    Redeem(codes[0], 1);
    BOOST_REQUIRE(ledger->Cancel(codes[1].id.ToHex()).ok());
    BOOST_CHECK_EQUAL(store.ReadSideState().commits, 3);
    ledger = node->Open();
    info = ledger->Info().restore;
    BOOST_CHECK(info.side_state);
    BOOST_CHECK(!info.detected);
    BOOST_CHECK_EQUAL(info.wallet_commits, 3);

    // Beside the wallet, more commits and later sequences than in it: a
    // restore. Counting and sequences go on from the larger numbers.
    store.SetSideState({true, 10, 50});
    ledger = node->Open();
    info = ledger->Info().restore;
    BOOST_CHECK(info.detected);
    BOOST_CHECK_EQUAL(info.wallet_commits, 3);
    BOOST_CHECK_EQUAL(info.side_commits, 10);
    // Sequences 3 to 49 were given out after the backup: 47 codes missing.
    BOOST_CHECK_EQUAL(info.codes_missing, 47);
    const std::vector<IssuedCode> later = Create(1);
    BOOST_CHECK_EQUAL(View(later[0]).record.sequence, 50);
    BOOST_CHECK_EQUAL(store.ReadSideState().commits, 11);
    BOOST_CHECK_EQUAL(store.ReadSideState().next_sequence, 51);
    ledger = node->Open();
    BOOST_CHECK(!ledger->Info().restore.detected);
}

BOOST_AUTO_TEST_CASE(a_malformed_state_record_fails_the_open)
{
    store.PutRaw(EncodeStateKey(), "garbage");
    BOOST_CHECK(Ledger::Open(node->ports(), node->policy()).status().code() == StatusCode::kCorruption);
}

BOOST_AUTO_TEST_CASE(new_payments_wait_for_the_start_delay)
{
    const std::vector<IssuedCode> codes = Create(2);
    const Redemption done = Redeem(codes[0], 1);
    node->start_delay = 60;
    ledger = node->Open();
    BOOST_CHECK_EQUAL(ledger->Info().start_wait, 60);
    // A finished redemption is answered; a new payment waits.
    Result<Redemption> replay = ledger->Redeem(codes[0].code, TestAddress(1));
    BOOST_REQUIRE(replay.ok());
    BOOST_CHECK(replay->txid == done.txid);
    Result<Redemption> early = ledger->Redeem(codes[1].code, TestAddress(2));
    BOOST_REQUIRE(!early.ok());
    BOOST_CHECK(early.status().code() == StatusCode::kNodeCatchingUp);
    BOOST_CHECK_NE(early.status().message().find("60 s after it loads"), std::string::npos);
    BOOST_CHECK(View(codes[1]).state == CodeState::kIssued);
    node->clock.Advance(59);
    BOOST_CHECK(ledger->Redeem(codes[1].code, TestAddress(2)).status().code() == StatusCode::kNodeCatchingUp);
    node->clock.Advance(1);
    BOOST_CHECK_EQUAL(ledger->Info().start_wait, 0);
    Redeem(codes[1], 2);
    BOOST_CHECK_EQUAL(ledger->Info().failed_redemptions[StatusCode::kNodeCatchingUp], 2u);
}

BOOST_AUTO_TEST_CASE(after_a_restore_new_payments_wait_for_the_next_block)
{
    const std::vector<IssuedCode> codes = Create(3);
    const MemoryStore::Snapshot backup = store.TakeSnapshot();
    const Redemption done = Redeem(codes[0], 1);
    PutBack(backup);
    // The rescan finds nothing: the payment is still unconfirmed at a peer.
    node->chain.SetTipTime(node->clock.Now() - 600);
    ledger = node->Open();
    BOOST_CHECK(ledger->Info().restore.detected);
    BOOST_CHECK(ledger->Info().waits_for_block);
    Result<Redemption> early = ledger->Redeem(codes[1].code, TestAddress(2));
    BOOST_REQUIRE(!early.ok());
    BOOST_CHECK(early.status().code() == StatusCode::kNodeCatchingUp);
    BOOST_CHECK_NE(early.status().message().find("wait for the next block"), std::string::npos);
    // Blocks mined before the wallet was loaded (a fresh node downloading
    // the chain) do not count.
    node->chain.SetTipHeight(150);
    node->chain.SetTipTime(node->clock.Now() - 1);
    BOOST_CHECK(ledger->Redeem(codes[1].code, TestAddress(2)).status().code() == StatusCode::kNodeCatchingUp);
    // The next block brings the earlier payment: its code is found paid,
    // and the others pay.
    node->payer.LearnFromChain(PaymentOfBackup(done), Confirmed(1));
    node->clock.Advance(30);
    node->chain.SetTipTime(node->clock.Now());
    BOOST_CHECK(!ledger->Info().waits_for_block);
    BOOST_CHECK(ledger->Redeem(codes[0].code, TestAddress(9)).status().code() == StatusCode::kAlreadyRedeemed);
    Redeem(codes[1], 2);
    // The same when the state file beside the wallet is missing.
    store.SetSideState({});
    node->clock.Advance(30);
    ledger = node->Open();
    BOOST_CHECK(!ledger->Info().restore.detected);
    BOOST_CHECK(ledger->Info().waits_for_block);
    BOOST_CHECK(ledger->Redeem(codes[2].code, TestAddress(3)).status().code() == StatusCode::kNodeCatchingUp);
    node->chain.SetTipTime(node->clock.Now());
    Redeem(codes[2], 3);
}

BOOST_AUTO_TEST_CASE(a_ledger_without_unpaid_codes_does_not_wait)
{
    // Nothing could have been paid before it opened: a new wallet, or one
    // whose codes are all paid, pays at once.
    node->start_delay = 60;
    ledger = node->Open();
    BOOST_CHECK_EQUAL(ledger->Info().start_wait, 0);
    const std::vector<IssuedCode> codes = Create(1);
    Redeem(codes[0], 1);
}

BOOST_AUTO_TEST_SUITE_END()
