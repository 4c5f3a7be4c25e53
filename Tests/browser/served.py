"""What the HTTP test scripts share: a tally of checks and a `cleave serve` on a free loopback port.

    from served import Tally, ServedCleave

`Tally("hostile")` prints "hostile: ok   …" / "hostile: FAIL …" per check and the last line
"hostile: N passed, M failed". `ServedCleave` starts the server with a scratch data directory, waits
until a probe route answers 200 (at most 30 s; the server's log is shown when it does not), and
stops it with SIGTERM, then SIGKILL after 10 s. Every wait is bounded.
"""
import http.client
import json
import os
import socket
import subprocess
import time


class Tally:
    """Counts checks and prints one line each, prefixed with the script's name."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def __call__(self, condition, what):
        if condition:
            self.passed += 1
            print(f"{self.name}: ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"{self.name}: FAIL {what}", flush=True)

    def summary(self):
        """Prints the last line and returns the exit status (1 when any check failed)."""
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServedCleave:
    """`cleave serve --port P --data DATA EXTRA…` on 127.0.0.1; output goes to DATA/serve.log.

    `probe` is a route that answers 200 once the server is up (with accounts, API routes answer 401,
    so such scripts probe /api/openapi.json); `env` adds environment variables.
    """

    def __init__(self, binary, data, extra=(), probe="/api/projects", env=None, name="cleave", user=None):
        self.binary, self.data, self.extra = binary, data, list(extra)
        self.probe, self.env, self.name = probe, dict(env or {}), name
        self.user = user or f"{name}-user"
        self.port, self.process = free_port(), None

    def probe_status(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", self.probe, headers={"X-Cleave-User": f"{self.name}-probe"})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def start(self):
        log = open(os.path.join(self.data, "serve.log"), "ab")
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.port), "--data", self.data, *self.extra],
                                        stdout=log, stderr=log, env=dict(os.environ, **self.env))
        for _ in range(300):
            if self.process.poll() is not None:
                break
            try:
                if self.probe_status() == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.name}: the server did not start:\n{open(os.path.join(self.data, 'serve.log')).read()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def alive(self):
        """Running and answering the probe route."""
        if self.process is None or self.process.poll() is not None:
            return False
        try:
            return self.probe_status() == 200
        except OSError:
            return False

    def peak_rss_mb(self):
        """The server's peak resident memory (VmHWM) in MiB, NaN when it cannot be read."""
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, parsed JSON or raw bytes) as the single user `user`. A dict or list body is sent as
        JSON, bytes as application/octet-stream; `headers` replaces the defaults when given."""
        raw = isinstance(body, (bytes, bytearray))
        if headers is None:
            headers = {"X-Cleave-User": self.user}
            if body is not None:
                headers["Content-Type"] = "application/octet-stream" if raw else "application/json"
        data = body if raw or body is None else json.dumps(body).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            try:
                return response.status, json.loads(payload)
            except ValueError:
                return response.status, payload
        finally:
            connection.close()
