from django.urls import reverse


def test_it_logs_in_with_the_right_password(client, people):
    response = client.post(reverse("login"), {"username": "daisy", "password": "guardrail-demo"})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_it_shows_the_login_page_again_for_a_wrong_password(client, people):
    response = client.post(reverse("login"), {"username": "daisy", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_it_survives_hostile_login_input(client, people):
    for username in ["' OR 1=1 --", "<script>alert(1)</script>", "x" * 5000, "d\u0430isy", "../../etc/passwd"]:
        response = client.post(reverse("login"), {"username": username, "password": "\x00" * 10})
        assert response.status_code == 200
        assert b"<script>alert(1)</script>" not in response.content


def test_it_logs_out_with_post(client, people):
    client.force_login(people.daisy)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_it_lists_the_demo_people_on_the_login_page(client, people, settings):
    settings.DEMO_LOGINS = True
    assert b"audrey" in client.get(reverse("login")).content
    settings.DEMO_LOGINS = False
    assert b"audrey" not in client.get(reverse("login")).content
