"""tests/e2e/test_cloud_gcp.py — the `gcp` provider plugin end to end through `llm-atc`, against the loopback
Compute Engine stand-in in fake_gcp_compute.py: request bodies (machine type, accelerators, scheduling, metadata,
labels, disk, firewall), operation polling, zone failover, stop/start/down, the service-account JWT (verified with
the key's public half), dry runs and refusals.

Environment: LLMATC_BUILD_DIR (default <repo>/build) holds llm-atc and the plugins.
"""
import base64
import json
import os
import pathlib
import socket
import subprocess
import time

import pytest

from fake_gcp_compute import FakeCompute

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("LLMATC_BUILD_DIR", REPO_ROOT / "build"))
LAUNCHER = BUILD_DIR / "llm-atc"
HF_TOKEN = "hf_gcpSecretToken42"

cryptography = pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fake():
    f = FakeCompute().start()
    yield f
    f.stop()


@pytest.fixture
def key_pair():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def env(tmp_path, fake, key_pair):
    pem = key_pair.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps({
        "type": "service_account", "project_id": "llmatc-test", "private_key_id": "k1", "private_key": pem,
        "client_email": "launcher@llmatc-test.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": fake.root + "/token"}))
    home = tmp_path / "home"
    home.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_", "AWS_"))}
    e.update({"HOME": str(home), "LLMATC_HOME": str(tmp_path / "llmatc"), "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
              "LLMATC_GCP_COMPUTE_ENDPOINT": fake.root + "/compute/v1", "LLMATC_CLOUD_POLL_MS": "20",
              # The fake's instances are not machines: the node would fetch its runtime from here instead of the
              # launcher uploading it over SSH (that path is tested in test_bootstrap_ssh.py).
              "LLMATC_RUNTIME_URL": "http://127.0.0.1:9/llm-atc-runtime.tar.gz"})
    return e


