"""Settings: found in the documented places, typed, and refused with one line naming file and key."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tracker.config import ConfigError, Settings, find_config_file, load_settings

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file_are_development(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.environment == "development"
    assert settings.source == "defaults"
    # The development secret is generated once and kept in instance/.
    secret_file = tmp_path / "instance" / "secret_key"
    assert secret_file.read_text().strip() == settings.security.secret_key
    assert load_settings(env={}).security.secret_key == settings.security.secret_key
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"


def test_search_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config_file(env={}) is None
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.toml").write_text("")
    assert find_config_file(env={}) == tmp_path / "instance" / "config.toml"
    (tmp_path / "config.toml").write_text("")
    assert find_config_file(env={}) == tmp_path / "config.toml"
    assert find_config_file(env={"TRACKER_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")


def test_a_full_file_is_parsed_into_typed_frozen_settings(tmp_path):
    path = write(tmp_path, """
environment = "production"
[site]
name = "Die Zeitung"
locales = ["de", "en"]
default_locale = "de"
[security]
secret_key = "0123456789abcdef0123"
[database]
url = "postgresql+psycopg://u@db/tracker"
[widget]
max_age = 30
""")
    settings = load_settings(path, env={})
    assert isinstance(settings, Settings)
    assert settings.site.locales == ("de", "en")
    assert settings.widget.max_age == 30
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.site.name = "x"  # type: ignore[misc]


def test_environment_overrides_secrets(tmp_path):
    path = write(tmp_path, 'environment = "production"\n')
    settings = load_settings(path, env={"TRACKER_SECRET_KEY": "from-the-environment-123",
                                        "TRACKER_DATABASE_URL": "sqlite:///elsewhere.db"})
    assert settings.security.secret_key == "from-the-environment-123"
    assert settings.database.url == "sqlite:///elsewhere.db"


@pytest.mark.parametrize("text, key, problem", [
    ('colour = "red"\n', "colour", "unknown key"),
    ('[site]\ntitle = "x"\n', "site.title", "unknown key"),
    ('[widget]\nmax_age = "soon"\n', "widget.max_age", "must be a whole number"),
    ('[site]\nlocales = "en"\n', "site.locales", "must be a list"),
    ('[security]\nsecure_cookies = 1\n', "security.secure_cookies", "must be true or false"),
    ('[database]\nurl = "not a url"\n', "database.url", "not a database URL"),
    ('[database]\nurl = "mysql://x/y"\n', "database.url", "only sqlite"),
    ('[database]\nurl = "postgresql+psycopg2://x/y"\n', "database.url", "psycopg 3"),
    ('environment = "production"\n', "security.secret_key", "missing"),
    ('environment = "staging"\n', "environment", "must be one of"),
    ('site = 3\n', "site", "must be a table"),
    ('[server]\nport = 70000\n', "server.port", "between 1 and 65535"),
    ('this is not toml', "-", "not valid TOML"),
])
def test_bad_settings_name_the_file_the_key_and_the_problem(tmp_path, text, key, problem):
    path = write(tmp_path, 'environment = "development"\n' + text if "environment" not in text else text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert info.value.source == str(path)
    assert info.value.key == key
    assert problem in info.value.problem


def test_the_command_line_prints_one_line_without_a_traceback(tmp_path):
    path = write(tmp_path, 'environment = "production"\n[database]\nurl = "nonsense"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["TRACKER_CONFIG"] = str(path)
    result = subprocess.run([sys.executable, "-m", "tracker.cli", "db", "current"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {path}: database.url: not a database URL: 'nonsense'"
    assert "Traceback" not in result.stderr


def test_config_example_documents_every_key(tmp_path):
    """config.example.toml parses, and has every setting with a comment above it."""
    import dataclasses
    import tomllib

    example = ROOT / "config.example.toml"
    settings = load_settings(example, env={"TRACKER_SECRET_KEY": "x" * 20})
    assert settings.site.name == "Example News"
    data = tomllib.loads(example.read_text())
    lines = example.read_text().splitlines()

    def keys(instance, table, prefix=""):
        for f in dataclasses.fields(instance):
            if f.name == "source":
                continue
            value = getattr(instance, f.name)
            if dataclasses.is_dataclass(value):
                yield from keys(value, table.get(f.name, {}), prefix + f.name + ".")
            else:
                yield prefix + f.name, f.name in table

    for dotted, present in keys(Settings(), data):
        assert present, f"{dotted} is missing from config.example.toml"
        section, _, name = dotted.rpartition(".")
        start = next(i for i, line in enumerate(lines) if line == f"[{section}]") if section else 0
        index = next(i for i, line in enumerate(lines) if i > start and line.startswith(f"{name} ="))
        assert lines[index - 1].startswith("#") or lines[index - 2].startswith("#"), f"{dotted} has no comment"
