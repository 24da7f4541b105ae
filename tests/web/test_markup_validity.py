"""The Nu HTML checker (vnu.jar) finds no error on any public or admin page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from admin_pages import admin_paths, load_site, sign_in

#: vnu-jar from npm, installed by .ci/run into this folder (TRACKER_VNU overrides it).
VNU_FOLDER = Path(os.environ.get("TRACKER_VNU") or Path.home() / ".cache" / "tracker-ci" / "vnu")
VNU_JAR = VNU_FOLDER / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def public_paths(slug: str) -> list[str]:
    return ["/support", f"/c/{slug}", "/support?locale=de", f"/c/{slug}?locale=de", "/no-such-page",
            "/demo/article", "/qr/1?amount=0.00016667", *(f"/widget/{slug}?variant={variant}" for variant in ("bar", "card", "cta"))]


def test_the_nu_checker_finds_no_error_on_any_page(csrf_app, app_session, tmp_path):
    java = shutil.which("java")
    if not VNU_JAR.exists() or java is None:
        if os.environ.get("TRACKER_VNU"):
            pytest.fail(f"TRACKER_VNU is set but {VNU_JAR} or java is missing")
        pytest.skip(f"the Nu HTML checker is not installed at {VNU_FOLDER} (.ci/run installs it): skipped")
    values = load_site(app_session)
    client = csrf_app.test_client()
    files: dict[str, str] = {}
    for path in public_paths(values["slug"]):
        files[path] = client.get(path).get_data(as_text=True)
    sign_in(client)
    for path in admin_paths(csrf_app, values):
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            files[path] = response.get_data(as_text=True)
    names = {}
    for number, (path, html) in enumerate(files.items()):
        target = tmp_path / f"page{number}.html"
        target.write_text(html, encoding="utf-8")
        names[target.name] = path
    # One JVM for every page: --errors-only, JSON on stderr.
    result = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, sorted(
        tmp_path.glob("page*.html")))], capture_output=True, text=True, timeout=240)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [f"{names.get(str(m.get('url', '')).rsplit('/', 1)[-1], m.get('url'))} line {m.get('lastLine')}: {m['message']}"
              for m in messages if m.get("type") == "error"]
    assert len(files) > 20
    assert not errors, "\n".join(errors)
