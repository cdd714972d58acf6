"""tests/e2e/test_openai_serve_cli.py — `llm-atc serve` in the foreground: flag checks, the banner, the request log,
and SIGTERM draining in-flight requests before exiting 0.
"""
import json
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import BUILD_DIR, STORIES260K


def run_serve(*args):
    return subprocess.run([str(BUILD_DIR / "llm-atc"), "serve", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_flag():
    out = run_serve("--help")
    assert out.returncode == 0
    for flag in ("--name", "--source", "--accelerator", "--cluster", "--cloud", "--region", "--zone", "--envs",
                 "--port", "--host", "--api-key", "--no-api-key", "--idle-minutes-to-autostop", "--detach", "--dryrun",
                 "--file", "--served-model-name", "--model-plugin", "--chat-template", "--max-model-len", "--threads",
                 "--max-num-seqs", "--max-num-batched-tokens", "--kv-cache-memory", "--no-prefix-caching",
                 "--enable-prefix-caching", "--device", "--quantization", "--log-prompts"):
        assert flag in out.stdout, flag


@pytest.mark.parametrize("args, message", [
    (["--name", str(STORIES260K), "--host", "0.0.0.0"], "--api-key"),
    (["--name", str(STORIES260K), "--api-key", "k", "--no-api-key"], "not both"),
    (["--name", str(STORIES260K), "--envs", "GOOD=1 BROKEN"], "--envs: item 2"),
    (["--name", str(STORIES260K), "--port", "70000"], "--port"),
    (["--name", str(STORIES260K), "--kv-cache-memory", "lots"], "--kv-cache-memory"),
    (["--name", str(STORIES260K), "--quantization", "q3"], "--quantization"),
    (["--name", str(STORIES260K), "--region", "us-east-1"], "-c NAME"),
    (["--name", str(STORIES260K), "--no-prefix-caching", "--enable-prefix-caching"], "not both"),
    ([], "--name"),
    (["--name", str(STORIES260K), "--bogus"], "bogus"),
])
def test_bad_flags_are_refused_naming_them(args, message):
    out = run_serve(*args)
    assert out.returncode == 2
    assert message in out.stderr


def test_envs_values_are_never_shown():
    out = run_serve("--name", str(STORIES260K), "--envs", "HF_TOKEN=hf_supersecret NOEQUALS")
    assert out.returncode == 2
    assert "hf_supersecret" not in out.stderr + out.stdout


def test_dryrun_loads_nothing():
    out = run_serve("--name", str(STORIES260K), "--dryrun", "--kv-cache-memory", "64M", "--api-key", "zzz")
    assert out.returncode == 0
    assert "67108864" in out.stdout and "zzz" not in out.stdout


def test_banner_request_log_and_graceful_sigterm(serve):
    server = serve("--threads", "1", "--served-model-name", "stories", "--grace-seconds", "20")
    log = server.log()
    assert f"http://127.0.0.1:{server.port}/v1" in log and "'stories'" in log

    # A long request in flight when SIGTERM arrives still completes; then the process exits 0.
    result = {}

    def long_request():
        body = json.dumps({"model": "stories", "prompt": "Once upon a time", "max_tokens": 400, "ignore_eos": True,
                           "temperature": 0.5}).encode()
        req = urllib.request.Request(server.base_url + "/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            result["status"] = r.status
            result["body"] = json.loads(r.read())

    worker = threading.Thread(target=long_request)
    worker.start()
    time.sleep(0.05)
    server.proc.send_signal(signal.SIGTERM)
    worker.join(timeout=60)
    assert server.proc.wait(timeout=30) == 0
    assert result.get("status") == 200
    assert result["body"]["usage"]["completion_tokens"] == 400

    log = server.log()
    assert "SIGTERM received" in log
    line = next(l for l in log.splitlines() if "POST /v1/completions 200" in l)
    assert "prompt_tokens=5" in line and "completion_tokens=400" in line and " ms" in line
    assert "Once upon a time" not in log  # prompts stay out of the log without --log-prompts


def test_chat_template_file_overrides_the_models(serve, tmp_path):
    template = tmp_path / "template.jinja"
    template.write_text("{% for m in messages %}[{{ m['role'] }}]{{ m['content'] | trim }}{% endfor %}"
                        "{% if add_generation_prompt %}[assistant]{% endif %}")
    server = serve("--threads", "1", "--chat-template", str(template))

    def tokenize(body):
        req = urllib.request.Request(server.root_url + "/tokenize", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["tokens"]

    rendered = tokenize({"messages": [{"role": "user", "content": "  Hi there "}]})
    assert rendered == tokenize({"prompt": "[user]Hi there[assistant]", "add_special_tokens": False})


def test_missing_chat_template_file_is_a_clear_error(tmp_path):
    out = subprocess.run([str(BUILD_DIR / "llm-atc"), "serve", "--name", str(STORIES260K), "--port", "0",
                          "--chat-template", str(tmp_path / "nope.jinja")], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "nope.jinja" in out.stderr + out.stdout


def test_deployment_file_with_flags_overriding_it(tmp_path):
    deploy = tmp_path / "deploy.yaml"
    deploy.write_text(f"name: {STORIES260K}\nport: 9999\nmax-model-len: 256\n")
    out = run_serve("-f", str(deploy), "--port", "7777", "--dryrun")
    assert out.returncode == 0, out.stderr
    assert str(STORIES260K) in out.stdout
    assert ":7777/v1" in out.stdout and "max-model-len 256" in out.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("nmae: x\n")
    out = run_serve("-f", str(bad), "--dryrun")
    assert out.returncode == 2 and "nmae" in out.stderr
