import ipaddress

import pytest

from triage.flowlogs.detect import ThreatList, ThreatListError

TEXT = """\
# a comment line

203.0.113.7
203.0.113.0/24        # trailing comment
10.0.0.0/8
10.1.0.0/16
2001:db8:bad::/48
2001:db8:dead::1
192.0.2.1/32
"""


def test_it_reads_addresses_and_networks_ignoring_comments_and_blanks():
    tl = ThreatList.from_text(TEXT, name="intel")
    assert len(tl) == 7 and tl.name == "intel"
    assert tl.match("203.0.113.7") == "203.0.113.7"  # the exact entry beats the /24
    assert tl.match("203.0.113.8") == "203.0.113.0/24"
    assert tl.match("10.1.2.3") == "10.1.0.0/16"  # longest prefix
    assert tl.match("10.2.2.3") == "10.0.0.0/8"
    assert tl.match("192.0.2.1") == "192.0.2.1"
    assert tl.match("11.0.0.1") is None


def test_it_matches_ipv6_in_any_spelling_and_ipv4_mapped_addresses():
    tl = ThreatList.from_text(TEXT)
    assert tl.match("2001:db8:bad:1::5") == "2001:db8:bad::/48"
    assert tl.match("2001:db8:dead::1") == "2001:db8:dead::1"
    assert tl.match("2001:0db8:dead:0000:0000:0000:0000:0001") == "2001:db8:dead::1"
    assert tl.match("2001:db8:beef::1") is None
    assert tl.match("::ffff:203.0.113.9") == "203.0.113.0/24"
    assert "203.0.113.9" in tl and "-" not in tl and "not-an-ip" not in tl


def test_bad_lines_are_reported_with_their_numbers():
    with pytest.raises(ThreatListError) as err:
        ThreatList.from_text("10.0.0.1\nnot-an-ip\n# ok\n300.1.1.1\n10.0.0.0/33\n")
    assert err.value.errors == [(2, "not-an-ip"), (4, "300.1.1.1"), (5, "10.0.0.0/33")]
    assert "line 2" in str(err.value) and "line 5" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_it_takes_network_objects_and_ignores_host_bits():
    tl = ThreatList([ipaddress.ip_network("198.51.100.0/25"), "172.16.5.4/12"])
    assert tl.match("198.51.100.100") == "198.51.100.0/25"
    assert tl.match("198.51.100.200") is None
    assert tl.match("172.31.0.1") == "172.16.0.0/12"
