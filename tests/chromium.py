"""Debian's Chromium for the tests that drive the pages (Playwright's own download is not
reachable here): where it is, and what happens without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CCGW_CHROMIUM", "/usr/bin/chromium"))  # Debian's package


def require_chromium() -> Path:
    """The browser's path; without it the test is skipped with the reason, but under CI
    (CI=true) it fails: CI must run the browser tests."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (Debian's package: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM
