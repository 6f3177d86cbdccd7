"""A real helpdesk server in a subprocess, for browser and end-to-end tests.

    from tests.live import LiveServer, TcpProxy

    @pytest.fixture(scope="module")
    def server():
        with LiveServer(port=8410, setup=[["seed_demo"]]) as live:   # use YOUR port range
            yield live

    live.url("/console/")            -> "http://127.0.0.1:8410/console/"
    live.manage("createsuperuser", ...) / live.shell("print(...)")  -> run against the same DB

The server is `manage.py serve` (Daphne + the task worker, exactly what `make run` starts) with
DJANGO_SETTINGS_MODULE=tests.settings, on its OWN temporary SQLite file (embedded mode, in-memory
channel layer), never on the pytest database: pytest-django's SQLite test database lives in
memory and cannot be shared with another process. Seed and inspect it with manage()/shell(),
which run in subprocesses against the same file. Write through the server (HTTP, the console,
the widget) when something must be pushed live: in embedded mode only the server's own process
rings its websockets.

TcpProxy(listen_port, target_port) forwards TCP to the server; proxy.cut(seconds) drops every
connection through it and refuses new ones for a while: a real network outage for a browser.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shifted_port(port: int) -> int:
    """A fixed test port, shifted by HELPDESK_TEST_PORT_OFFSET so that several checkouts can run
    their suites side by side on one machine without fighting over ports."""
    return port + int(os.environ.get("HELPDESK_TEST_PORT_OFFSET", "0"))


class LiveServer:
    def __init__(self, port: int, setup: list[list[str]] | None = None, host: str = "127.0.0.1",
                 env: dict | None = None, python_args: tuple[str, ...] = (), worker_interval: float = 0.1,
                 serve_args: tuple[str, ...] = ()):
        # python_args go before manage.py, e.g. ("-m", "cProfile", "-o", "serve.prof")
        self.host, self.port, self.setup, self.python_args = host, port, setup or [], tuple(python_args)
        self.serve_args = tuple(serve_args)  # more `serve` options, e.g. ("--http-workers", "2")
        self.worker_interval = worker_interval  # tests want delivery fast; serve's default is 0.5 s
        self.dir = Path(tempfile.mkdtemp(prefix=f"helpdesk-live-{port}-"))
        self.env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "HELPDESK_VAR_DIR": str(self.dir),
            "DATABASE_URL": f"sqlite:///{self.dir / 'live.sqlite3'}",
            "HELPDESK_PUBLIC_URL": f"http://{host}:{port}",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        })
        self.process = None
        self.log = self.dir / "server.log"

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def manage(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=120)
        if check and result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code).strip()

    def start(self) -> LiveServer:
        if _port_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is already in use")
        self.manage("migrate", "--noinput", "-v0")
        for command in self.setup:
            self.manage(*command)
        self._log_file = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *self.python_args, "manage.py", "serve", "--host", self.host, "--port", str(self.port),
             "--worker-interval", str(self.worker_interval), *self.serve_args],
            cwd=ROOT, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(self.url("/login/"), timeout=1).read()  # noqa: S310
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            end_process(self.process, signal.SIGINT)  # serve stops cleanly (and a profiler writes)
        if getattr(self, "_log_file", None):
            self._log_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def end_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Ask a server process to stop, and kill it if it has not within `timeout` seconds."""
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def embedded_site(tmp_path, poll_seconds: float) -> tuple[dict, list[str]]:
    """A fresh embedded-mode site (SQLite file in tmp_path, in-memory layer, the demo seeded)
    for tests that start `manage.py serve` processes: (their environment, the manage.py argv)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "HELPDESK_VAR_DIR": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "PYTHONUNBUFFERED": "1",
           "HELPDESK_EVENT_POLL_SECONDS": str(poll_seconds)}
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "seed_demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    return env, manage


def free_port() -> int:
    """A loopback port nobody listens on (for servers the tests start on the fly)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


class TcpProxy:
    """A byte-for-byte TCP forwarder that can simulate an outage (cut)."""

    def __init__(self, listen_port: int, target_port: int, host: str = "127.0.0.1"):
        self.host, self.listen_port, self.target_port = host, listen_port, target_port
        self._blocked_until = 0.0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = socket.create_server((host, listen_port), reuse_port=False)
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.listen_port}{path}"

    def cut(self, seconds: float) -> None:
        """Drop every open connection now and refuse new ones for `seconds`."""
        self._blocked_until = time.monotonic() + seconds
        with self._lock:
            for sock in list(self._sockets):
                _close(sock)
            self._sockets.clear()

    def blocked(self) -> bool:
        return time.monotonic() < self._blocked_until

    def _accept(self):
        while self._running:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.blocked():
                _close(client)
                continue
            try:
                upstream = socket.create_connection((self.host, self.target_port))
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update({client, upstream})
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
                with self._lock:
                    self._sockets.discard(sock)

    def close(self):
        self._running = False
        _close(self._server)
        self.cut(0)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# Debian's chromium, headless, with the background networking this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]



def log_in(page, live: LiveServer, username: str = "alice", password: str = "helpdesk-demo") -> None:
    """Sign a Playwright page in to the console through the login form (the seeded password)."""
    import re

    page.goto(live.url("/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_url(re.compile(r"/console/"))
