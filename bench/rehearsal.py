"""Several hosts on one machine: two app servers and two workers on PostgreSQL and Redis behind
nginx, measured, then faulted. Starts and stops everything itself on 127.0.0.1.

    .venv/bin/python bench/rehearsal.py [--seconds 20] [--out bench/results/rehearsal.json]

Needs nginx, redis-server, PostgreSQL's server programs (/usr/lib/postgresql/*/bin) and wrk.
Prints each figure and writes them as JSON; docs/performance.md and docs/deployment.md quote
the results with machine and date. The commands it runs are those of deploy/compose.yaml.

Figures, side by side in one run:
* widget SVG through nginx across the two app servers vs nginx serving the same bytes as a file;
* a gift posted to host A (a signed Standard Webhooks delivery) seen on host B's widget JSON;
* queue latency (enqueue → start) p50/p99 with Huey's SQLite storage and with its Redis storage.
Faults, each with what readers and the admin side got, and a check that nothing was lost or
doubled: kill -9 one app server, kill -9 one worker mid-delivery, PostgreSQL restarted, Redis
stopped for 30 s — while public traffic runs and gifts arrive.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from pg_server import PostgresServer, free_port  # noqa: E402

from tracker.config import load_settings  # noqa: E402
from tracker.db import make_engine, make_sessionmaker  # noqa: E402
from tracker.jobs import Queue  # noqa: E402

TRACKER = [sys.executable, "-m", "tracker"]
ADMIN_PASSWORD = "rehearsal admin password 0123"
HOOK_SECRET = "whsec_" + base64.b64encode(b"rehearsal-secret-0123456789ab").decode()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Receiver:
    """The publisher's own webhook endpoint: counts deliveries by webhook-id."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.ids.append(self.headers.get("webhook-id", ""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


