"""Where webhooks may go: http(s) URLs whose host resolves only to addresses the operator allows.

Loopback, private, link-local and other non-public addresses are refused unless the host or a
network holding the address is listed in `ORDERLEDGER_WEBHOOK_ALLOWED_HOSTS` (a comma list of host
names or CIDRs): a subscription must not turn the ledger into a probe of its own network. The check
runs when a subscription is created and again before each delivery (a name may change addresses).
A delivery connects only to the addresses its check saw: a second lookup could answer otherwise
(DNS rebinding), so the host name is resolved once and the request is pinned to what was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to, in the order to try them
Resolver = Callable[[str, int], list[str]]


class DestinationRefused(ValueError):
    pass


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system gives for host, in getaddrinfo's order."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class Destination:
    """A webhook URL whose host was resolved once and allowed: deliveries connect to `addresses` only."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]


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


def check_destination(url: str, setting: str, resolve: Resolver = system_resolver) -> Destination:
    """Where a webhook to `url` may connect; DestinationRefused says why it may not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("a webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise DestinationRefused("a webhook URL must not carry credentials")
    host = parts.hostname.lower()
    names, networks = allowed_hosts(setting)
    addresses = _addresses(host, parts.port or (443 if parts.scheme == "https" else 80), resolve)
    if host in names:
        return Destination(httpx.URL(url), addresses)  # the operator vouches for every address of this name
    for address in addresses:
        if any(address in network for network in networks):
            continue
        if not address.is_global:
            raise DestinationRefused(
                f"{host} resolves to {address}, a non-public address; the operator must allow it in"
                " ORDERLEDGER_WEBHOOK_ALLOWED_HOSTS"
            )
    return Destination(httpx.URL(url), addresses)


def _addresses(host: str, port: int, resolve: Resolver) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)  # a literal address is not looked up
    except ValueError:
        pass
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError):
        found = []
    addresses = tuple(dict.fromkeys(ipaddress.ip_address(a.split("%")[0]) for a in found))
    if not addresses:
        raise DestinationRefused(f"{host} does not resolve")
    return addresses


def post_to(destination: Destination, content: bytes, headers: dict[str, str], timeout_s: float) -> httpx.Response:
    """POST to the destination's checked addresses, in turn as a socket connect would, and nowhere else.

    The URL names the address, so nothing is looked up again; the Host header, TLS SNI and the
    certificate check keep the URL's host name (httpx's documented `sni_hostname` extension).
    Redirects are not followed: their target was never checked.
    """
    url = destination.url
    pinned_headers = {**headers, "Host": url.netloc.decode("ascii")}
    tls_name = url.raw_host.decode("ascii")
    # An explicit transport leaves out proxies from the environment (a proxy would look the name up
    # itself and could not keep the SNI); SSL_CERT_FILE and SSL_CERT_DIR still count.
    with httpx.Client(transport=httpx.HTTPTransport(), timeout=timeout_s, follow_redirects=False) as client:

        def post(address: IPAddress) -> httpx.Response:
            pinned = url.copy_with(host=str(address))
            return client.post(pinned, content=content, headers=pinned_headers, extensions={"sni_hostname": tls_name})

        for address in destination.addresses[:-1]:
            try:
                return post(address)
            except httpx.ConnectError:
                continue  # e.g. no IPv6 route: the next checked address, as socket.create_connection does
        return post(destination.addresses[-1])
