"""Threat lists: an uploaded list checked and stored one entry a line, a URL list fetched (a failed fetch keeps the
entries) and due again after its refresh hours, and the pages where admins upload them."""

import datetime as dt
import http.server
import threading

import pytest
from django.core.exceptions import ValidationError

from triage import threat_lists
from triage.models import ThreatList

pytestmark = pytest.mark.usefixtures("commit_now")


def test_an_uploaded_list_is_checked_and_stored_one_entry_a_line(people):
    saved = threat_lists.threat_list_save(
        name="tor", entries="# exits\n192.0.2.1\n198.51.100.0/24  # a block\n\n2001:db8::/32", user=people.admin)
    assert (saved.entry_count, saved.entries) == (3, "192.0.2.1\n198.51.100.0/24\n2001:db8::/32")
    with pytest.raises(ValidationError) as bad:
        threat_lists.threat_list_save(name="bad", entries="192.0.2.1\nnot-an-ip\n10.0.0.0/33")
    assert "line 2: 'not-an-ip'" in str(bad.value) and "line 3" in str(bad.value)
    with pytest.raises(ValidationError) as clash:
        threat_lists.threat_list_save(name="tor", entries="192.0.2.2")
    assert "exists already" in str(clash.value)
    with pytest.raises(ValidationError) as no_url:
        threat_lists.threat_list_save(name="remote", source="url", url="ftp://x")
    assert "url" in no_url.value.message_dict


class _Lists(http.server.BaseHTTPRequestHandler):
    body = b"203.0.113.0/24\n"
    status = 200

    def do_GET(self):  # noqa: N802
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def list_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Lists)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/list.txt"
    server.shutdown()


def test_a_url_list_is_fetched_and_a_failed_fetch_keeps_the_entries(people, list_server, monkeypatch):
    saved = threat_lists.threat_list_save(name="feed", source="url", url=list_server, refresh_hours=6)
    assert (saved.entry_count, saved.fetch_error) == (1, "")
    assert threat_lists.threat_lists_due() == []
    monkeypatch.setattr(_Lists, "status", 503)
    again = threat_lists.threat_list_fetch(saved.pk)
    assert again.entry_count == 1 and again.fetch_error == "cannot fetch the list: HTTPError (HTTP 503)"
    monkeypatch.setattr(_Lists, "status", 200)
    monkeypatch.setattr(_Lists, "body", b"203.0.113.0/24\nnonsense\n")
    again = threat_lists.threat_list_fetch(saved.pk)
    assert again.entry_count == 1 and "line 2: 'nonsense'" in again.fetch_error
    ThreatList.objects.filter(pk=saved.pk).update(fetched=threat_lists.timezone.now() - dt.timedelta(hours=7))
    assert threat_lists.threat_lists_due() == [saved.pk]


def test_admins_upload_threat_lists_and_bad_lines_are_named(client, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(people.admin)
    bad = client.post("/triage/threat-lists/", {"name": "feed", "source": "upload", "entries": "192.0.2.1\n300.1.1.1",
                                                "refresh_hours": "24", "enabled": "on"})
    assert bad.status_code == 400 and "line 2: &#x27;300.1.1.1&#x27;" in bad.content.decode()
    assert not ThreatList.objects.exists()
    made = client.post("/triage/threat-lists/", {"name": "feed", "source": "upload", "enabled": "on",
                                                 "refresh_hours": "24", "file": SimpleUploadedFile(
                                                     "list.txt", b"192.0.2.1\n198.51.100.0/24\n")})
    assert made.status_code == 302 and ThreatList.objects.get(name="feed").entry_count == 2
    page = client.get("/triage/threat-lists/feed/").content.decode()
    assert "198.51.100.0/24" in page and "Created" in page
    kept = client.post("/triage/threat-lists/feed/", {"name": "feed", "source": "upload", "refresh_hours": "12",
                                                       "description": "partners' blocklist"})
    assert kept.status_code == 302
    assert (ThreatList.objects.get(name="feed").entry_count, ThreatList.objects.get(name="feed").refresh_hours) == (2, 12)
    assert client.post("/triage/threat-lists/feed/", {"name": "feed", "refresh_hours": "x"}).status_code == 400
    client.force_login(people.daisy)
    assert client.post("/triage/threat-lists/", {"name": "mine", "entries": "192.0.2.9"}).status_code == 403
    assert client.post("/triage/threat-lists/feed/delete/").status_code == 403
    client.force_login(people.admin)
    assert client.post("/triage/threat-lists/feed/delete/").status_code == 302 and not ThreatList.objects.exists()
