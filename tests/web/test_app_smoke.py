"""The app starts, serves the support page and maps errors."""


def test_front_page_leads_to_support(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/support")


def test_support_page_with_empty_database(client):
    response = client.get("/support")
    assert response.status_code == 200
    assert b"Example News" in response.data
    assert "Set-Cookie" not in response.headers


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Not found" in response.data


def test_public_pages_do_not_vary_on_cookies_even_for_a_signed_in_admin(client, auth):
    """A CDN can cache readers' pages: no Set-Cookie and no Vary: Cookie outside /admin."""
    auth.login()
    for path in ("/support", "/no-such-page"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")


def test_admin_session_cookie_is_scoped_to_admin(client, auth):
    response = auth.login()
    cookie = response.headers.get("Set-Cookie", "")
    assert "Path=/admin" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_german_404_page_is_german_with_no_werkzeug_text(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "de"})
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Nicht gefunden" in text and "Zurück zur Unterstützungsseite" in text
    assert "Unter dieser Adresse gibt es keine Seite" in text
    assert "requested URL" not in text and "Not found" not in text


def test_an_english_404_page_says_it_in_words_a_reader_understands(client):
    text = client.get("/no-such-page").get_data(as_text=True)
    assert "There is no page at this address" in text
    assert "If you entered the URL manually" not in text


def test_admin_403_and_404_keep_the_admin_layout(client, auth):
    auth.login(email="viewer@example.org", role="viewer")
    for path, status in (("/admin/users", 403), ("/admin/campaigns/no-such-campaign", 404), ("/admin/no-such-page", 404)):
        response = client.get(path)
        assert response.status_code == status, path
        text = response.get_data(as_text=True)
        assert 'class="admin-nav"' in text and "admin.css" in text, path
        assert "Back to the dashboard" in text and "site.css" not in text, path
