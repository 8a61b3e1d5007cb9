#!/bin/bash
# Measurement P1 (issue 20): the daemon's bootstrap wall time for 2 fresh 512 MiB volumes, against a
# plain shell script that runs the same luksFormat, open, mkfs.ext4 and mount on two other fresh disks
# in parallel, in the same guest (2 vCPUs, 2 GiB). Same LUKS cost on both sides. The daemon runs alone
# in the guest and is polled every 2 s from the host through QEMU's user network, as an operator polls
# from outside the VM (tests/vm/bench.sh runs the poller while /work/poll-on exists); its time runs from
# the POST to its own "Bootstrap completed" log line. Rounds alternate shell and daemon, on fresh disks each time: three at argon2id
# 64 MiB / 500 ms, then one at cryptsetup's default cost (no --pbkdf-* flags on either side).
set -u
SCENARIO=bench
. /work/guest-lib.sh
CVM_ADDRESS=0.0.0.0
. /work/cvm-guest.sh
guest_setup 60 > /dev/null
# QEMU's user network: the guest is 10.0.2.15, and the host forwards a port of its 127.0.0.1 to 9443 here.
IP=(ip)
command -v ip > /dev/null || IP=(busybox ip)
modprobe virtio_net
"${IP[@]}" link set eth0 up && "${IP[@]}" addr add 10.0.2.15/24 dev eth0

dev_of() { readlink -f "$(guest_ebs_dev "$1")"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

shell_volume() { # DEV NAME PASS COST...
  local dev=$1 name=$2 pass=$3 t0 t1 t2
  shift 3
  t0=$(now_ms)
  printf '%s' "$pass" | cryptsetup luksFormat --batch-mode --type luks2 --cipher aes-xts-plain64 --key-size 512 --hash sha256 --pbkdf argon2id "$@" --key-file=- "$dev" || return 1
  t1=$(now_ms)
  printf '%s' "$pass" | cryptsetup open --type luks2 --key-file=- "$dev" "$name" || return 1
  t2=$(now_ms)
  mkfs.ext4 -q -F "/dev/mapper/$name" && mkdir -p "/mnt/$name" && mount -t ext4 "/dev/mapper/$name" "/mnt/$name" || return 1
  measure "shell $name: luksFormat_ms=$((t1 - t0)) open_ms=$((t2 - t1)) mkfs_mount_ms=$(($(now_ms) - t2))"
}

round=0
for spec in "64mib vol00000b01 vol00000b02 vol00000b03 vol00000b04" \
            "64mib vol00000b05 vol00000b06 vol00000b07 vol00000b08" \
            "64mib vol00000b09 vol00000b0a vol00000b0b vol00000b0c" \
            "default vol00000b0d vol00000b0e vol00000b0f vol00000b10"; do
  round=$((round + 1))
  set -- $spec
  kind=$1
  shift
  if [ "$kind" = default ]; then
    cost=()
    export CVM_PBKDF_MEMORY=default
  else
    cost=(--pbkdf-memory 65536 --iter-time 500)
    export CVM_PBKDF_MEMORY=65536 CVM_ITER_TIME=500
  fi
  sync
  echo 3 > /proc/sys/vm/drop_caches
  start=$(now_ms)
  shell_volume "$(dev_of "$1")" "s${round}a" "pass-a-$round" "${cost[@]}" &
  a=$!
  shell_volume "$(dev_of "$2")" "s${round}b" "pass-b-$round" "${cost[@]}" &
  b=$!
  wait $a && wait $b
  shell_ms=$(($(now_ms) - start))
  check "(P1) round $round: the shell script set up both volumes" mountpoint -q "/mnt/s${round}b"

  CVM_RUN_DIR=/run/cvm-bench-$round
  cvm_start --log-level debug || exit 1
  sync
  echo 3 > /proc/sys/vm/drop_caches
  start=$(now_ms)
  api POST /api/v1/bootstrap "{\"user_id\":\"bench\",\"volumes\":{
    \"d${round}a\":{\"volume_id\":\"${3/vol/vol-}\",\"passphrase\":\"pass-c-$round\",\"mount_point\":\"/mnt/d${round}a\"},
    \"d${round}b\":{\"volume_id\":\"${4/vol/vol-}\",\"passphrase\":\"pass-d-$round\",\"mount_point\":\"/mnt/d${round}b\"}}}"
  # The host's coarse poll, every 2 s, while the daemon's own completion line is awaited.
  touch /work/poll-on
  timeout 900 tail -n +1 -f "/work/daemon.$DAEMON_N.log" | grep -m1 -qE 'Bootstrap (completed|failed)'
  client_ms=$(($(now_ms) - start))
  rm -f /work/poll-on
  # The daemon's own time, from its log: from the POST's arrival (its request line's time less the
  # request's duration) to "Bootstrap completed". The client's time also holds a curl start and TLS
  # set-up inside the guest, which an operator's client outside the VM does not charge to it.
  daemon_ms=$(python3 -c '
import json, sys
from datetime import datetime
t = lambda e: datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
start = end = None
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    p = e.get("properties", {})
    if start is None and p.get("Method") == "POST" and p.get("Path") == "/api/v1/bootstrap":
        start = t(e) - p["ElapsedMs"]
    if e["message"].startswith("Bootstrap completed"):
        end = t(e)
print(round(end - start))' "/work/daemon.$DAEMON_N.log")
  api GET /api/v1/bootstrap
  check "(P1) round $round: the daemon's bootstrap completes ($BODY)" [ "$(jget status)" = completed ]
  memory=$(cryptsetup luksDump "$(dev_of "$3")" | awk '/Memory:/ { print $2; exit }')
  # Where the daemon's time went: each child's run, from its own debug lines.
  grep -o '"message":"[a-z0-9.]* exited with [0-9]* after [0-9]* ms"' "/work/daemon.$DAEMON_N.log" | cut -d'"' -f4 | sort | uniq -c | sed "s/^/MEASURE daemon round $round child: /" >> "$RESULTS"
  cvm_stop
  measure "bench_round=$round cost=$kind keyslot_memory_kib=$memory shell_ms=$shell_ms daemon_ms=$daemon_ms ratio=$(awk -v d="$daemon_ms" -v s="$shell_ms" 'BEGIN { printf "%.2f", d / s }') client_ms=$client_ms client_ratio=$(awk -v d="$client_ms" -v s="$shell_ms" 'BEGIN { printf "%.2f", d / s }')"
done
finish
