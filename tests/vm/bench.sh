#!/usr/bin/env bash
# Issue 3 measurements in the real-kernel guest: (a) daemon vs plain shell bootstrap time, and
# (c) 8 parallel volumes at default LUKS cost in a 2 GiB guest. (b) runs in scenarios.sh.
# CVM_BENCH=integrity: the dm-integrity + LUKS2 stack against plain LUKS2 (format time, dd throughput),
# shell only, no daemon. Run by hand; not part of scripts/test.sh.
# Usage: tests/vm/bench.sh   (CVM_BIN=... to skip the publish; CVM_BENCH="ratio eight integrity" picks)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
benches=${CVM_BENCH:-ratio eight}
# Only the daemon benches need the published daemon.
if [ -z "${CVM_BIN:-}" ] && [[ " $benches " == *" ratio "* || " $benches " == *" eight "* ]]; then
  "$repo/scripts/publish.sh" "$repo/artifacts/publish" > /dev/null
  CVM_BIN=$repo/artifacts/publish/cvm-control
fi
trap 'vm_cleanup' EXIT
# EBS volumes: the guest's DMI says EC2, so the daemon detects aws.
VM_SMBIOS=("${VM_SMBIOS_EC2[@]}")

run() { # NAME SCRIPT TIMEOUT DISKS...
  local name=$1 script=$2 timeout=$3
  shift 3
  vm_workdir "$name"
  local disk serial
  for spec in "$@"; do
    disk=${spec%%:*}
    vm_disk "$disk" "${BENCH_DISK_SIZE:-128M}" > /dev/null
  done
  if [ -n "${CVM_BIN:-}" ]; then
    cp "$here/cvm-guest.sh" "$CVM_BIN" "$VM_WORKDIR/"
    echo 'CVM_BIN=/work/cvm-control' > "$VM_WORKDIR/cvm-env.sh"
  fi
  local rc=0
  vm_run "$VM_WORKDIR" "$here/scenarios/$script" "$timeout" "$@" || rc=$?
  echo "== $script: exit $rc ($VM_LAST_STATUS) in $((VM_LAST_MS / 1000)) s"
  cat "$VM_WORKDIR/results.txt" 2> /dev/null || tail -30 "$VM_WORKDIR/guest.log"
}

# P1's operator polls from outside the guest, as a real one does: through QEMU's user-mode network (a
# hostfwd on the host's 127.0.0.1), every 2 s while the guest marks the daemon's bootstrap as running
# (/work/poll-on). Only the daemon's side of each poll (TLS handshake and request) costs guest CPU.
if [[ " $benches " == *" ratio "* ]]; then
  poll_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  vm_workdir cvm-bench-ratio
  rm -f "$VM_WORKDIR/poll-on" "$VM_WORKDIR/polls.txt"
  ( while sleep 2; do
      [ -e "$VM_WORKDIR/poll-on" ] || continue
      curl -sk -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 5 "https://127.0.0.1:$poll_port/api/v1/bootstrap" >> "$VM_WORKDIR/polls.txt" 2> /dev/null
    done ) &
  poller=$!
  VM_QEMU_EXTRA="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$poll_port-:9443 -device virtio-net-pci,netdev=n0" \
    BENCH_DISK_SIZE=512M run cvm-bench-ratio bench-ratio.sh 1500 $(for i in 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10; do echo "b$i:vol00000b$i"; done)
  kill "$poller" 2> /dev/null
  echo "host polls answered: $(grep -c '^200 ' "$VM_WORKDIR/polls.txt" 2> /dev/null || echo 0) of $(wc -l < "$VM_WORKDIR/polls.txt" 2> /dev/null || echo 0)"
fi
[[ " $benches " == *" eight "* ]] && VM_MEM=2048 run cvm-bench-eight bench-eight.sh 1800 $(for i in 1 2 3 4 5 6 7 8; do echo "e$i:vol00000e0$i"; done)
[[ " $benches " == *" integrity "* ]] && BENCH_DISK_SIZE=512M run cvm-bench-integrity bench-integrity.sh 1200 $(for i in 1 2 3 4 5 6; do echo "i$i:vol00000i0$i"; done)
