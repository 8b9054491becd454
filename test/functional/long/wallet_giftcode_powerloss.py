#!/usr/bin/env python3
"""The power-loss test at length: 200 cuts of the issuing node's power in
the middle of redemptions, each followed by the checks of
../wallet_giftcode_powerloss.py (every payment the peer saw belongs to a
code that reads redeemed with that txid, no code paid twice, acknowledged
redemptions kept, consistency clean), then the same settlement on chain.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wallet_giftcode_powerloss import PowerLossTest  # noqa: E402


class LongPowerLossTest(PowerLossTest):
    default_cuts = 200


if __name__ == "__main__":
    LongPowerLossTest().main()
