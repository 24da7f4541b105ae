"""/healthz, /readyz and /metrics: cheap, cookie-free, and /metrics only with its token."""

from __future__ import annotations

from tracker import create_app


def test_health_and_readiness_answer_without_cookies(client):
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200 and response.json["status"] == "ok"
        assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"
    assert client.get("/readyz").json["checks"] == {"database": "ok", "queue": "ok"}


def test_readiness_fails_when_the_database_is_away(settings_factory, tmp_path):
    app = create_app(settings_factory(**{"database.url": "postgresql+psycopg://nobody@127.0.0.1:9/none"}))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["database"].startswith("unreachable")
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["tracker_engine"].dispose()


def test_metrics_are_off_without_a_token_and_need_it(settings_factory, client):
    assert client.get("/metrics").status_code == 404
    app = create_app(settings_factory(**{"metrics.token": "s3cret-token"}))
    metrics = app.test_client()
    assert metrics.get("/metrics").status_code == 401
    assert metrics.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    metrics.get("/healthz")
    body = metrics.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert body.status_code == 200
    text = body.get_data(as_text=True)
    assert 'tracker_http_requests_total{endpoint="ops.healthz",method="GET",status="200"}' in text
    assert "tracker_http_request_seconds_bucket" in text and "tracker_jobs" in text
    app.extensions["tracker_engine"].dispose()
