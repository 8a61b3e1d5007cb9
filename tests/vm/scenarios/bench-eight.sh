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

# (d) One volume whose only keyslot costs 1 GiB of argon2 memory, beside seven cheap ones: the gate
# admits each unlock by its header's real cost, so the costly one never runs beside more than the
# budget allows, and the cheap ones still overlap. Reuses the 8 volumes above, closed first.
for i in 1 2 3 4 5 6 7 8; do
  umount "/v$i" && cryptsetup close "v$i"
done
dev4=$(readlink -f "$(guest_ebs_dev vol00000e04)")
printf '%s' 'big-pass-4' > /tmp/big.key
printf '%s' 'eight-pass-4' | cryptsetup luksAddKey --pbkdf argon2id --pbkdf-memory 1048576 --pbkdf-force-iterations 4 \
  --key-file=- "$dev4" /tmp/big.key
printf '%s' 'big-pass-4' | cryptsetup luksKillSlot --key-file=- "$dev4" 0
rm -f /tmp/big.key
# cryptsetup caps a keyslot's memory at half of the guest's RAM, so 1 GiB asked gives about 983 MiB here.
memory4=$(cryptsetup luksDump "$dev4" | awk '/Memory:/ { print $2 }' | tr '\n' ' ')
measure "v4 keyslot memory after the change: ${memory4}KiB"
check "(d) volume 4's only keyslot takes close to 1 GiB ($memory4)" [ "$(echo $memory4 | wc -w)" = 1 -a "${memory4%% *}" -ge 900000 ]
DAEMON_N=2
setsid env PATH="/work/bin:$PATH" "$CVM_BIN" --address 127.0.0.1 --port 9443 --run-dir /run/cvm-eight-d --log-format json \
  > /work/daemon.2.log 2>&1 < /dev/null &
CVM_PID=$!
for _ in $(seq 1 300); do curl -sk -o /dev/null --max-time 5 "$CVM_URL/api/v1/status" && break; sleep 0.2; done
volumes=""
for i in 1 2 3 4 5 6 7 8; do
  pass="eight-pass-$i"
  [ "$i" = 4 ] && pass=big-pass-4
  volumes="$volumes\"v$i\":{\"volume_id\":\"vol-00000e0$i\",\"passphrase\":\"$pass\"},"
done
start=$(date +%s)
api POST /api/v1/bootstrap "{\"user_id\":\"eight\",\"volumes\":{${volumes%,}}}"
check "(d) bootstrap of 8 volumes, one with a 1 GiB keyslot, is accepted" [ "$CODE" = 202 ]
wait_op /api/v1/bootstrap
measure "one_costly_beside_seven_s=$(($(date +%s) - start))"
check "(d) all 8 volumes succeed ($BODY)" [ "$(jget status)" = completed ]
mounted=$(grep -c ' /v[1-8] ' /proc/self/mountinfo)
check "(d) all 8 are mounted again ($mounted)" [ "$mounted" = 8 ]
check "(d) no OOM kill" bash -c "! dmesg | grep -qi 'out of memory'"
cvm_stop
finish
