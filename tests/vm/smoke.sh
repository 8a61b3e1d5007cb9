#!/usr/bin/env bash
# Smoke test of the VM test bed: boots the real kernel with two EBS-style NVMe
# disks and checks, end to end, what later scenarios rely on: by-id links,
# LUKS2 format/open/close through dm-crypt, ext4 on the mapping, mountinfo,
# a loopback listener, a reboot with the same disks, a disk grown between
# boots, a guest-triggered power cut, a host-side cut, and the timeout.
#
# Usage: tests/vm/smoke.sh        (run tests/vm/install-deps.sh first)
# Prints PASS or FAIL; exits non-zero on failure.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

passed=0 failed=0
check() {   # check DESCRIPTION COMMAND...
    local d=$1; shift
    if "$@"; then passed=$((passed + 1)); printf '  ok   %s\n' "$d"
    else failed=$((failed + 1)); printf '  FAIL %s\n' "$d"; fi
}
finish() {
    printf '\nsmoke: %d passed, %d failed (%s s)\n' "$passed" "$failed" "$SECONDS"
    if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then echo PASS; exit 0; fi
    echo FAIL; [ -n "${VM_WORKDIR:-}" ] && echo "logs: $VM_WORKDIR"; exit 1
}
# A failed boot makes the rest meaningless: report and stop.
must_boot() {   # must_boot EXPECTED_STATUS EXPECTED_RC LABEL
    local ok=0
    [ "$VM_LAST_STATUS" = "$1" ] && [ "$VM_LAST_RC" = "$2" ] && ok=1
    check "$3: status $VM_LAST_STATUS rc $VM_LAST_RC (want $1/$2), ${VM_LAST_MS} ms" [ "$ok" = 1 ]
    if [ "$ok" != 1 ]; then
        echo "---- guest.log"; cat "$VM_WORKDIR/guest.log"; echo "----"
        finish
    fi
}

for tool in qemu-system-x86_64 qemu-img cryptsetup cpio; do
    command -v "$tool" >/dev/null || { echo "missing $tool: run tests/vm/install-deps.sh"; echo FAIL; exit 1; }
done
vm_kver >/dev/null || { echo FAIL; exit 1; }

vm_workdir smoke
vm_disk vola 256M >/dev/null
vm_disk volb 256M >/dev/null
DISKS=(vola:vol0aaa111 volb:vol0bbb222)
PASS_A='correct horse battery staple'
printf '%s' "$PASS_A" > "$VM_WORKDIR/pass-a"

# Common start of every guest script.
cat > "$VM_WORKDIR/prelude.sh" <<'EOF'
set -euo pipefail
. /work/guest-lib.sh
trap 'echo "GUEST-FAIL line $LINENO: $BASH_COMMAND (rc=$?)"' ERR
say() { echo "[guest $(cut -d' ' -f1 /proc/uptime)] $*"; }
since() { awk -v a="$1" '{ printf "%.2f", $1 - a }' /proc/uptime; }   # since UPTIME
say "script start"
guest_setup
say "setup done: $(ls /dev/disk/by-id | tr '\n' ' ')"
DEV_A=$(guest_ebs_dev vol0aaa111)
DEV_B=$(guest_ebs_dev vol0bbb222)
unlock() { cryptsetup open -v --key-file=- "$DEV_A" smoke0 < /work/pass-a; }
# Opens smoke0 and checks that slot 0 was the one that matched.
unlock_slot0() { local out; out=$(unlock 2>&1); grep -qx 'Key slot 0 unlocked.' <<< "$out"; }
EOF

# ---------------------------------------------------------------- boot 1
cat > "$VM_WORKDIR/boot1.sh" <<'EOF'
. /work/prelude.sh
[ -b "$DEV_A" ] && [ -b "$DEV_B" ]
[ "$(guest_serial_of "$(basename "$(readlink -f "$DEV_A")")")" = vol0aaa111 ]
[ -z "$(blkid -p -o value -s TYPE "$DEV_A" || true)" ]

