"""Preview server: serve the built site on 127.0.0.1, rebuild on change, live-reload.

Built files are never modified: the reload script tag is injected into HTML
responses at serve time only. Open pages load /__atlas_reload.js, which polls
/__atlas_version and reloads the page when a rebuild finished.
"""

from __future__ import annotations

import http.server
import threading
import time
from functools import partial
from pathlib import Path
from typing import Callable

from builder.config import Config

RELOAD_JS = b"""(function () {
  var seen = null;
  function poll() {
    fetch("/__atlas_version", {cache: "no-store"}).then(function (r) { return r.text(); }).then(function (v) {
      if (seen === null) { seen = v; } else if (v !== seen) { window.location.reload(); return; }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
"""
RELOAD_TAG = b'<script src="/__atlas_reload.js"></script>'


class Version:
    """A counter bumped after each rebuild (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.value = 0

    def bump(self) -> None:
        with self._lock:
            self.value += 1


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files + reload endpoints + the site's 404 page."""

    def __init__(self, *args, site_dir: Path, version: Version, **kwargs):
        self.version = version
        super().__init__(*args, directory=str(site_dir), **kwargs)

    def log_message(self, format, *args):  # quiet: one line per error only
        if args and str(args[1] if len(args) > 1 else "").startswith(("4", "5")):
            super().log_message(format, *args)

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/__atlas_version":
            return self._send(200, str(self.version.value).encode(), "text/plain")
        if path == "/__atlas_reload.js":
            return self._send(200, RELOAD_JS, "text/javascript")
        fs_path = Path(self.translate_path(path))
        if fs_path.is_dir():
            if not path.endswith("/"):
                self.send_response(301)
                self.send_header("Location", path + "/")
                self.end_headers()
                return None
            fs_path = fs_path / "index.html"
        if not fs_path.is_file():
            page = Path(self.directory) / "404.html"
            body = page.read_bytes() if page.exists() else b"<h1>Not found</h1>"
            return self._send(404, inject(body), "text/html; charset=utf-8")
        if fs_path.suffix == ".html":
            return self._send(200, inject(fs_path.read_bytes()), "text/html; charset=utf-8")
        return super().do_GET()


def inject(html: bytes) -> bytes:
    """Add the reload script before </body> (or at the end)."""
    i = html.rfind(b"</body>")
    return html[:i] + RELOAD_TAG + html[i:] if i >= 0 else html + RELOAD_TAG


def snapshot(paths: list[Path]) -> tuple:
    """A cheap signature of the watched trees: (path, mtime, size) of every file."""
    out = []
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for p in files:
            try:
                st = p.stat()
            except OSError:
                continue
            out.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(out)


def watch_loop(watch: list[Path], rebuild: Callable[[], None], version: Version, stop: threading.Event,
               interval: float = 1.0) -> None:
    """Poll ``watch``; on a change call ``rebuild()`` and bump the version (errors are printed, not fatal)."""
    last = snapshot(watch)
    while not stop.wait(interval):
        now = snapshot(watch)
        if now == last:
            continue
        last = now
        t0 = time.perf_counter()
        try:
            rebuild()
        except Exception as exc:  # keep serving the last good site
            print(f"rebuild failed: {exc}", flush=True)
            continue
        version.bump()
        print(f"rebuilt in {time.perf_counter() - t0:.1f} s", flush=True)


class BoundedServer(http.server.ThreadingHTTPServer):
    """At most ``max_threads`` connections served at once (more are closed at once), and a
    connection idle for ``idle_timeout`` seconds is dropped: half-open connections cannot pile up
    threads."""

    daemon_threads = True

    def __init__(self, address, handler, *, max_threads: int = 32, idle_timeout: float = 10.0):
        self.idle_timeout = idle_timeout
        self._slots = threading.BoundedSemaphore(max_threads)
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(self.idle_timeout)
        return sock, addr

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):  # all busy: refuse this one, keep serving the others
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def start(site_dir: Path, port: int, rebuild: Callable[[], None], watch: list[Path], *,
          interval: float = 1.0, max_threads: int = 32,
          idle_timeout: float = 10.0) -> tuple[http.server.ThreadingHTTPServer, threading.Event]:
    """Start server and watcher threads; return the server and the event that stops the watcher."""
    version = Version()
    server = BoundedServer(("127.0.0.1", port), partial(Handler, site_dir=Path(site_dir), version=version),
                           max_threads=max_threads, idle_timeout=idle_timeout)
    stop = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=watch_loop, args=(list(watch), rebuild, version, stop, interval), daemon=True).start()
    return server, stop


def serve(cfg: Config, site_dir: Path, port: int, rebuild: Callable[[], None], watch: list[Path]) -> None:
    """Serve ``site_dir`` on http://127.0.0.1:port/ until Ctrl-C, rebuilding when ``watch`` changes."""
    server, stop = start(site_dir, port, rebuild, watch)
    print(f"Serving {cfg.site.title} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
