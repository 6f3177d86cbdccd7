"""SSRF guard for webhook URLs: only public http(s) destinations, checked on every address the
name resolves to, at registration *and* at send time. At send time we also connect to the very
address we checked (the Host header and TLS SNI keep the real name), so a DNS answer that
changes between check and connect (rebinding) cannot steer us to an internal service."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeDestination(Exception):
    """Never retried: the URL is not allowed."""


class ResolutionFailed(Exception):
    """DNS did not answer: retried like any network error."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form that carries an IPv4 address is as dangerous as that address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolutionFailed(_("%(host)s does not resolve: %(error)s") % {"host": host, "error": exc}) from exc
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = sockaddr[0].split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_url(url: str) -> list[str]:
    """The vetted addresses `url` may be sent to; raises UnsafeDestination (or ResolutionFailed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination(_("Only http and https URLs with a host name are allowed."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestination(_("The URL's port is not valid.")) from exc
    addresses = resolve(parts.hostname, port)
    if not addresses:
        raise ResolutionFailed(_("%(host)s does not resolve.") % {"host": parts.hostname})
    if not settings.HELPDESK_WEBHOOKS_ALLOW_PRIVATE:
        for address in addresses:
            if not is_public(address):
                raise UnsafeDestination(
                    _("%(host)s resolves to %(address)s, a private, loopback, link-local or reserved "
                      "address (set HELPDESK_WEBHOOKS_ALLOW_PRIVATE to allow it).")
                    % {"host": parts.hostname, "address": address})
    return addresses
