"""QR codes and the addresses phones should use to reach this server."""

import ipaddress
import socket
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import current_app, request
from markupsafe import Markup


def lan_addresses() -> list[str]:
    """IPv4 addresses of this machine that phones on the same Wi-Fi can reach."""
    found: list[str] = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # No packet is sent: connecting a UDP socket only picks the interface
        # the system would route through.
        probe.connect(("10.255.255.255", 1))
        found.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(info[4][0])
    except OSError:
        pass
    unique = []
    for address in found:
        if not ipaddress.ip_address(address).is_loopback and address not in unique:
            unique.append(address)
    return unique


def public_base_url() -> str:
    """Base URL printed on QR codes and table tents, without a trailing slash.

    ``PUBLIC_URL`` wins. Otherwise the address the organizer's browser used,
    except that "localhost" is replaced by the LAN address, since a phone
    cannot reach the organizer's localhost.
    """
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(request.host_url)
    host = parts.hostname or "localhost"
    is_local = host == "localhost"
    if not is_local:
        try:
            is_local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            is_local = False
    if is_local:
        lan = lan_addresses()
        if lan:
            port = f":{parts.port}" if parts.port else ""
            return f"{parts.scheme}://{lan[0]}{port}"
    return request.host_url.rstrip("/")


def qr_svg(data: str) -> Markup:
    """An inline SVG QR code for ``data`` (scales to any print size)."""
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
    )
    svg = image.to_string(encoding="unicode")
    # Drop the XML declaration: the SVG is embedded in an HTML page.
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2 :]
    return Markup(svg)
