#!/usr/bin/env python3
"""A lab's worth of annotators against one `cleave serve` with accounts (issue 23's load test).

    python3 bench/server/annotators.py [CLEAVE_BINARY] [--annotators=50] [--seconds=180]
                                       [--database=postgres://…] [--jobs=1] [--train=no]

Starts the server itself (scratch data directory, accounts on, loopback), makes an owner and N
annotator accounts (`cleave user add`, password on standard input), five projects with one
1024 × 1024 16-bit image and three classes each, and the annotators as members, ten to a project.
Each annotator is one thread with its own keep-alive connection, session cookie and CSRF token,
doing what people do at the page, with 0.2–1.0 s of thought between actions:
  pan      6 tiles of a random level and place (GET tiles),
  paint    a stroke (POST strokes) and its event (POST events),
  reload   the image's strokes (GET strokes),
  train    at most once a minute: a 10-tree forest (POST train), its job polled while painting on.
At the end every stroke the server acknowledged (201 with an id) must be listed, active, on its
image: no lost stroke. Prints, per route, the count, errors (status ≥ 400 or no answer), p50 and
p99 latency as the client saw them, and the server's peak RSS and CPU time.

Last line: "annotators: N requests, E errors, L lost strokes".
"""
import http.client
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import tifffile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..", "Tests", "browser"))
from served import ServedCleave  # noqa: E402

args = [a for a in sys.argv[1:] if not a.startswith("--")]
options = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
BIN = os.path.realpath(args[0] if args else ".build/release/cleave")
ANNOTATORS = int(options.get("annotators", 50))
SECONDS = float(options.get("seconds", 180))
DATABASE = options.get("database")
JOBS = options.get("jobs", "1")
TRAIN = options.get("train", "yes") != "no"
PASSWORD = "annotators load test"
PROJECTS = 5


class Client:
    """One signed-in user: keep-alive connection, session cookie, CSRF token, latency records."""

    def __init__(self, port, name):
        self.port, self.name, self.cookie, self.csrf = port, name, None, None
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.records = []   # (route, seconds, ok)
        self.failures = []  # the first few refusals, to show

    def call(self, route, method, path, body=None, raw=None, content_type="application/json"):
        headers = {}
        if self.cookie:
            headers["Cookie"] = f"cleave_session={self.cookie}"
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.records.append((route, time.perf_counter() - started, False))
            return None, None, None
        self.records.append((route, time.perf_counter() - started, status < 400))
        if status >= 400 and len(self.failures) < 5:
            self.failures.append(f"{method} {path}: {status} {payload[:200]!r}")
        parsed = payload
        if "json" in (response.getheader("Content-Type") or ""):
            parsed = json.loads(payload)
        return status, parsed, response

    def sign_in(self):
        status, body, response = self.call("POST session", "POST", "/api/session", {"name": self.name, "password": PASSWORD})
        if status != 200:
            raise SystemExit(f"annotators: {self.name} could not sign in ({status}: {body!r})")
        cookie = response.getheader("Set-Cookie") or ""
        self.cookie = cookie.split("cleave_session=", 1)[1].split(";", 1)[0]
        self.csrf = body["csrfToken"]


