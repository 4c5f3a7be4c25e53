"""Workbench "live update" latency (issue 17), through the HTTP API exactly as the page does it.

bench/server/live_update.sh starts a release `cleave serve` on loopback and calls
    python3 live_update.py HOST PORT IMAGE LABELS [ROUNDS]

Protocol: one project, the slice uploaded, 4 classes (POST /classes, as the page), 10 short strokes
per class painted on pixels of that class in LABELS (values 1-4), then ROUNDS times (default 15):
add one more stroke (cycling the classes), then time one live update exactly as Web/classify.js
trainAndPredict does it -- POST /train {bank: "default"} (the page's defaults: no treeCount, so
50 trees) -> follow the job over /api/jobs/{id}/events (the page's EventSource) -> POST /predict
{modelId, region} -> follow -> GET /api/predictions/{id} -- for the whole slice and, separately,
for a 512x512 region. The page's 500 ms debounce after a stroke is not counted. The labels.png
overlay the page then loads is timed on its own column.

Per update it also reports server-side times from the job JSON (createdAt/startedAt/finishedAt)
and the split of the training job seen in its event stream: rasterising + training features
(until the last "Computing training features" event, sent after each 1024-px feature block; one
block for this slice) vs forest fit + model save (from there to done). Events are pushed at most
every 0.1 s; the features event comes >0.1 s after the previous one, so it is not dropped.
"""
import http.client, json, random, statistics, sys, time
from datetime import datetime

import os
import numpy as np
import tifffile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from workbench_client import stroke_maker  # noqa: E402

HOST, PORT, IMAGE, LABELS = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 15
USER = {"X-Cleave-User": "bench-live-0001", "Content-Type": "application/json"}
SESSION = "bench-live-session"
RADIUS = 4          # pixels (the page's brush is 8 screen pixels; at 1:1 that is radius 8)
STROKE_LEN = 24     # pixels along the stroke


def connect():
    return http.client.HTTPConnection(HOST, PORT, timeout=600)


def call(conn, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers=USER)
    r = conn.getresponse()
    payload = r.read()
    if r.status >= 400:
        raise RuntimeError(f"{method} {path}: {r.status} {payload[:300]!r}")
    return json.loads(payload) if r.getheader("Content-Type", "").startswith("application/json") else payload


def session(body):
    return {"sessionId": SESSION, "clientTime": datetime.utcnow().isoformat() + "Z", **body}