class Rig:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.pg = PostgresServer(work / "pg")
        self.redis_port, self.nginx_port, self.direct_port = free_port(), free_port(), free_port()
        self.app_ports = [free_port(), free_port()]
        self.receiver = Receiver()

    # --- the parts -------------------------------------------------------------------------
    def config(self, name: str, *, redis: bool = True) -> Path:
        path = self.work / f"{name}.toml"
        path.write_text(f"""environment = "production"
instance_path = "{self.work / ('instance-' + name)}"
[site]
name = "Rehearsal News"
url = "http://127.0.0.1:{self.nginx_port}"
[security]
secret_key = "rehearsal-secret-key-0123456789abcdef"
trusted_proxies = 1
secure_cookies = false
[database]
url = "{self.pg.url}"
[redis]
url = "{f'redis://127.0.0.1:{self.redis_port}/0' if redis else ''}"
[server]
workers = 2
[webhooks]
allow_private_addresses = true
timeout_seconds = 10
[processors.standard]
webhook_secret = "{HOOK_SECRET}"
default_campaign = "demo"
""")
        return path

    def env(self, config: Path) -> dict[str, str]:
        return {**os.environ, "TRACKER_CONFIG": str(config)}

    def spawn(self, name: str, command: list[str], config: Path) -> None:
        out = (self.work / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(command, env=self.env(config), stdout=out, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        out.close()

    def start_redis(self) -> None:
        out = (self.work / "redis.log").open("wb")
        self.processes["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=out, stderr=subprocess.STDOUT)
        out.close()
        wait_for(lambda: subprocess.run(["redis-cli", "-p", str(self.redis_port), "ping"],
                                        capture_output=True).stdout.strip() == b"PONG", "redis")

    def start_app(self, index: int, config: Path) -> None:
        port = self.app_ports[index]
        self.spawn(f"app{index}", [*TRACKER, "serve", "--host", "127.0.0.1", "--port", str(port)], config)
        wait_for(lambda: http_status(f"http://127.0.0.1:{port}/healthz") == 200, f"app server {index}")

    def start_nginx(self) -> None:
        static = self.work / "static"
        static.mkdir()
        (self.work / "nginx").mkdir()
        conf = self.work / "nginx.conf"
        conf.write_text(f"""worker_processes 1;
pid {self.work}/nginx.pid;
error_log {self.work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    # As in Debian's nginx.conf and docs/deployment.md; for the static file and the cache alike.
    sendfile on;
    tcp_nopush on;
    open_file_cache max=1000 inactive=20s;
    open_file_cache_valid 1s;
    client_body_temp_path {self.work}/nginx;
    proxy_temp_path {self.work}/nginx;
    proxy_cache_path {self.work}/nginx-cache levels=1:2 keys_zone=widget:10m max_size=100m inactive=10m
                     use_temp_path=off;
    map $arg_locale $widget_language {{
        ""      $http_accept_language;
        default "";
    }}
    # Only an app server that does not answer (or answers 502) is taken out and the request
    # tried on the other: a 503 means the database is away, which the other server shares,
    # and counting it as a failure took both servers out ("no live upstreams", 502s for
    # everyone, the widget's stale copy included) - found by the mixed load of the faults.
    # keepalive_timeout below gunicorn's keep-alive (5 s, tracker serve): otherwise nginx may
    # reuse a connection the app server is closing, gets a reset, and counts a healthy server
    # as failed (seen with kill -9 of the other one: "no live upstreams" for 5 s).
    upstream tracker {{
        server 127.0.0.1:{self.app_ports[0]} max_fails=2 fail_timeout=5s;
        server 127.0.0.1:{self.app_ports[1]} max_fails=2 fail_timeout=5s;
        keepalive 32;
        keepalive_timeout 4s;
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        location /file/ {{ alias {static}/; default_type image/svg+xml; }}
        # The micro-cache of docs/deployment.md, as documented.
        location ~ ^/(widget/|api/v1/|embed\\.js$|oembed$) {{
            proxy_pass http://tracker;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_cache widget;
            proxy_cache_key $scheme$http_host$request_uri$widget_language;
            proxy_cache_valid 200 404 1s;
            proxy_ignore_headers Cache-Control Expires Vary;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 2s;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_cache_revalidate on;
            proxy_next_upstream error timeout http_502;
        }}
        location / {{
            proxy_pass http://tracker;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_next_upstream error timeout http_502;
        }}
    }}
    # The same app servers without the micro-cache: what the app itself sustains.
    server {{
        listen 127.0.0.1:{self.direct_port};
        location / {{
            proxy_pass http://tracker;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_next_upstream error timeout http_502;
        }}
    }}
}}
""")
        self.processes["nginx"] = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(self.work),
                                                    "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        wait_for(lambda: http_status(f"http://127.0.0.1:{self.nginx_port}/healthz") == 200, "nginx")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):
                process.send_signal(sig)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM if name != "nginx" else signal.SIGQUIT)
        try:
            self.pg.stop()
        except Exception:  # noqa: BLE001 - already stopped by a fault
            pass
        self.receiver.server.shutdown()


def wait_for(check: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not come up")


def http_status(url: str, *, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, http.client.HTTPException):
        return 0


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def send_gift(base: str, gift_id: str, amount: str = "1.00") -> int:
    """One gift, as a signed Standard Webhooks delivery to /hooks/standard."""
    body = json.dumps({"id": gift_id, "amount": amount, "currency": "USD", "campaign": "demo",
                       "status": "confirmed"}).encode()
    message_id, timestamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(HOOK_SECRET.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + body,
                                          hashlib.sha256).digest()).decode()
    request = urllib.request.Request(f"{base}/hooks/standard", data=body, method="POST", headers={
        "content-type": "application/json", "webhook-id": message_id, "webhook-timestamp": timestamp,
        "webhook-signature": f"v1,{signature}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, http.client.HTTPException):
        return 0


def wrk(url: str, seconds: int, *, connections: int = 32) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"requests_per_second": rate, "non_2xx": float(errors[1]) if errors else 0.0,
            "p99_ms": float(p99[1]) * scale[p99[2]] if p99 else 0.0}


def queue_latency(settings_path: Path, pings: int) -> dict[str, float]:
    settings = load_settings(settings_path, env={})
    engine = make_engine(settings.database.url)
    queue = Queue(settings, make_sessionmaker(engine))
    waits = []
    for _ in range(pings):
        try:
            waits.append(float(queue.ping().get(blocking=True, timeout=30)) * 1000)
        except Exception as exc:  # noqa: BLE001 - a worker gone: report what was measured
            log(f"  a ping got no answer in 30 s ({type(exc).__name__}); stopping at {len(waits)} jobs")
            break
        time.sleep(0.02)
    engine.dispose()
    waits.sort()
    return {"p50_ms": statistics.median(waits), "p99_ms": waits[int(len(waits) * 0.99) - 1], "jobs": float(pings)}


#: The public mix for the fault phase, by weight: what the readers of articles that embed the
#: widget request (its image, iframe, script and JSON on every page view), with one in twenty
#: opening the support page or a campaign's page. A first run with a quarter of the requests on
#: those two pages (125 full pages a second) saturated this 2-vCPU machine at 251 requests a
#: second; see docs/performance.md.
MIX = (("/widget/demo.svg", 35), ("/widget/demo", 20), ("/api/v1/campaigns/demo", 20), ("/embed.js", 8),
       ("/widget/demo.png", 7), ("/oembed?url={base}/c/demo", 5), ("/support", 3), ("/c/demo", 2))


class MixedLoad:
    """Public requests at a fixed rate (open loop: a request's slot does not wait for the last answer).

    wrk drives as fast as the server answers, which is right for throughput but not for "500
    mixed requests per second": here each request has a time slot (start + n / rate) and one of
    `threads` connections sends it then, so a slow answer shows up as latency and lateness, not
    as a lower rate. The paths follow MIX in a fixed, shuffled order.
    """

    def __init__(self, base: str, rate: float, seconds: float, threads: int = 48) -> None:
        import random
        from urllib.parse import urlsplit

        self.http_client, parts = http.client, urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.rate, self.seconds = rate, seconds
        from urllib.parse import quote

        order = [path.replace("{base}", quote(base, safe="")) for path, weight in MIX for _ in range(weight)]
        random.Random(7).shuffle(order)
        self.order = order
        self.lock = threading.Lock()
        self.next_slot = 0
        self.total_slots = int(rate * seconds)
        self.results: list[tuple[str, int, float, float]] = []  # path, status, latency s, lateness s
        self.last_answer = 0.0
        self.started = time.monotonic() + 0.5
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def _run(self) -> None:
        connection = None
        while True:
            with self.lock:
                slot = self.next_slot
                self.next_slot += 1
            if slot >= self.total_slots:
                break
            due = self.started + slot / self.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            path = self.order[slot % len(self.order)]
            begun = time.monotonic()
            status = 0
            try:
                if connection is None:
                    connection = self.http_client.HTTPConnection(self.host, self.port, timeout=10)
                connection.request("GET", path, headers={"Accept-Language": "en"})
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, self.http_client.HTTPException):  # reset, refused, cut short: status 0
                if connection is not None:
                    connection.close()
                connection = None
            ended = time.monotonic()
            with self.lock:
                self.results.append((path, status, ended - begun, max(0.0, begun - due)))
                self.last_answer = max(self.last_answer, ended)
        if connection is not None:
            connection.close()

    def join(self) -> dict[str, Any]:
        for thread in self.threads:
            thread.join()
        results = self.results
        elapsed = self.last_answer - self.started
        latencies = sorted(latency for _, _, latency, _ in results)
        by_path: dict[str, dict[str, int]] = {}
        for path, status, _, _ in results:
            counts = by_path.setdefault(path.split("?")[0], {})
            counts[str(status)] = counts.get(str(status), 0) + 1
        return {"requests": len(results), "target_rate": self.rate, "seconds": round(elapsed, 1),
                "achieved_rate": round(len(results) / elapsed, 1),
                "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
                "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
                "late_over_100ms": sum(1 for *_, late in results if late > 0.1),
                "not_200": sum(1 for _, status, _, _ in results if status != 200),
                "by_path": by_path}


class Admin:
    """An admin recording gifts through the form (sign-in, CSRF, the form's own idempotency key).

    What an admin does when an answer does not come or says 503: submit the same form again.
    The form's hidden key makes that one donation, so "nothing lost, nothing doubled" is
    checked by counting the admin's donations against the forms that were acknowledged.
    """

    def __init__(self, base: str, email: str, password: str, campaign_id: int) -> None:
        import http.cookiejar

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.base, self.email, self.password, self.campaign_id = base, email, password, campaign_id
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())
        self.answers: dict[str, int] = {}
        self.acknowledged: list[str] = []
        self.unacknowledged: list[str] = []
        self.running = True
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _request(self, path: str, fields: dict[str, str] | None = None) -> tuple[int, str, str]:
        from urllib.parse import urlencode

        data = urlencode(fields).encode() if fields is not None else None
        request = urllib.request.Request(self.base + path, data=data)
        try:
            with self.opener.open(request, timeout=10) as response:
                return int(response.status), response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.headers.get("Location", ""), exc.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            return 0, "", ""

    @staticmethod
    def _field(page: str, name: str) -> str:
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
            rf'value="([^"]*)"[^>]*name="{name}"', page)
        return match[1] if match else ""

    def _sign_in(self) -> None:
        while self.running:
            status, _, page = self._request("/admin/login")
            if status == 200:
                status, location, _ = self._request("/admin/login", {
                    "csrf_token": self._field(page, "csrf_token"), "email": self.email,
                    "password": self.password, "next": ""})
                if status == 302 and "/login" not in location:
                    return
            time.sleep(1)

    def _count(self, status: int) -> None:
        key = str(status)
        self.answers[key] = self.answers.get(key, 0) + 1

    def _run(self) -> None:
        self._sign_in()
        number = 0
        while self.running:
            status, _, page = self._request(f"/admin/donations/new?campaign={self.campaign_id}")
            self._count(status)
            if status != 200:
                if status == 302:
                    self._sign_in()
                time.sleep(1)
                continue
            number += 1
            form_key = self._field(page, "form_key")
            fields = {"csrf_token": self._field(page, "csrf_token"), "form_key": form_key, "shown_rate": "",
                      "campaign": str(self.campaign_id), "amount": "2.00", "currency": "USD", "received_at": "",
                      "status": "confirmed", "donor_name": f"Admin gift {number}", "message": "", "reference": ""}
            tries = 0
            while True:
                tries += 1
                status, location, _ = self._request("/admin/donations/new", fields)
                self._count(status)
                if status == 302 and "/admin/donations" in location:
                    self.acknowledged.append(form_key)
                    break
                if not self.running and tries > 120:
                    self.unacknowledged.append(form_key)
                    break
                time.sleep(1)
                if status in (302, 400):
                    # Signed out (302 to the sign-in page) or the CSRF token went with the session:
                    # sign in again and take a fresh token, keeping the form's key.
                    if status == 302:
                        self._sign_in()
                    fresh_status, _, fresh = self._request(f"/admin/donations/new?campaign={self.campaign_id}")
                    if fresh_status == 200:
                        fields["csrf_token"] = self._field(fresh, "csrf_token")
            time.sleep(1.5)

    def stop(self) -> None:
        self.running = False
        self.thread.join(60)


