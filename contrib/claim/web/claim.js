// The claim page's behaviour (doc/claim.md, "The page" and "The JSON API"):
// it reads a gift code from the URL fragment or the code box, looks it up,
// claims it to an address and follows the payment to its first
// confirmation. The code lives only in this script's memory: it leaves the
// address bar before anything else runs and is never stored.
//
// One rule carries the exactly-once promise on this side: a claim, once
// sent, is only ever sent again as the very same request (same code, same
// address), and the claim button stays disabled from the first click until
// the claim has finished. The server joins repeated claims and the node
// replays a paid one, so a retry can never pay twice.
//
// The page's state is <body data-state>, one of STATES; render() draws the
// whole page from `session` and the language, so switching the language
// redraws everything without touching the claim.
(function () {
  'use strict';

  const STATES = ['entry', 'checking', 'ready', 'claiming', 'busy', 'claimed', 'confirmed', 'already_claimed',
    'cancelled', 'expired', 'error'];
  const ACTIVE_CLAIM = ['queued', 'sending', 'retrying'];
  const LANGUAGES = ['en', 'ja'];
  const CODE_CHARS = 35;            // prefix, 26 data and 6 checksum symbols
  const DEFAULT_RETRY_S = 2;
  const DEFAULT_POLL_MS = 5000;
  const CLAIM_POLL_MS = 1000;       // following a claim under way
  const ADDRESS_CHECK_DELAY_MS = 350;
  const MESSAGES_RETRY_MS = 2000;
  const SATOSHIS_PER_MONA = 100000000n;
  // A bech32 address in lower case. The server and the node take one in
  // either case (a wallet's QR code carries it in upper case), and the node
  // names it in lower case.
  const BECH32_ADDRESS = /^[a-z]{1,83}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{6,}$/;

  // Before anything else: take the code out of the address bar.
  const codeFromUrl = takeCodeFromFragment();

  const el = {};
  let messages = null;
  let lang = pickLanguage();
  let pollMs = DEFAULT_POLL_MS;
  let networkPrefix = '';
  let sessionCount = 0;
  let session = newSession('');

  // --- Code text --------------------------------------------------------------

  //! The code in a fragment, a claim URL, a MONAGIFT: URI or `code=...`, as
  //! typed (the server and the node accept every spelling of it).
  function extractCode(text) {
    let s = String(text || '').trim();
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(hash + 1);
    const param = /(?:^|[?&;])code=([^&;]*)/i.exec(s);
    if (param) s = param[1];
    try {
      s = decodeURIComponent(s.replace(/\+/g, ' '));
    } catch (e) {
      // Not percent-encoded after all: keep it as it is.
    }
    s = s.trim();
    if (/^monagift:/i.test(s)) s = s.slice('monagift:'.length).replace(/^\/\//, '');
    return s.trim();
  }

  //! Upper case, without separators: what the code's length is counted on.
  function compactCode(text) {
    return String(text).toUpperCase().replace(/[-\s_]/g, '');
  }

  //! "RGC-XXXX-XXXX-..." for a code of the right length, else the text.
  function groupedCode(text) {
    const compact = compactCode(text);
    if (compact.length !== CODE_CHARS) return text;
    return compact.slice(0, 3) + compact.slice(3).replace(/(.{4})/g, '-$1');
  }

  function takeCodeFromFragment() {
    const hash = window.location.hash;
    if (!hash || hash.length < 2) return '';
    const code = extractCode(hash.slice(1));
    window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
    return code;
  }

  // --- Language and text ------------------------------------------------------

  function pickLanguage() {
    const wanted = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
    for (const l of wanted) {
      const tag = String(l || '').toLowerCase();
      if (tag === 'ja' || tag.startsWith('ja-')) return 'ja';
      if (tag === 'en' || tag.startsWith('en-')) return 'en';
    }
    return 'en';
  }

  function ui(key, params) {
    const table = messages[lang].ui;
    let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
    if (params) {
      text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
    }
    return text;
  }

  //! Sentences joined as the language writes them: Japanese without spaces.
  function sentences(...parts) {
    return parts.filter((p) => p).join(lang === 'ja' ? '' : ' ');
  }

  //! The holder's text for an API error; unknown keys get the generic one
  //! with the node's error code.
  function errorText(error) {
    const table = messages[lang].errors;
    const key = error && error.key;
    if (key && key !== 'node_error' && Object.prototype.hasOwnProperty.call(table, key)) return table[key];
    let text = table.node_error;
    if (error && error.rpc_code !== null && error.rpc_code !== undefined) {
      text = sentences(text, ui('error_reference', {code: error.rpc_code}));
    } else if (key && key !== 'node_error') {
      text = sentences(text, ui('error_reference', {code: key}));
    }
    return text;
  }

  function locale() {
    const own = (navigator.languages || []).find((l) => String(l).toLowerCase().startsWith(lang));
    return own || (lang === 'ja' ? 'ja-JP' : 'en');
  }

  function formatTime(unix) {
    if (unix === null || unix === undefined) return '';
    const when = new Date(unix * 1000);
    try {
      return new Intl.DateTimeFormat(locale(), {dateStyle: 'long', timeStyle: 'short'}).format(when);
    } catch (e) {
      return when.toLocaleString();
    }
  }

  //! An amount in satoshis (a BigInt), or null. From the amount's JSON text
  //! when api() could keep it, exactly; else from the number, rounded to
  //! satoshis from its whole and fractional parts, each exact in a double
  //! (the product of the whole amount by 1e8 rounds satoshis off from about
  //! 2^24 MONA on). Read as a double, an amount keeps its satoshis up to
  //! 2^26 (67,108,864) MONA; as its JSON text, up to the money range.
  function satoshisOf(amount) {
    if (typeof amount === 'string') {
      const decimal = /^(\d+)(?:\.(\d{1,8}))?$/.exec(amount);
      if (decimal) return BigInt(decimal[1]) * SATOSHIS_PER_MONA + BigInt((decimal[2] || '').padEnd(8, '0'));
    }
    const value = Number(amount);
    if (!Number.isFinite(value) || value < 0) return null;
    const whole = Math.floor(value);
    return BigInt(whole) * SATOSHIS_PER_MONA + BigInt(Math.round((value - whole) * 1e8));
  }

  //! An amount as the node gives it (MONA with 8 decimals), with all 8
  //! decimals and grouped thousands: "1,234.50000000 MONA".
  function formatAmount(amount) {
    const satoshis = satoshisOf(amount);
    if (satoshis === null) return '';
    const digits = satoshis.toString().padStart(9, '0');
    const whole = digits.slice(0, -8).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return whole + '.' + digits.slice(-8) + ' MONA';
  }

  //! Whether two spellings name the same address: base58 is case-sensitive,
  //! bech32 is not.
  function sameAddress(a, b) {
    if (typeof a !== 'string' || typeof b !== 'string') return false;
    if (a === b) return true;
    const lower = a.toLowerCase();
    return lower === b.toLowerCase() && BECH32_ADDRESS.test(lower);
  }

  // --- The API ----------------------------------------------------------------

  //! {status, body} of a request; status 0 when the network failed.
  async function api(method, path, payload) {
    const init = {method: method, cache: 'no-store', credentials: 'same-origin', redirect: 'error'};
    if (payload !== undefined) {
      init.headers = {'Content-Type': 'application/json'};
      init.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      return {status: 0, body: null};
    }
    let body = null;
    try {
      body = JSON.parse(await response.text(), keepAmountText);
    } catch (e) {
      body = null;
    }
    return {status: response.status, body: body};
  }

  //! JSON.parse's reviver: an `amount` stays the text the server wrote
  //! ("1.50000000"), where the browser gives the source text, since a
  //! double cannot hold every amount of satoshis (formatAmount reads both).
  function keepAmountText(key, value, context) {
    if (key === 'amount' && typeof value === 'number' && context && typeof context.source === 'string') {
      return context.source;
    }
    return value;
  }

  function apiError(reply) {
    return (reply.body && typeof reply.body.error === 'object' && reply.body.error) || null;
  }

  //! An answer after which the same request is simply sent again: no
  //! answer, the server busy, the node not answering, or a server error
  //! that did not name a reason.
  function isTransient(reply) {
    if (reply.status === 0) return true;
    const error = apiError(reply);
    if (reply.status === 503) return true;
    if (reply.status >= 500 && !(error && error.key)) return true;
    return !!(error && (error.key === 'busy' || error.key === 'node_unavailable'));
  }

  function retrySeconds(reply) {
    const error = apiError(reply);
    const s = error && Number(error.retry_after);
    return s && s > 0 ? Math.min(s, 300) : DEFAULT_RETRY_S;
  }

  // --- The session of one code ------------------------------------------------

  function newSession(code) {
    sessionCount += 1;
    return {
      id: sessionCount,
      code: code,
      state: 'entry',
      info: null,          // what the server says of the code (CODE)
      claim: null,         // the server's claim of it (CLAIM)
      message: null,       // {kind: 'info' | 'error', text: () => string}
      request: null,       // the claim request, once sent: {code, address}
      own: false,          // this page claimed the code (or followed its claim)
      claimOpen: false,    // a claim is sent and not finished
      payment: null,       // {txid, vout, address, redeemed_at, confirmations}
      timer: null,
      waitUntil: 0,        // rate-limited until (ms)
      address: {value: '', checked: null, valid: null, key: null, seq: 0, timer: null},
    };
  }

  function current(s) {
    return s === session;
  }

  function later(s, ms, fn) {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      if (current(s)) fn();
    }, ms);
  }

  function setState(s, state, message) {
    if (!STATES.includes(state)) throw new Error('unknown state ' + state);
    s.state = state;
    s.message = message || null;
    render();
  }

  function info(textFn) {
    return {kind: 'info', text: textFn};
  }

  function failure(textFn) {
    return {kind: 'error', text: textFn};
  }

  function startLookup(code) {
    const old = session;
    clearTimeout(old.timer);
    clearTimeout(old.address.timer);
    const s = newSession(code);
    s.address.value = el.addressInput.value.trim();
    session = s;
    if (!code) {
      setState(s, 'entry', failure(() => ui('enter_code')));
      return;
    }
    el.codeInput.value = groupedCode(code);
    el.codeInput.scrollLeft = 0;
    if (compactCode(code).length !== CODE_CHARS) {
      setState(s, 'error', failure(() => errorText({key: 'malformed_code'})));
      return;
    }
    setState(s, 'checking');
    lookup(s, 'show');
  }

  //! Looks the code up. `purpose`: 'show' (a code just entered), 'claim'
  //! (following this page's claim), 'payment' (following the payment).
  async function lookup(s, purpose) {
    const reply = await api('POST', '/api/lookup', {code: s.code});
    if (!current(s)) return;
    if (reply.status === 200 && reply.body && reply.body.code) {
      onLookup(s, reply.body.code, reply.body.claim || null);
      return;
    }
    if (purpose === 'payment') {
      // The payment is made: a failed look at it changes nothing shown.
      later(s, pollMs, () => lookup(s, 'payment'));
      return;
    }
    if (isTransient(reply)) {
      const seconds = retrySeconds(reply);
      const lead = reply.status === 0 ? () => ui('unreachable') : () => errorText(apiError(reply));
      setState(s, 'busy', info(() => sentences(lead(), ui('retry_in', {seconds: seconds}),
          purpose === 'claim' ? ui('claim_same_address') : '')));
      later(s, seconds * 1000, () => lookup(s, purpose));
      return;
    }
    const error = apiError(reply);
    if (purpose === 'claim') {
      // The claim goes on at the server whatever this look says.
      later(s, CLAIM_POLL_MS * 2, () => lookup(s, 'claim'));
      return;
    }
    if (reply.status === 429) {
      const seconds = retrySeconds(reply);
      setState(s, 'entry', failure(() => sentences(errorText(error), ui('wait_seconds', {seconds: seconds}))));
      return;
    }
    setState(s, 'error', failure(() => errorText(error || {key: 'node_error', rpc_code: null})));
  }

  //! Whether `claim` is this page's to follow: once the page has claimed (or
  //! followed a claim), only a claim to that very address is. A claim to
  //! another address is someone else's, whatever the server sends with it.
  function isOwnClaim(s, claim) {
    return !!claim && (!s.request || sameAddress(claim.address, s.request.address));
  }

  function onLookup(s, code, claim) {
    s.info = code;
    // Someone else's claim is never this page's outcome, failed or paid:
    // the code's own state below says what became of it.
    const own = isOwnClaim(s, claim);
    s.claim = own ? claim : null;
    if (own && ACTIVE_CLAIM.includes(claim.state)) {
      followClaim(s, claim);
      return;
    }
    if (own && claim.state === 'done' && s.own) {
      // The claim this page sent, or followed after a reload, is paid.
      s.claimOpen = false;
      paid(s, claim.txid, claim.vout, claim.address);
      return;
    }
    if (own && claim.state === 'failed' && s.own && s.claimOpen) {
      claimFailed(s, claim.error || {key: 'node_error', rpc_code: null});
      return;
    }
    switch (code.state) {
      case 'issued':
        if (s.own && s.claimOpen && s.request) {
          // The server no longer knows the claim it accepted (restarted, or
          // it shows another address's claim): the same request again,
          // which the node answers at most once.
          sendClaim(s);
          return;
        }
        s.claimOpen = false;
        setState(s, 'ready', info(() => ui('msg_ready')));
        checkAddressSoon(s);
        return;
      case 'redeemed':
        if (s.own && (!s.request || sameAddress(code.address, s.request.address))) {
          s.claimOpen = false;
          paid(s, code.txid, code.vout, code.address);
          return;
        }
        s.claimOpen = false;
        s.payment = paymentOf(code);
        setState(s, 'already_claimed', info(() => ui('msg_already_claimed', {when: formatTime(code.redeemed_at)})));
        return;
      case 'cancelled':
        s.claimOpen = false;
        setState(s, 'cancelled', info(() => errorText({key: 'cancelled'})));
        return;
      case 'expired':
        s.claimOpen = false;
        setState(s, 'expired', info(() => errorText({key: 'expired'})));
        return;
      default:
        setState(s, 'error', failure(() => errorText({key: 'node_error', rpc_code: null})));
    }
  }

  function paymentOf(code) {
    return {
      txid: code.txid || '',
      vout: code.vout,
      address: code.address || '',
      redeemed_at: code.redeemed_at,
      confirmations: typeof code.confirmations === 'number' ? code.confirmations : null,
    };
  }

  //! The code is paid by this page's claim (or the server's claim a reload
  //! found): show the payment and follow it to its first confirmation.
  function paid(s, txid, vout, address) {
    const code = s.info || {};
    const payment = paymentOf(code);
    if (txid) payment.txid = txid;
    if (vout !== undefined && vout !== null) payment.vout = vout;
    if (address) payment.address = address;
    if (code.state !== 'redeemed' || code.txid !== payment.txid) payment.confirmations = null;
    s.payment = payment;
    if (payment.confirmations !== null && payment.confirmations >= 1) {
      clearTimeout(s.timer);
      setState(s, 'confirmed', info(() => ui('msg_confirmed')));
      return;
    }
    setState(s, 'claimed', info(() => ui('msg_claimed')));
    later(s, pollMs, () => lookup(s, 'payment'));
  }

  function followClaim(s, claim) {
    s.own = true;
    s.claimOpen = true;
    if (!s.request && claim.address) s.request = {code: s.code, address: claim.address};
    if (claim.address) s.address.value = claim.address;
    if (claim.state === 'retrying') {
      setState(s, 'busy', info(() => ui('msg_node_retrying')));
    } else {
      setState(s, 'claiming', info(() => ui('msg_claiming')));
    }
    later(s, CLAIM_POLL_MS, () => lookup(s, 'claim'));
  }

  // --- Claiming ---------------------------------------------------------------

  function onClaimClicked(event) {
    if (event) event.preventDefault();
    const s = session;
    // The button is disabled at once, before anything can run again: a
    // second click finds the claim already open and does nothing.
    if (s.claimOpen || s.state !== 'ready') return;
    const address = el.addressInput.value.trim();
    if (!address || Date.now() < s.waitUntil) return;
    if (s.address.checked === address && s.address.valid === false) return;
    s.claimOpen = true;
    s.own = true;
    el.claimButton.disabled = true;
    s.request = {code: s.code, address: address};
    setState(s, 'claiming', info(() => ui('msg_claiming')));
    sendClaim(s);
  }

  async function sendClaim(s) {
    const reply = await api('POST', '/api/claim', s.request);
    if (!current(s)) return;
    const body = reply.body;
    if ((reply.status === 200 || reply.status === 202) && body && body.claim) {
      const claim = body.claim;
      if (!isOwnClaim(s, claim)) {
        // Not the claim this page sent: look at the code again to see what
        // became of it (a claim of this page's, under way, is followed).
        s.claimOpen = false;
        s.own = false;
        setState(s, 'checking');
        lookup(s, 'show');
        return;
      }
      // The claim's answer may name fewer of the code's fields than a lookup.
      if (body.code) s.info = Object.assign({}, s.info || {}, body.code);
      s.claim = claim;
      if (claim.state === 'done') {
        s.claimOpen = false;
        paid(s, claim.txid, claim.vout, claim.address || s.request.address);
      } else if (claim.state === 'failed') {
        claimFailed(s, claim.error || {key: 'node_error', rpc_code: null});
      } else {
        followClaim(s, claim);
      }
      return;
    }
    if (isTransient(reply)) {
      const seconds = retrySeconds(reply);
      const lead = reply.status === 0 ? () => ui('unreachable') : () => errorText(apiError(reply));
      setState(s, 'busy', info(() => sentences(lead(), ui('retry_in', {seconds: seconds}),
          ui('claim_same_address'))));
      later(s, seconds * 1000, () => sendClaim(s));
      return;
    }
    const error = apiError(reply) || {key: 'node_error', rpc_code: null};
    if (reply.status === 429) {
      // Refused before anything was asked of the node: the holder may try
      // again after the wait.
      const seconds = retrySeconds(reply);
      s.claimOpen = false;
      s.waitUntil = Date.now() + seconds * 1000;
      setTimeout(render, seconds * 1000 + 50);
      setState(s, 'ready', failure(() => sentences(errorText(error), ui('wait_seconds', {seconds: seconds}))));
      return;
    }
    claimFailed(s, error);
  }

  function claimFailed(s, error) {
    s.claimOpen = false;
    switch (error.key) {
      case 'already_redeemed':
        // Paid to another address: look again to show when, and where.
        s.own = false;
        setState(s, 'checking');
        lookup(s, 'show');
        return;
      case 'cancelled':
        if (s.info) s.info.state = 'cancelled';
        setState(s, 'cancelled', info(() => errorText(error)));
        return;
      case 'expired':
        if (s.info) s.info.state = 'expired';
        setState(s, 'expired', info(() => errorText(error)));
        return;
      case 'invalid_address':
      case 'address_wrong_network':
        s.own = false;
        s.address.checked = s.request.address;
        s.address.valid = false;
        s.address.key = error.key;
        setState(s, 'ready', failure(() => errorText(error)));
        return;
      default:
        setState(s, 'error', failure(() => errorText(error)));
    }
  }

  // --- The address, checked as it is typed --------------------------------------

  function onAddressInput() {
    const s = session;
    if (s.message && s.message.kind === 'error' && s.state === 'ready') s.message = info(() => ui('msg_ready'));
    checkAddressSoon(s);
    render();
  }

  //! Checks the address in the box once typing pauses; a newer check makes
  //! an older answer stale.
  function checkAddressSoon(s) {
    const a = s.address;
    a.value = el.addressInput.value.trim();
    clearTimeout(a.timer);
    a.seq += 1;
    if (!a.value || a.checked === a.value) return;
    const seq = a.seq;
    const value = a.value;
    a.timer = setTimeout(() => checkAddress(s, seq, value), ADDRESS_CHECK_DELAY_MS);
  }

  async function checkAddress(s, seq, address) {
    const reply = await api('POST', '/api/address', {address: address});
    if (!current(s) || s.address.seq !== seq) return;
    const body = reply.body;
    if (reply.status === 200 && body && typeof body.valid === 'boolean') {
      s.address.checked = address;
      s.address.valid = body.valid;
      s.address.key = body.valid ? null : ((body.error && body.error.key) || 'invalid_address');
    } else {
      // Not checked now (busy, offline): the claim checks it anyway.
      s.address.checked = null;
      s.address.valid = null;
    }
    render();
  }

  // --- Drawing ----------------------------------------------------------------

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function show(node, visible) {
    if (node.hidden === visible) node.hidden = !visible;
  }

  function render() {
    const s = session;
    document.body.setAttribute('data-state', s.state);
    if (!messages) return;
    document.documentElement.lang = lang;
    document.title = ui('brand');
    for (const node of document.querySelectorAll('[data-i18n]')) setText(node, ui(node.getAttribute('data-i18n')));
    for (const node of document.querySelectorAll('[data-i18n-label]')) {
      node.setAttribute('aria-label', ui(node.getAttribute('data-i18n-label')));
    }
    el.langEn.setAttribute('aria-pressed', String(lang === 'en'));
    el.langJa.setAttribute('aria-pressed', String(lang === 'ja'));
    el.codeInput.placeholder = (networkPrefix || 'MGC') + '-XXXX-XXXX-…';

    setText(el.stateText, ui('state_' + s.state));
    setText(el.message, s.message ? s.message.text() : '');
    el.message.setAttribute('data-kind', s.message ? s.message.kind : '');

    // The code box: always there, except while a claim is under way.
    show(el.codeForm, !s.claimOpen);
    el.codeInput.disabled = s.state === 'checking';
    el.lookupButton.disabled = s.state === 'checking';

    const code = s.info;
    const withDetails = !!code && !['entry', 'checking', 'error'].includes(s.state);
    show(el.details, withDetails);
    if (withDetails) {
      setText(el.amount, formatAmount(code.amount));
      setText(el.expires, code.expires_at ? formatTime(code.expires_at) : ui('expires_never'));
      setText(el.codeState, ui('code_state_' + code.state));
    }

    const claiming = ['ready', 'claiming', 'busy'].includes(s.state) && code && (s.claimOpen || s.state === 'ready');
    show(el.claimForm, !!claiming);
    el.addressInput.disabled = s.state !== 'ready';
    if (s.claimOpen && s.request && el.addressInput.value.trim() !== s.request.address) {
      el.addressInput.value = s.request.address;
    }
    const a = s.address;
    const value = el.addressInput.value.trim();
    let hint = '';
    let valid = '';
    if (value && a.checked === value && a.valid === true) {
      hint = ui('address_valid');
      valid = 'true';
    } else if (value && a.checked === value && a.valid === false) {
      hint = errorText({key: a.key});
      valid = 'false';
    } else if (value && s.state === 'ready' && !s.claimOpen) {
      hint = ui('address_checking');
    }
    setText(el.addressHint, hint);
    el.addressHint.setAttribute('data-valid', valid);
    el.claimButton.disabled = s.claimOpen || s.state !== 'ready' || !value || valid === 'false' ||
        Date.now() < s.waitUntil;

    const payment = s.payment;
    const withPayment = !!payment && ['claimed', 'confirmed', 'already_claimed'].includes(s.state);
    show(el.payment, withPayment);
    if (withPayment) {
      setText(el.txid, payment.txid);
      setText(el.vout, payment.vout === null || payment.vout === undefined ? '—' : String(payment.vout));
      show(el.paidToRow, !!payment.address);
      setText(el.paidTo, payment.address);
      show(el.redeemedAtRow, s.state === 'already_claimed' && !!payment.redeemed_at);
      setText(el.redeemedAt, formatTime(payment.redeemed_at));
      const n = payment.confirmations;
      setText(el.confirmations, n !== null && n >= 1 ? String(n) : sentences('0', ui('confirmations_pending')));
    }
  }

  function setLanguage(wanted) {
    if (!LANGUAGES.includes(wanted)) return;
    lang = wanted;
    render();
  }

  // --- Start ------------------------------------------------------------------

  async function loadMessages() {
    for (;;) {
      const reply = await api('GET', '/messages.json');
      if (reply.status === 200 && reply.body && reply.body.en && reply.body.ja) return reply.body;
      await new Promise((resolve) => setTimeout(resolve, MESSAGES_RETRY_MS));
    }
  }

  async function loadStatus() {
    const reply = await api('GET', '/api/status');
    if (reply.status === 200 && reply.body) {
      const ms = Number(reply.body.poll_ms);
      if (ms > 0) pollMs = ms;
      if (typeof reply.body.prefix === 'string') networkPrefix = reply.body.prefix;
      render();
    }
  }

  function onCodeSubmit(event) {
    event.preventDefault();
    if (session.claimOpen) return;
    startLookup(extractCode(el.codeInput.value));
  }

  //! A pasted claim URL or URI becomes its code; a complete code is looked
  //! up at once.
  function onCodeInput() {
    if (session.claimOpen || session.state === 'checking') return;
    const code = extractCode(el.codeInput.value);
    if (compactCode(code).length === CODE_CHARS &&
        compactCode(code) !== compactCode(session.code || '')) {
      startLookup(code);
    }
  }

  function onHashChange() {
    const code = takeCodeFromFragment();
    if (code && !session.claimOpen) startLookup(code);
  }

  async function start() {
    for (const [key, id] of [['codeForm', 'code-form'], ['codeInput', 'code-input'], ['lookupButton', 'lookup-button'],
      ['details', 'details'], ['amount', 'amount'], ['expires', 'expires'], ['codeState', 'code-state'],
      ['stateText', 'state-text'], ['message', 'message'], ['claimForm', 'claim-form'],
      ['addressInput', 'address-input'], ['addressHint', 'address-hint'], ['claimButton', 'claim-button'],
      ['payment', 'payment'], ['txid', 'txid'], ['vout', 'vout'], ['paidTo', 'paid-to'], ['paidToRow', 'paid-to-row'],
      ['redeemedAt', 'redeemed-at'], ['redeemedAtRow', 'redeemed-at-row'], ['confirmations', 'confirmations'],
      ['langEn', 'lang-en'], ['langJa', 'lang-ja']]) {
      el[key] = document.getElementById(id);
    }
    el.langEn.addEventListener('click', () => setLanguage('en'));
    el.langJa.addEventListener('click', () => setLanguage('ja'));
    el.codeForm.addEventListener('submit', onCodeSubmit);
    el.codeInput.addEventListener('input', onCodeInput);
    el.claimForm.addEventListener('submit', onClaimClicked);
    el.addressInput.addEventListener('input', onAddressInput);
    window.addEventListener('hashchange', onHashChange);

    loadStatus();
    messages = await loadMessages();
    if (codeFromUrl) {
      startLookup(codeFromUrl);
    } else {
      render();
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
