"""Threat lists: IP addresses and CIDR networks, IPv4 and IPv6, matched by longest prefix."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["ThreatList", "ThreatListError"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ThreatListError(ValueError):
    """Lines of a threat list that are not an IP address or CIDR; ``errors`` is [(line, text)]."""

    def __init__(self, errors: list[tuple[int, str]]):
        shown = "; ".join(f"line {n}: {text!r}" for n, text in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"not an IP address or CIDR: {shown}{more}")
        self.errors = errors


class ThreatList:
    """A set of IP addresses and networks, IPv4 and IPv6.

    Single addresses (and /32, /128 networks) go in a set keyed by their canonical text, so the
    usual look-up is one hash probe; networks go in one dict per prefix length keyed by the
    network's integer prefix, so a look-up costs one probe per distinct prefix length, longest
    first.  ``match`` returns the entry that matched, as text ("203.0.113.0/24"), or None.
    IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match the IPv4 entries.
    """

    def __init__(self, entries: Iterable[str | _Network] = (), name: str = "threat-list"):
        self.name = name
        self._exact: dict[str, str] = {}  # canonical address text -> entry text
        self._nets: dict[int, dict[int, dict[int, str]]] = {4: {}, 6: {}}  # version -> plen -> prefix -> entry
        self._plens: dict[int, list[int]] = {4: [], 6: []}  # longest first
        for entry in entries:
            self.add(entry)

    @classmethod
    def from_text(cls, text: str, name: str = "threat-list") -> ThreatList:
        """One address or CIDR a line; blank lines and ``#`` comments (whole or trailing) are ignored.

        Raises ThreatListError (a ValueError) naming the line numbers of every bad line.
        """
        tl = cls(name=name)
        errors = []
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                tl.add(line)
            except ValueError:
                errors.append((n, raw.strip()))
        if errors:
            raise ThreatListError(errors)
        return tl

    def add(self, entry: str | _Network) -> None:
        """Add an address or network (host bits of a network are ignored: 10.1.2.3/8 is 10.0.0.0/8)."""
        net = entry if isinstance(entry, (ipaddress.IPv4Network, ipaddress.IPv6Network)) \
            else ipaddress.ip_network(str(entry).strip(), strict=False)
        if net.prefixlen == net.max_prefixlen:
            self._exact[str(net.network_address)] = str(net.network_address)
            return
        v, plen = net.version, net.prefixlen
        bucket = self._nets[v].get(plen)
        if bucket is None:
            bucket = self._nets[v][plen] = {}
            self._plens[v] = sorted(self._nets[v], reverse=True)
        bucket[int(net.network_address) >> (net.max_prefixlen - plen)] = str(net)

    def match(self, ip: str) -> str | None:
        """The entry ``ip`` falls in (the most specific one), or None; None too for non-addresses."""
        hit = self._exact.get(ip)
        if hit is not None:
            return hit
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if addr.version == 6 and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        text = str(addr)
        if text != ip:  # non-canonical spelling of an exact entry
            hit = self._exact.get(text)
            if hit is not None:
                return hit
        v = addr.version
        plens = self._plens[v]
        if not plens:
            return None
        value, bits, nets = int(addr), addr.max_prefixlen, self._nets[v]
        for plen in plens:
            hit = nets[plen].get(value >> (bits - plen))
            if hit is not None:
                return hit
        return None

    def __contains__(self, ip: str) -> bool:
        return self.match(ip) is not None

    def __len__(self) -> int:
        """The number of distinct entries."""
        return len(self._exact) + sum(len(b) for nets in self._nets.values() for b in nets.values())

    def __repr__(self) -> str:
        return f"<ThreatList {self.name!r}: {len(self)} entries>"
