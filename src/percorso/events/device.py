"""Which kind of device sent an event, with Matomo's Device Detector.

Parsing a user agent costs milliseconds, and real traffic repeats a few
thousand of them, so results are cached per user-agent string.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal, get_args

from device_detector import DeviceDetector

Device = Literal["desktop", "mobile", "tablet", "bot", "other"]
DEVICES: tuple[Device, ...] = get_args(Device)

_TYPE_TO_DEVICE: Mapping[str, Device] = {
    "desktop": "desktop",
    "smartphone": "mobile",
    "feature phone": "mobile",
    "phablet": "mobile",
    "wearable": "mobile",
    "tablet": "tablet",
    "tv": "other",
    "console": "other",
    "car browser": "other",
    "smart display": "other",
    "camera": "other",
    "portable media player": "other",
    "smart speaker": "other",
    "peripheral": "other",
}
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac",
        "GNU/Linux",
        "Ubuntu",
        "Fedora",
        "Debian",
        "Chrome OS",
        "FreeBSD",
        "Linux Mint",
        "Arch Linux",
        "openSUSE",
        "Red Hat",
        "CentOS",
    }
)


@lru_cache(maxsize=20_000)
def device_from_user_agent(user_agent: str) -> Device | None:
    """`None` when the string names no browser or device (a server library, say)."""
    parsed = DeviceDetector(user_agent).parse()
    if parsed.is_bot():
        return "bot"
    kind = (parsed.device_type() or "").lower()
    if kind in _TYPE_TO_DEVICE:
        return _TYPE_TO_DEVICE[kind]
    os_name = parsed.os_name() or ""
    if os_name in _DESKTOP_OS:
        return "desktop"
    if os_name in ("iOS", "Android"):
        return "mobile"
    if os_name == "iPadOS":
        return "tablet"
    return None


def classify_device(context: Mapping[str, Any]) -> Device | None:
    """The device of one event from its Segment `context`; `None` when unknown."""
    user_agent = context.get("userAgent")
    if isinstance(user_agent, str) and user_agent.strip():
        found = device_from_user_agent(user_agent.strip()[:1024])
        if found is not None:
            return found
    device = context.get("device")
    if isinstance(device, Mapping):
        declared = str(device.get("type") or "").lower()
        model = str(device.get("model") or "").lower()
        if "ipad" in model or "tablet" in declared:
            return "tablet"
        if declared in ("ios", "android", "mobile", "phone", "smartphone"):
            return "mobile"
        if declared in ("desktop", "macos", "windows", "linux"):
            return "desktop"
    return None


def warm_up() -> None:
    """Load the detector's rules now rather than on the first request (~1 s)."""
    device_from_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36")
