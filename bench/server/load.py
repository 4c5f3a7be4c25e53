"""Loopback load for `cleave serve` (bench/server/run.sh starts the server and passes its pid).

Measures, in one run:
  1. tile serving: tiles/s and latency percentiles with 32 concurrent keep-alive clients
     (cold = first render of each tile, warm = served from the tile cache);
  2. re-cluster round trip on a 4096² image with cached features (POST cluster -> job done ->
     clustering JSON, and the same plus the overlay PNG), p50/p95 over 20 runs;
  3. responsiveness: tile latency while a feature-computing cluster job runs;
  4. a 2 GiB upload: peak server RSS (sampled every 20 ms from /proc) vs the baseline.
"""
import http.client, json, os, random, struct, sys, threading, time

HOST, PORT, PID, IMAGE, WORK = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
USER = {"X-Cleave-User": "bench-user-0001", "Content-Type": "application/json"}
SESSION = "bench-session-01"


def connect():
    return http.client.HTTPConnection(HOST, PORT, timeout=600)


def call(conn, method, path, body=None, headers=USER):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    payload = r.read()
    if r.status >= 400:
        raise RuntimeError(f"{method} {path}: {r.status} {payload[:200]!r}")
    return json.loads(payload) if r.getheader("Content-Type", "").startswith("application/json") else payload


def parse(stamp):
    from datetime import datetime
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def rss_kib(field="VmRSS"):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def upload(conn, project, path, name):
    size = os.path.getsize(path)
    conn.putrequest("POST", f"/api/projects/{project}/images?name={name}")
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("X-Cleave-User", USER["X-Cleave-User"])   # required on every state-changing request
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            conn.send(chunk)
    r = conn.getresponse()
    body = r.read()
    if r.status != 201:
        raise RuntimeError(f"upload {name}: {r.status} {body[:300]!r}")
    return json.loads(body)


def tile_load(urls, seconds, clients=32):
    latencies, lock, stop = [], threading.Lock(), time.perf_counter() + seconds
    errors = [0]

    def worker(seed):
        rng = random.Random(seed)
        conn, mine = connect(), []
        while time.perf_counter() < stop:
            url = rng.choice(urls)
            t0 = time.perf_counter()
            conn.request("GET", url)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors[0] += 1
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    return latencies, time.perf_counter() - t0, errors[0]


def wait_job_end(conn, job):
    while call(conn, "GET", f"/api/jobs/{job['id']}")["state"] not in ("done", "failed", "cancelled"):
        time.sleep(0.1)


def wait_job(conn, job):
    while True:
        state = call(conn, "GET", f"/api/jobs/{job['id']}")
        if state["state"] in ("done", "failed", "cancelled"):
            if state["state"] != "done":
                raise RuntimeError(f"job {state['kind']} {state['state']}: {state.get('error')}")
            return state
        time.sleep(0.002)


