#!/bin/sh
# An example -giftcodenotify command (doc/rpc.md, "Events"). It appends one
# line per event to a log file, tab-separated:
#   time (UTC)  event  code id  txid  wallet  reason
# and, for the events that need a human, mails the line when
# GIFTCODE_NOTIFY_MAILTO names an address and a `mail` command is installed.
#
# monacoin.conf:
#   giftcodenotify=/usr/local/bin/giftcode-notify.sh /var/log/monacoin/giftcode-events.log %e %c %s %w %r
#
# %w and %r arrive shell-quoted: never put quotes around them; in the reason,
# bytes other than letters, digits and " .,;-_/:?@()" are written %XX. The node runs
# one command at a time, so lines never interleave; a command that takes
# long delays the next events (never a redemption), so keep it quick.
set -eu

if [ "$#" -ne 6 ]; then
    echo "usage: $0 LOGFILE EVENT CODE_ID TXID WALLET REASON" >&2
    exit 2
fi
log=$1 event=$2 code=$3 txid=$4 wallet=$5 reason=$6
line=$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$event" "$code" "$txid" "$wallet" "$reason")
printf '%s\n' "$line" >>"$log"

case $event in
redeemed | replaced | buried | solvent) exit 0 ;;  # the normal course of things
attention)
    case $reason in *": needs nothing any more") exit 0 ;; esac ;;
esac
if [ -n "${GIFTCODE_NOTIFY_MAILTO:-}" ] && command -v mail >/dev/null 2>&1; then
    # The wallet's name is anyone's text: only safe characters reach the
    # subject. A mailer that hangs must not hold up the next events.
    name=$(printf '%s' "$wallet" | tr -cd 'A-Za-z0-9._-')
    printf '%s\n' "$line" | timeout 20 mail -s "gift codes: $event (wallet $name)" "$GIFTCODE_NOTIFY_MAILTO" || true
fi
