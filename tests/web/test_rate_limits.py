"""Sign-in limits are shared by separate processes: through Redis when set, else a file in instance/."""

import multiprocessing

import pytest
import redis
from factories import PASSWORD_HASH

from tracker.models import User

# Slow (spawns processes); CI runs it with the rest: `pytest -m 'not slow'` leaves it out locally.
pytestmark = pytest.mark.slow

#: Database 15 is this suite's own: it is emptied before and after each test that uses it.
REDIS_URL = "redis://127.0.0.1:6379/15"
WRONG = {"email": "admin@example.org", "password": "not the password"}


def attempt_in_process(overrides: dict, attempts: int, results: "multiprocessing.Queue") -> None:
    """A separate process (a worker, say): its own app, `attempts` wrong sign-ins; report the statuses."""
    from tracker import create_app
    from tracker.config import load_settings

    try:
        app = create_app(load_settings(path=None, env={}, overrides=overrides))
        app.config.update(WTF_CSRF_ENABLED=False)
        client = app.test_client()
        results.put([client.post("/admin/login", data=WRONG).status_code for _ in range(attempts)])
        app.extensions["tracker_engine"].dispose()
    except Exception as exc:  # report instead of leaving the test waiting
        results.put(repr(exc))


def run_two_processes(overrides: dict) -> list[list[int]]:
    """Process A tries twice, then process B tries twice, one after the other."""
    context = multiprocessing.get_context("spawn")
    outcomes = []
    for _ in range(2):
        results = context.Queue()
        process = context.Process(target=attempt_in_process, args=(overrides, 2, results))
        process.start()
        outcomes.append(results.get(timeout=120))
        process.join(timeout=30)
    return outcomes


@pytest.fixture()
def overrides(clean_db, database_url, tmp_path, app_session):
    app_session.add(User(email="admin@example.org", password_hash=PASSWORD_HASH, role="admin"))
    app_session.commit()
    return {"environment": "testing", "instance_path": str(tmp_path / "instance"), "database.url": database_url,
            "security.secret_key": "test-secret-key-0123456789", "security.login_rate_limit": "3 per minute"}


@pytest.fixture()
def empty_redis():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield
    client.flushdb()
    client.close()


def test_failed_sign_ins_count_across_processes_through_redis(overrides, empty_redis):
    first, second = run_two_processes({**overrides, "redis.url": REDIS_URL})
    assert 429 not in first, first
    # The second process refuses its second attempt: the first process's two count too.
    assert second[0] != 429 and second[1] == 429, second


def test_without_redis_the_processes_of_one_host_share_the_count(overrides):
    """The attack run: with two gunicorn workers each counting alone, twice the attempts got through."""
    first, second = run_two_processes(overrides)
    assert 429 not in first, first
    assert second[0] != 429 and second[1] == 429, second


def test_with_redis_down_sign_in_answers_instead_of_failing(overrides):
    """A Redis that does not answer: each process counts in memory meanwhile, never a 500."""
    first, second = run_two_processes({**overrides, "redis.url": "redis://127.0.0.1:9/0"})
    assert 500 not in first + second and all(status in (200, 422, 429) for status in first + second)