t0=$(cut -d' ' -f1 /proc/uptime)
cryptsetup luksFormat -q --type luks2 --cipher aes-xts-plain64 --key-size 512 \
    --pbkdf argon2id --pbkdf-memory 32768 --pbkdf-force-iterations 4 \
    --key-file=- "$DEV_A" < /work/pass-a
say "luksFormat took $(since "$t0") s"
t1=$(cut -d' ' -f1 /proc/uptime)
[ "$(blkid -p -o value -s TYPE "$DEV_A")" = crypto_LUKS ]

rc=0; printf 'wrong' | cryptsetup open --test-passphrase --key-file=- "$DEV_A" || rc=$?
say "wrong passphrase: rc=$rc after $(since "$t1") s"; [ "$rc" = 2 ]

t2=$(cut -d' ' -f1 /proc/uptime)
out=$(unlock 2>&1)
say "open took $(since "$t2") s"
echo "$out" | grep -qx 'Key slot 0 unlocked.'
[ -b /dev/mapper/smoke0 ]
blockdev --getsize64 /dev/mapper/smoke0 > /work/size-boot1

mkfs.ext4 -q /dev/mapper/smoke0
mkdir -p /data
mount /dev/mapper/smoke0 /data
echo "hello from boot 1" > /data/hello.txt
sync
awk '$5 == "/data" { for (i = 7; $i != "-"; i++); print $(i+1), $(i+2) }' \
    /proc/self/mountinfo > /tmp/mnt
say "mountinfo: $(cat /tmp/mnt)"
[ "$(cat /tmp/mnt)" = "ext4 /dev/mapper/smoke0" ]
umount /data
cryptsetup close smoke0
[ ! -e /dev/mapper/smoke0 ]