def llm_atc(env, *args, timeout=120):
    assert LAUNCHER.is_file(), f"{LAUNCHER} not built (set LLMATC_BUILD_DIR)"
    return subprocess.run([str(LAUNCHER), *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout)


def serve(env, cluster, *extra):
    return llm_atc(env, "serve", "--name", "lmsys/vicuna-13b-v1.3", "-c", cluster, "--cloud", "gcp",
                   "--envs", f"HF_TOKEN={HF_TOKEN}", "--detach", *extra)


def status(env):
    out = llm_atc(env, "status", "--json")
    assert out.returncode == 0, out.stderr
    return {c["name"]: c for c in json.loads(out.stdout)}


def b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_seed_command_creates_the_documented_instance(env, fake, key_pair):
    port = free_port()
    out = serve(env, "servecluster", "--accelerator", "A100:1", "--region", "asia-southeast1", "--port", port)
    assert out.returncode == 0, out.stdout + out.stderr
    assert HF_TOKEN not in out.stdout + out.stderr

    firewall = fake.calls("POST", r"/global/firewalls$")
    assert len(firewall) == 1
    fw = firewall[0][2]
    assert fw["allowed"] == [{"IPProtocol": "tcp", "ports": ["22", str(port)]}]
    assert fw["direction"] == "INGRESS" and fw["targetTags"] == ["llmatc-servecluster"]

    inserts = fake.calls("POST", r"/zones/[^/]+/instances$")
    assert len(inserts) == 1
    method, path, body = inserts[0]
    assert path == "/compute/v1/projects/llmatc-test/zones/asia-southeast1-b/instances"
    assert body["machineType"] == "zones/asia-southeast1-b/machineTypes/a2-highgpu-1g"
    assert body["guestAccelerators"] == [{"acceleratorType": "zones/asia-southeast1-b/acceleratorTypes/nvidia-tesla-a100",
                                          "acceleratorCount": 1}]
    assert body["scheduling"]["onHostMaintenance"] == "TERMINATE"
    assert body["labels"] == {"llmatc-cluster": "servecluster"}
    assert body["tags"]["items"] == ["llmatc-servecluster"]
    disk = body["disks"][0]
    assert disk["boot"] and disk["autoDelete"]
    assert disk["initializeParams"]["diskSizeGb"] == "120"  # 13B at fp16: 2.5 x 24.2 GiB + 50, rounded up to 10
    metadata = {i["key"]: i["value"] for i in body["metadata"]["items"]}
    script = metadata["startup-script"]
    assert f"export HF_TOKEN='{HF_TOKEN}'" in script  # the node needs it; it goes only to the cloud
    assert "LLMATC_API_KEY=" in script
    assert "'serve'" in script and "'lmsys/vicuna-13b-v1.3'" in script
    assert metadata["ssh-keys"].split(":", 1)[1].startswith("ssh-ed25519 ")

    # The operation was polled until DONE, not taken as done from the insert's answer.
    assert len(fake.calls("GET", r"/zones/asia-southeast1-b/operations/")) >= 2

    # The JWT grant: RS256 over header.payload with the key's private half, the documented claims.
    assert len(fake.assertions) >= 1
    header_b64, payload_b64, signature_b64 = fake.assertions[0].split(".")
    key_pair.public_key().verify(b64url_decode(signature_b64), f"{header_b64}.{payload_b64}".encode(),
                                 padding.PKCS1v15(), hashes.SHA256())
    header = json.loads(b64url_decode(header_b64))
    claims = json.loads(b64url_decode(payload_b64))
    assert header["alg"] == "RS256"
    assert claims["iss"] == "launcher@llmatc-test.iam.gserviceaccount.com"
    assert claims["aud"] == fake.root + "/token"
    assert "https://www.googleapis.com/auth/cloud-platform" in claims["scope"]
    assert claims["exp"] - claims["iat"] == 3600

    st = status(env)["servecluster"]
    assert st["status"] == "INIT"  # running, but no server answers on the fake address
    ssh_config = (pathlib.Path(env["HOME"]) / ".ssh" / "config").read_text()
    assert "Host servecluster" in ssh_config and "HostName 127.0.0.1" in ssh_config


def test_stop_start_down_act_on_the_instance(env, fake):
    assert serve(env, "c1", "--accelerator", "L4:1", "--region", "us-central1", "--port", free_port()).returncode == 0
    key = ("llmatc-test", "us-central1-a", "llmatc-c1")
    assert fake.instances[key]["status"] == "RUNNING"

    out = llm_atc(env, "stop", "c1")
    assert out.returncode == 0, out.stderr
    assert fake.instances[key]["status"] == "TERMINATED"
    assert status(env)["c1"]["status"] == "STOPPED"

    out = llm_atc(env, "start", "c1")
    assert out.returncode == 0, out.stderr
    assert fake.instances[key]["status"] == "RUNNING"
    assert len(fake.calls("POST", r"/instances/llmatc-c1/start$")) == 1

    out = llm_atc(env, "down", "c1")
    assert out.returncode == 0, out.stderr
    assert fake.instances == {} and fake.firewalls == {}
    assert "c1" not in status(env)


def test_exhausted_and_quota_zones_fail_over(env, fake):
    fake.exhausted_zones = {"us-central1-a"}
    fake.quota_zones = {"us-central1-b"}
    out = serve(env, "fo", "--accelerator", "A100:1", "--region", "us-central1", "--port", free_port())
    assert out.returncode == 0, out.stdout + out.stderr
    assert list(fake.instances) == [("llmatc-test", "us-central1-c", "llmatc-fo")]
    tried = [p for (m, p, b) in fake.calls("POST", r"/instances$")]
    assert [p.split("/")[6] for p in tried] == ["us-central1-a", "us-central1-b", "us-central1-c"]
    assert "us-central1-a: ZONE_RESOURCE_POOL_EXHAUSTED" in out.stderr
    assert "us-central1-b: QUOTA_EXCEEDED" in out.stderr


def test_all_zones_exhausted_fails_cleanly(env, fake):
    fake.exhausted_zones = {"us-central1-a", "us-central1-c"}
    out = serve(env, "nocap", "--accelerator", "A100-80GB:2", "--region", "us-central1", "--port", free_port())
    assert out.returncode != 0
    message = out.stderr.strip().splitlines()[-1]
    assert "gcp" in message and "us-central1-a: ZONE_RESOURCE_POOL_EXHAUSTED" in message
    assert "us-central1-c: ZONE_RESOURCE_POOL_EXHAUSTED" in message
    assert fake.instances == {} and fake.firewalls == {}
    assert status(env)["nocap"]["status"] == "STOPPED"


def test_failover_lands_in_the_next_zone(env, fake):
    fake.exhausted_zones = {"us-central1-a"}
    out = serve(env, "fo2", "--accelerator", "A100:2", "--region", "us-central1", "--port", free_port())
    assert out.returncode == 0, out.stdout + out.stderr
    assert list(fake.instances) == [("llmatc-test", "us-central1-b", "llmatc-fo2")]
    assert fake.instances[("llmatc-test", "us-central1-b", "llmatc-fo2")]["machineType"].endswith("/a2-highgpu-2g")
    assert "us-central1-a: ZONE_RESOURCE_POOL_EXHAUSTED" in out.stderr
    assert status(env)["fo2"]["zone"] == "us-central1-b"


def test_dryrun_prints_the_plan_and_creates_nothing(env, fake):
    out = llm_atc(env, "serve", "--name", "lmsys/vicuna-13b-v1.3", "-c", "dry", "--cloud", "gcp", "--accelerator",
                  "A100:1", "--region", "asia-southeast1", "--envs", f"HF_TOKEN={HF_TOKEN}", "--dryrun")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for expected in ("a2-highgpu-1g", "asia-southeast1-b, asia-southeast1-c", "disk_gib", "120", "hourly_price",
                     "bootstrap script", "HF_TOKEN='****'"):
        assert expected in text, expected
    assert HF_TOKEN not in text + out.stderr
    assert fake.requests == []
    assert "dry" not in status(env)


@pytest.mark.parametrize("args, expected", [
    (["--accelerator", "B200:1", "--region", "us-central1"], "valid accelerators"),
    (["--accelerator", "A100:1", "--region", "moon-1"], "valid regions"),
    (["--accelerator", "A100:1", "--region", "us-central1", "--zone", "us-central1-z"], "valid zones"),
    (["--accelerator", "V100:1", "--region", "asia-southeast1"], "regions with it"),
])
def test_bad_choices_are_refused_before_anything_is_created(env, fake, args, expected):
    out = serve(env, "bad", *args)
    assert out.returncode != 0
    assert expected in out.stderr
    assert fake.requests == []
    assert "bad" not in status(env)  # refused before even the cluster's state was written
