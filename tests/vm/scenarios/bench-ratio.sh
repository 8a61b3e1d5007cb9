#!/bin/bash
# Measurement (a): the daemon's bootstrap wall time for 2 volumes, against a plain shell script that
# runs the same cryptsetup, mkfs and mount commands in parallel, in the same guest. Two rounds, each
# on fresh disks, alternating shell and daemon. Same LUKS cost on both sides.
set -u
SCENARIO=bench
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null
COST=(--pbkdf argon2id --pbkdf-memory 32768 --iter-time 100)

dev_of() { readlink -f "$(guest_ebs_dev "$1")"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

shell_volume() { # DEV NAME PASS
  printf '%s' "$3" | cryptsetup luksFormat --batch-mode --type luks2 --cipher aes-xts-plain64 --key-size 512 --hash sha256 "${COST[@]}" --key-file=- "$1" &&
    printf '%s' "$3" | cryptsetup open --type luks2 --key-file=- "$1" "$2" &&
    mkfs.ext4 -q -F "/dev/mapper/$2" &&
    mkdir -p "/mnt/$2" &&
    mount -t ext4 "/dev/mapper/$2" "/mnt/$2"
}

round=0
for pair in "vol00000b01 vol00000b02 vol00000b03 vol00000b04" "vol00000b05 vol00000b06 vol00000b07 vol00000b08"; do
  round=$((round + 1))
  set -- $pair
  start=$(now_ms)
  shell_volume "$(dev_of "$1")" "s${round}a" "pass-a-$round" &
  a=$!
  shell_volume "$(dev_of "$2")" "s${round}b" "pass-b-$round" &
  b=$!
  wait $a && wait $b
  shell_ms=$(($(now_ms) - start))

  CVM_RUN_DIR=/run/cvm-bench-$round
  cvm_start || exit 1
  start=$(now_ms)
  api POST /api/v1/bootstrap "{\"user_id\":\"bench\",\"volumes\":{
    \"d${round}a\":{\"volume_id\":\"${3/vol/vol-}\",\"passphrase\":\"pass-c-$round\",\"mount_point\":\"/mnt/d${round}a\"},
    \"d${round}b\":{\"volume_id\":\"${4/vol/vol-}\",\"passphrase\":\"pass-d-$round\",\"mount_point\":\"/mnt/d${round}b\"}}}"
  # No polling while measuring: each HTTPS poll costs a TLS handshake and a process start, which
  # under TCG steals CPU from argon2. One tail -f waits for the daemon's own completion line.
  timeout 900 tail -n +1 -f "/work/daemon.$DAEMON_N.log" | grep -m1 -qE 'Bootstrap (completed|failed)'
  daemon_ms=$(($(now_ms) - start))
  api GET /api/v1/bootstrap
  check "(a) round $round daemon bootstrap completes ($BODY)" [ "$(jget status)" = completed ]
  cvm_stop
  measure "bench_round=$round shell_ms=$shell_ms daemon_ms=$daemon_ms ratio=$(awk -v d="$daemon_ms" -v s="$shell_ms" 'BEGIN { printf "%.2f", d / s }')"
done
finish
