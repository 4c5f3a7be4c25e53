"""Paired before/after timing of the window default command on a busy box.

Usage (from the repository root): python3 bench/locator/paired.py BEFORE_CLEAVE AFTER_CLEAVE TILE [ROUNDS]

Runs `cleave locate TILE --out OUT --window 31 --stride 1` (pictures and all outputs on, as users
type it) with both builds and `window_reference.py TILE 31` alternately — after, before, Python,
before, after — for ROUNDS rounds (default 3), each run into a fresh output folder (removed
untimed), and prints each side's fastest wall and CPU (user + system) time and the ratios to Python.
Alternating keeps a changing load from favouring either side.
"""
import os, resource, shutil, subprocess, sys, tempfile, time

before, after, tile = sys.argv[1:4]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
out = os.path.join(tempfile.mkdtemp(), "out")
here = os.path.dirname(os.path.abspath(__file__))
commands = {
    "after": [after, "locate", tile, "--out", out, "--window", "31", "--stride", "1"],
    "before": [before, "locate", tile, "--out", out, "--window", "31", "--stride", "1"],
    "python": ["python3", os.path.join(here, "window_reference.py"), tile, "31"],
}
runs = {k: [] for k in commands}
for _ in range(rounds):
    for side in ["after", "before", "python", "before", "after"]:
        shutil.rmtree(out, ignore_errors=True)
        start_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(commands[side], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t0
        end_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs[side].append((wall, (end_usage.ru_utime - start_usage.ru_utime) + (end_usage.ru_stime - start_usage.ru_stime)))
shutil.rmtree(os.path.dirname(out), ignore_errors=True)
best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in runs.items()}
for side in ["before", "after", "python"]:
    print(f"{side:6s} {len(runs[side])} runs: wall min {best[side][0]:.3f} s, CPU min {best[side][1]:.3f} s")
for side in ["before", "after"]:
    print(f"ratio python/{side}: wall {best['python'][0] / best[side][0]:.1f}x, CPU {best['python'][1] / best[side][1]:.1f}x")
