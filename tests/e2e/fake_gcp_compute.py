"""tests/e2e/fake_gcp_compute.py — a loopback stand-in for Google's OAuth token endpoint and the parts of the
Compute Engine v1 REST API the gcp plugin uses, written from Google's public REST reference:

  POST   /token                                                   (OAuth2 JWT-bearer grant → access_token)
  POST   /compute/v1/projects/{p}/global/firewalls                firewalls.insert → global Operation
  GET    /compute/v1/projects/{p}/global/firewalls/{name}         firewalls.get
  DELETE /compute/v1/projects/{p}/global/firewalls/{name}         firewalls.delete → global Operation
  GET    /compute/v1/projects/{p}/global/operations/{op}          globalOperations.get
  POST   /compute/v1/projects/{p}/zones/{z}/instances             instances.insert → zonal Operation
  GET    /compute/v1/projects/{p}/zones/{z}/instances/{name}      instances.get
  DELETE /compute/v1/projects/{p}/zones/{z}/instances/{name}      instances.delete → zonal Operation
  POST   /compute/v1/projects/{p}/zones/{z}/instances/{name}/stop|start
  GET    /compute/v1/projects/{p}/zones/{z}/operations/{op}       zoneOperations.get

Operations start PENDING and report DONE only after `polls_until_done` GETs, so callers must poll. Zones in
`exhausted_zones` / `quota_zones` finish instances.insert with the operation error ZONE_RESOURCE_POOL_EXHAUSTED /
QUOTA_EXCEEDED (and create nothing). Every request is recorded (method, path, JSON body) for assertions.
"""
import itertools
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCESS_TOKEN = "ya29.fake-access-token"


