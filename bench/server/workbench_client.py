"""A small client of the workbench HTTP API for the bench scripts: the calls the page makes."""
import http.client, json, time
from datetime import datetime

import numpy as np
from scipy import ndimage


class Workbench:
    """One user (X-Cleave-User) and one session id talking to `cleave serve` on HOST:PORT."""

    def __init__(self, host, port, user="bench-user-0001", session="bench-session-0001"):
        self.host, self.port, self.user, self.session_id = host, int(port), user, session
        self.conn = self.connect()

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=600)

    def call(self, method, path, body=None, raw=None, content_type="application/json"):
        """Sends JSON (or raw bytes); returns the decoded JSON or the bytes. Raises on 4xx/5xx."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        self.conn.request(method, path, body=data, headers={"X-Cleave-User": self.user, "Content-Type": content_type})
        response = self.conn.getresponse()
        payload = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        if response.getheader("Content-Type", "").startswith("application/json"):
            return json.loads(payload)
        return payload

    def session(self, body):
        """`body` with the session id and the client's clock, as the page sends them."""
        return {"sessionId": self.session_id, "clientTime": datetime.utcnow().isoformat() + "Z", **body}

    def wait(self, job, poll=0.05):
        """Polls a job until it ends; returns the final job (raises unless it is done)."""
        for _ in range(200000):
            if job["state"] in ("done", "failed", "cancelled"):
                break
            time.sleep(poll)
            job = self.call("GET", f"/api/jobs/{job['id']}")
        if job["state"] != "done":
            raise RuntimeError(f"job {job.get('kind')} {job['state']}: {job.get('error')}")
        return job

    def upload(self, project_id, path):
        name = path.rsplit("/", 1)[-1]
        with open(path, "rb") as f:
            return self.call("POST", f"/api/projects/{project_id}/images?name={name}", raw=f.read(),
                             content_type="application/octet-stream")

    def ensure_classes(self, project_id, classes):
        """Creates the (value, name, colour) classes the project does not have yet; returns all."""
        existing = {c["value"] for c in self.call("GET", f"/api/projects/{project_id}/classes")["classes"]}
        for value, name, colour in classes:
            if value not in existing:
                self.call("POST", f"/api/projects/{project_id}/classes", self.session({"name": name, "colour": colour, "value": value}))
        return self.call("GET", f"/api/projects/{project_id}/classes")["classes"]


def stroke_maker(labels, rng, radius, length, values=(1, 2, 3, 4), stay_inside=True):
    """Strokes a user paints on class `value` of a label image: a short straight line of `length`
    pixels starting where a brush of `radius` fits inside the class. With `stay_inside` the whole
    stroke stays inside the class (a careful user); without, it goes where it goes (a quick one)."""
    h, w = labels.shape
    inside = {v: ndimage.binary_erosion(labels == v, structure=np.ones((2 * radius + 1,) * 2), border_value=0)
              for v in values}

    def make(value):
        ys, xs = np.nonzero(inside[value])
        if len(xs) == 0:
            ys, xs = np.nonzero(labels == value)
        for _ in range(2000):  # bounded tries
            k = rng.randrange(len(xs))
            angle = rng.uniform(0, np.pi)
            dx, dy = np.cos(angle), np.sin(angle)
            pts = [(xs[k] + dx * s, ys[k] + dy * s) for s in range(0, length, 2)]
            pts = [(x, y) for x, y in pts if 0 <= x < w and 0 <= y < h]
            if not stay_inside or all(inside[value][int(round(y)), int(round(x))] for x, y in pts):
                return [[round(float(x), 2), round(float(y), 2)] for x, y in pts]
        k = rng.randrange(len(xs))
        return [[float(xs[k]), float(ys[k])]]
    return make
