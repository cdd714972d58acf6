"""tests/e2e/test_cloud_aws.py — the `aws` provider plugin end to end through `llm-atc`, against moto's EC2 in
server mode on 127.0.0.1, behind a thin proxy that can inject capacity errors and throttling.

Checks, for the seed commands' AWS variants: the instance type, tags, security-group rules, key pair, root volume
size and user data; status/stop/start/down acting on the instance; down leaving nothing of ours; zone failover;
throttling retries; dry runs; refusals before anything is created. Needs moto[server] and boto3 (tests/requirements.txt).
Environment: LLMATC_BUILD_DIR (default <repo>/build) holds llm-atc and the plugins.
"""
import base64
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

boto3 = pytest.importorskip("boto3")

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("LLMATC_BUILD_DIR", REPO_ROOT / "build"))
LAUNCHER = BUILD_DIR / "llm-atc"
REGION = "us-east-2"
HF_TOKEN = "hf_awsSecretToken77"
RUNTIME_URL = "http://127.0.0.1:9/llm-atc-runtime.tar.gz"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url():
    moto_server = shutil.which("moto_server") or str(pathlib.Path(sys.executable).parent / "moto_server")
    if not os.path.exists(moto_server):
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


class InjectingProxy:
    """Forwards EC2 Query calls to moto; `capacity_zones` make RunInstances there fail with
    InsufficientInstanceCapacity, `throttle[action] = n` answers the next n calls of action with RequestLimitExceeded."""

    def __init__(self, target):
        self.target = target
        self.capacity_zones = set()
        self.throttle = {}
        self.actions = []  # (action, params) of every call seen
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _error(self, status, code, message):
                body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>"
                        f"<Message>{message}</Message></Error></Errors><RequestID>inj</RequestID></Response>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                params = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                action = params.get("Action", "")
                proxy.actions.append((action, params))
                if proxy.throttle.get(action, 0) > 0:
                    proxy.throttle[action] -= 1
                    return self._error(503, "RequestLimitExceeded", "Request limit exceeded.")
                if action == "RunInstances" and params.get("Placement.AvailabilityZone") in proxy.capacity_zones:
                    return self._error(500, "InsufficientInstanceCapacity",
                                       "We currently do not have sufficient capacity in the Availability Zone you requested.")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                req = urllib.request.Request(proxy.target + self.path, data=raw, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        status, body = resp.status, resp.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self, action):
        return sum(1 for a, _ in self.actions if a == action)


@pytest.fixture
def proxy(moto_url):
    urllib.request.urlopen(urllib.request.Request(moto_url + "/moto-api/reset", method="POST"), timeout=10)
    p = InjectingProxy(moto_url)
    yield p
    p.stop()


@pytest.fixture
def env(tmp_path, proxy):
    home = tmp_path / "home"
    home.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    e.update({"HOME": str(home), "LLMATC_HOME": str(tmp_path / "llmatc"), "AWS_ACCESS_KEY_ID": "testing",
              "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": proxy.url, "LLMATC_CLOUD_POLL_MS": "20",
              # moto's instances are not machines: the node would fetch its runtime from here instead of the
              # launcher uploading it over SSH (that path is tested in test_bootstrap_ssh.py).
              "LLMATC_RUNTIME_URL": RUNTIME_URL})
    return e