def synthetic_tile(seed):
    """A 1024 × 1024 16-bit TEM-like tile: film, grid-bar band, bright round particles, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:1024, 0:1024]
    image = np.full((1024, 1024), 20000.0)
    image[:, :120] = 4000.0
    for _ in range(40):
        cy, cx, r = rng.integers(60, 964), rng.integers(180, 964), rng.integers(8, 30)
        image[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = 42000.0
    image += rng.normal(0, 1500, image.shape)
    return np.clip(image, 0, 65535).astype(np.uint16)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def annotator(client, image, deadline, rng, acknowledged, lock):
    levels = image["levelCount"]
    tile = image["tileSize"]
    session = f"{client.name}-session"
    last_train, job, painted = 0.0, None, set()
    while time.time() < deadline:
        time.sleep(rng.uniform(0.2, 1.0))
        action = rng.random()
        if job is not None:
            status, state, _ = client.call("GET job", "GET", f"/api/jobs/{job}")
            if status != 200 or state["state"] in ("done", "failed", "cancelled"):
                job = None
        if action < 0.55:
            level = rng.randrange(levels)
            size = max(1, -(-(1024 >> level) // tile))
            for _ in range(6):
                client.call("GET tile", "GET", f"/api/images/{image['id']}/tiles/{level}/{rng.randrange(size)}/{rng.randrange(size)}.png")
        elif action < 0.90:
            value = rng.choice((1, 2, 3))
            x0, y0 = rng.uniform(130, 1000), rng.uniform(20, 1000)
            points = [[round(x0 + 3 * i, 1), round(y0 + 2 * i, 1)] for i in range(8)]
            status, stroke, _ = client.call("POST strokes", "POST", f"/api/images/{image['id']}/strokes",
                                            {"sessionId": session, "class": value, "radius": 3, "points": points})
            if status == 201:
                painted.add(value)
                with lock:
                    acknowledged.setdefault(image["id"], set()).add(stroke["id"])
            client.call("POST events", "POST", "/api/events",
                        {"events": [{"sessionId": session, "imageId": image["id"], "type": "stroke",
                                     "payload": {"class": value, "points": len(points)}}]})
        elif action < 0.95:
            client.call("GET strokes", "GET", f"/api/images/{image['id']}/strokes")
        elif TRAIN and job is None and len(painted) >= 2 and time.time() - last_train > 60:
            status, started, _ = client.call("POST train", "POST", f"/api/images/{image['id']}/train",
                                             {"sessionId": session, "treeCount": 10})
            if status in (200, 202):
                job, last_train = started["id"], time.time()


def main():
    if not os.access(BIN, os.X_OK):
        raise SystemExit(f"annotators: no cleave binary at {BIN}")
    scratch = tempfile.mkdtemp(prefix="cleave-annotators-")
    data = os.path.join(scratch, "data")
    os.makedirs(data)
    names = ["owner"] + [f"annotator{i:02d}" for i in range(ANNOTATORS)]
    for i, name in enumerate(names):
        extra = ["--admin"] if i == 0 else []
        database = ["--database", DATABASE] if DATABASE else []
        subprocess.run([BIN, "user", "add", name, "--data", data, *database, *extra], input=PASSWORD + "\n", text=True,
                       check=True, capture_output=True, timeout=120)
    extra = ["--jobs", JOBS] + (["--database", DATABASE] if DATABASE else [])
    server = ServedCleave(BIN, data, extra, probe="/api/openapi.json", name="annotators")
    server.start()
    try:
        owner = Client(server.port, "owner")
        owner.sign_in()
        images = []
        for p in range(PROJECTS):
            _, project, _ = owner.call("setup", "POST", "/api/projects", {"name": f"group {p}"})
            buffer = io.BytesIO()
            tifffile.imwrite(buffer, synthetic_tile(p))
            status, image, _ = owner.call("setup", "POST", f"/api/projects/{project['id']}/images?name=tile{p}.tif",
                                          raw=buffer.getvalue(), content_type="application/octet-stream")
            if status != 201 and status != 200:
                raise SystemExit(f"annotators: upload failed ({status}: {image!r})")
            for name in ("particle", "film", "bar"):
                owner.call("setup", "POST", f"/api/projects/{project['id']}/classes", {"name": name})
            images.append(image)
            for name in names[1 + p::PROJECTS]:
                owner.call("setup", "POST", f"/api/projects/{project['id']}/members", {"name": name, "role": "annotator"})
        clients = [Client(server.port, name) for name in names[1:]]
        for client in clients:
            client.sign_in()
        acknowledged, lock = {}, threading.Lock()
        deadline = time.time() + SECONDS
        started = time.time()
        threads = [threading.Thread(target=annotator,
                                    args=(client, images[i % PROJECTS], deadline, random.Random(i), acknowledged, lock))
                   for i, client in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.time() - started
        lost = 0
        for image_id, ids in acknowledged.items():
            _, listed, _ = owner.call("check", "GET", f"/api/images/{image_id}/strokes")
            active = {s["id"] for s in listed["strokes"] if s["state"] == "active"}
            lost += len(ids - active)
        with open(f"/proc/{server.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        records = [r for c in clients for r in c.records if r[0] != "POST session"]
        routes = sorted({r[0] for r in records})
        print(f"annotators: {ANNOTATORS} annotators, {took:.0f} s, database "
              f"{'PostgreSQL' if DATABASE else 'SQLite'}, --jobs {JOBS}, load {os.getloadavg()[0]:.1f}")
        print("| route | requests | errors | p50 ms | p99 ms |")
        print("|---|---|---|---|---|")
        for route in routes:
            times = [t for r, t, _ in records if r == route]
            errors = sum(1 for r, _, ok in records if r == route and not ok)
            print(f"| {route} | {len(times)} | {errors} | {1000 * percentile(times, 50):.1f} | {1000 * percentile(times, 99):.1f} |")
        strokes = sum(len(ids) for ids in acknowledged.values())
        print(f"annotators: {strokes} strokes acknowledged, {lost} missing afterwards; "
              f"server peak RSS {server.peak_rss_mb():.0f} MB, CPU {cpu:.1f} s")
        errors = sum(1 for _, _, ok in records if not ok)
        for failure in [f for c in clients for f in c.failures][:10]:
            print(f"annotators: refused: {failure}")
        print(f"annotators: {len(records)} requests, {errors} errors, {lost} lost strokes")
        return 0 if errors == 0 and lost == 0 else 1
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
