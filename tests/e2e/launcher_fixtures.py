"""tests/e2e/launcher_fixtures.py — helpers for the launcher tests: an isolated HOME/LLMATC_HOME and a runner for
`llm-atc` commands that tears down every cluster it launched."""
import json
import os
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request

from conftest import BUILD_DIR, SHARED, STORIES260K, free_port  # noqa: F401  (re-exported for the tests)

LLM_ATC = BUILD_DIR / "llm-atc"
# The bin folder of the venv running the tests (moto_server, gcp-storage-emulator): absolute whatever the cwd or
# LLMATC_BUILD_DIR (a relative build dir made BUILD_DIR.parent "." and the path cwd-dependent).
VENV_BIN = pathlib.Path(sys.executable).absolute().parent


class Launcher:
    """Runs llm-atc with HOME and LLMATC_HOME inside tmp_path; remembers clusters to tear down."""

    def __init__(self, tmp_path):
        self.home = tmp_path / "home"
        self.state = tmp_path / "llmatc-home"
        self.home.mkdir()
        self.env = dict(os.environ, HOME=str(self.home), LLMATC_HOME=str(self.state), LLMATC_LOG_LEVEL="info")
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "HF_TOKEN", "HF_HOME", "HF_HUB_CACHE",
                    "HF_ENDPOINT", "HF_HUB_OFFLINE", "STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS",
                    "LLMATC_API_KEY"):
            self.env.pop(var, None)
        self.clusters = set()

    def run(self, *args, env=None, timeout=300):
        if len(args) > 1 and args[0] == "serve" and "-c" in args:
            self.clusters.add(args[list(args).index("-c") + 1])
        return subprocess.run([str(LLM_ATC), *map(str, args)], env={**self.env, **(env or {})}, capture_output=True,
                              text=True, timeout=timeout)

    def status(self):
        r = self.run("status", "--json")
        assert r.returncode == 0, r.stderr
        return {c["name"]: c for c in json.loads(r.stdout)}

    def teardown(self):
        for name in self.clusters:
            self.run("down", name, timeout=120)


def http_get(url, timeout=5):
    """(status, body) of a GET, (0, "") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def greedy_completion(base_url, model, prompt="Once upon a time", max_tokens=24):
    req = urllib.request.Request(base_url + "/completions", method="POST",
                                 data=json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens,
                                                  "temperature": 0}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())["choices"][0]["text"]