class Probe:
    """A reader and a processor during the faults: widget answers by status, gifts by answer."""

    def __init__(self, base: str, reader_base: str) -> None:
        self.base, self.reader_base, self.running = base, reader_base, True
        self.widget: dict[int, int] = {}
        self.gifts: dict[int, int] = {}
        self.sent: list[str] = []
        self.threads = [threading.Thread(target=self._reader), threading.Thread(target=self._processor)]
        for thread in self.threads:
            thread.start()

    def _reader(self) -> None:
        while self.running:
            status = http_status(f"{self.reader_base}/api/v1/campaigns/demo")
            self.widget[status] = self.widget.get(status, 0) + 1
            time.sleep(0.05)

    def _processor(self) -> None:
        number = 0
        while self.running:
            number += 1
            gift = f"fault-{number}"
            status = send_gift(self.base, gift)
            # A processor retries what was not acknowledged with a 2xx, with the same id.
            while status // 100 != 2 and self.running:
                time.sleep(1)
                status = send_gift(self.base, gift)
            self.gifts[status] = self.gifts.get(status, 0) + 1
            self.sent.append(gift)
            time.sleep(0.5)

    def stop(self) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of each throughput measurement")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) instead of removing it")
    parser.add_argument("--rate", type=float, default=500, help="mixed public requests per second in the faults")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "rehearsal.json"))
    args = parser.parse_args()
    for program in ("nginx", "redis-server", "wrk"):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is needed (apt-get install {program.replace('-server', '')})")
    results: dict[str, Any] = {"machine": f"{platform.node()} · {os.cpu_count()} cores · {platform.platform()}",
                               "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    work = Path(tempfile.mkdtemp(prefix="rehearsal-"))
    work.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder inside
    rig = Rig(work)
    try:
        rig.pg.start()
        rig.start_redis()
        shared = rig.config("shared")
        subprocess.run([*TRACKER, "db", "upgrade"], env=rig.env(shared), check=True, capture_output=True)
        subprocess.run([*TRACKER, "demo"], env=rig.env(shared), check=True, capture_output=True)
        engine = make_engine(load_settings(shared, env={}).database.url)
        with make_sessionmaker(engine)() as session:
            from tracker.audit import Actor
            from tracker.webhooks.delivery import add_endpoint

            add_endpoint(session, rig.receiver.url, ["donation.recorded"], actor=Actor.cli(),
                         settings=load_settings(shared, env={}))
            session.commit()
        for index in (0, 1):
            rig.start_app(index, shared)
        rig.spawn("worker0", [*TRACKER, "worker"], shared)
        rig.spawn("worker1", [*TRACKER, "worker"], shared)
        rig.start_nginx()
        base = f"http://127.0.0.1:{rig.nginx_port}"
        hosts = [f"http://127.0.0.1:{port}" for port in rig.app_ports]

        # 1. Throughput: the widget through nginx and two app servers vs a file nginx serves itself.
        with urllib.request.urlopen(f"{base}/widget/demo.svg") as response:
            (work / "static" / "widget.svg").write_bytes(response.read())
        # Interleaved rounds, medians: the machine is shared, so one pair of runs can mislead.
        widget_runs, static_runs = [], []
        for round_number in range(1, 4):
            widget_runs.append(wrk(f"{base}/widget/demo.svg", args.seconds // 2 or 1))
            static_runs.append(wrk(f"{base}/file/widget.svg", args.seconds // 2 or 1))
            log(f"round {round_number}: widget via micro-cache {widget_runs[-1]['requests_per_second']:.0f} req/s, "
                f"static file {static_runs[-1]['requests_per_second']:.0f} req/s")
        widget = min(widget_runs, key=lambda run: abs(run["requests_per_second"] - statistics.median(
            r["requests_per_second"] for r in widget_runs)))
        static = min(static_runs, key=lambda run: abs(run["requests_per_second"] - statistics.median(
            r["requests_per_second"] for r in static_runs)))
        direct = wrk(f"http://127.0.0.1:{rig.direct_port}/widget/demo.svg", args.seconds)
        log(f"widget SVG through nginx without its cache (the two app servers): "
            f"{direct['requests_per_second']:.0f} req/s")
        results["throughput"] = {"widget_micro_cache": widget, "static": static, "widget_app_servers": direct,
                                 "rounds": {"widget": widget_runs, "static": static_runs},
                                 "ratio": widget["requests_per_second"] / static["requests_per_second"],
                                 "ratio_app_servers": direct["requests_per_second"] / static["requests_per_second"]}
        log(f"  ratio widget (micro-cache) / static = {results['throughput']['ratio']:.2f}")

        # 2. A gift on host A, seen on host B's widget.
        before = get_json(f"{hosts[1]}/api/v1/campaigns/demo")["raised"]
        started = time.monotonic()
        assert send_gift(hosts[0], "cross-host-1", "7.00") == 200
        wait_for(lambda: get_json(f"{hosts[1]}/api/v1/campaigns/demo")["raised"] != before, "cross-host", 120)
        seen = time.monotonic() - started
        max_age = load_settings(shared, env={}).widget.max_age
        results["cross_host"] = {"seconds": seen, "max_age": max_age}
        log(f"gift on host A seen on host B after {seen:.2f} s (max_age {max_age} s)")

        # 3. Queue latency, Redis storage (the two running workers), then SQLite storage.
        results["queue_redis"] = queue_latency(shared, 200)
        log(f"queue latency, Redis: p50 {results['queue_redis']['p50_ms']:.1f} ms, "
            f"p99 {results['queue_redis']['p99_ms']:.1f} ms")
        local = rig.config("local", redis=False)
        rig.spawn("worker-sqlite", [*TRACKER, "worker"], local)
        time.sleep(2)
        results["queue_sqlite"] = queue_latency(local, 200)
        rig.kill("worker-sqlite", signal.SIGINT)
        log(f"queue latency, SQLite: p50 {results['queue_sqlite']['p50_ms']:.1f} ms, "
            f"p99 {results['queue_sqlite']['p99_ms']:.1f} ms")

        # 4. Faults while readers read, an admin records gifts and a processor's arrive, all through nginx.
        subprocess.run([*TRACKER, "create-admin", "admin@example.org", "--role", "owner",
                        "--password-stdin"], env=rig.env(shared), check=True, capture_output=True,
                       input=f"{ADMIN_PASSWORD}\n".encode())
        with make_sessionmaker(engine)() as session:
            from sqlalchemy import select as _select

            from tracker.models import Campaign

            demo_id = session.scalar(_select(Campaign.id).where(Campaign.slug == "demo"))
        fault_seconds = 60 + 4 * args.seconds
        load = MixedLoad(base, args.rate, fault_seconds)
        admin = Admin(base, "admin@example.org", ADMIN_PASSWORD, int(demo_id or 0))
        probe = Probe(base, f"http://127.0.0.1:{rig.direct_port}")
        faults = {}
        time.sleep(3)
        log("fault: kill -9 app server 0 and worker 0")
        rig.kill("app0")
        rig.kill("worker0")
        time.sleep(args.seconds)
        faults["app_and_worker_killed"] = dict(probe.widget)
        rig.start_app(0, shared)
        rig.spawn("worker0", [*TRACKER, "worker"], shared)
        log("fault: PostgreSQL restarted (stopped 10 s)")
        rig.pg.stop()
        time.sleep(10)
        rig.pg.start()
        time.sleep(args.seconds)
        faults["postgres_restarted"] = dict(probe.widget)
        log("fault: Redis stopped for 30 s")
        rig.kill("redis", signal.SIGTERM)
        time.sleep(30)
        rig.start_redis()
        time.sleep(args.seconds)
        probe.stop()
        admin.stop()
        mixed = load.join()
        faults["readers_total"] = dict(probe.widget)
        faults["gifts_acknowledged"] = dict(probe.gifts)
        faults["mixed_load"] = mixed
        faults["admin_answers"] = dict(admin.answers)
        # Nothing lost or doubled: every acknowledged gift is one donation and one delivery.
        from sqlalchemy import func, select

        from tracker.models import Donation, WebhookDelivery

        deadline = time.monotonic() + 240
        expected = len(probe.sent) + len(admin.acknowledged) + 1
        while len(set(rig.receiver.ids)) < expected and time.monotonic() < deadline:
            time.sleep(1)
        waited = time.monotonic() - (deadline - 240)
        faults["seconds_until_every_delivery_arrived"] = round(waited, 1)
        with make_sessionmaker(engine)() as session:
            faults["deliveries_by_state"] = dict(session.execute(
                select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)).all())
            from tracker.models import WebhookAttempt

            faults["undelivered"] = [
                {"attempts": attempts, "next_attempt_at": str(next_at), "answers": [
                    f"{a.status_code} {a.excerpt[:80]}" for a in session.scalars(
                        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id))]}
                for delivery_id, attempts, next_at in session.execute(
                    select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.next_attempt_at)
                    .where(WebhookDelivery.state != "delivered"))]
        if len(set(rig.receiver.ids)) < expected:
            for name in ("worker0", "worker1"):
                log(f"--- {name}.log (last lines)")
                print("\n".join((work / f"{name}.log").read_text(errors="replace").splitlines()[-15:]))
        with make_sessionmaker(engine)() as session:
            donations = session.scalar(select(func.count()).select_from(Donation).where(
                Donation.source == "standard", Donation.external_id.like("fault-%")))
            admin_donations = session.scalars(select(Donation.external_id).where(
                Donation.source == "manual", Donation.donor_name.like("Admin gift %"))).all()
            deliveries = session.scalar(select(func.count()).select_from(WebhookDelivery))
        check = subprocess.run([*TRACKER, "db", "check"], env=rig.env(shared), capture_output=True, text=True)
        faults["gifts_sent"] = len(probe.sent)
        faults["donations_recorded"] = donations
        faults["admin_forms_acknowledged"] = len(admin.acknowledged)
        faults["admin_forms_unacknowledged"] = len(admin.unacknowledged)
        faults["admin_donations_recorded"] = len(admin_donations)
        faults["admin_donations_match_forms"] = sorted(admin_donations) == sorted(
            f"form:{key}" for key in admin.acknowledged)
        faults["webhook_deliveries"] = deliveries
        faults["distinct_webhook_ids_received"] = len(set(rig.receiver.ids))
        faults["webhook_posts_received"] = len(rig.receiver.ids)
        faults["db_check"] = check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr.strip()
        results["faults"] = faults
        log(json.dumps(faults, indent=2))
        engine.dispose()
    finally:
        rig.stop()
        if args.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    log(f"written to {args.out}")


if __name__ == "__main__":
    main()
