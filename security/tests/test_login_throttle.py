"""Five failed sign-ins for a username (or twenty from an address) within 15 minutes lock it out for 15 minutes:
429 with a clear message, even with the right password; counted in the shared database, not per process."""

from datetime import timedelta

from django.utils import timezone

from security.models import AuditEntry

RIGHT, WRONG = "guardrail-demo", "wrong-password"


def _login(client, username: str, password: str, path: str = "/login/", ip: str = "127.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _age_everything(minutes: int) -> None:
    AuditEntry.objects.update(time=timezone.now() - timedelta(minutes=minutes))


def test_it_locks_a_username_out_after_five_failures(client, people):
    for _ in range(5):
        assert _login(client, "daisy", WRONG).status_code == 200
    response = _login(client, "daisy", RIGHT)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "Try again after" in page
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    assert _login(client, "dan", RIGHT).status_code == 302  # another username from the same address still signs in
    assert AuditEntry.objects.filter(kind="USER_LOCKED", username="daisy").count() == 1
    assert AuditEntry.objects.filter(kind="LOGIN_REFUSED", username="daisy", status=429).count() == 1


def test_the_lockout_ends_after_fifteen_minutes(client, people):
    for _ in range(5):
        _login(client, "daisy", WRONG)
    assert _login(client, "daisy", RIGHT).status_code == 429
    _age_everything(14)
    assert _login(client, "daisy", RIGHT).status_code == 429
    _age_everything(16)
    assert _login(client, "daisy", RIGHT).status_code == 302


def test_failures_older_than_the_window_or_before_a_success_do_not_count(client, people):
    for _ in range(4):
        _login(client, "daisy", WRONG)
    _age_everything(16)
    for _ in range(4):
        _login(client, "daisy", WRONG)
    assert _login(client, "daisy", RIGHT).status_code == 302
    client.logout()
    for _ in range(4):
        _login(client, "daisy", WRONG)
    assert _login(client, "daisy", RIGHT).status_code == 302


def test_it_locks_an_address_out_after_twenty_failures(client, people):
    for n in range(20):
        _login(client, f"guess-{n}", WRONG, ip="198.51.100.7")
    assert _login(client, "audrey", RIGHT, ip="198.51.100.7").status_code == 429
    assert _login(client, "audrey", RIGHT, ip="198.51.100.8").status_code == 302
    assert AuditEntry.objects.filter(kind="IP_LOCKED", ip="198.51.100.7").exists()


def test_the_site_admin_login_is_throttled_too(client, people):
    for _ in range(5):
        _login(client, "adam", WRONG, path="/admin/login/")
    response = _login(client, "adam", RIGHT, path="/admin/login/")
    assert response.status_code == 429 and b"Too many failed sign-ins" in response.content
    assert _login(client, "adam", RIGHT).status_code == 429  # the same username, whichever form


def test_the_username_is_matched_whatever_its_case(client, people):
    for name in ("daisy", "Daisy", "DAISY", "daisY", "dAisy"):
        _login(client, name, WRONG)
    assert _login(client, "daisy", RIGHT).status_code == 429


def test_behind_the_tls_proxy_the_forwarded_address_counts(client, people, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    for n in range(20):
        client.post("/login/", {"username": f"g{n}", "password": WRONG}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_FORWARDED_FOR="203.0.113.9")
    refused = client.post("/login/", {"username": "dan", "password": RIGHT}, REMOTE_ADDR="10.0.0.1",
                          HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert refused.status_code == 429
    other = client.post("/login/", {"username": "dan", "password": RIGHT}, REMOTE_ADDR="10.0.0.1",
                        HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert other.status_code == 302  # the proxy's own address is shared by everyone: it is not what counts


def test_a_nul_in_the_username_is_no_trouble(people):
    from security import services

    services.login_failed(request=None, username="dai\x00sy")
    assert services.login_locked_until(username="dai\x00sy", ip=None) is None
    assert AuditEntry.objects.get().username == "daisy"
