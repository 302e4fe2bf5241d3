"""Where webhooks may go: http(s) URLs whose host resolves only to addresses the operator allows.

Loopback, private, link-local and other non-public addresses are refused unless the host or a
network holding the address is listed in `ORDERLEDGER_WEBHOOK_ALLOWED_HOSTS` (a comma list of host
names or CIDRs): a subscription must not turn the ledger into a probe of its own network. The check
runs when a subscription is created and again before each delivery (a name may change addresses).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class DestinationRefused(ValueError):
    pass


def allowed_hosts(setting: str) -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in (e.strip().lower() for e in setting.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry)
    return names, networks


def check_destination(url: str, setting: str) -> str:
    """The URL's host if a webhook may be sent there; DestinationRefused says why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("a webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise DestinationRefused("a webhook URL must not carry credentials")
    host = parts.hostname.lower()
    names, networks = allowed_hosts(setting)
    if host in names:
        return host
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError):
        raise DestinationRefused(f"{host} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if any(address in network for network in networks):
            continue
        if not address.is_global:
            raise DestinationRefused(
                f"{host} resolves to {address}, a non-public address; the operator must allow it in"
                " ORDERLEDGER_WEBHOOK_ALLOWED_HOSTS"
            )
    return host
