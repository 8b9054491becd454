"""What the gift-code tools and the functional tests share.

The command-line tools beside this folder (contrib/giftcode-replay,
contrib/bench) import it directly; the functional tests reach it through
test/functional/test_framework, which puts this repository's contrib/
folder on the module path. Only the Python standard library is needed;
plots use matplotlib when there is one (see plot).

  rpc     JSON-RPC over loopback HTTP with exact decimal amounts, the
          node's error codes, a client of one node or one wallet
  node    a monacoind (or any Bitcoin-family node) started on regtest in a
          temporary data directory, or one already running; the build id
  stats   percentiles and latency summaries, rates and ratios
  render  numbers and amounts as the tools' tables print them, JSON text
  plot    figures described as plain data, drawn with matplotlib here or
          by Debian's python3 in a child process
  cli     argument types and exit statuses of the command-line tools
"""