# A listener on 127.0.0.1 inside the guest is reachable from inside it.
mkdir -p /tmp/www && echo pong > /tmp/www/ping.txt
busybox httpd -f -p 127.0.0.1:8080 -h /tmp/www & httpd=$!
get_wget() { timeout 5 busybox wget -q -O - "$1" 2>/dev/null; }  # no -T: it segfaults
get_curl() { curl -fsS --max-time 5 "$1" 2>/dev/null; }
clients=get_wget
command -v curl >/dev/null && clients="$clients get_curl"
for c in $clients; do
    body=""
    for _ in $(seq 1 50); do
        body=$($c http://127.0.0.1:8080/ping.txt) && break
        sleep 0.1
    done
    say "loopback via ${c#get_}: '$body'"
    [ "$body" = pong ]
done
kill "$httpd"
say "BOOT1-OK"
EOF
echo "boot 1: format, open, mkfs, mount, loopback"
vm_run "$VM_WORKDIR" "$VM_WORKDIR/boot1.sh" 120 "${DISKS[@]}"
must_boot exit 0 "boot 1"
BOOT1_MS=$VM_LAST_MS
check "guest printed BOOT1-OK" grep -q 'BOOT1-OK' "$VM_WORKDIR/guest.log"
check "host sees LUKS on vola.img" cryptsetup isLuks "$VM_WORKDIR/vola.img"
check "host: keyslot is argon2id" grep -q 'PBKDF: *argon2id' <(cryptsetup luksDump "$VM_WORKDIR/vola.img")
grep -h 'luksFormat took\|open took\|wrong passphrase' "$VM_WORKDIR/guest.log" | sed 's/^/       /'

# ---------------------------------------------------------------- grow + boot 2
before=$(stat -c %s "$VM_WORKDIR/vola.img")
vm_disk_resize vola +128M
after=$(stat -c %s "$VM_WORKDIR/vola.img")
check "qemu-img resize grew vola.img by 128 MiB" [ $((after - before)) -eq $((128 << 20)) ]

cat > "$VM_WORKDIR/boot2.sh" <<'EOF'
. /work/prelude.sh
unlock_slot0
size=$(blockdev --getsize64 /dev/mapper/smoke0)
say "mapping size $(cat /work/size-boot1) -> $size"
[ "$size" -eq $(( $(cat /work/size-boot1) + (128 << 20) )) ]
rc=0; e2fsck -fy /dev/mapper/smoke0 >/dev/null 2>&1 || rc=$?; [ "$rc" -le 1 ]
mkdir -p /data
mount /dev/mapper/smoke0 /data
[ "$(cat /data/hello.txt)" = "hello from boot 1" ]
resize2fs /dev/mapper/smoke0 >/dev/null 2>&1
say "fs size after online grow: $(df -k /data | awk 'NR==2 {print $2}') KiB"
[ "$(df -k /data | awk 'NR==2 {print $2}')" -gt 300000 ]
echo "written before power cut" > /data/dirty.txt   # deliberately no sync
say "BOOT2-OK, cutting power"
guest_power_cut
say "still alive after guest_power_cut?!"
exit 3
EOF
echo "boot 2: reopen grown disk, online resize, guest-triggered power cut"
vm_run "$VM_WORKDIR" "$VM_WORKDIR/boot2.sh" 120 "${DISKS[@]}"
must_boot cut "$VM_RC_CUT" "boot 2 (guest_power_cut)"
check "guest printed BOOT2-OK" grep -q 'BOOT2-OK' "$VM_WORKDIR/guest.log"
check "guest did not run past guest_power_cut" bash -c "! grep -q 'still alive' '$VM_WORKDIR/guest.log'"

# ---------------------------------------------------------------- boot 3
cat > "$VM_WORKDIR/boot3.sh" <<'EOF'
. /work/prelude.sh
unlock_slot0
rc=0; e2fsck -fy /dev/mapper/smoke0 >/dev/null 2>&1 || rc=$?
say "e2fsck after power cut: rc=$rc"; [ "$rc" -le 1 ]
mkdir -p /data
mount /dev/mapper/smoke0 /data
[ "$(cat /data/hello.txt)" = "hello from boot 1" ]
say "dirty.txt survived the cut: $([ -s /data/dirty.txt ] && echo yes || echo no)"
umount /data
cryptsetup close smoke0
say "BOOT3-OK, asking the host to cut"
guest_request_cut
sleep 30
exit 3
EOF
echo "boot 3: reopen after the cut, fsck, host-side cut via /work/cut-now"
vm_run "$VM_WORKDIR" "$VM_WORKDIR/boot3.sh" 120 "${DISKS[@]}"
must_boot cut "$VM_RC_CUT" "boot 3 (cut-now marker)"
check "guest printed BOOT3-OK" grep -q 'BOOT3-OK' "$VM_WORKDIR/guest.log"

# ---------------------------------------------------------------- harness limits
printf 'sleep 600\n' > "$VM_WORKDIR/hang.sh"
echo "timeout: guest that never ends, TIMEOUT_S=3"
vm_run "$VM_WORKDIR" "$VM_WORKDIR/hang.sh" 3 "${DISKS[@]}"
must_boot timeout "$VM_RC_TIMEOUT" "timeout run"
check "timeout enforced within 2 s of the limit" [ "$VM_LAST_MS" -lt 5000 ]

echo "vm_run_cut: power cut 2 s after start"
vm_run_cut "$VM_WORKDIR" "$VM_WORKDIR/hang.sh" 60 2 "${DISKS[@]}"
must_boot cut "$VM_RC_CUT" "timed cut"
check "timed cut happened at ~2 s" [ "$VM_LAST_MS" -lt 4000 ]

qpid=$(cat "$VM_WORKDIR/qemu.pid" 2>/dev/null || true)
check "no QEMU left running (last pid ${qpid:-none})" eval "[ -z '$qpid' ] || ! vm_pid_alive '$qpid'"

printf '\ntimings: boot1 %s ms\n' "$BOOT1_MS"
finish
