#!/bin/bash
# Measurement (c): 8 volumes bootstrapped in parallel in a 2 GiB guest with cryptsetup's default
# (argon2id, up to 1 GiB per keyslot) cost: every volume must succeed, with no OOM kill.
set -u
SCENARIO=eight
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 90 > /dev/null
measure "guest_mem_total_kib=$(awk '/MemTotal/ { print $2 }' /proc/meminfo) mem_available_kib=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)"

# Default cost: no --luks-pbkdf-memory / --luks-iter-time. cvm_start passes cheap ones, so start by hand.
DAEMON_N=1
setsid env PATH="/work/bin:$PATH" "$CVM_BIN" --address 127.0.0.1 --port 9443 --run-dir "$CVM_RUN_DIR" --log-format json \
  > /work/daemon.1.log 2>&1 < /dev/null &
CVM_PID=$!
for _ in $(seq 1 300); do curl -sk -o /dev/null --max-time 5 "$CVM_URL/api/v1/status" && break; sleep 0.2; done

volumes=""
for i in 1 2 3 4 5 6 7 8; do
  volumes="$volumes\"v$i\":{\"volume_id\":\"vol-00000e0$i\",\"passphrase\":\"eight-pass-$i\"},"
done
start=$(date +%s)
api POST /api/v1/bootstrap "{\"user_id\":\"eight\",\"volumes\":{${volumes%,}}}"
check "(c) bootstrap of 8 volumes is accepted" [ "$CODE" = 202 ]
wait_op /api/v1/bootstrap
measure "eight_volumes_s=$(($(date +%s) - start))"
check "(c) all 8 volumes succeed at default cost ($BODY)" [ "$(jget status)" = completed ]
mounted=$(grep -c ' /v[1-8] ' /proc/self/mountinfo)
check "(c) all 8 are mounted ($mounted)" [ "$mounted" = 8 ]
check "(c) no OOM kill" bash -c "! dmesg | grep -qi 'out of memory'"
for i in 1 2 3 4 5 6 7 8; do
  dev=$(readlink -f "$(guest_ebs_dev vol00000e0$i)")
  cryptsetup luksDump "$dev" | grep -E '^\s+Memory:' | head -1 | sed "s/^/MEASURE v$i keyslot /" >> "$RESULTS"
done
cvm_stop
finish
