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
# %w and %r arrive shell-quoted: never put quotes around them. The node runs
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
redeemed | replaced | buried | solvent) ;;  # the normal course of things
*)
    if [ -n "${GIFTCODE_NOTIFY_MAILTO:-}" ] && command -v mail >/dev/null 2>&1; then
        printf '%s\n' "$line" | mail -s "gift codes: $event (wallet '$wallet')" "$GIFTCODE_NOTIFY_MAILTO" || true
    fi
    ;;
esac
