"""tests/e2e/test_bootstrap_ssh.py — the remote bootstrap end to end: `llm-atc serve --cloud gcp` against the fake
Compute API (whose instance's address is 127.0.0.1) with a real OpenSSH sshd on a free loopback port standing in
for the VM. The launcher waits for SSH, uploads its own binary and plugins, runs the bootstrap script (no systemd
here: the documented setsid/nohup fallback), health-checks the server, and the server answers a completion.

Needs root (sshd with its own host key and AuthorizedKeysFile in a temp dir) and Debian's openssh-server/-client.
Environment: LLMATC_BUILD_DIR (default <repo>/build), LLMATC_SHARED (default <repo>/../shared).
"""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from fake_gcp_compute import FakeCompute

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("LLMATC_BUILD_DIR", REPO_ROOT / "build"))
SHARED = pathlib.Path(os.environ.get("LLMATC_SHARED", REPO_ROOT.parent / "shared"))
LAUNCHER = BUILD_DIR / "llm-atc"
SSHD = "/usr/sbin/sshd"

cryptography = pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="sshd for the test node needs root"),
    pytest.mark.skipif(not os.path.exists(SSHD) or not shutil.which("ssh"), reason="openssh-server/-client missing"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node(tmp_path):
    """A running sshd on 127.0.0.1:<port> that accepts the launcher's cluster key (created later by serve)."""
    llmatc_home = tmp_path / "llmatc"
    sshd_dir = tmp_path / "sshd"
    sshd_dir.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(sshd_dir / "host_key")], check=True)
    port = free_port()
    config = sshd_dir / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {sshd_dir / 'host_key'}
PidFile {sshd_dir / 'sshd.pid'}
AuthorizedKeysFile {llmatc_home / 'keys' / 'llm-atc-key.pub'}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
""")
    os.makedirs("/run/sshd", exist_ok=True)
    log = open(sshd_dir / "sshd.log", "wb")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (sshd_dir / "sshd.log").read_text()
            time.sleep(0.1)
    yield {"port": port, "home": llmatc_home, "prefix": tmp_path / "node", "log": sshd_dir / "sshd.log"}
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def fake():
    f = FakeCompute(nat_ip="127.0.0.1").start()
    yield f
    f.stop()


def stop_node_server(prefix):
    pid_file = prefix / "server.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)


def test_serve_bootstraps_the_node_over_ssh_and_answers(tmp_path, node, fake):
    assert LAUNCHER.is_file(), f"{LAUNCHER} not built (set LLMATC_BUILD_DIR)"
    model = SHARED / "models" / "stories260k"
    assert model.is_dir(), model
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sa = tmp_path / "sa.json"
    sa.write_text(json.dumps({
        "type": "service_account", "project_id": "boot-test", "client_email": "b@boot-test.iam.gserviceaccount.com",
        "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode(),
        "token_uri": fake.root + "/token"}))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOOGLE_", "CLOUDSDK_", "LLMATC_RUNTIME_URL", "LLMATC_PLUGIN_PATH"))}
    env.update({"HOME": str(home), "USER": "root", "LLMATC_HOME": str(node["home"]),
                "GOOGLE_APPLICATION_CREDENTIALS": str(sa), "LLMATC_GCP_COMPUTE_ENDPOINT": fake.root + "/compute/v1",
                "LLMATC_CLOUD_POLL_MS": "20", "LLMATC_CLOUD_SSH_PORT": str(node["port"]),
                "LLMATC_REMOTE_PREFIX": str(node["prefix"])})
    port = free_port()
    try:
        out = subprocess.run([str(LAUNCHER), "serve", "--name", str(model), "-c", "boot", "--cloud", "gcp",
                              "--accelerator", "L4:1", "--region", "us-central1", "--port", str(port),
                              "--envs", "HF_TOKEN=hf_bootSecret9"],
                             env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr + node["log"].read_text()
        assert "hf_bootSecret9" not in out.stdout + out.stderr
        for phase in ("[provisioning]", "[bootstrap] waiting for SSH", "[bootstrap] uploading llm-atc",
                      "[bootstrap] running the bootstrap script", "[ready]"):
            assert phase in out.stderr, phase

        # What the upload and the script left on the node.
        prefix = node["prefix"]
        assert (prefix / "bin" / "llm-atc").stat().st_mode & 0o100
        plugins = {p.name for p in (prefix / "plugins").iterdir()}
        assert "libllmatc-frontend-openai.so" in plugins and "libllmatc-model-llama.so" in plugins
        assert (prefix / "etc" / "env").stat().st_mode & 0o777 == 0o600
        assert "export HF_TOKEN='hf_bootSecret9'" in (prefix / "etc" / "env").read_text()

        api_key = re.search(r"API key:\s+(\S+)", out.stdout).group(1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/completions",
            data=json.dumps({"model": str(model), "prompt": "Once upon a time", "max_tokens": 8,
                             "temperature": 0}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"})
        with urllib.request.urlopen(request, timeout=60) as resp:
            body = json.load(resp)
        assert body["choices"][0]["text"].strip() != ""

        status = json.loads(subprocess.run([str(LAUNCHER), "status", "--json"], env=env, capture_output=True,
                                           text=True, timeout=60).stdout)
        assert [c["status"] for c in status if c["name"] == "boot"] == ["UP"]
        # Without the key the bootstrapped server refuses.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/v1/models"), timeout=10)
        assert refused.value.code == 401
    finally:
        subprocess.run([str(LAUNCHER), "down", "boot"], env=env, capture_output=True, timeout=120)
        stop_node_server(node["prefix"])