@pytest.fixture
def ec2(moto_url):
    return boto3.client("ec2", region_name=REGION, endpoint_url=moto_url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def llm_atc(env, *args, timeout=180):
    assert LAUNCHER.is_file(), f"{LAUNCHER} not built (set LLMATC_BUILD_DIR)"
    return subprocess.run([str(LAUNCHER), *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout)


def serve(env, cluster, model, accelerator, *extra):
    return llm_atc(env, "serve", "--name", model, "-c", cluster, "--cloud", "aws", "--region", REGION,
                   "--accelerator", accelerator, "--envs", f"HF_TOKEN={HF_TOKEN}", "--detach", *extra)


def status(env):
    out = llm_atc(env, "status", "--json")
    assert out.returncode == 0, out.stderr
    return {c["name"]: c for c in json.loads(out.stdout)}


def cluster_instances(ec2, cluster, states=("pending", "running", "stopping", "stopped")):
    resp = ec2.describe_instances(Filters=[{"Name": "tag:llmatc-cluster", "Values": [cluster]},
                                           {"Name": "instance-state-name", "Values": list(states)}])
    return [i for r in resp["Reservations"] for i in r["Instances"]]


def ours_left(ec2, cluster):
    """Everything of the cluster's still in moto: live instances, its security group, its key pair."""
    groups = [g for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] == f"llmatc-{cluster}"]
    keys = [k for k in ec2.describe_key_pairs()["KeyPairs"] if k["KeyName"] == f"llmatc-{cluster}"]
    return cluster_instances(ec2, cluster), groups, keys


@pytest.mark.parametrize("accelerator, model, instance_type, disk_gib", [
    ("V100:1", "lmsys/vicuna-13b-v1.3", "p3.2xlarge", 120),
    ("A100-80GB:2", "meta-llama/Llama-2-70b-hf", "p4de.24xlarge", 380),
])
def test_seed_commands_create_the_expected_node(env, ec2, proxy, accelerator, model, instance_type, disk_gib):
    port = free_port()
    out = serve(env, "servecluster", model, accelerator, "--port", port)
    assert out.returncode == 0, out.stdout + out.stderr
    assert HF_TOKEN not in out.stdout + out.stderr

    instances = cluster_instances(ec2, "servecluster")
    assert len(instances) == 1
    inst = instances[0]
    assert inst["InstanceType"] == instance_type
    assert inst["Placement"]["AvailabilityZone"] == "us-east-2a"
    assert inst["KeyName"] == "llmatc-servecluster"
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    assert tags == {"Name": "llmatc-servecluster", "llmatc-cluster": "servecluster"}

    groups = ec2.describe_security_groups(GroupNames=["llmatc-servecluster"])["SecurityGroups"]
    assert [g["GroupId"] for g in inst["SecurityGroups"]] == [groups[0]["GroupId"]]
    rules = sorted((p["FromPort"], p["ToPort"], p["IpProtocol"]) for p in groups[0]["IpPermissions"])
    assert rules == sorted([(22, 22, "tcp"), (port, port, "tcp")])

    keys = ec2.describe_key_pairs(KeyNames=["llmatc-servecluster"])["KeyPairs"]
    assert len(keys) == 1

    root = [m for m in inst["BlockDeviceMappings"] if m["DeviceName"] == "/dev/sda1"]
    assert root, inst["BlockDeviceMappings"]
    volume = ec2.describe_volumes(VolumeIds=[root[0]["Ebs"]["VolumeId"]])["Volumes"][0]
    assert volume["Size"] == disk_gib

    user_data = ec2.describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="userData")
    script = base64.b64decode(user_data["UserData"]["Value"]).decode()
    assert script.startswith("#!/bin/bash")
    assert f"curl -fsSL '{RUNTIME_URL}'" in script
    assert f"export HF_TOKEN='{HF_TOKEN}'" in script
    assert f"'{model}'" in script and "'--port' " + f"'{port}'" in script

    st = status(env)["servecluster"]
    assert st["status"] == "INIT"  # the instance runs; no server answers at moto's made-up address
    assert HF_TOKEN not in json.dumps(st)
    ssh_config = (pathlib.Path(env["HOME"]) / ".ssh" / "config").read_text()
    assert "Host servecluster" in ssh_config

    assert llm_atc(env, "down", "servecluster").returncode == 0
    assert ours_left(ec2, "servecluster") == ([], [], [])


def test_stop_start_down_change_the_instance_and_state(env, ec2):
    assert serve(env, "life", "lmsys/vicuna-13b-v1.3", "V100:1", "--port", free_port()).returncode == 0
    (inst,) = cluster_instances(ec2, "life")
    iid = inst["InstanceId"]

    out = llm_atc(env, "stop", "life")
    assert out.returncode == 0, out.stderr
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped"
    assert status(env)["life"]["status"] == "STOPPED"
    assert "already stopped" in llm_atc(env, "stop", "life").stdout

    out = llm_atc(env, "start", "life")
    assert out.returncode == 0, out.stderr
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
    assert status(env)["life"]["status"] in ("INIT", "UP")

    out = llm_atc(env, "down", "life")
    assert out.returncode == 0, out.stderr
    assert ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
    assert ours_left(ec2, "life") == ([], [], [])
    assert "life" not in status(env)
    assert "Host life" not in (pathlib.Path(env["HOME"]) / ".ssh" / "config").read_text()


