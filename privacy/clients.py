"""Who is asking: the client's address behind the reverse proxies the deployment trusts.

``SUNLIGHT_TRUSTED_PROXIES`` says which peers may speak for a client through
X-Forwarded-For: empty (the default) trusts none, so the address is the TCP peer
(REMOTE_ADDR) and the header is ignored; a number N trusts N proxy hops in front of the
application (use it only when nothing else can reach the application's port); a comma list of
addresses and networks (10.0.0.0/8, 192.168.1.5, ::1) trusts those peers wherever they are.

Every rate limit keys on :func:`client_key`, a keyed hash of the address: an address is
personal data, and the cache never holds it raw.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from privacy import hashing

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


@lru_cache(maxsize=8)
def trusted_proxies(value: str) -> int | tuple[Network, ...]:
    """Read the setting: a count of hops, or the trusted networks (none when empty)."""
    value = (value or "").strip()
    if value.isdigit():
        return int(value)
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                "SUNLIGHT_TRUSTED_PROXIES must be a number of proxy hops or a comma list of "
                f"addresses and networks (10.0.0.0/8, ::1); {item!r} is neither."
            ) from None
    return tuple(networks)


def _address(text: str) -> str | None:
    """Return TEXT as a normalised IP address, or None when it is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return str(address)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in networks)


def client_address(request) -> str:
    """Return the client's address: the rightmost address of X-Forwarded-For that is not a
    trusted proxy, walking back from the peer through trusted proxies only.

    A header from a peer that is not trusted is ignored, and so is any entry that is not an
    address (the walk stops at the last good one).
    """
    peer = _address(request.META.get("REMOTE_ADDR") or "") or UNKNOWN
    trust = trusted_proxies(getattr(settings, "SUNLIGHT_TRUSTED_PROXIES", ""))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not trust or not forwarded:
        return peer
    hops = [part for part in forwarded.split(",")][::-1]  # nearest proxy first
    if isinstance(trust, int):
        # The N proxies each appended the address they saw: the client is N from the right.
        if len(hops) < trust:
            return peer
        return _address(hops[trust - 1]) or peer
    current = peer
    for hop in hops:
        if current == UNKNOWN or not _trusted(current, trust):
            break
        address = _address(hop)
        if address is None:
            break
        current = address
    return current


def client_key(request) -> str:
    """Return a keyed hash of the client's address, fit for a cache key."""
    return hashing.keyed_hash(
        f"ip:{client_address(request)}",
        key=settings.SUNLIGHT_HASH_KEY,
        version=settings.SUNLIGHT_HASH_KEY_VERSION,
    )


def login_address(request) -> str | None:
    """Return what the login limiter (django-axes' AXES_CLIENT_IP_CALLABLE) stores as the
    client's address: not the address, which axes would keep raw in its table, but a
    pseudo-address made of its keyed hash (an IPv6 unique-local address, fd00::/8, since axes'
    column takes addresses only): the same client gets the same one, and nobody can read the
    address back. None when the request names no address."""
    if client_address(request) == UNKNOWN:
        return None
    digest = bytes.fromhex(client_key(request)[-32:])
    return str(ipaddress.IPv6Address(b"\xfd" + digest[1:]))
