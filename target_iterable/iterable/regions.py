"""Iterable's data centres, and the rule for overriding their URL.

Iterable's US and EU data centres have their own API hosts, and an API key
works only in the one its project lives in (Iterable's support article on its
EU data centre).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

from target_iterable.errors import ConfigurationError

REGION_BASE_URLS = {
    "us": "https://api.iterable.com",
    "eu": "https://api.eu.iterable.com",
}


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(region: str, override: str | None) -> str:
    """The API root: ``override`` (``api_base_url``) if set, else the region's host.

    Plain http would send the API key in clear text, so it is allowed only
    for loopback hosts (the emulator, a local proxy).
    """
    if region not in REGION_BASE_URLS:
        raise ConfigurationError(
            f"region must be one of {sorted(REGION_BASE_URLS)}, got '{region}'"
        )
    if not override:
        return REGION_BASE_URLS[region]
    parsed = urlparse(override)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(f"api_base_url '{override}' is not an http(s) URL")
    if parsed.scheme == "http" and not _is_loopback(parsed.hostname):
        raise ConfigurationError(
            f"api_base_url '{override}' uses plain http for a non-loopback host; "
            "use https (the API key would travel in clear text)"
        )
    return override.rstrip("/")
