"""Where Tocsin's outbound HTTP may go: `egress:` (channels, HTTP and Prometheus sources, and
whatever sends HTTP next). Addresses are checked after the name is resolved, when connecting,
so a name that resolves somewhere unexpected is caught too."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

from tocsin.config.fields import Strict

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Link-local addresses and the cloud metadata services reached through them (AWS, GCP and
# Azure at 169.254.169.254, AWS over IPv6 at fd00:ec2::254, Alibaba at 100.100.100.200):
# a probe or a webhook URL pointed there would read the host's cloud credentials.
DEFAULT_DENY = ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32")


def _network(value: object) -> Network:
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an address or network like 10.0.0.0/8 or fd00::/8")
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an address or network like 10.0.0.0/8 or fd00::/8"
        ) from None


# What the file writes; `reference` names it in the docs.
NETWORK_SCHEMA: dict[str, object] = {
    "type": "string",
    "examples": ["10.0.0.0/8", "169.254.169.254", "fd00:ec2::254"],
}
NetworkField = Annotated[Network, BeforeValidator(_network), WithJsonSchema(NETWORK_SCHEMA)]


class EgressConfig(Strict):
    """Where outbound HTTP may connect: every address a host name resolves to is checked
    when connecting; a refused request sends nothing."""

    allow: list[NetworkField] = Field(
        default_factory=list,
        description="when set, the only addresses outbound HTTP may connect to",
    )
    deny: list[NetworkField] = Field(
        default=[ipaddress.ip_network(network) for network in DEFAULT_DENY],
        description="addresses outbound HTTP never connects to (default: link-local and "
        "cloud metadata); [] allows them",
    )

    def refuses(self, address: str) -> str | None:
        """Why connecting to `address` (an IP) is refused, or None when it may go ahead. An
        IPv4 address written as IPv6 (::ffff:169.254.169.254) is checked as IPv4 too."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (%eth0)
        seen = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            seen.append(ip.ipv4_mapped)
        for network in self.deny:
            if any(candidate in network for candidate in seen):
                return f"{address} is in egress.deny ({network})"
        if self.allow and not any(c in n for c in seen for n in self.allow):
            return f"{address} is not in egress.allow"
        return None
