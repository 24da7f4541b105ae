"""Screenshots for the README: the support page, a widget and the dashboard at 390 and 1280 px.

Run: `.venv/bin/python bench/screenshots.py` (needs Chromium at /usr/bin/chromium or
TRACKER_CHROMIUM, and Playwright's Python package; never downloads a browser). Writes
docs/screenshots/<page>-<width>.png from the demo data in a throw-away SQLite database.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from tracker import create_app, schema  # noqa: E402
from tracker.accounts.operations import hash_password  # noqa: E402
from tracker.config import load_settings  # noqa: E402
from tracker.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from tracker.demo import load_demo  # noqa: E402
from tracker.models import User  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("TRACKER_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EMAIL, PASSWORD = "owner@example.org", "screenshots-only-password"
#: name -> (path, signed in, viewport height)
PAGES = {"support": ("/support", False, 900), "widget": ("/widget/demo?variant=card", False, 196),
         "dashboard": ("/admin/", True, 900)}
WIDTHS = (390, 1280)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(path=None, env={}, overrides={
            "environment": "development", "instance_path": folder, "database.url": f"sqlite:///{folder}/shots.db",
            "security.secret_key": "screenshots-secret-key-0123456789", "site.name": "Example News",
            "security.secure_cookies": False})
        engine = make_engine(settings.database.url)
        schema.upgrade(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            load_demo(session)
            session.add(User(email=EMAIL, password_hash=hash_password(PASSWORD), role="owner"))
        engine.dispose()
        app = create_app(settings)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        OUT.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                for width in WIDTHS:
                    context = browser.new_context(viewport={"width": width, "height": 900}, reduced_motion="reduce")
                    page = context.new_page()
                    page.goto(f"{base}/admin/login")
                    page.fill("#email", EMAIL)
                    page.fill("#password", PASSWORD)
                    page.click("button[type=submit]")
                    for name, (path, _signed_in, height) in PAGES.items():
                        # The widget at its documented 360 px, and stretched across a phone.
                        widget_width = 360 if width > 390 else width
                        page.set_viewport_size({"width": widget_width if name == "widget" else width, "height": height})
                        page.goto(base + path)
                        target = OUT / f"{name}-{width}.png"
                        page.screenshot(path=str(target), full_page=name != "widget")
                        print(f"wrote {target.relative_to(ROOT)}")
                    context.close()
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
