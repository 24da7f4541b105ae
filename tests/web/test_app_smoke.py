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
