"""Device classification table with real user-agent strings."""

from __future__ import annotations

from typing import Any

import pytest

from percorso.events.device import DEVICES, classify_device

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
IPAD = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
ANDROID_PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
ANDROID_TABLET = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
HEADLESS_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"
SMART_TV = "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36"

CASES: list[tuple[dict[str, Any], str | None]] = [
    ({"userAgent": IPHONE}, "mobile"),
    ({"userAgent": IPAD}, "tablet"),
    ({"userAgent": WINDOWS}, "desktop"),
    ({"userAgent": MAC}, "desktop"),
    ({"userAgent": ANDROID_PHONE}, "mobile"),
    ({"userAgent": ANDROID_TABLET}, "tablet"),
    ({"userAgent": GOOGLEBOT}, "bot"),
    ({"userAgent": BINGBOT}, "bot"),
    ({"userAgent": HEADLESS_LINUX}, "desktop"),
    ({"userAgent": SMART_TV}, "other"),
    # Server-side libraries name no device.
    ({"userAgent": "analytics-python/2.4.0"}, None),
    ({}, None),
    ({"userAgent": ""}, None),
    # Mobile SDKs describe the device instead of sending a user agent.
    ({"device": {"type": "ios", "model": "iPhone15,2"}}, "mobile"),
    ({"device": {"type": "ios", "model": "iPad13,4"}}, "tablet"),
    ({"device": {"type": "android"}}, "mobile"),
]


@pytest.mark.parametrize(("context", "expected"), CASES)
def test_classify_device(context: dict[str, Any], expected: str | None) -> None:
    found = classify_device(context)
    assert found == expected
    assert found is None or found in DEVICES
