"""The demo's threat list: documentation-range addresses, among them the one the sandbox's demo brute force comes
from (198.51.100.23), so the flow-log page shows a threat-list detection."""

from triage.models import ThreatList
from triage.threat_lists import threat_list_save

DEMO_LIST = """# Demo blocklist (RFC 5737 documentation ranges stand in for a real feed)
198.51.100.23
198.51.100.200
192.0.2.128/25
"""


def threat_lists_demo_seed() -> dict[str, int]:
    """Add the demo list if it is missing (an admin's edits are kept)."""
    if ThreatList.objects.filter(name="demo-blocklist").exists():
        return {"lists": 0}
    threat_list_save(name="demo-blocklist", description="Known-bad addresses for the demo", entries=DEMO_LIST)
    return {"lists": 1}
