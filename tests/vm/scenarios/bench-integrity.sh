# shellcheck shell=bash
# The opt-in integrity stack against plain LUKS2, in one guest (2 vCPUs, 2 GiB), on fresh 512 MiB
# disks: format time (first command to the mounted file system; integritysetup format and luksFormat alone),
# then a 64 MiB direct sequential write and read on the mounted file system. Three repetitions, each on
# two disks of its own, one per stack; the order of the stacks alternates between repetitions.
#   plain:     luksFormat on the raw disk, open, mkfs.ext4, mount.
#   integrity: raw [0, 16 MiB) holds the LUKS2 header; a linear mapping of the rest carries
#              dm-integrity (hmac-sha256 tags, journal hmac-sha256), under LUKS2 with a detached header.
# Both stacks use the same cipher and KDF cost. Needs no daemon.
set -u
. /work/guest-lib.sh
guest_setup 60 > /dev/null
modprobe -a dm-integrity || exit 1
modprobe -a -q sha256-ssse3 2> /dev/null || true
RESULTS=/work/results.txt
LOG=/work/commands.log
: > "$RESULTS"
measure() { echo "MEASURE $*" | tee -a "$RESULTS"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# run CMD...: runs one step with its output in the command log; says which step failed.
run() { "$@" >> "$LOG" 2>&1 || { echo "FAILED ($?): $*" | tee -a "$RESULTS" "$LOG"; return 1; }; }

PASS=bench-passphrase
LUKS=(--batch-mode --type luks2 --cipher aes-xts-plain64 --key-size 512 --hash sha256
      --pbkdf argon2id --pbkdf-memory 65536 --iter-time 500 --key-file=-)
KEYS=/dev/shm/bench-keys # tmpfs
mkdir -p "$KEYS" && chmod 700 "$KEYS"
dev_of() { readlink -f "$(guest_ebs_dev "$1")"; }

plain_stack() { # DEV NAME
  local dev=$1 name=$2 t0
  t0=$(now_ms)
  printf '%s' "$PASS" | run cryptsetup luksFormat "${LUKS[@]}" "$dev" || return 1
  LUKSFORMAT_MS=$(($(now_ms) - t0))
  printf '%s' "$PASS" | run cryptsetup open --type luks2 --key-file=- "$dev" "$name" || return 1
  run mkfs.ext4 -q -F "/dev/mapper/$name" && mkdir -p "/mnt/$name" && run mount -t ext4 "/dev/mapper/$name" "/mnt/$name" || return 1
  FORMAT_MS=$(($(now_ms) - t0)) INTEGRITY_FORMAT_MS=-
}

integrity_stack() { # DEV NAME
  local dev=$1 name=$2 t0 t1 sectors hdr=/tmp/$2-hdr.img
  local ikeys=(--integrity hmac-sha256 --integrity-key-file "$KEYS/$name.K" --integrity-key-size 32
               --journal-integrity hmac-sha256 --journal-integrity-key-file "$KEYS/$name.J" --journal-integrity-key-size 32)
  t0=$(now_ms)
  sectors=$(blockdev --getsz "$dev") || return 1
  run dmsetup create "$name@data" --table "0 $((sectors - 32768)) linear $dev 32768" || return 1
  run dmsetup mknodes "$name@data" || return 1
  (umask 077 && head -c 32 /dev/urandom > "$KEYS/$name.K" && head -c 32 /dev/urandom > "$KEYS/$name.J" &&
    head -c 64 /dev/urandom > "$KEYS/$name.VK") || return 1
  t1=$(now_ms)
  # 4 KiB sectors and the header sizes, as the daemon makes them.
  run integritysetup format --batch-mode --sector-size 4096 --tag-size 32 "${ikeys[@]}" "/dev/mapper/$name@data" || return 1
  INTEGRITY_FORMAT_MS=$(($(now_ms) - t1))
  run integritysetup open "${ikeys[@]}" "/dev/mapper/$name@data" "$name@integrity" || return 1
  t1=$(now_ms)
  printf '%s' "$PASS" | run cryptsetup luksFormat "${LUKS[@]}" --luks2-metadata-size 16k --luks2-keyslots-size 16352k --header "$hdr" --volume-key-file "$KEYS/$name.VK" \
    "/dev/mapper/$name@integrity" || return 1
  LUKSFORMAT_MS=$(($(now_ms) - t1))
  [ "$(stat -c %s "$hdr")" -le $((16 << 20)) ] || { echo "FAILED: $hdr is larger than 16 MiB" | tee -a "$RESULTS"; return 1; }
  run dd if="$hdr" of="$dev" bs=1M conv=notrunc,fsync || return 1
  printf '%s' "$PASS" | run cryptsetup open --type luks2 --header "$hdr" --key-file=- "/dev/mapper/$name@integrity" "$name" || return 1
  run mkfs.ext4 -q -F "/dev/mapper/$name" && mkdir -p "/mnt/$name" && run mount -t ext4 "/dev/mapper/$name" "/mnt/$name" || return 1
  FORMAT_MS=$(($(now_ms) - t0))
}

mib_per_s() { awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") s = $(i - 1); printf "%.1f", $1 / 1048576 / s }'; }

bench() { # STACK REP DISK_SERIAL
  local stack=$1 rep=$2 dev name out write read
  dev=$(dev_of "$3")
  name=$stack$rep
  sync
  echo 3 > /proc/sys/vm/drop_caches
  "${stack}_stack" "$dev" "$name" || return 1
  out=$(dd if=/dev/zero of="/mnt/$name/f" bs=1M count=64 oflag=direct conv=fsync 2>&1) || { echo "FAILED: write $out" | tee -a "$RESULTS"; return 1; }
  write=$(mib_per_s <<< "$out")
  sync
  echo 3 > /proc/sys/vm/drop_caches
  out=$(dd if="/mnt/$name/f" of=/dev/null bs=1M iflag=direct 2>&1) || { echo "FAILED: read $out" | tee -a "$RESULTS"; return 1; }
  read=$(mib_per_s <<< "$out")
  measure "rep=$rep stack=$stack format_ms=$FORMAT_MS integritysetup_format_ms=$INTEGRITY_FORMAT_MS luksformat_ms=$LUKSFORMAT_MS write_mib_s=$write read_mib_s=$read"
  [ "$rep$stack" = 1integrity ] && dmsetup table | sed 's/[0-9a-f]\{64,\}/<key>/g; s/^/MEASURE table: /' | tee -a "$RESULTS"
  run umount "/mnt/$name" && run cryptsetup close "$name" || return 1
  if [ "$stack" = integrity ]; then
    run integritysetup close "$name@integrity" && run dmsetup remove "$name@data" || return 1
  fi
}

# rep 1: plain, integrity; rep 2: integrity, plain; rep 3: plain, integrity (disks i01..i06).
for rep in 1 2 3; do
  a=vol00000i0$((2 * rep - 1)) b=vol00000i0$((2 * rep))
  if [ $((rep % 2)) = 1 ]; then
    bench plain "$rep" "$a" && bench integrity "$rep" "$b" || exit 1
  else
    bench integrity "$rep" "$a" && bench plain "$rep" "$b" || exit 1
  fi
done

# Medians over the repetitions, and integrity / plain: a time ratio for the format, a throughput
# ratio for dd.
median() { # STACK FIELD
  grep "stack=$1 " "$RESULTS" | grep -oE "(^| )$2=[0-9.]+" | cut -d= -f2 | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for field in format_ms luksformat_ms write_mib_s read_mib_s; do
  p=$(median plain $field) i=$(median integrity $field)
  measure "median $field: plain=$p integrity=$i ratio_integrity_over_plain=$(awk -v i="$i" -v p="$p" 'BEGIN { printf "%.2f", i / p }')"
done
measure "median integritysetup_format_ms: integrity=$(median integrity integritysetup_format_ms)"
echo "bench-integrity done"
