"""tests/e2e/test_launcher_sources.py — model sources end to end: s3:// against moto (with a connection cut
mid-file, resumed), gs:// against gcp-storage-emulator, Hugging Face ids against fake_hf_hub.py (gated 401,
cache layout shared with huggingface_hub, offline mode). Each served model must answer as the local folder does."""
import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from fake_hf_hub import FakeHub
from launcher_fixtures import STORIES260K, VENV_BIN, Launcher, free_port, greedy_completion

MODEL_FILES = sorted(p.name for p in STORIES260K.iterdir() if p.is_file())


@pytest.fixture
def launcher(tmp_path):
    la = Launcher(tmp_path)
    yield la
    la.teardown()


@pytest.fixture(scope="module")
def reference_text(tmp_path_factory):
    """The greedy completion of the local folder, served as a local cluster."""
    la = Launcher(tmp_path_factory.mktemp("ref"))
    port = free_port()
    r = la.run("serve", "-c", "ref", "--cloud", "local", "--name", STORIES260K, "--port", port,
               "--served-model-name", "stories")
    assert r.returncode == 0, r.stderr
    try:
        return greedy_completion(f"http://127.0.0.1:{port}/v1", "stories")
    finally:
        la.teardown()


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


class CuttingProxy:
    """Forwards TCP to a backend; the first response carrying `marker` in its request is cut after `cut_after` bytes.
    Records every request head so the test can see the resumed Range request."""

    def __init__(self, backend_port, marker, cut_after):
        self.backend_port, self.marker, self.cut_after = backend_port, marker.encode(), cut_after
        self.cut_done = False
        self.request_heads = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        backend = socket.create_connection(("127.0.0.1", self.backend_port))
        head = client.recv(65536)
        self.request_heads.append(head.decode(errors="replace"))
        cut = not self.cut_done and self.marker in head.split(b"\r\n")[0] and b"range:" not in head.lower()
        if cut:
            self.cut_done = True
        backend.sendall(head)

        def upstream():
            try:
                while data := client.recv(65536):
                    backend.sendall(data)
            except OSError:
                pass

        threading.Thread(target=upstream, daemon=True).start()
        sent = 0
        try:
            while data := backend.recv(65536):
                if cut and sent + len(data) > self.cut_after:
                    client.sendall(data[: self.cut_after - sent])
                    break
                client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (client, backend):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@pytest.fixture
