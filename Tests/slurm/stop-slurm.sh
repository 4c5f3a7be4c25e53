#!/usr/bin/env bash
# Stops the daemons that start-slurm.sh started (by the PIDs in their pid files, never by name).
#
#   bash Tests/slurm/stop-slurm.sh
set -uo pipefail
dir=${CLEAVE_SLURM_DIR:-/tmp/cleave-slurm}
for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" /run/munge/munged.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill -0 "$pid" 2>/dev/null || continue
  kill "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "stop-slurm: $pidfile ($pid) still running after 5 s" >&2; exit 1; }
done
echo "stop-slurm: stopped"
