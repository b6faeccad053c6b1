"""Debian's Chromium as the end-to-end tests and `help_screenshots` drive it (through Playwright).

Without these switches Chromium keeps trying to reach Google's services through a closed network.
"""

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
