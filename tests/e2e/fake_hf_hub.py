"""tests/e2e/fake_hf_hub.py — a loopback server speaking the Hugging Face Hub's file API for tests.

Serves folders as model repos at one fixed commit:
  GET  /api/models/{org}/{name}/revision/{rev}  → {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD/GET /{org}/{name}/resolve/{rev}/{file}   → small files: 200 with ETag (a git-style sha1); large files (LFS):
                                                   302 to an absolute /cdn/{sha256} URL (as the real CDN redirect is) with X-Linked-Etag and X-Linked-Size
  GET  /cdn/{sha256}                            → the bytes, honouring Range
Gated repos answer 401 unless `Authorization: Bearer <token>` carries the token given. Requests are recorded.
Run standalone: python fake_hf_hub.py org/name=DIR ...   (prints its URL; set HF_ENDPOINT to it)
"""
import hashlib
import http.server
import json
import pathlib
import sys
import threading

LFS_THRESHOLD = 10_000


class Repo:
    def __init__(self, folder, gated_token=None):
        self.folder = pathlib.Path(folder)
        self.files = sorted(str(p.relative_to(self.folder)) for p in self.folder.rglob("*") if p.is_file())
        self.sha = hashlib.sha1("".join(self.files).encode() + str(self.folder).encode()).hexdigest()
        self.gated_token = gated_token


class FakeHub:
    def __init__(self):
        self.repos = {}
        self.blobs = {}  # sha256 → path
        self.requests = []  # (method, path, headers dict)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def add_repo(self, repo_id, folder, gated_token=None):
        repo = Repo(folder, gated_token)
        self.repos[repo_id] = repo
        for f in repo.files:
            data = (repo.folder / f).read_bytes()
            self.blobs[hashlib.sha256(data).hexdigest()] = repo.folder / f
        return repo

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(hub):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body=b"", headers=None, send_body=True):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, str(v))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def _authorized(self, repo):
                return repo.gated_token is None or self.headers.get("Authorization") == f"Bearer {repo.gated_token}"

            def _find_repo(self, parts):
                repo_id = "/".join(parts[:2])
                return repo_id, hub.repos.get(repo_id)

            def _serve(self, send_body):
                hub.requests.append((self.command, self.path, dict(self.headers)))
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[:2] == ["api", "models"]:
                    repo_id, repo = self._find_repo(parts[2:])
                    if repo is None:
                        return self._send(401, b'{"error":"Repository not found"}')
                    if not self._authorized(repo):
                        return self._send(401, b'{"error":"Access to model is restricted"}')
                    body = json.dumps({"id": repo_id, "sha": repo.sha,
                                       "siblings": [{"rfilename": f} for f in repo.files]}).encode()
                    return self._send(200, body, {"Content-Type": "application/json"}, send_body)
                if parts[0] == "cdn" and len(parts) == 2 and parts[1] in hub.blobs:
                    data = hub.blobs[parts[1]].read_bytes()
                    rng = self.headers.get("Range")
                    if rng and rng.startswith("bytes="):
                        start = int(rng[6:].split("-")[0])
                        if start >= len(data):
                            return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"}, send_body)
                        return self._send(206, data[start:], {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"},
                                          send_body)
                    return self._send(200, data, {}, send_body)
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo_id, repo = self._find_repo(parts)
                    file = "/".join(parts[4:])
                    if repo is None or not self._authorized(repo):
                        return self._send(401, b"")
                    if parts[3] not in (repo.sha, "main") or file not in repo.files:
                        return self._send(404, b"")
                    data = (repo.folder / file).read_bytes()
                    headers = {"X-Repo-Commit": repo.sha}
                    if len(data) >= LFS_THRESHOLD:
                        sha256 = hashlib.sha256(data).hexdigest()
                        headers.update({"X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": len(data),
                                        "Location": f"{hub.url}/cdn/{sha256}", "ETag": '"redirect"'})
                        return self._send(302, b"", headers, send_body)
                    headers["ETag"] = '"' + hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() + '"'
                    return self._send(200, data, headers, send_body)
                return self._send(404, b"")

            def do_GET(self):
                self._serve(True)

            def do_HEAD(self):
                self._serve(False)

        return Handler


if __name__ == "__main__":
    hub = FakeHub()
    for spec in sys.argv[1:]:
        rid, folder = spec.split("=", 1)
        hub.add_repo(rid, folder)
    print(hub.url, flush=True)
    hub.server.serve_forever()
