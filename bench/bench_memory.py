"""Peak memory of ``claimwatch run`` over many large article pages.

Serves a feed of N article pages of about S MB each on 127.0.0.1 (a normal
article padded with a large inline script, the way heavy news pages are), runs
``claimwatch run`` on it as a subprocess and reports its peak resident set size
as ``wait4`` (and GNU time) report it: the largest of the command's own process
and every process it waited for.  ``claimwatch run`` runs each task body in a
fresh process, so the benchmark also samples the whole process tree every
50 ms and reports the largest sum of resident memory seen at one instant, and
each process's own peak (VmHWM) by what it ran.  Every page is relevant and
distinct, so each one goes through fetch, extraction, claims and the load.
Usage: python bench/bench_memory.py [--pages 40] [--mb 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import psutil
import yaml

from pipeline.app.sample_site import (
    SamplePage,
    load_sample_articles,
    render_feed,
    render_page,
    respond,
    serve_on_loopback,
)

REPO = Path(__file__).resolve().parents[1]
CLAIMWATCH = Path(sys.executable).with_name("claimwatch")


def bench_pages(count: int) -> list[SamplePage]:
    """``count`` distinct on-topic articles built from the sample site's (each with its own closing line)."""
    sources = [p for p in load_sample_articles() if "derby" not in p.slug]
    pages = []
    for i in range(count):
        source = sources[i % len(sources)]
        closing = f"Reporting for part {i} of this series was completed in the Kursk region on day {i + 1}."
        pages.append(replace(source, slug=f"{source.slug}-{i}", paragraphs=[*source.paragraphs, closing]))
    return pages


def padded(page_html: str, size: int) -> bytes:
    """The page with an inline script blob inserted before </head>, up to ``size`` bytes."""
    body = page_html.encode("utf-8")
    filler = max(0, size - len(body) - 64)
    row = b'{"k":"' + b"x" * 90 + b'"},'
    blob = b"<script>window.__STATE__=[" + row * (filler // len(row)) + b"0];</script>"
    return body.replace(b"</head>", blob + b"</head>", 1)


@contextmanager
def serve(pages: list[SamplePage], size: int) -> Iterator[str]:
    """Serves the pages listed in ``pages`` at request time (the list may change between runs)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{cast(ThreadingHTTPServer, self.server).server_port}"
            if self.path == "/feed.xml":
                respond(self, 200, "application/rss+xml; charset=utf-8", render_feed(pages, base, "Bench"))
            elif page := next((p for p in pages if self.path == f"/articles/{p.slug}.html"), None):
                respond(self, 200, "text/html; charset=utf-8", padded(render_page(page, base), size))
            else:
                self.send_error(404)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_on_loopback(Handler, name="bench-site") as base:
        yield base


@dataclass
class Measured:
    returncode: int
    stderr: str
    peak_kb: int  # wait4: the command's process tree, the largest single process
    tree_peak_kb: int = 0  # sampled: the largest sum over the tree at one instant
    process_peaks_kb: dict[str, int] = field(default_factory=dict)  # VmHWM by what each process ran


def _status_kb(pid: int, key: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _label(proc: psutil.Process, root: int) -> str:
    if proc.pid == root:
        return "claimwatch run"
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return "?"
    return " ".join([Path(cmd[0]).name, *cmd[1:]])[:80] if cmd else "?"


def _sample_tree(root: int, done: threading.Event, out: Measured) -> None:
    """Every 50 ms: the tree's summed RSS, and each process's high-water mark."""
    try:
        top = psutil.Process(root)
    except psutil.Error:
        return
    while not done.wait(0.05):
        try:
            procs = [top, *top.children(recursive=True)]
        except psutil.Error:
            continue
        total = 0
        for proc in procs:
            total += _status_kb(proc.pid, "VmRSS")
            label = _label(proc, root)
            out.process_peaks_kb[label] = max(out.process_peaks_kb.get(label, 0), _status_kb(proc.pid, "VmHWM"))
        out.tree_peak_kb = max(out.tree_peak_kb, total)


def run_measured(cmd: list[str], env: dict[str, str]) -> Measured:
    """Run a command and report its peak RSS (``wait4``: this command's tree, not earlier commands)."""
    with tempfile.TemporaryFile("w+") as err, open(os.devnull, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        measured = Measured(0, "", 0)
        done = threading.Event()
        sampler = threading.Thread(target=_sample_tree, args=(proc.pid, done, measured), daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        measured.returncode, measured.stderr, measured.peak_kb = proc.returncode, err.read(), usage.ru_maxrss
        return measured


def write_topic(path: Path, feed_url: str, pages: int, size: int) -> None:
    raw = yaml.safe_load((REPO / "topics" / "kursk.yaml").read_text(encoding="utf-8"))
    raw.update(name="kursk_bench", feeds=[{"url": feed_url}], allow_private_hosts=True, alerts=[])
    raw["fetch"] = {"timeout_seconds": 60, "retries": 0, "max_bytes": size * 2, "max_articles_per_run": pages}
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--mb", type=float, default=3.0, help="size of each page in MB")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    pages = bench_pages(args.pages)
    pages_served: list[SamplePage] = []
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp, serve(pages_served, size) as base:
        work = Path(tmp)
        topic = work / "topic.yaml"
        write_topic(topic, f"{base}/feed.xml", args.pages, size)
        env = {**os.environ, "CLAIMWATCH_DATA_DIR": str(work / "data"), "AIRFLOW_HOME": str(work / "airflow")}
        db = work / "c.duckdb"
        # A first run on an empty feed migrates Airflow's metadata database (a one-off per Airflow home);
        # the measured run is the second, as every scheduled run after installation would be.
        warm = run_measured([str(CLAIMWATCH), "run", "--topic", str(topic), "--db", str(db)], env)
        pages_served.extend(pages)
        started = time.monotonic()
        result = run_measured([str(CLAIMWATCH), "run", "--topic", str(topic), "--db", str(db)], env)
        seconds = time.monotonic() - started
        peak_mb = result.peak_kb / 1024  # Linux: ru_maxrss is in kilobytes
        if warm.returncode != 0 or result.returncode != 0:
            print(warm.stderr[-2000:], result.stderr[-4000:], file=sys.stderr)
            return 1
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            row = con.execute("SELECT count(*) FROM articles").fetchone()
        stored = int(row[0]) if row else 0
    report = {
        "pages": args.pages,
        "page_mb": args.mb,
        "articles_stored": stored,
        "peak_rss_mb": round(peak_mb, 1),
        "tree_peak_rss_mb": round(result.tree_peak_kb / 1024, 1),
        "process_peak_rss_mb": {k: round(v / 1024, 1) for k, v in sorted(result.process_peaks_kb.items())},
        "empty_run_peak_rss_mb": round(warm.peak_kb / 1024, 1),
        "seconds": round(seconds, 1),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"claimwatch run over {args.pages} pages of {args.mb:g} MB: peak RSS {report['peak_rss_mb']} MB "
            f"(the same run on an empty feed: {report['empty_run_peak_rss_mb']} MB), "
            f"{stored} articles stored, {report['seconds']} s\n"
            f"  largest sum over its processes at one instant (sampled): {report['tree_peak_rss_mb']} MB"
        )
        for label, mb in report["process_peak_rss_mb"].items():
            print(f"  peak of one process: {mb:7.1f} MB  {label}")
    return 0 if stored == args.pages else 1


if __name__ == "__main__":
    sys.exit(main())
