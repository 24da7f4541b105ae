"""`tracker --help` loads no database, web or money library: the commands import what they use when they run."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tracker.cli import main

#: Libraries (and our modules that pull them in) that `--help` must not load: each took a
#: noticeable part of the 1.3-1.9 s that `tracker --help` once needed.
HEAVY = ("sqlalchemy", "flask", "babel", "alembic", "huey", "jinja2", "werkzeug", "psycopg",
         "tracker.models", "tracker.money", "tracker.config", "tracker.db", "tracker.chains.watcher")

#: Runs `python -m tracker ARGS…` in this fresh interpreter and prints what it loaded.
PROBE = """
import json, runpy, sys
sys.argv = ["tracker", *sys.argv[1:]]
try:
    runpy.run_module("tracker", run_name="__main__", alter_sys=True)
    status = 0
except SystemExit as exc:
    status = exc.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def run_tracker(*args: str, env: dict[str, str] | None = None) -> tuple[str, int, set[str]]:
    """What `tracker ARGS…` printed, its exit status, and every module it had imported by the end."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True, env=env)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, report["status"], set(report["modules"])


def loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(module.startswith(f"{name}.") for module in modules)


@pytest.mark.parametrize("args", [
    ("--help",), ("-h",), ("db", "--help"), ("db", "upgrade", "--help"), ("create-admin", "--help"),
    ("record-donation", "--help"), ("campaign", "add", "--help"), ("rate", "--help"), ("export", "--help"),
    ("import", "--help"), ("serve", "--help"), ("watch", "--help"), ("payment-method", "add", "--help"),
])
def test_help_loads_only_click_and_the_standard_library(args):
    output, status, modules = run_tracker(*args)
    assert status == 0 and output.startswith("Usage: tracker"), output
    assert [name for name in HEAVY if loaded(modules, name)] == []
    assert "click" in modules


def test_the_help_still_shows_what_the_heavy_modules_used_to_provide():
    output, status, modules = run_tracker("create-admin", "--help")
    assert status == 0 and "[owner|admin|viewer]" in output and not loaded(modules, "sqlalchemy")
    from tracker.models import ROLES

    assert ROLES == ("owner", "admin", "viewer")


def test_a_command_that_runs_still_loads_what_it_needs(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('environment = "testing"\n[security]\nsecret_key = "cli-test-secret-0123456789"\n'
                      f'[database]\nurl = "sqlite:///{tmp_path / "t.db"}"\n')
    env = {"PATH": "/usr/bin:/bin", "TRACKER_CONFIG": str(config)}
    output, status, modules = run_tracker("db", "current", env=env)
    assert status == 0 and output.startswith("database: empty; newest: ")
    assert loaded(modules, "sqlalchemy") and loaded(modules, "alembic")


def test_an_unreachable_database_is_still_one_line(tmp_path, monkeypatch):
    # SQLAlchemy's DBAPIError is recognised without being imported at start-up.
    config = tmp_path / "config.toml"
    config.write_text('environment = "testing"\n[security]\nsecret_key = "cli-test-secret-0123456789"\n'
                      '[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    result = CliRunner().invoke(main, ["db", "current"], catch_exceptions=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("error: the database refused or did not answer: ")
    assert len(result.output.splitlines()) == 1


def test_a_command_s_database_refusal_is_one_line_and_other_errors_pass(capsys):
    from sqlalchemy.exc import IntegrityError

    from tracker.cli import domain_errors

    @domain_errors
    def refused() -> None:
        raise IntegrityError("INSERT INTO donation …", {}, Exception("CHECK constraint failed: amount\nmore"))

    @domain_errors
    def broken() -> None:
        raise LookupError("a bug, not a refusal")

    with pytest.raises(SystemExit) as exited:
        refused()
    assert exited.value.code == 1
    assert capsys.readouterr().err == "error: the database refused the change: CHECK constraint failed: amount\n"
    with pytest.raises(LookupError):
        broken()