def main():
    conn = connect()
    project = call(conn, "POST", "/api/projects", {"name": "bench"})["id"]
    image = upload(conn, project, IMAGE, "bench-4096.tif")
    iid, levels = image["id"], image["levelCount"]
    print(f"image {image['width']}x{image['height']} {image['pixelType']}, {levels} levels")
    urls = []
    for level in range(levels):
        span = 256 << level
        for y in range((image["height"] + span - 1) // span):
            for x in range((image["width"] + span - 1) // span):
                urls.append(f"/api/images/{iid}/tiles/{level}/{x}/{y}.png")
    call(conn, "GET", f"/api/images/{iid}/window")   # decode + window once

    # 1. Tiles: every tile once (cold: rendered and cached), then random warm load.
    t0 = time.perf_counter()
    cold, lock = [], threading.Lock()
    chunks = [urls[i::32] for i in range(32)]

    def cold_worker(mine):
        c = connect()
        for url in mine:
            s = time.perf_counter(); c.request("GET", url); c.getresponse().read()
            with lock: cold.append(time.perf_counter() - s)
    threads = [threading.Thread(target=cold_worker, args=(ch,)) for ch in chunks]
    for t in threads: t.start()
    for t in threads: t.join()
    cold_s = time.perf_counter() - t0
    print(f"tiles cold : {len(urls)} tiles in {cold_s:.2f} s = {len(urls)/cold_s:.0f} tiles/s, "
          f"p50 {pct(cold,50)*1e3:.1f} ms, p99 {pct(cold,99)*1e3:.1f} ms (32 clients, first render + PNG encode)")
    lat, wall, errors = tile_load(urls, 10)
    print(f"tiles warm : {len(lat)} requests in {wall:.1f} s = {len(lat)/wall:.0f} tiles/s, "
          f"p50 {pct(lat,50)*1e3:.1f} ms, p99 {pct(lat,99)*1e3:.1f} ms, errors {errors} (32 keep-alive clients)")

    # 2. Re-cluster with cached features.
    for name, base in [("grid 64x64", {"mode": "grid", "gridRows": 64, "gridColumns": 64}),
                       ("window 33/16", {"mode": "window", "windowSize": 33, "windowStride": 16})]:
        body = dict(base, sessionId=SESSION, clusterCount=4, seed=1)
        t0 = time.perf_counter()
        first = wait_job(conn, call(conn, "POST", f"/api/images/{iid}/cluster", body))
        first_s = time.perf_counter() - t0
        trips, trips_overlay, jobs = [], [], []
        for i in range(20):
            body["clusterCount"] = 2 + i % 7
            t0 = time.perf_counter()
            job = wait_job(conn, call(conn, "POST", f"/api/images/{iid}/cluster", body))
            clustering = call(conn, "GET", f"/api/clusterings/{job['result']['clusteringId']}")
            trips.append(time.perf_counter() - t0)
            jobs.append(job)
            assert clustering["featuresCached"], clustering
            call(conn, "GET", f"/api/clusterings/{clustering['id']}/overlay.png?opacity=0.5")
            trips_overlay.append(time.perf_counter() - t0)
        job_ms = [1e3 * (parse(j["finishedAt"]) - parse(j["startedAt"])) for j in jobs]
        print(f"  server-side job time p50 {pct(job_ms,50):.0f} ms; last run's stages (s): "
              + ", ".join(f"{k} {v:.3f}" for k, v in sorted(clustering["timings"].items())))
        print(f"re-cluster {name}: first run (features) {first_s*1e3:.0f} ms; cached: p50 {pct(trips,50)*1e3:.0f} ms, "
              f"p95 {pct(trips,95)*1e3:.0f} ms; with overlay PNG p50 {pct(trips_overlay,50)*1e3:.0f} ms, p95 {pct(trips_overlay,95)*1e3:.0f} ms "
              f"({clustering['patchCount']} patches)")

    # 3. Tiles while a job computes features (a new sampling, so nothing is cached).
    job = call(conn, "POST", f"/api/images/{iid}/cluster",
               {"sessionId": SESSION, "mode": "window", "windowSize": 31, "windowStride": 1, "clusterCount": 4})
    lat, wall, errors = tile_load(urls, 3, clients=8)
    state = call(conn, "GET", f"/api/jobs/{job['id']}")
    print(f"tiles during a running feature job ({state['state']}, stage '{state['stage']}', progress {state['progress']:.2f}): "
          f"{len(lat)/wall:.0f} tiles/s, p50 {pct(lat,50)*1e3:.1f} ms, p99 {pct(lat,99)*1e3:.1f} ms (8 clients)")
    call(conn, "POST", f"/api/jobs/{job['id']}/cancel", {})
    wait_job_end(conn, job)

    # 3b. Tiles while a U-Net trains (issue 22: tile p99 < 100 ms): two classes, a few strokes, a long
    #     training measured once it is past data preparation and into its steps, then cancelled.
    for value, cname in [(1, "particle"), (2, "film")]:
        call(conn, "POST", f"/api/projects/{project}/classes", {"sessionId": SESSION, "name": cname, "value": value})
    for value, points in [(1, [[1000, 1000], [1040, 1010]]), (2, [[3000, 3000], [3050, 3020]]),
                          (1, [[2000, 600], [2030, 640]]), (2, [[600, 3200], [660, 3220]])]:
        call(conn, "POST", f"/api/images/{iid}/strokes", {"sessionId": SESSION, "class": value, "radius": 12, "points": points})
    job = call(conn, "POST", f"/api/images/{iid}/train", {"sessionId": SESSION, "method": "unet", "steps": 20000})
    while "U-Net step" not in (call(conn, "GET", f"/api/jobs/{job['id']}").get("stage") or ""):
        time.sleep(0.1)
    lat, wall, errors = tile_load(urls, 5, clients=8)
    state = call(conn, "GET", f"/api/jobs/{job['id']}")
    print(f"tiles while a U-Net trains ({state['state']}, stage '{state['stage']}'): "
          f"{len(lat)/wall:.0f} tiles/s, p50 {pct(lat,50)*1e3:.1f} ms, p99 {pct(lat,99)*1e3:.1f} ms, errors {errors} (8 clients)")
    call(conn, "POST", f"/api/jobs/{job['id']}/cancel", {})
    wait_job_end(conn, job)

    # 4. A 2 GiB upload: uncompressed 16-bit 32768², header + streamed pixels.
    big = os.path.join(WORK, "big-2g.tif")
    w = h = 32768
    strip = w * h * 2
    entries = [(256, 4, w), (257, 4, h), (258, 3, 16), (259, 3, 1), (262, 3, 1), (273, 4, 256), (277, 3, 1), (278, 4, h), (279, 4, strip)]
    header = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    for tag, typ, value in entries:
        header += struct.pack("<HHI", tag, typ, 1) + (struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value))
    header += struct.pack("<I", 0)
    header += b"\x00" * (256 - len(header))
    row = bytes(range(256)) * (w * 2 // 256)
    with open(big, "wb") as f:
        f.write(header)
        block = row * 64
        for _ in range(h // 64):
            f.write(block)
    size = os.path.getsize(big)
    baseline = rss_kib()
    peak, done = [baseline], [False]

    def sampler():
        while not done[0]:
            peak[0] = max(peak[0], rss_kib())
            time.sleep(0.02)
    s = threading.Thread(target=sampler); s.start()
    t0 = time.perf_counter()
    stored = upload(connect(), project, big, "big-2g.tif")
    upload_s = time.perf_counter() - t0
    done[0] = True; s.join()
    os.remove(big)
    print(f"upload 2 GiB: {size/2**30:.2f} GiB in {upload_s:.1f} s = {size/2**20/upload_s:.0f} MiB/s; server RSS baseline "
          f"{baseline/1024:.0f} MiB, peak during upload {peak[0]/1024:.0f} MiB (+{(peak[0]-baseline)/1024:.0f} MiB); "
          f"accepted as {stored['width']}x{stored['height']} {stored['pixelType']}")


main()