class FakeCompute:
    def __init__(self, nat_ip="127.0.0.1", polls_until_done=2):
        self.nat_ip = nat_ip
        self.polls_until_done = polls_until_done
        self.exhausted_zones = set()
        self.quota_zones = set()
        self.instances = {}   # (project, zone, name) -> resource dict
        self.firewalls = {}   # (project, name) -> resource dict
        self.operations = {}  # op name -> dict (with private "_polls", "_error")
        self.requests = []    # (method, path, body-or-None)
        self.assertions = []  # JWTs received at /token
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        handler = self._handler_class()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- helpers for tests ----
    def calls(self, method, pattern):
        return [(m, p, b) for (m, p, b) in self.requests if m == method and re.search(pattern, p)]

    # ---- the API ----
    def _operation(self, project, zone, op_type, target, error=None):
        name = f"operation-{next(self._ids)}"
        op = {"kind": "compute#operation", "name": name, "operationType": op_type, "status": "PENDING",
              "targetLink": target, "progress": 0, "_polls": 0, "_error": error}
        if zone:
            op["zone"] = f"{self.root}/compute/v1/projects/{project}/zones/{zone}"
        self.operations[name] = op
        return self._public(op)

    @staticmethod
    def _public(op):
        return {k: v for k, v in op.items() if not k.startswith("_")}

    def _poll(self, name):
        op = self.operations.get(name)
        if op is None:
            return None
        op["_polls"] += 1
        if op["_polls"] >= self.polls_until_done:
            op["status"] = "DONE"
            op["progress"] = 100
            if op["_error"]:
                op["error"] = {"errors": [op["_error"]]}
        else:
            op["status"] = "RUNNING"
        return self._public(op)

    def handle(self, method, path, body):
        """Returns (status, json-object)."""
        m = re.fullmatch(r"/compute/v1/projects/([^/]+)/(.*)", path)
        if not m:
            return 404, {"error": {"code": 404, "message": f"no route {path}", "errors": [{"reason": "notFound"}]}}
        project, rest = m.groups()
        if rest == "global/firewalls" and method == "POST":
            if (project, body["name"]) in self.firewalls:
                return 409, {"error": {"code": 409, "message": "already exists", "errors": [{"reason": "alreadyExists"}]}}
            self.firewalls[(project, body["name"])] = body
            return 200, self._operation(project, None, "insert", body["name"])
        m = re.fullmatch(r"global/firewalls/([^/]+)", rest)
        if m:
            key = (project, m.group(1))
            if key not in self.firewalls:
                return 404, {"error": {"code": 404, "message": "not found", "errors": [{"reason": "notFound"}]}}
            if method == "DELETE":
                del self.firewalls[key]
                return 200, self._operation(project, None, "delete", m.group(1))
            return 200, self.firewalls[key]
        m = re.fullmatch(r"(?:global|zones/[^/]+)/operations/([^/]+)", rest)
        if m and method == "GET":
            op = self._poll(m.group(1))
            return (200, op) if op else (404, {"error": {"code": 404, "errors": [{"reason": "notFound"}]}})
        m = re.fullmatch(r"zones/([^/]+)/instances", rest)
        if m and method == "POST":
            zone = m.group(1)
            if zone in self.exhausted_zones:
                return 200, self._operation(project, zone, "insert", body["name"], {
                    "code": "ZONE_RESOURCE_POOL_EXHAUSTED",
                    "message": f"The zone 'projects/{project}/zones/{zone}' does not have enough resources"})
            if zone in self.quota_zones:
                return 200, self._operation(project, zone, "insert", body["name"], {
                    "code": "QUOTA_EXCEEDED", "message": "Quota 'NVIDIA_A100_GPUS' exceeded. Limit: 0.0"})
            instance = dict(body)
            instance.update({"kind": "compute#instance", "id": str(next(self._ids)), "status": "RUNNING",
                             "zone": f"{self.root}/compute/v1/projects/{project}/zones/{zone}"})
            instance["networkInterfaces"] = [{"network": "global/networks/default", "networkIP": "10.0.0.2",
                                              "accessConfigs": [{"name": "External NAT", "type": "ONE_TO_ONE_NAT",
                                                                 "natIP": self.nat_ip}]}]
            self.instances[(project, zone, body["name"])] = instance
            return 200, self._operation(project, zone, "insert", body["name"])
        m = re.fullmatch(r"zones/([^/]+)/instances/([^/]+)(/stop|/start)?", rest)
        if m:
            zone, name, verb = m.groups()
            key = (project, zone, name)
            if key not in self.instances:
                return 404, {"error": {"code": 404, "message": f"instance {name} not found",
                                       "errors": [{"reason": "notFound"}]}}
            inst = self.instances[key]
            if method == "GET" and not verb:
                return 200, inst
            if method == "DELETE" and not verb:
                del self.instances[key]
                return 200, self._operation(project, zone, "delete", name)
            if method == "POST" and verb == "/stop":
                inst["status"] = "TERMINATED"  # GCE's name for a stopped VM
                inst["networkInterfaces"][0]["accessConfigs"][0].pop("natIP", None)
                return 200, self._operation(project, zone, "stop", name)
            if method == "POST" and verb == "/start":
                inst["status"] = "RUNNING"
                inst["networkInterfaces"][0]["accessConfigs"][0]["natIP"] = self.nat_ip
                return 200, self._operation(project, zone, "start", name)
        return 400, {"error": {"code": 400, "message": f"unsupported {method} {path}", "errors": [{"reason": "invalid"}]}}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _serve(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = urllib.parse.urlsplit(self.path).path
                with fake.lock:
                    if path == "/token" and method == "POST":
                        form = urllib.parse.parse_qs(raw.decode())
                        fake.requests.append((method, path, {k: v[0] for k, v in form.items()}))
                        if form.get("grant_type", [""])[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer":
                            return self._reply(400, {"error": "unsupported_grant_type"})
                        fake.assertions.append(form["assertion"][0])
                        return self._reply(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600,
                                                 "token_type": "Bearer"})
                    body = json.loads(raw) if raw else None
                    fake.requests.append((method, path, body))
                    if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                        return self._reply(401, {"error": {"code": 401, "message": "Request had invalid authentication",
                                                           "errors": [{"reason": "authError"}]}})
                    status, obj = fake.handle(method, path, body)
                return self._reply(status, obj)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_DELETE(self):
                self._serve("DELETE")

        return Handler
