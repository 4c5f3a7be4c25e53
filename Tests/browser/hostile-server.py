#!/usr/bin/env python3
"""Hostile inputs through the workbench's HTTP API (issue 19, server half).

Starts `cleave serve` (default settings) on a free loopback port with a scratch data directory and
throws at it what used to bring it down or misbehave: float TIFFs with NaN / ±Inf pixels,
decompression bombs (400 MP LZW and deflate TIFFs of a few hundred KB, a 1.8 GP PNG), 20
identical uploads at once, cross-site and DNS-rebinding requests, an oversized upload with
`Connection: close`. After every group the server must still be running and answer /api/projects;
at the end it is restarted on the same data directory and must come up and serve what it stored.
Reports the server's peak resident memory (VmHWM).

    python3 Tests/browser/hostile-server.py [CLEAVE_BINARY]     # default .build/release/cleave

Last line: "hostile: N passed, M failed". Bounded to a few minutes (every request has a timeout).
"""
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import numpy as np
import tifffile

from served import ServedCleave, Tally

BIN = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else ".build/release/cleave")
USER = "hostile-test-user"
SESSION = "hostile-session"
check = Tally("hostile")


class Server(ServedCleave):
    """The server under test (default settings) with a JSON request helper."""

    def __init__(self, data, extra=()):
        super().__init__(BIN, data, extra, probe="/api/projects", name="hostile", user=USER)


def one_line_error(payload):
    return isinstance(payload, dict) and isinstance(payload.get("error"), str) and "\n" not in payload["error"]


def float_tiff(path, bad):
    image = (np.arange(64 * 48, dtype=np.float32).reshape(48, 64) % 97) / 7
    for (y, x), value in bad:
        image[y, x] = value
    tifffile.imwrite(path, image)
    return open(path, "rb").read()