def stamp(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def follow(job, t_post):
    """Follows a job over its event stream (as the page's EventSource); returns (job, stage times)."""
    terminal = ("done", "failed", "cancelled")
    stages = {}  # last arrival (seconds after t_post) of each stage text
    if job["state"] in terminal:
        return job, stages
    conn = connect()
    conn.request("GET", f"/api/jobs/{job['id']}/events", headers={"X-Cleave-User": USER["X-Cleave-User"]})
    r = conn.getresponse()
    final = None
    for _ in range(100000):  # bounded: the stream ends after a terminal state
        line = r.fp.readline()
        if not line:
            break
        line = line.decode().strip()
        if not line.startswith("data:"):
            continue
        j = json.loads(line[5:])
        stages[j.get("stage") or ""] = time.perf_counter() - t_post
        if j["state"] in terminal:
            final = j
            break
    conn.close()
    if final is None:  # stream ended early: poll, as the page does
        c = connect()
        for _ in range(6000):
            final = call(c, "GET", f"/api/jobs/{job['id']}")
            if final["state"] in terminal:
                break
            time.sleep(0.05)
    if final["state"] != "done":
        raise RuntimeError(f"job {job['kind']} {final['state']}: {final.get('error')}")
    return final, stages


def live_update(conn, image, region):
    t0 = time.perf_counter()
    job = call(conn, "POST", f"/api/images/{image['id']}/train", session({"bank": "default"}))
    trained, stages = follow(job, t0)
    t1 = time.perf_counter()
    job = call(conn, "POST", f"/api/images/{image['id']}/predict",
               session({"modelId": trained["result"]["modelId"], "region": region}))
    predicted, _ = follow(job, t1)
    prediction = call(conn, "GET", f"/api/predictions/{predicted['result']['predictionId']}")
    t2 = time.perf_counter()
    call(conn, "GET", f"/api/predictions/{prediction['id']}/labels.png?opacity=1")
    t3 = time.perf_counter()
    # Training features are reported once per 1024-px block, after the block (one block here), so
    # the last such event ends rasterising + features; the rest of the job is the forest fit + save.
    forest_at = stages.get("Computing training features")
    return {
        "total": t2 - t0, "train": t1 - t0, "predict": t2 - t1, "png": t3 - t2,
        "train_server": stamp(trained["finishedAt"]) - stamp(trained["startedAt"]),
        "predict_server": stamp(predicted["finishedAt"]) - stamp(predicted["startedAt"]),
        "queue": (stamp(trained["startedAt"]) - stamp(trained["createdAt"]))
                 + (stamp(predicted["startedAt"]) - stamp(predicted["createdAt"])),
        "features": forest_at if forest_at is not None else float("nan"),
        "forest": (t1 - t0 - forest_at) if forest_at is not None else float("nan"),
        "stages": stages,
    }


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    rng = random.Random(17)
    labels = tifffile.imread(LABELS)
    make = stroke_maker(labels, rng, RADIUS, STROKE_LEN)
    conn = connect()
    project = call(conn, "POST", "/api/projects", {"name": "live-update-bench"})
    with open(IMAGE, "rb") as f:
        body = f.read()
    name = IMAGE.rsplit("/", 1)[-1]
    conn.request("POST", f"/api/projects/{project['id']}/images?name={name}", body=body,
                 headers={"X-Cleave-User": USER["X-Cleave-User"], "Content-Type": "application/octet-stream"})
    r = conn.getresponse()
    image = json.loads(r.read())
    if r.status != 201:
        raise RuntimeError(f"upload: {r.status} {image}")
    W, H = image["width"], image["height"]
    existing = {c["value"] for c in call(conn, "GET", f"/api/projects/{project['id']}/classes")["classes"]}
    for value, cname, colour in [(1, "pore", "#1f77b4"), (2, "quartz", "#ff7f0e"), (3, "bright", "#2ca02c"), (4, "clay", "#d62728")]:
        if value not in existing:
            call(conn, "POST", f"/api/projects/{project['id']}/classes", session({"name": cname, "colour": colour, "value": value}))
    classes = call(conn, "GET", f"/api/projects/{project['id']}/classes")["classes"]

    def add_stroke(value):
        call(conn, "POST", f"/api/images/{image['id']}/strokes",
             {"sessionId": SESSION, "class": value, "radius": RADIUS, "points": make(value)})

    for _ in range(10):
        for value in (1, 2, 3, 4):
            add_stroke(value)
    whole = {"x": 0, "y": 0, "width": W, "height": H}
    half = {"x": (W - 512) // 2, "y": (H - 512) // 2, "width": 512, "height": 512}
    print(f"image {name} {W}x{H}, classes {[c['value'] for c in classes]}, 40 strokes radius {RADIUS} "
          f"+ 1 per round, {ROUNDS} rounds; bank default, 50 trees (page defaults)", flush=True)
    live_update(conn, image, whole)  # warm-up (decode cache, model cache), not counted
    runs = {"whole": [], "512": []}
    for i in range(ROUNDS):
        add_stroke(1 + i % 4)
        for key, region in (("whole", whole), ("512", half)):
            m = live_update(conn, image, region)
            runs[key].append(m)
            print(f"round {i + 1:2d} {key:5s} total {m['total']:.3f} s = train {m['train']:.3f} "
                  f"(features ~{m['features']:.2f}, forest ~{m['forest']:.2f}) + predict {m['predict']:.3f}; "
                  f"server train {m['train_server']:.3f} predict {m['predict_server']:.3f} queue {m['queue']:.3f}; "
                  f"labels.png {m['png']:.3f}", flush=True)
            if i == 0:
                print("  train job events (s after POST):", {k: round(v, 3) for k, v in m["stages"].items()}, flush=True)
    strokes = call(conn, "GET", f"/api/images/{image['id']}/strokes")["strokes"]
    print(f"\nstrokes at the end: {len(strokes)}")
    print("| region | total median | total p90 | train (client) | features ~ | forest ~ | predict (client) | "
          "train job (server) | predict job (server) | queue | labels.png |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key, label in (("whole", f"whole slice {W}x{H}"), ("512", "512x512")):
        ms = runs[key]
        med = lambda f: statistics.median(m[f] for m in ms)
        print(f"| {label} | {med('total'):.3f} s | {pct([m['total'] for m in ms], 90):.3f} s | {med('train'):.3f} | "
              f"{med('features'):.2f} | {med('forest'):.2f} | {med('predict'):.3f} | {med('train_server'):.3f} | "
              f"{med('predict_server'):.3f} | {med('queue'):.3f} | {med('png'):.3f} |")


if __name__ == "__main__":
    main()
