#!/usr/bin/env python3
"""Synthetic npm registry for bench/verify.sh: N packages signed with a throwaway P-256 key.

Writes DIR/keys.json (the /-/npm/v1/keys shape, the throwaway public key), DIR/project/
(package.json + package-lock.json v3 pinning every package), then serves on 127.0.0.1:PORT:
  GET /-/npm/v1/keys   -> keys.json
  GET /<name>          -> a packument with 3 versions, each with dist.integrity and a
                          registry signature over `${name}@${version}:${integrity}`
  GET /<name>/-/<file>.tgz -> the "tarball": the bytes `${name}@${version}` (what the
                          integrity hashes), so `palisade verify` checks and caches it
Everything else is 404 (no attestations: this measures signatures, integrity and downgrade
analysis). SYNTHETIC data; the real recorded vectors are in crates/palisade-verify/tests.

  python3 bench/verify_registry.py DIR PORT COUNT
"""
import base64
import hashlib
import http.server
import json
import os
import socketserver
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

out, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(os.path.join(out, "project"), exist_ok=True)
key = ec.generate_private_key(ec.SECP256R1())
spki = key.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
keyid = "SHA256:" + base64.b64encode(hashlib.sha256(spki).digest()).decode().rstrip("=")
keys = {"keys": [{"expires": None, "keyid": keyid, "keytype": "ecdsa-sha2-nistp256",
                  "scheme": "ecdsa-sha2-nistp256", "key": base64.b64encode(spki).decode()}]}
with open(os.path.join(out, "keys.json"), "w") as f:
    json.dump(keys, f)

packuments = {}
tarballs = {}
lock = {"name": "verify-bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
        "packages": {"": {"name": "verify-bench", "version": "1.0.0", "dependencies": {}}}}
for i in range(count):
    name = f"@bench/pkg-{i:05d}" if i % 5 == 0 else f"bench-pkg-{i:05d}"
    versions, times = {}, {}
    for minor in range(3):
        version = f"1.{minor}.0"
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(f"{name}@{version}".encode()).digest()).decode()
        sig = key.sign(f"{name}@{version}:{integrity}".encode(), ec.ECDSA(hashes.SHA256()))
        versions[version] = {
            "name": name, "version": version, "_npmUser": {"name": "maintainer"},
            "maintainers": [{"name": "maintainer"}],
            "dist": {"tarball": f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz",
                     "integrity": integrity,
                     "signatures": [{"keyid": keyid, "sig": base64.b64encode(sig).decode()}]},
        }
        times[version] = f"2025-0{minor + 1}-01T00:00:00.000Z"
        tarballs[f"{name}/-/{name.split('/')[-1]}-{version}.tgz"] = f"{name}@{version}".encode()
    packuments[name] = json.dumps({"name": name, "dist-tags": {"latest": "1.2.0"},
                                   "versions": versions, "time": times}).encode()
    pinned = versions["1.2.0"]
    lock["packages"][""]["dependencies"][name] = "^1.0.0"
    lock["packages"][f"node_modules/{name}"] = {
        "version": "1.2.0", "resolved": pinned["dist"]["tarball"], "integrity": pinned["dist"]["integrity"]}
with open(os.path.join(out, "project", "package-lock.json"), "w") as f:
    json.dump(lock, f)
with open(os.path.join(out, "project", "package.json"), "w") as f:
    json.dump({"name": "verify-bench", "version": "1.0.0",
               "dependencies": lock["packages"][""]["dependencies"]}, f)
keys_body = json.dumps(keys).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        from urllib.parse import unquote
        path = unquote(self.path.split("?")[0]).strip("/")
        body = keys_body if path == "-/npm/v1/keys" else packuments.get(path) or tarballs.get(path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


print("ready", flush=True)
Server(("127.0.0.1", port), Handler).serve_forever()