def png_bomb(path, side):
    """A grey 8-bit PNG of side² zero pixels, streamed through zlib (a few MB for 1.8 GP)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    compressor = zlib.compressobj(9)
    row = bytes(side + 1)   # filter byte 0 + pixels
    parts = []
    for _ in range(side):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)))
        out.write(chunk(b"IDAT", b"".join(parts)))
        out.write(chunk(b"IEND", b""))
    return open(path, "rb").read()


def main():
    if not os.access(BIN, os.X_OK):
        print(f"hostile: no cleave binary at {BIN}")
        print("hostile: 0 passed, 1 failed")
        return 1
    scratch = tempfile.mkdtemp(prefix="cleave-hostile-")
    data = os.path.join(scratch, "data")
    os.makedirs(data)
    server = Server(data)
    started = time.time()
    try:
        server.start()
        status, project = server.request("POST", "/api/projects", {"name": "hostile"})
        check(status == 201, f"create a project ({status})")
        project = project["id"]
        upload = f"/api/projects/{project}/images?name="

        # 1. Non-finite pixels: refused at upload with one line; nothing kills the server.
        cases = [("nan.tif", [((3, 5), np.nan)], "1 NaN"), ("inf.tif", [((0, 7), np.inf)], "1 +Inf"),
                 ("minus-inf.tif", [((10, x), -np.inf) for x in range(64)], "64 -Inf")]
        for name, bad, count in cases:
            status, payload = server.request("POST", upload + name, float_tiff(os.path.join(scratch, name), bad))
            check(status == 422 and one_line_error(payload) and count in payload["error"],
                  f"{name}: refused with 422 and one line ({status} {payload})")
            if status == 201:   # accepted (the old behaviour): what it then did to the server
                for path in [f"/api/images/{payload['id']}/window", f"/api/images/{payload['id']}/tiles/0/0/0.png"]:
                    try:
                        server.request("GET", path, timeout=20)
                    except OSError:
                        pass
                    check(server.alive(), f"{name}: the server survives GET {path.split('/', 4)[-1]}")
                    if not server.alive():
                        server.start()   # same data directory: it dies again on the next request
        good = float_tiff(os.path.join(scratch, "good.tif"), [])
        status, image = server.request("POST", upload + "good.tif", good)
        check(status == 201, f"a finite float image is accepted ({status})")
        image_id = image["id"] if status == 201 else ""
        status, window = server.request("GET", f"/api/images/{image_id}/window")
        check(status == 200 and window["low"] < window["high"], f"its window ({status} {window})")
        status, _ = server.request("GET", f"/api/images/{image_id}/tiles/0/0/0.png")
        check(status == 200, f"its tile ({status})")
        status, job = server.request("POST", f"/api/images/{image_id}/cluster", {"sessionId": SESSION, "clusterCount": 2})
        check(status == 202, f"a cluster job starts ({status})")
        for _ in range(600):
            status, job = server.request("GET", f"/api/jobs/{job['id']}")
            if job.get("state") in ("done", "failed", "cancelled"):
                break
            time.sleep(0.1)
        check(job.get("state") == "done" and "error" in job and job["error"] is None and job["result"] is not None,
              f"the job ends done with error: null in its JSON ({job.get('state')}, error={job.get('error', 'MISSING')})")
        check(server.alive(), "alive after non-finite images")

        # 2. Decompression bombs: refused from the header before anything is decoded.
        before = server.peak_rss_mb()
        bombs = []
        zeros = np.zeros((20000, 20000), dtype=np.uint8)   # calloc'd: untouched pages cost nothing
        try:
            import imagecodecs  # noqa: F401  (tifffile's LZW encoder)
            kinds = [("bomb-lzw.tif", "lzw"), ("bomb-deflate.tif", "zlib")]
        except ImportError:
            print("hostile: skipped the LZW bomb: python3 -m pip install imagecodecs to include it", flush=True)
            kinds = [("bomb-deflate.tif", "zlib")]
        for name, compression in kinds:
            path = os.path.join(scratch, name)
            tifffile.imwrite(path, zeros, compression=compression, rowsperstrip=256)
            bombs.append((name, open(path, "rb").read()))
            os.remove(path)
        del zeros
        bombs.append(("bomb.png", png_bomb(os.path.join(scratch, "bomb.png"), 42_000)))
        for name, body in bombs:
            status, payload = server.request("POST", upload + name, body, timeout=120)
            check(status == 413 and one_line_error(payload) and "--max-image-pixels" in payload["error"],
                  f"{name} ({len(body) // 1024} KB): refused with 413 naming the budget ({status} {payload})")
        after = server.peak_rss_mb()
        print(f"hostile: server peak RSS {before:.0f} MB before the bombs, {after:.0f} MB after", flush=True)
        check(after < 300, f"peak RSS stays under 300 MB through the bombs ({after:.0f} MB; one 400 MP decode is 400 MB)")
        check(server.alive(), "alive after the bombs")

        # 3. Twenty identical uploads at once all succeed (content-addressed store is idempotent),
        #    and forty job lists asked meanwhile all answer (a synchronous database read on the
        #    server's few cooperative threads once waited forever for a reader held by an async read).
        results, listed = [], []
        def send():
            try:
                results.append(server.request("POST", upload + "same.tif", good))
            except OSError as error:
                results.append((0, str(error)))
        def list_jobs():
            try:
                listed.append(server.request("GET", "/api/jobs", timeout=30)[0])
            except OSError:
                listed.append(0)
        threads = [threading.Thread(target=send) for _ in range(20)] + [threading.Thread(target=list_jobs) for _ in range(40)]
        random.Random(7).shuffle(threads)
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        statuses = sorted(status for status, _ in results)
        check(statuses == [201] * 20, f"20 identical parallel uploads: {statuses}")
        check(sorted(listed) == [200] * 40, f"40 job lists during the uploads all answer: {sorted(listed)}")
        leaks = [p for _, p in results if isinstance(p, dict) and "error" in p and (scratch in p["error"] or "/blobs/" in p["error"])]
        check(not leaks, f"no error shows a server path ({leaks[:1]})")
        check(server.alive(), "alive after parallel uploads")

        # 4. Cross-site requests and DNS rebinding: 403, nothing created.
        hostile = [
            ("text/plain POST from another Origin", "POST", "/api/projects",
             {"Content-Type": "text/plain", "Origin": "http://evil.example"}, b'{"name": "x"}'),
            ("POST without X-Cleave-User", "POST", "/api/projects", {"Content-Type": "application/json"}, b'{"name": "x"}'),
            ("upload from another Origin", "POST", upload + "x.tif",
             {"Content-Type": "application/octet-stream", "Origin": "http://evil.example", "X-Cleave-User": USER}, good),
            ("DNS-rebound Host", "GET", "/api/projects", {"Host": f"rebind.example:{server.port}"}, None),
            ("DNS-rebound POST", "POST", "/api/projects",
             {"Host": "rebind.example", "Content-Type": "application/json", "X-Cleave-User": USER}, b'{"name": "x"}'),
        ]
        for what, method, path, headers, body in hostile:
            status, payload = server.request(method, path, body, headers=headers)
            check(status == 403 and one_line_error(payload), f"{what}: 403 ({status} {payload})")
        status, listing = server.request("GET", "/api/projects")
        check(status == 200 and len(listing["projects"]) == 1, "no project was created by them")
        own = {"Content-Type": "application/json", "X-Cleave-User": USER, "Origin": f"http://127.0.0.1:{server.port}"}
        status, _ = server.request("POST", "/api/projects", b'{"name": "own page"}', headers=own)
        check(status == 201, f"the page's own POST (same Origin, header) is accepted ({status})")

        # 5. An oversized upload with Connection: close gets its 413 and the socket is closed.
        small = Server(os.path.join(scratch, "small"), ["--max-upload-mb", "1"])
        os.makedirs(small.data)
        small.start()
        try:
            _, other = small.request("POST", "/api/projects", {"name": "p"})
            # HTTP options are case-insensitive; Hummingbird alone closed only on exactly "close".
            for spelling in ["close", "Close", "keep-alive, CLOSE"]:
                with socket.create_connection(("127.0.0.1", small.port), timeout=10) as raw:
                    raw.sendall((f"POST /api/projects/{other['id']}/images?name=big.tif HTTP/1.1\r\nHost: 127.0.0.1:{small.port}\r\n"
                                 f"X-Cleave-User: {USER}\r\nContent-Type: application/octet-stream\r\n"
                                 f"Content-Length: {2 << 20}\r\nConnection: {spelling}\r\n\r\n").encode() + good)
                    received, closed = b"", False
                    deadline = time.time() + 10
                    while time.time() < deadline:
                        try:
                            piece = raw.recv(65536)
                        except socket.timeout:
                            break
                        except ConnectionResetError:
                            closed = True
                            break
                        if not piece:
                            closed = True
                            break
                        received += piece
                check(received.startswith(b"HTTP/1.1 413") and closed,
                      f"oversized upload with 'Connection: {spelling}': 413 and the server closes the socket "
                      f"({received[:30]!r}, closed={closed})")
            check(small.alive(), "the small server is alive")
        finally:
            small.stop()

        # 6. Restart on the same data directory: it comes up and serves what it stored.
        peak = server.peak_rss_mb()
        check(server.alive(), "alive at the end of the suite")
        server.stop()
        server.start()
        status, images = server.request("GET", f"/api/projects/{project}/images")
        check(status == 200 and len(images["images"]) == 21, f"after a restart: the 21 stored images are listed ({status})")
        status, _ = server.request("GET", f"/api/images/{image_id}/tiles/0/0/0.png")
        check(status == 200, f"after a restart: tiles are served ({status})")
        print(f"hostile: server peak RSS over the suite {peak:.0f} MB; took {time.time() - started:.0f} s", flush=True)
    except Exception as error:   # a dead server or a broken connection is a failure, never a pass
        check(False, f"the suite stopped: {type(error).__name__}: {error}")
        if server.process is not None and server.process.poll() is not None:
            print(f"hostile: the server exited with status {server.process.returncode}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return check.summary()


if __name__ == "__main__":
    sys.exit(main())
