"""Benchmark: widget and API throughput under gunicorn (2 workers), bare and behind an nginx micro-cache.

Measures, in one run and on loopback only, requests per second with `wrk` for
`/widget/demo.svg`, `/widget/demo` and `/api/v1/campaigns/demo` (plain, and conditional
with a matching If-None-Match), and compares each with

* a trivial route of the same app returning fixed bytes of the same size (target ≥ 0.9×);
* through nginx with the micro-cache of docs/deployment.md, with nginx serving the same
  bytes as a static file (target ≥ 0.8×).

The app runs with its default settings, so each worker's memo of whole answers
(`widget.process_cache_seconds = 1`) is on; the in-process timings at the end show the app
with and without it.

    python bench/widget.py                  # ~4 minutes; writes bench/results/widget.json
    python bench/widget.py --duration 3     # quicker, noisier
    python bench/widget.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker import schema  # noqa: E402 - after the path set-up, so a checkout runs without installing
from tracker.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from tracker.demo import has_data, load_demo  # noqa: E402

RESULTS = Path(__file__).parent / "results"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ROUTES = {
    "svg": "/widget/demo.svg?locale=en",
    "iframe": "/widget/demo?locale=en",
    "json": "/api/v1/campaigns/demo?locale=en",
}

#: The micro-cache in front of the widget routes, as docs/deployment.md gives it.
NGINX_CONF = """
worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy_temp;
    fastcgi_temp_path {tmp}/fastcgi_temp;
    uwsgi_temp_path {tmp}/uwsgi_temp;
    scgi_temp_path {tmp}/scgi_temp;

    upstream tracker {{
        server 127.0.0.1:{app_port};
        keepalive 16;
    }}
{cache}
}}
"""

#: The part of the configuration that docs/deployment.md documents (the cache zone and location).
CACHE_CONF = """
    proxy_cache_path {tmp}/widget-cache levels=1:2 keys_zone=widget:10m max_size=100m inactive=10m
                     use_temp_path=off;

    map $arg_locale $widget_language {{
        ""      $http_accept_language;
        default "";
    }}

    server {{
        listen 127.0.0.1:{cache_port};

        location ~ ^/(widget/|api/v1/|embed\\.js$|oembed$) {{
            proxy_pass http://tracker;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;

            proxy_cache widget;
            proxy_cache_key $scheme$host$request_uri$widget_language;
            proxy_cache_valid 200 404 1s;
            proxy_ignore_headers Cache-Control Expires;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 2s;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}

        # Only for the benchmark: the same bytes as a static file, the yardstick.
        location /_static/ {{
            alias {tmp}/static/;
        }}
    }}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if fetch(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def wrk(url: str, duration: int, connections: int, headers: dict[str, str] | None = None) -> dict:
    """Run wrk against a loopback URL; requests/second and how many answers were not 2xx/3xx."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("the benchmark only ever targets loopback")
    command = [WRK, "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    return {"rps": rps, "bad": int(bad.group(1)) if bad else 0, "p99": p99.group(1) if p99 else ""}


def interleaved(args: argparse.Namespace, runs: dict[str, tuple[str, dict[str, str] | None]]) -> dict[str, dict]:
    """Best of `args.rounds` wrk runs per target, the targets taking turns."""
    # The machine is shared and noisy; noise only ever lowers throughput, so the best of
    # alternating runs compares the routes under the same conditions.
    best: dict[str, dict] = {}
    for _round in range(args.rounds):
        for label, (url, headers) in runs.items():
            result = wrk(url, args.duration, args.connections, headers)
            if label not in best or result["rps"] > best[label]["rps"]:
                best[label] = result | {"bad": max(result["bad"], best.get(label, {}).get("bad", 0))}
    return best


def row(path: str, mode: str, size: int, result: dict, via: str, reference: str, ref: dict, target: float) -> dict:
    return {"route": path, "mode": mode, "bytes": 0 if "304" in mode else size, "rps": result["rps"],
            "p99": result["p99"], "bad": result["bad"], "via": via, "reference": reference,
            "ref_rps": ref["rps"], "ratio": result["rps"] / ref["rps"], "target": target}


def in_process(config: Path, paths: dict[str, str], sizes: dict[str, int], memo: str,
               repeat: int = 2000) -> list[dict]:
    """Microseconds the app spends per request (one WSGI call, no server, no network), best of 5."""
    # Far less noisy than wrk on a shared machine, and it isolates what the widget code adds
    # to a route of the same app.
    from werkzeug.test import EnvironBuilder

    os.environ["TRACKER_CONFIG"] = str(config)
    sys.path.insert(0, str(Path(__file__).parent))
    from widget_app import create_bench_app

    app = create_bench_app()

    def per_request(path: str, headers: dict[str, str] | None = None) -> float:
        url, _, query = path.partition("?")
        environ = EnvironBuilder(path=url, query_string=query or None, headers=headers or {}).get_environ()
        status: list[str] = []

        def start_response(code: str, _headers: list, _exc: object = None) -> None:
            status.append(code)

        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(repeat):
                b"".join(app(dict(environ), start_response))
            best = min(best, (time.perf_counter() - started) / repeat * 1e6)
        assert status[-1][:3] in ("200", "304"), (path, status[-1])
        return best

    rows = []
    for name, path in paths.items():
        etag = app.test_client().get(path).headers["ETag"]
        trivial = per_request(f"/_bench/fixed/{sizes[name]}")
        for mode, headers in (("200", None), ("304 (If-None-Match)", {"If-None-Match": etag})):
            spent = per_request(path, headers)
            rows.append({"route": path, "mode": f"{mode}, {memo}", "us": spent, "trivial_us": trivial,
                         "ratio": trivial / spent})
    app.extensions["tracker_engine"].dispose()
    return rows


def machine() -> dict:
    info = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "python": platform.python_version(),
            "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for key in ("Model name", "CPU(s)", "Architecture", "Thread(s) per core"):
            match = re.search(rf"^{re.escape(key)}:\s+(.+)$", lscpu, re.M)
            if match:
                info[key] = match.group(1).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    for tool, args in (("wrk", [WRK, "--version"]), ("nginx", [NGINX, "-v"])):
        done = subprocess.run(args, capture_output=True, text=True)
        info[tool] = (done.stdout + done.stderr).strip().splitlines()[0] if (done.stdout + done.stderr) else ""
    return info


def prepare(tmp: Path, database_url: str | None, port: int) -> Path:
    """A config file and a migrated database holding the demo campaign."""
    url = database_url or f"sqlite:///{tmp / 'bench.db'}"
    config = tmp / "config.toml"
    config.write_text(
        'environment = "production"\n'
        f'instance_path = "{tmp / "instance"}"\n'
        f'[site]\nurl = "http://127.0.0.1:{port}"\nname = "Bench News"\n'
        '[security]\nsecret_key = "bench-secret-key-0123456789-not-for-production"\n'
        f'[database]\nurl = "{url}"\n')
    engine = make_engine(url)
    schema.upgrade(engine)
    with session_scope(make_sessionmaker(engine), write=True) as session:
        if not has_data(session):
            load_demo(session)
    engine.dispose()
    return config


def table(rows: list[dict]) -> str:
    lines = ["| route | request | bytes | req/s | reference | ref req/s | ratio | target |",
             "|---|---|---:|---:|---|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['route']} | {row['mode']} | {row['bytes']} | {row['rps']:,.0f} | {row['reference']} "
                     f"| {row['ref_rps']:,.0f} | {row['ratio']:.2f}× | {row['target']:.1f}× |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per target, best kept (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--database-url", help="use this database (default: a temporary SQLite file)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tracker-bench-widget-"))
    app_port, cache_port = free_port(), free_port()
    config = prepare(tmp, args.database_url, app_port)
    env = {**os.environ, "TRACKER_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{app_port}",
         "--chdir", str(Path(__file__).parent), "--log-level", "warning", "widget_app:create_bench_app()"],
        env=env)
    nginx = None
    try:
        app = f"http://127.0.0.1:{app_port}"
        wait_for(app + ROUTES["svg"])
        bodies = {name: fetch(app + path) for name, path in ROUTES.items()}
        rows: list[dict] = []
        runs = {"duration_s": args.duration, "rounds": args.rounds, "connections": args.connections,
                "gunicorn_workers": 2, "wrk_threads": 1}

        # 1. gunicorn alone: each widget route against the trivial route of the same size.
        for name, path in ROUTES.items():
            status, headers, body = bodies[name]
            assert status == 200, (path, status)
            size = len(body)
            best = interleaved(args, {
                "reference": (f"{app}/_bench/fixed/{size}", None),
                "200 (memo)": (app + path, None),
                "304 (If-None-Match)": (app + path, {"If-None-Match": headers["ETag"]}),
            })
            for mode in ("200 (memo)", "304 (If-None-Match)"):
                rows.append(row(path, mode, size, best[mode], "gunicorn", f"trivial route, {size} B",
                                best["reference"], 0.9))

        # 2. nginx in front: the micro-cache against nginx serving the same bytes as a file.
        static = tmp / "static"
        static.mkdir()
        for name, (_status, _headers, body) in bodies.items():
            (static / name).write_bytes(body)
        user = "user root;" if os.geteuid() == 0 else ""  # workers must read the private temp dir
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, user=user, app_port=app_port,
                                          cache=CACHE_CONF.format(tmp=tmp, cache_port=cache_port)))
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp)])
        cache = f"http://127.0.0.1:{cache_port}"
        wait_for(cache + "/_static/svg")
        for name, path in ROUTES.items():
            _status, headers, body = bodies[name]
            fetch(cache + path)
            status, cached_headers, cached_body = fetch(cache + path)
            assert status == 200 and cached_body == body, f"the micro-cache changed {path}"
            assert cached_headers.get("X-Cache-Status") in ("HIT", "UPDATING", "REVALIDATED"), cached_headers
            best = interleaved(args, {
                "reference": (f"{cache}/_static/{name}", None),
                "200 via micro-cache": (cache + path, None),
                "304 via micro-cache": (cache + path, {"If-None-Match": headers["ETag"]}),
            })
            for mode in ("200 via micro-cache", "304 via micro-cache"):
                rows.append(row(path, mode, len(body), best[mode], "nginx", f"nginx static file, {len(body)} B",
                                best["reference"], 0.8))
        # 3. The app alone, in this process: the least noisy view of what the widget code adds.
        # With the per-process memo (the default: repeats within a second skip the database)
        # and without it (process_cache_seconds = 0: one version query per request).
        sizes = {name: len(body) for name, (_s, _h, body) in bodies.items()}
        app_rows = in_process(config, ROUTES, sizes, "memo hit")
        no_memo = tmp / "config-no-memo.toml"
        no_memo.write_text(config.read_text() + "[widget]\nprocess_cache_seconds = 0\n")
        app_rows += in_process(no_memo, ROUTES, sizes, "memo off (render cache hit)")
    finally:
        for process in (nginx, gunicorn):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    info = machine()
    print(f"\n{info.get('Model name', '?')}, {info.get('CPU(s)', '?')} CPUs, {info['date']}; "
          f"wrk 1 thread, {args.connections} connections, best of {args.rounds} × {args.duration} s\n")
    print(table(rows))
    print("\nIn process (one WSGI call, no server): µs per request; ratio = trivial route ÷ widget route\n")
    print("| route | request | µs | trivial route µs | ratio |\n|---|---|---:|---:|---:|")
    for item in app_rows:
        print(f"| {item['route']} | {item['mode']} | {item['us']:.0f} | {item['trivial_us']:.0f} | {item['ratio']:.2f}× |")
    failed = [row for row in rows if row["ratio"] < row["target"] or row["bad"]]
    print("\nall targets met" if not failed else f"\n{len(failed)} row(s) below target or with errors")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "widget.json").write_text(json.dumps({"machine": info, "runs": runs, "results": rows, "in_process": app_rows},
                                                        indent=2) + "\n")
    print(f"written to {RESULTS / 'widget.json'}")


if __name__ == "__main__":
    main()
