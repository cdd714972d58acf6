"""tests/e2e/conftest.py — shared fixtures: start `llm-atc serve` on a free port, wait for /health, stop it afterwards.

Builds nothing. Environment: LLMATC_BUILD_DIR (default <repo>/build), LLMATC_SHARED (default <repo>/../shared).
"""
import os
import pathlib
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("LLMATC_BUILD_DIR", REPO_ROOT / "build"))
SHARED = pathlib.Path(os.environ.get("LLMATC_SHARED", REPO_ROOT.parent / "shared"))
STORIES260K = SHARED / "models" / "stories260k"
STARTUP_TIMEOUT_S = 120


def free_port():
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `llm-atc serve`: base_url ends in /v1; log holds its stderr/stdout."""

    def __init__(self, proc, port, log_path):
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.root_url = f"http://127.0.0.1:{port}"
        self.base_url = self.root_url + "/v1"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout=30):
        """SIGTERM, then wait; returns the exit code (kills it if it does not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(log_dir, model_dir=STORIES260K, *extra_args, env=None):
    """Starts `llm-atc serve --name MODEL --port FREE EXTRA...` and returns a Server once /health answers 200."""
    launcher = BUILD_DIR / "llm-atc"
    assert launcher.is_file(), f"{launcher} not built (set LLMATC_BUILD_DIR)"
    port = free_port()
    log_path = pathlib.Path(log_dir) / f"serve-{port}.log"
    args = [str(launcher), "serve", "--name", str(model_dir), "--port", str(port), *map(str, extra_args)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    server = Server(proc, port, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"llm-atc serve exited with {proc.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.root_url + "/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"llm-atc serve did not answer /health within {STARTUP_TIMEOUT_S}s:\n{server.log()}")


@pytest.fixture
def serve(tmp_path):
    """Factory fixture: serve(*extra_args, model_dir=..., env=...) → Server; every server is stopped afterwards."""
    started = []

    def _serve(*extra_args, model_dir=STORIES260K, env=None):
        server = start_server(tmp_path, model_dir, *extra_args, env=env)
        started.append(server)
        return server

    yield _serve
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def stories_server(tmp_path_factory):
    """One stories260k server shared by a test module (one kernel thread, default settings)."""
    server = start_server(tmp_path_factory.mktemp("serve"), STORIES260K, "--threads", "1")
    yield server
    server.stop()


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text → {(name, frozenset(labels.items())): value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            labels = frozenset(_LABEL.findall(m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
    return samples


@pytest.fixture
def metric():
    """metric(server, name, **labels) → the sum of the samples of `name` whose labels include `labels`."""
    def _metric(server, name, **labels):
        with urllib.request.urlopen(server.root_url + "/metrics", timeout=10) as response:
            samples = parse_metrics(response.read().decode())
        wanted = set(labels.items())
        return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))
    return _metric