def test_capacity_errors_fail_over_to_the_next_zone(env, ec2, proxy):
    proxy.capacity_zones = {"us-east-2a"}
    out = serve(env, "fo", "lmsys/vicuna-13b-v1.3", "V100:1", "--port", free_port())
    assert out.returncode == 0, out.stdout + out.stderr
    (inst,) = cluster_instances(ec2, "fo")
    assert inst["Placement"]["AvailabilityZone"] == "us-east-2b"
    assert "us-east-2a has no capacity (InsufficientInstanceCapacity)" in out.stderr
    zones = [p.get("Placement.AvailabilityZone") for a, p in proxy.actions if a == "RunInstances"]
    assert zones == ["us-east-2a", "us-east-2b"]
    assert llm_atc(env, "down", "fo").returncode == 0


def test_no_capacity_anywhere_leaves_nothing_behind(env, ec2, proxy):
    proxy.capacity_zones = {"us-east-2a", "us-east-2b", "us-east-2c"}
    out = serve(env, "nocap", "lmsys/vicuna-13b-v1.3", "V100:1", "--port", free_port())
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert "aws" in last and "us-east-2a: InsufficientInstanceCapacity" in last and "us-east-2c" in last
    assert ours_left(ec2, "nocap") == ([], [], [])
    assert status(env)["nocap"]["status"] == "STOPPED"
    assert llm_atc(env, "down", "nocap").returncode == 0


def test_throttling_is_retried_with_backoff(env, ec2, proxy):
    proxy.throttle = {"RunInstances": 2, "DescribeImages": 1}
    out = serve(env, "thr", "lmsys/vicuna-13b-v1.3", "V100:1", "--port", free_port())
    assert out.returncode == 0, out.stdout + out.stderr
    assert proxy.count("RunInstances") == 3
    assert "throttled (RequestLimitExceeded)" in out.stderr
    assert len(cluster_instances(ec2, "thr")) == 1
    assert llm_atc(env, "down", "thr").returncode == 0


def test_dryrun_prints_the_plan_and_creates_nothing(env, ec2, proxy):
    out = llm_atc(env, "serve", "--name", "meta-llama/Llama-2-70b-hf", "-c", "dry", "--cloud", "aws", "--region",
                  REGION, "--accelerator", "A100:1", "--envs", f"HF_TOKEN={HF_TOKEN}", "--dryrun")
    assert out.returncode == 0, out.stderr
    for expected in ("p4d.24xlarge", "has 8", "us-east-2a, us-east-2b, us-east-2c", "380", "tensor_parallel_size",
                     "HF_TOKEN='****'", "LLMATC_API_KEY='****'"):
        assert expected in out.stdout, expected
    assert HF_TOKEN not in out.stdout + out.stderr
    assert proxy.actions == []
    assert "dry" not in status(env)


@pytest.mark.parametrize("accelerator, region, expected", [
    ("B200:1", REGION, "valid accelerators"),
    ("V100:1", "mars-east-1", "valid regions"),
])
def test_bad_choices_are_refused_before_anything_is_created(env, proxy, accelerator, region, expected):
    out = llm_atc(env, "serve", "--name", "lmsys/vicuna-13b-v1.3", "-c", "bad", "--cloud", "aws", "--region", region,
                  "--accelerator", accelerator, "--detach")
    assert out.returncode != 0
    assert expected in out.stderr
    assert proxy.actions == []
    assert "bad" not in status(env)  # refused before even the cluster's state was written


def test_show_accelerators_lists_the_catalog(env):
    out = llm_atc(env, "show-accelerators", "--cloud", "aws", "--region", REGION)
    assert out.returncode == 0, out.stderr
    assert "p3.2xlarge" in out.stdout and "p4de.24xlarge" in out.stdout and "us-east-2a" in out.stdout
    assert "eu-west-1" not in out.stdout.split("\n", 1)[1]
    out = llm_atc(env, "show-accelerators", "--cloud", "aws", "--region", "nowhere-1")
    assert out.returncode != 0 and "us-east-2" in out.stderr
