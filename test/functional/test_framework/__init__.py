"""The harness of the gift-code functional tests (see test_framework.py).

It builds on giftcodekit, the package the tools in contrib/ share. run.py
names this checkout's contrib/ folder in PYTHONPATH for every test it runs;
a test run on its own finds the package here, by its place in the checkout.
"""

import os
import sys

try:
    import giftcodekit  # noqa: F401
except ImportError:
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "contrib"))