def moto_server():
    port = free_port()
    proc = subprocess.Popen([str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_s3_source_downloads_resumes_and_serves_like_the_local_folder(launcher, moto_server, reference_text):
    boto3 = pytest.importorskip("boto3")
    creds = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret-key-value",
             "AWS_DEFAULT_REGION": "us-east-1"}
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{moto_server}", region_name="us-east-1",
                      aws_access_key_id=creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket="bucket")
    for name in MODEL_FILES:
        s3.upload_file(str(STORIES260K / name), "bucket", f"stories/{name}")
    s3.put_object(Bucket="bucket", Key="stories/optimizer.pt", Body=b"x" * 1000)  # a training leftover
    s3.put_object(Bucket="bucket", Key="stories/training_args.bin", Body=b"y" * 10)

    proxy = CuttingProxy(moto_server, "model.safetensors", cut_after=300_000)
    port = free_port()
    r = launcher.run("serve", "--name", "llm-atc/stories", "--source", "s3://bucket/stories/", "-c", "c1",
                     "--cloud", "local", "--port", port,
                     env={**creds, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"})
    assert r.returncode == 0, r.stderr
    assert proxy.cut_done
    assert any("model.safetensors" in h and "range: bytes=" in h.lower() for h in proxy.request_heads), \
        "the cut download was not resumed with a Range request"
    cache = launcher.state / "models" / "s3" / "bucket" / "stories"
    for name in MODEL_FILES:
        assert (cache / name).read_bytes() == (STORIES260K / name).read_bytes()
    assert not (cache / "optimizer.pt").exists() and not (cache / "training_args.bin").exists()
    assert greedy_completion(f"http://127.0.0.1:{port}/v1", "llm-atc/stories") == reference_text
    assert creds["AWS_SECRET_ACCESS_KEY"] not in r.stdout + r.stderr


def test_s3_without_credentials_is_refused_clearly(launcher, moto_server):
    r = launcher.run("serve", "--name", "llm-atc/stories", "--source", "s3://bucket/stories/", "-c", "c2",
                     "--cloud", "local", env={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_server}"})
    assert r.returncode != 0 and "no AWS credentials" in r.stderr


@pytest.fixture
def gcs_emulator(tmp_path):
    port = free_port()
    proc = subprocess.Popen([str(VENV_BIN / "gcp-storage-emulator"), "start", "--host", "127.0.0.1", "--port", str(port),
                             "--in-memory"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def test_gs_source_against_the_emulator(launcher, gcs_emulator, reference_text):
    def post(url, data, content_type):
        req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status

    assert post(f"{gcs_emulator}/storage/v1/b", b'{"name": "gbucket"}', "application/json") == 200
    for name in MODEL_FILES:
        post(f"{gcs_emulator}/upload/storage/v1/b/gbucket/o?uploadType=media&name=stories/{name}",
             (STORIES260K / name).read_bytes(), "application/octet-stream")
    port = free_port()
    r = launcher.run("serve", "--name", "llm-atc/gstories", "--source", "gs://gbucket/stories/", "-c", "g1",
                     "--cloud", "local", "--port", port, env={"STORAGE_EMULATOR_HOST": gcs_emulator})
    assert r.returncode == 0, r.stderr
    cache = launcher.state / "models" / "gs" / "gbucket" / "stories"
    for name in MODEL_FILES:
        assert (cache / name).read_bytes() == (STORIES260K / name).read_bytes()
    assert greedy_completion(f"http://127.0.0.1:{port}/v1", "llm-atc/gstories") == reference_text


@pytest.fixture
def hub():
    h = FakeHub()
    h.add_repo("org/stories", STORIES260K)
    h.add_repo("org/gated", STORIES260K, gated_token="hf_good_token_123")
    h.start()
    yield h
    h.stop()


def test_hf_id_downloads_into_the_hub_cache_layout_and_serves(launcher, hub, reference_text, tmp_path):
    cache = tmp_path / "hf-cache"
    port = free_port()
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(cache)}
    r = launcher.run("serve", "--name", "org/stories", "-c", "h1", "--cloud", "local", "--port", port, env=env)
    assert r.returncode == 0, r.stderr
    repo = hub.repos["org/stories"]
    snapshot = cache / "models--org--stories" / "snapshots" / repo.sha
    assert (cache / "models--org--stories" / "refs" / "main").read_text().strip() == repo.sha
    weights = snapshot / "model.safetensors"
    assert weights.is_symlink()
    blob_name = os.readlink(weights).split("/")[-1]
    assert blob_name == hashlib.sha256((STORIES260K / "model.safetensors").read_bytes()).hexdigest()
    assert any(m == "GET" and p.startswith("/cdn/") for m, p, _ in hub.requests), "LFS redirect not followed"
    assert greedy_completion(f"http://127.0.0.1:{port}/v1", "org/stories") == reference_text

    # huggingface_hub (Python) reads the cache we filled, offline.
    probe = subprocess.run([str(VENV_BIN / "python"), "-c",
                            "from huggingface_hub import snapshot_download; print(snapshot_download('org/stories'))"],
                           env={**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"},
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().endswith(repo.sha)

    # Offline, llm-atc serves from the cache without asking the hub.
    launcher.run("down", "h1")
    seen = len(hub.requests)
    r = launcher.run("serve", "--name", "org/stories", "-c", "h1", "--cloud", "local", "--port", port,
                     env={**env, "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr
    assert len(hub.requests) == seen


def test_hf_cache_filled_by_huggingface_hub_is_reused(launcher, hub, tmp_path):
    cache = tmp_path / "hf-cache"
    fill = subprocess.run([str(VENV_BIN / "python"), "-c",
                           "from huggingface_hub import snapshot_download; print(snapshot_download('org/stories'))"],
                          env={**os.environ, "HF_HUB_CACHE": str(cache), "HF_ENDPOINT": hub.url},
                          capture_output=True, text=True, timeout=120)
    if fill.returncode != 0:
        pytest.skip("huggingface_hub could not talk to the fake hub: " + fill.stderr[-300:])
    port = free_port()
    r = launcher.run("serve", "--name", "org/stories", "-c", "h2", "--cloud", "local", "--port", port,
                     env={"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stderr


def test_gated_model_without_token_says_a_token_is_needed(launcher, hub, tmp_path):
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path / "c")}
    r = launcher.run("serve", "--name", "org/gated", "-c", "h3", "--cloud", "local", env=env)
    assert r.returncode != 0
    assert "token is needed" in r.stderr and "HF_TOKEN" in r.stderr
    r = launcher.run("serve", "--name", "org/gated", "-c", "h3", "--cloud", "local", "--port", free_port(),
                     "--envs", "HF_TOKEN=hf_good_token_123", env=env)
    assert r.returncode == 0, r.stderr
    assert "hf_good_token_123" not in r.stdout + r.stderr
    assert any(h.get("Authorization") == "Bearer hf_good_token_123" for _, _, h in hub.requests)
