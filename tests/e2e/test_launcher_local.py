"""tests/e2e/test_launcher_local.py — `--cloud local` end to end: serve -c returns once the endpoint answers; status,
stop, start, down; --envs reach the server's environment and never its log; SSH config; refusals of bad input."""
import json
import os

import pytest

from launcher_fixtures import STORIES260K, Launcher, free_port, greedy_completion, http_get

USER_SSH_CONFIG = "Include ~/.ssh/config.d/*\n\nHost github.com\n  User git\n# a comment, and no final newline"


@pytest.fixture
def launcher(tmp_path):
    la = Launcher(tmp_path)
    yield la
    la.teardown()


def test_local_cluster_lifecycle(launcher):
    ssh_dir = launcher.home / ".ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "config").write_text(USER_SSH_CONFIG)
    os.chmod(ssh_dir / "config", 0o640)
    port = free_port()
    token = "hf_secret_token_value_123"
    r = launcher.run("serve", "-c", "c1", "--cloud", "local", "--name", STORIES260K, "--port", port,
                     "--envs", f"LAUNCH_TEST_TOKEN={token} LAUNCH_TEST_PLAIN='two words'")
    assert r.returncode == 0, r.stderr
    endpoint = f"http://127.0.0.1:{port}/v1"
    assert endpoint in r.stdout
    assert "llm-atc stop c1" in r.stdout
    # Returned only once the endpoint answers.
    status, body = http_get(endpoint + "/models")
    assert status == 200 and str(STORIES260K) in body

    c1 = launcher.status()["c1"]
    assert c1["status"] == "UP" and c1["endpoint"] == endpoint and c1["cloud"] == "local"
    assert launcher.run("status", "--ip", "c1").stdout.strip() == "127.0.0.1"

    # --envs reach the server process's environment ...
    server_pid = int((launcher.state / "clusters" / "c1" / "server.pid").read_text())
    environ = open(f"/proc/{server_pid}/environ", "rb").read().split(b"\0")
    assert f"LAUNCH_TEST_TOKEN={token}".encode() in environ
    assert b"LAUNCH_TEST_PLAIN=two words" in environ
    # ... and never its log, status or state.
    greedy_completion(endpoint, str(STORIES260K))
    for text in [launcher.run("logs", "c1").stdout, (launcher.state / "clusters" / "c1" / "server.log").read_text(),
                 launcher.run("status", "--json").stdout, launcher.run("status").stdout, r.stdout, r.stderr,
                 (launcher.state / "state.db").read_bytes().decode(errors="replace")]:
        assert token not in text
    assert oct((launcher.state / "clusters" / "c1" / "secrets.json").stat().st_mode & 0o777) == "0o600"
    assert oct(launcher.state.stat().st_mode & 0o777) == "0o700"
    assert oct((launcher.state / "keys" / "llm-atc-key").stat().st_mode & 0o777) == "0o600"

    # SSH config: the seed's grep finds the address; the user's text is intact; the mode kept.
    config = (ssh_dir / "config").read_text()
    lines = config.splitlines()
    host_line = lines.index("Host c1")
    assert lines[host_line + 1].split() == ["HostName", "127.0.0.1"]
    assert config.endswith(USER_SSH_CONFIG)
    assert oct((ssh_dir / "config").stat().st_mode & 0o777) == "0o640"

    # Serving the same deployment again reuses the running cluster; another cloud on the same name is refused.
    again = launcher.run("serve", "-c", "c1", "--cloud", "local", "--name", STORIES260K, "--port", port,
                         "--envs", f"LAUNCH_TEST_TOKEN={token} LAUNCH_TEST_PLAIN='two words'")
    assert again.returncode == 0 and "nothing to do" in again.stdout
    conflict = launcher.run("serve", "-c", "c1", "--cloud", "gcp", "--name", STORIES260K)
    assert conflict.returncode != 0 and "exists with cloud 'local'" in conflict.stderr

    r = launcher.run("stop", "c1")
    assert r.returncode == 0 and "Stopped" in r.stdout
    assert http_get(endpoint + "/models")[0] == 0
    assert launcher.status()["c1"]["status"] == "STOPPED"
    r = launcher.run("stop", "c1")
    assert r.returncode == 0 and "already stopped" in r.stdout

    r = launcher.run("start", "c1")
    assert r.returncode == 0, r.stderr
    assert http_get(endpoint + "/models")[0] == 200
    assert launcher.status()["c1"]["status"] == "UP"
    r = launcher.run("start", "c1")
    assert r.returncode == 0 and "already up" in r.stdout

    r = launcher.run("down", "c1")
    assert r.returncode == 0 and "Tore down" in r.stdout
    assert http_get(endpoint + "/models")[0] == 0
    assert "c1" not in launcher.status()
    assert (ssh_dir / "config").read_text() == USER_SSH_CONFIG
    r = launcher.run("down", "c1")
    assert r.returncode == 0 and "nothing to tear down" in r.stdout


