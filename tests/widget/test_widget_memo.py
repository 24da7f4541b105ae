"""The per-process memo of widget and API answers: zero queries on a repeat, bounded staleness, exact keys."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

import pytest
from factories import counting_statements
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker import create_app
from tracker.config import ConfigError
from tracker.web.caching import browser_max_age, runtime
from tracker.widget import memo as memo_module
from tracker.widget.memo import Memoised, ResponseMemo

MEMOISED = ["/widget/demo?locale=en", "/widget/demo.svg", "/widget/demo.png?variant=bar",
            "/api/v1/campaigns/demo", "/api/v1/campaigns", "/embed.js",
            "/oembed?url=http://127.0.0.1:5000/c/demo"]


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def memo_app(settings_factory: Any, clock: Clock, **overrides: Any) -> Any:
    """An app with the memo on (the production default, 1 s unless overridden) on `clock`."""
    app = create_app(settings_factory(**overrides))
    with app.app_context():
        runtime().memo.clock = clock
    return app


@pytest.fixture()
def app(clean_db, settings_factory, clock):
    """This module's app: the memo as in production, on the test's clock."""
    app = memo_app(settings_factory, clock)
    yield app
    app.extensions["tracker_engine"].dispose()


@contextmanager
def as_another_process() -> Iterator[None]:
    """Commits made inside do not reach this process's memo, as another worker's would not."""
    event.remove(Session, "after_commit", memo_module._committed)
    try:
        yield
    finally:
        event.listen(Session, "after_commit", memo_module._committed)


def count(app: Any, client: Any, path: str, **kwargs: Any) -> tuple[Any, list[str]]:
    with counting_statements(app.extensions["tracker_engine"]) as statements:
        response = client.get(path, **kwargs)
    return response, statements


@pytest.mark.parametrize("path", MEMOISED)
def test_a_repeated_request_runs_no_sql(app, client, demo, path):
    first, statements = count(app, client, path)
    assert first.status_code == 200 and (statements or path == "/embed.js")  # the script is a file
    again, statements = count(app, client, path)
    assert statements == []
    assert again.status_code == 200 and again.data == first.data
    assert again.headers == first.headers


@pytest.mark.parametrize("path", MEMOISED)
def test_a_repeated_conditional_request_is_a_304_without_sql(app, client, demo, path):
    etag = client.get(path).headers["ETag"]
    for sent in (etag, f'"other", W/{etag}'):
        response, statements = count(app, client, path, headers={"If-None-Match": sent})
        assert statements == [] and response.status_code == 304 and response.data == b""
        assert response.headers["ETag"] == etag
    response, statements = count(app, client, path, headers={"If-None-Match": '"other"'})
    assert statements == [] and response.status_code == 200


def test_a_304_from_the_memo_keeps_the_iframe_policy(app, client, demo):
    first = client.get("/widget/demo?variant=cta")
    again = client.get("/widget/demo?variant=cta", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert "X-Frame-Options" not in again.headers


def test_an_api_answer_from_the_memo_is_still_open_to_every_origin(app, client, demo):
    client.get("/api/v1/campaigns/demo")
    response, statements = count(app, client, "/api/v1/campaigns/demo")
    assert statements == []
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Expose-Headers"] == "ETag"


def test_another_workers_donation_shows_up_once_the_memo_expires(app, client, demo, make_donation, clock):
    before = client.get("/widget/demo.svg?locale=en")
    assert b">$2,160</text>" in before.data
    with as_another_process():
        make_donation(demo, "100")
    clock.now += 0.999
    still, statements = count(app, client, "/widget/demo.svg?locale=en")
    assert statements == [] and still.data == before.data
    clock.now += 0.001
    after, statements = count(app, client, "/widget/demo.svg?locale=en",
                              headers={"If-None-Match": before.headers["ETag"]})
    assert statements and after.status_code == 200
    assert b">$2,260</text>" in after.data


def test_a_donation_committed_in_this_process_shows_up_at_once(app, client, demo, make_donation):
    assert client.get("/api/v1/campaigns/demo").get_json()["raised"]["amount"] == "2160.00"
    make_donation(demo, "100")
    assert client.get("/api/v1/campaigns/demo").get_json()["raised"]["amount"] == "2260.00"


def test_a_donation_shows_up_after_a_longer_memo_too(clean_db, settings_factory, demo, make_donation, clock):
    app = memo_app(settings_factory, clock, **{"widget.process_cache_seconds": 10})
    client = app.test_client()
    before = client.get("/api/v1/campaigns").get_json()
    with as_another_process():
        make_donation(demo, "100")
    clock.now += 9.5
    assert client.get("/api/v1/campaigns").get_json() == before
    clock.now += 0.5
    assert client.get("/api/v1/campaigns").get_json()["campaigns"][0]["raised"]["amount"] == "2260.00"
    app.extensions["tracker_engine"].dispose()


def test_options_and_languages_do_not_share_entries(app, client, demo):
    bar = client.get("/widget/demo?variant=bar")
    cta = client.get("/widget/demo?variant=cta")
    assert bar.data != cta.data and 'class="btn"' in cta.get_data(as_text=True)
    english = client.get("/widget/demo.svg", headers={"Accept-Language": "en"})
    german = client.get("/widget/demo.svg", headers={"Accept-Language": "de-DE"})
    assert b"$2,160" in english.data and "2.160\u00a0$".encode() in german.data
    assert client.get("/widget/demo.svg", headers={"Accept-Language": "en"}).data == english.data
    english_api = client.get("/api/v1/campaigns/demo", headers={"Accept-Language": "en"}).get_json()
    german_api = client.get("/api/v1/campaigns/demo", headers={"Accept-Language": "de"}).get_json()
    assert (english_api["locale"], german_api["locale"]) == ("en", "de")


def test_the_query_is_compared_decoded_with_repeated_names_in_order(app, client, demo):
    first = client.get("/widget/demo?variant=bar&theme=dark")
    reordered, statements = count(app, client, "/widget/demo?theme=dark&variant=bar")
    assert statements == [] and reordered.data == first.data
    # The views read the first value of a repeated name, so these two differ.
    bar_first = client.get("/widget/demo?variant=bar&variant=cta")
    cta_first = client.get("/widget/demo?variant=cta&variant=bar")
    assert '<body class="v-bar">' in bar_first.get_data(as_text=True)
    assert '<body class="v-cta">' in cta_first.get_data(as_text=True)
    encoded = client.get("/widget/demo?%76ariant=cta&variant=bar")  # decodes to variant=cta, variant=bar
    assert '<body class="v-cta">' in encoded.get_data(as_text=True)


def test_campaigns_never_share_an_entry(app, client, make_campaign):
    make_campaign("first", title="First fund")
    make_campaign("second", title="Second fund")
    for _ in range(2):
        assert b"First fund" in client.get("/widget/first.svg").data
        assert b"Second fund" in client.get("/widget/second.svg").data
        assert client.get("/api/v1/campaigns/second").get_json()["slug"] == "second"


def test_errors_are_never_memoised(app, client, make_campaign):
    for path in ("/widget/later.svg", "/api/v1/campaigns/later", "/oembed?url=http://127.0.0.1:5000/c/later"):
        for _ in range(2):
            response, statements = count(app, client, path)
            assert response.status_code == 404 and statements, path
    with as_another_process():
        make_campaign("later", title="Later fund")
    assert client.get("/widget/later.svg").status_code == 200
    assert client.get("/oembed?url=http://127.0.0.1:5000/c/later&format=xml").status_code == 501


def test_options_requests_are_not_answered_from_the_memo(app, client, demo):
    client.get("/widget/demo.svg")
    response = client.options("/widget/demo.svg")
    assert response.status_code == 200 and response.data == b"" and "GET" in response.headers["Allow"]


def test_an_etag_learnt_from_a_304_answers_304s_and_a_200_is_rendered_once(clean_db, settings_factory, demo, clock):
    other = create_app(settings_factory())
    etag = other.test_client().get("/widget/demo.svg").headers["ETag"]
    other.extensions["tracker_engine"].dispose()
    app = memo_app(settings_factory, clock)
    client = app.test_client()
    assert count(app, client, "/widget/demo.svg", headers={"If-None-Match": etag})[1]
    response, statements = count(app, client, "/widget/demo.svg", headers={"If-None-Match": etag})
    assert response.status_code == 304 and statements == []
    response, statements = count(app, client, "/widget/demo.svg")  # no body kept yet: rendered
    assert response.status_code == 200 and statements
    assert count(app, client, "/widget/demo.svg")[1] == []
    app.extensions["tracker_engine"].dispose()


@pytest.mark.parametrize("seconds", [0, 1])
def test_the_memo_can_be_turned_off(clean_db, settings_factory, demo, seconds):
    overrides = {"widget.process_cache_seconds": 0} if seconds == 0 else {"widget.max_age": 0}
    app = create_app(settings_factory(**overrides))
    client = app.test_client()
    client.get("/widget/demo.svg")
    response, statements = count(app, client, "/widget/demo.svg")
    assert response.status_code == 200 and len(statements) == 1
    with app.app_context():
        assert runtime().memo is None
    app.extensions["tracker_engine"].dispose()


def test_the_production_default_is_one_second(settings_factory):
    assert settings_factory().widget.process_cache_seconds == 1


@pytest.mark.parametrize("max_age, memo, sent", [(60, 1, 59), (60, 0, 60), (5, 4, 1), (0, 0, 0), (0, 3, 0)])
def test_browsers_get_max_age_less_the_memo(max_age, memo, sent):
    # What a browser may add to what the memo already kept never passes max_age.
    assert browser_max_age(max_age, memo) == sent
    assert sent + (memo if max_age else 0) <= max_age


@pytest.mark.parametrize("overrides, problem", [
    ({"widget.process_cache_seconds": -1}, "cannot be negative"),
    ({"widget.process_cache_seconds": 60}, "less than widget.max_age"),
    ({"widget.max_age": 5, "widget.process_cache_seconds": 7}, "less than widget.max_age"),
])
def test_the_memo_time_is_validated(settings_factory, overrides, problem):
    with pytest.raises(ConfigError) as info:
        settings_factory(**overrides)
    assert info.value.key == "widget.process_cache_seconds" and problem in info.value.problem


def test_a_memo_time_with_max_age_zero_is_accepted_and_unused(settings_factory):
    assert settings_factory(**{"widget.max_age": 0, "widget.process_cache_seconds": 5}).widget.max_age == 0


def entry(expires: float, body: bytes = b"x") -> Memoised:
    return Memoised(etag='"e"', body=body, content_type="text/plain", headers=(), expires=expires,
                    writes=memo_module.local_writes())


def test_the_memo_is_bounded_and_evicts_the_oldest():
    memo = ResponseMemo(1, size=3, clock=Clock())
    for key in "abcd":
        memo.put(key, entry(2000))
    assert len(memo) == 3 and memo.get("a", 1000) is None and memo.get("d", 1000) is not None
    memo.put("b", entry(2000))  # refreshed: now the youngest
    memo.put("e", entry(2000))
    assert memo.get("c", 1000) is None and memo.get("b", 1000) is not None


def test_an_entry_is_used_until_it_expires():
    memo = ResponseMemo(1)
    memo.put("k", entry(1001))
    assert memo.get("k", 1000.999) is not None
    assert memo.get("k", 1001) is None


def test_concurrent_writers_keep_the_bound():
    memo = ResponseMemo(1, size=50)

    def fill(prefix: int) -> None:
        for index in range(500):
            memo.put((prefix, index), entry(2000))
            memo.get((prefix, index - 1), 1000)

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(memo) == 50
