"""The built wheel carries templates, static files and migrations, and serves styled pages when installed."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    return next(out.glob("reader_support_tracker-*.whl"))


def test_the_wheel_carries_templates_static_files_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package_file in ("tracker/templates/base.html", "tracker/templates/errors/404.html",
                         "tracker/static/css/site.css", "tracker/migrations/env.py",
                         "tracker/migrations/script.py.mako"):
        assert package_file in names, package_file
    assert any(n.startswith("tracker/migrations/versions/0001") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)
    repository_templates = {"tracker/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*.html")}
    assert repository_templates <= names


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_installed_wheel_serves_styled_pages(wheel, tmp_path):
    """Install the wheel (not editable) into a folder of its own and run `tracker init` then `tracker serve`."""
    target = tmp_path / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    work = tmp_path / "work"
    work.mkdir()
    # The wheel's package comes first on the path; its dependencies come from this environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["PYTHONPATH"] = str(target)
    tracker = [sys.executable, "-c", "import sys; from tracker.cli import main; main(prog_name='tracker')"]
    where = subprocess.run([sys.executable, "-c", "import tracker; print(tracker.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))
    subprocess.run(tracker + ["init"], cwd=work, env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(tracker + ["serve", "--port", str(port), "--workers", "1"], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        page = _get(f"http://127.0.0.1:{port}/support", server)
        assert b'href="/static/css/site.css"' in page
        css = _get(f"http://127.0.0.1:{port}/static/css/site.css", server)
        assert b"--accent" in css
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stdout.close()


def _get(url, server, attempts=150):
    for _ in range(attempts):
        if server.poll() is not None:
            raise AssertionError(f"`tracker serve` exited:\n{server.stdout.read().decode()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")
