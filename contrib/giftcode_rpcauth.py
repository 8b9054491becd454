#!/usr/bin/env python3
"""RPC users of least privilege for a gift-code node: the monacoin.conf
lines that give a user exactly the RPCs of one role, and its password.

    giftcode_rpcauth.py claim [--user NAME] [--password-file FILE]
    giftcode_rpcauth.py issue [--user NAME] [--password-file FILE]

Roles (doc/security.md, Least privilege):
  claim  getgiftcode, redeemgiftcode: what a claim frontend needs. It cannot
         send, issue, cancel, list, read keys, or change the wallet.
  issue  creategiftcode, cancelgiftcode, getgiftcode, listgiftcodes,
         getgiftcodeinfo: issuing without spending. It cannot redeem or send.

Prints, for monacoin.conf (options of any network; for a test network put
them under its section, e.g. [regtest]):

    rpcauth=NAME:SALT$HASH
    rpcwhitelist=NAME:METHOD,METHOD
    rpcwhitelistdefault=0

and writes the password to --password-file (created readable by its owner
only, never overwritten), or prints it on standard error when no file is
given. The node never sees the password: rpcauth holds HMAC-SHA256(salt,
password), as the node's own share/rpcauth tool writes it.
rpcwhitelistdefault=0 keeps every user without an rpcwhitelist line (the
operator's) at full access; without it, the node would refuse such a user
everything once any whitelist is set.

Standard Python only; also a module (rpcauth_lines, ROLES).
"""

import argparse
import hashlib
import hmac
import os
import secrets
import sys

#: The RPCs each role may call, in the order rpcwhitelist lists them.
ROLES = {
    "claim": ("getgiftcode", "redeemgiftcode"),
    "issue": ("creategiftcode", "cancelgiftcode", "getgiftcode", "listgiftcodes", "getgiftcodeinfo"),
}


def rpcauth_value(user, password, salt=None):
    """NAME:SALT$HASH for rpcauth=."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
    return "%s:%s$%s" % (user, salt, digest)


def rpcauth_lines(role, user, password, salt=None):
    """The monacoin.conf lines for `user` in `role` (a list of strings)."""
    if role not in ROLES:
        raise ValueError("unknown role %r (roles: %s)" % (role, ", ".join(ROLES)))
    if not user or any(c in user for c in ":, \t\n="):
        raise ValueError("a user name must be non-empty, without ':', ',', '=' or spaces")
    return ["rpcauth=" + rpcauth_value(user, password, salt),
            "rpcwhitelist=%s:%s" % (user, ",".join(ROLES[role])),
            "rpcwhitelistdefault=0"]


def write_secret(path, text):
    """Creates `path` readable by its owner only; refuses to overwrite."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description="monacoin.conf lines for a least-privilege gift-code RPC user")
    parser.add_argument("role", choices=sorted(ROLES), help="claim: look up and redeem; issue: create and cancel")
    parser.add_argument("--user", help="the user name (default: the role's name)")
    parser.add_argument("--password-file", help="write the new password here (mode 0600; must not exist)")
    args = parser.parse_args(argv)
    user = args.user or args.role
    password = secrets.token_urlsafe(32)
    try:
        lines = rpcauth_lines(args.role, user, password)
    except ValueError as e:
        parser.error(str(e))
    if args.password_file:
        try:
            write_secret(args.password_file, password)
        except OSError as e:
            print("giftcode_rpcauth: cannot create %s: %s" % (args.password_file, e.strerror), file=sys.stderr)
            return 1
    else:
        print("password for %s: %s" % (user, password), file=sys.stderr)
    print("# %s: %s only" % (user, ", ".join(ROLES[args.role])))
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