def test_stop_and_start_of_unknown_clusters_fail(launcher):
    for command in ("stop", "start", "logs"):
        r = launcher.run(command, "nosuch")
        assert r.returncode != 0
        assert "no cluster named 'nosuch'" in r.stderr


@pytest.mark.parametrize("args, needle", [
    (["--name", "llm-atc/mine", "-c", "x", "--cloud", "local"], "add --source"),
    (["--name", "llm-atc/mine", "--source", "s3://Bad_Bucket/x/", "-c", "x", "--cloud", "local"], "not a valid bucket name"),
    (["--name", "llm-atc/mine", "--source", "ftp://h/x", "-c", "x", "--cloud", "local"], "supported are s3://, gs://"),
    (["--name", str(STORIES260K), "-c", "bad name!", "--cloud", "local"], "invalid cluster name"),
    (["--name", str(STORIES260K), "-c", "x", "--cloud", "local", "--envs", "A=1 oops"], "item 2 has no '='"),
    (["--name", str(STORIES260K), "-c", "x", "--cloud", "local", "--accelerator", "A100:x"], "NAME[:COUNT]"),
    (["--name", str(STORIES260K), "-c", "x", "--cloud", "nocloud"], "nocloud"),
    (["--name", "./not/a/dir", "-c", "x", "--cloud", "local"], "neither a folder nor a Hugging Face id"),
])
def test_bad_input_gives_one_actionable_line(launcher, args, needle):
    r = launcher.run("serve", *args)
    assert r.returncode != 0
    error_lines = [l for l in r.stderr.splitlines() if "llm-atc serve" in l or "error" in l]
    assert error_lines and needle in r.stderr, r.stderr
    assert "x" not in launcher.status() or launcher.status()["x"]["status"] != "UP"


def test_deployment_file_wrong_key_is_named_with_its_line(launcher, tmp_path):
    f = tmp_path / "deploy.yaml"
    f.write_text("name: llm-atc/mine\nsource: s3://bucket/x/\nclustr: c9\n")
    r = launcher.run("serve", "-f", f)
    assert r.returncode != 0
    assert "deploy.yaml:3" in r.stderr and "'clustr'" in r.stderr and "cluster" in r.stderr


def test_deployment_file_serves_and_flags_override_it(launcher, tmp_path):
    port = free_port()
    f = tmp_path / "deploy.yaml"
    f.write_text(f"name: {STORIES260K}\ncluster: from-file\nresources:\n  cloud: local\nport: 1\n"
                 f"envs:\n  FROM_FILE: value-from-file\n")
    r = launcher.run("serve", "-f", f, "--port", port, "--served-model-name", "stories")
    assert r.returncode == 0, r.stderr
    launcher.clusters.add("from-file")
    c = launcher.status()["from-file"]
    assert c["status"] == "UP" and c["port"] == port and c["model"] == "stories"
    pid = int((launcher.state / "clusters" / "from-file" / "server.pid").read_text())
    assert b"FROM_FILE=value-from-file" in open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
