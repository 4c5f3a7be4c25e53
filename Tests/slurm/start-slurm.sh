#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this host for the Slurm checks (Tests/slurm/array.sh):
# munged, slurmctld and slurmd, all as root, without systemd or cgroups (proctrack/linuxproc,
# task/none), with state, spool, logs and pid files under $CLEAVE_SLURM_DIR (default
# /tmp/cleave-slurm). Waits until `sinfo` shows the node idle; if it does not come up, says so in
# one line and prints the daemons' logs. Idempotent: a second run while the daemons are up changes
# nothing. Needs Debian's slurm-wlm and munge (.ci/run installs them). Stop with stop-slurm.sh.
#
#   bash Tests/slurm/start-slurm.sh
set -euo pipefail

dir=${CLEAVE_SLURM_DIR:-/tmp/cleave-slurm}
conf=/etc/slurm/slurm.conf
marker="# Written by Cleave's Tests/slurm/start-slurm.sh"
node=$(hostname -s)

fail() {
  echo "start-slurm: $*" >&2
  for log in /var/log/munge/munged.log "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
    if [ -f "$log" ]; then echo "---- $log (last 40 lines)" >&2; tail -n 40 "$log" >&2; fi
  done
  exit 1
}

for tool in munged slurmctld slurmd sinfo sbatch scontrol; do
  command -v "$tool" >/dev/null || fail "$tool not found on PATH: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" = 0 ] || fail "runs as root (it writes $conf and starts the daemons as root), not as $(id -un)"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

node_state() { sinfo -h -N -n "$node" -o '%T' 2>/dev/null | head -n 1; }

if alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && [ "$(node_state)" = idle ]; then
  echo "start-slurm: already up (node $node idle; $dir)"
  exit 0
fi

mkdir -p "$dir/state" "$dir/spool" "$dir/log"

# ---- munge: one key, the daemon as the munge user (as Debian runs it) ----------------------
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- munged || fail "munged did not start"
  for _ in $(seq 50); do
    munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n </dev/null | unmunge >/dev/null 2>&1 || fail "munged started but a credential does not round-trip (munge -n | unmunge)"
fi

# ---- slurm.conf: this host as the only node ------------------------------------------------
if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
  fail "$conf exists and was not written by this script; not overwriting a real cluster's configuration"
fi
# slurmd -C reports this host's sockets, cores and memory. Slurm drains a node that has less
# memory than configured, so the node declares 90% of it.
hardware=$(slurmd -C | head -n 1)
memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
memory=$(( memory * 9 / 10 ))
cpus=$(nproc)
new_conf=$(cat <<CONF
$marker: a one-node cluster on this host for tests.
ClusterName=cleave
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
)
mkdir -p "$(dirname "$conf")"
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new_conf" ]; then
  printf '%s\n' "$new_conf" > "$conf"
fi

# ---- daemons -------------------------------------------------------------------------------
if ! alive "$dir/slurmctld.pid"; then
  # -c: a fresh start forgets the jobs of an earlier run of this test cluster.
  slurmctld -c || fail "slurmctld did not start"
fi
if ! alive "$dir/slurmd.pid"; then
  slurmd || fail "slurmd did not start"
fi

# ---- wait for the node --------------------------------------------------------------------
state=""
for _ in $(seq 60); do
  state=$(node_state || true)
  case "$state" in
    idle) echo "start-slurm: up (node $node idle, $cpus CPUs, ${memory} MB; $dir)"; exit 0 ;;
    drain*|down*) scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
fail "node $node did not become idle within 60 s (sinfo says '${state:-nothing}')"
