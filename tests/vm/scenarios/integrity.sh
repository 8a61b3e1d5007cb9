#!/bin/bash
# Issue 19, opt-in dm-integrity under LUKS2. Four boots over the same disks; /work/phase.env sets PHASE:
#   A  fresh bootstrap: i1 with integrity, p1 without, i3 with integrity; write files; find where one
#      file's data lies on each raw disk (for the host to flip a byte there with the VM off).
#   B  after the flips and a 256 MiB growth of i1: data written before the reboot reads back; the
#      flipped block reads as an I/O error with integrity and as silently changed data without; the
#      corrupted i3 shows the kernel's integrity messages in its detail or warnings; the filesystem
#      grew; a 120 MiB file, more than the old area had free, is located in the grown area; then a power cut during a write burst.
#   C  after a flip in the grown area and another 64 MiB growth: a power cut during the resize.
#   D  the volume opens, e2fsck is clean or repairable, the growth is complete, and the flipped block
#      in the grown area reads as an I/O error.
set -u
SCENARIO=integrity
. /work/guest-lib.sh
. /work/cvm-guest.sh
# shellcheck source=/dev/null
. /work/phase.env
guest_setup 60 > /dev/null
I1=$(readlink -f "$(guest_ebs_dev vol00000e01)")
P1=$(readlink -f "$(guest_ebs_dev vol00000e02)")
I3=$(readlink -f "$(guest_ebs_dev vol00000e03)")
BOOT='{"user_id":"integrity","volumes":{
  "i1":{"volume_id":"vol-00000e01","passphrase":"pass-i1","integrity":true},
  "p1":{"volume_id":"vol-00000e02","passphrase":"pass-p1"},
  "i3":{"volume_id":"vol-00000e03","passphrase":"pass-i3","integrity":true}}}'
BOOT_I1='{"user_id":"integrity","volumes":{"i1":{"volume_id":"vol-00000e01","passphrase":"pass-i1","integrity":true}}}'

# reads_as_io_error FILE: an O_DIRECT read of the whole file fails with EIO or EILSEQ (dm-integrity
# returns the latter for a tag mismatch; both are what a reader sees instead of altered data).
reads_as_io_error() {
  local err
  err=$(dd if="$1" of=/dev/null bs=1M iflag=direct 2>&1) && return 1
  echo "  read error: $(tail -n 1 <<< "$err")"
  grep -qE 'Input/output error|Invalid or incomplete multibyte' <<< "$err"
}

# close_all: unmount the volumes and close every mapping, top down, so that the raw disks are final.
close_all() {
  local mp
  for mp in /i1 /p1 /i3; do umount "$mp" 2> /dev/null; done
  for mp in i1 p1 i3; do cryptsetup close "$mp" 2> /dev/null; done
  for mp in i1 i3; do
    integritysetup close "$mp@integrity" 2> /dev/null
    dmsetup remove "$mp@data" 2> /dev/null
  done
  sync
}

blocks_of() { stat -f -c %b "$1"; }

# volume_ok NAME: the volume is ok in BODY (a completed bootstrap without warnings lists no volumes).
volume_ok() { [ "$(jget status)" = completed ] || [ "$(jget "volumes.$1.status")" = ok ]; }

case $PHASE in
A)
  cvm_start || exit 1
  api POST /api/v1/bootstrap "$BOOT"
  start=$(date +%s%N)
  wait_op /api/v1/bootstrap
  measure "integrity_fresh_bootstrap_3_volumes_ms=$((($(date +%s%N) - start) / 1000000))"
  check "I1 a bootstrap with integrity on two volumes and without on one completes ($BODY)" [ "$(jget status)" = completed ]
  check "I1 the stack is dm-crypt on <name>@integrity on <name>@data" \
    bash -c "dmsetup ls | grep -q '^i1@integrity' && dmsetup ls | grep -q '^i1@data' && ! dmsetup ls | grep -q '^p1@'"
  table=$(dmsetup table i1@integrity)
  echo "  i1@integrity: ${table%% internal_hash*} …"
  check "I1 the integrity layer is dm-integrity in journal mode with 32-byte HMAC-SHA256 tags" \
    grep -qE ' integrity [0-9:]+ 0 32 J .*internal_hash:hmac\(sha256\)' <<< "$table"
  check "I1 no layer of the volume allows discards" bash -c "! dmsetup table i1 i1@integrity | grep -q allow_discards"
  check "I1 the integrity volume's filesystem is on its dm-crypt mapping" [ "$(mount_source /i1 | cut -d' ' -f1)" = ext4 ]
  check "I1 the header sits at the start of the raw disk, made for data on another device (offset 0)" \
    bash -c "cryptsetup luksDump --dump-json-metadata $I1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"segments\"][\"0\"][\"offset\"])' | grep -qx 0"
  check "I1 bootstrap.json records integrity per volume" python3 -c '
import json, sys
v = json.load(open("/run/cvm/bootstrap.json"))["volumes"]
sys.exit(0 if (v["i1"]["integrity"], v["p1"]["integrity"], v["i3"]["integrity"]) == (True, False, True) else 1)'
  grep -q 'pass-i1' /run/cvm/bootstrap.json /work/daemon.1.log && fail "I1 a passphrase reached bootstrap.json or the log"
  window=$(blockdev --getsize64 /dev/mapper/i1@data)
  usable=$(blockdev --getsize64 /dev/mapper/i1@integrity)
  measure "integrity_overhead: window $window bytes, integrity device $usable bytes, $(awk -v w="$window" -v u="$usable" 'BEGIN { printf "%.2f", (w - u) * 100 / w }') % for journal and tags"
  head -c 1M /dev/urandom > /i1/keep.bin
  sha256sum < /i1/keep.bin > /work/keep.sha
  blocks_of /i1 > /work/i1-blocks-a
  # For the host: where i3's dm-integrity superblock and journal end (its table names the journal's size).
  journal=$(dmsetup table i3@integrity | grep -o 'journal_sectors:[0-9]*' | cut -d: -f2)
  echo $(((16 * 1024 * 1024 + (8 + journal) * 512 + 4095) / 4096 * 4096)) > /work/i3-corrupt-from
  cvm_stop
  # mkfs.ext4 leaves the inode tables of a new filesystem to the kernel's ext4lazyinit thread, which
  # zeroes them in the background after the first mount: on these small filesystems (1 KiB blocks, flex
  # groups) that is a ~7 MiB run of changed blocks, longer than any run of the victim file, which group
  # metadata splits. Stop it, so that only the victim's write changes the disks between the snapshots.
  for mp in /i1 /p1; do mount -o remount,noinit_itable "$mp"; done
  sync
  python3 /work/rawdiff.py snap "$I1" /tmp/i1.before
  python3 /work/rawdiff.py snap "$P1" /tmp/p1.before
  for v in i1 p1; do
    head -c 8M /dev/urandom > /tmp/victim
    sha256sum < /tmp/victim > "/work/victim-$v.sha"
    dd if=/tmp/victim of="/$v/victim.bin" bs=1M oflag=direct conv=fsync status=none
  done
  close_all
  python3 /work/rawdiff.py snap "$I1" /tmp/i1.after
  python3 /work/rawdiff.py snap "$P1" /tmp/p1.after
  python3 /work/rawdiff.py pick /tmp/i1.before /tmp/i1.after > /work/tamper-i1
  python3 /work/rawdiff.py pick /tmp/p1.before /tmp/p1.after > /work/tamper-p1
  measure "tamper offsets: i1 $(cat /work/tamper-i1), p1 $(cat /work/tamper-p1)"
  check "I1 a block of each victim file lies in the raw data area" \
    bash -c "[ \$(cat /work/tamper-i1) -gt 16777216 ] && [ \$(cat /work/tamper-p1) -gt 16777216 ]"
  ;;
B)
  cvm_start || exit 1
  api POST /api/v1/bootstrap "$BOOT"
  wait_op /api/v1/bootstrap
  echo "  bootstrap: $BODY"
  check "I2 the flipped integrity volume still bootstraps (the flip is in file data)" volume_ok i1
  check "I2 the flipped plain volume still bootstraps" volume_ok p1
  check "I2 data written before the reboot reads back unchanged" [ "$(sha256sum < /i1/keep.bin)" = "$(cat /work/keep.sha)" ]
  check "I3 with integrity, the block the host flipped reads as an I/O error, not as data" reads_as_io_error /i1/victim.bin
  check "I3 the kernel logged the integrity mismatch" bash -c "dmesg | grep -i integrity | grep -q 'Checksum failed'"
  check "I3 without integrity, the same flip reads back as changed data, without any error" \
    bash -c "sum=\$(sha256sum < /p1/victim.bin) && [ \"\$sum\" != \"\$(cat /work/victim-p1.sha)\" ]"
  i3=$(jget volumes.i3.detail)$(jget volumes.i3.warnings)
  echo "  i3: $(jget volumes.i3.error) | ${i3:0:400}"
  check "I4 the corrupted integrity volume reports the kernel's integrity messages (detail or warnings)" \
    bash -c "grep -q 'kernel: ' <<< '$i3' && grep -q 'Checksum failed' <<< '$i3'"
  check "I4 the daemon logged them too" grep -q 'Checksum failed' /work/daemon.1.log
  check "I4 nothing was formatted over the corrupted volume" bash -c "! grep -q 'mkfs.ext4 failed' <<< '$(jget volumes.i3.error)' && ! grep -q 'running mkfs' /work/daemon.1.log"
  before=$(cat /work/i1-blocks-a)
  after=$(blocks_of /i1)
  measure "i1_blocks_before_growth=$before i1_blocks_after_growth=$after"
  check "I5 after the disk grew by 256 MiB, the filesystem is larger ($before -> $after blocks)" [ "$after" -gt $((before + 40000)) ]
  echo "$after" > /work/i1-blocks-b
  cvm_stop
  umount /p1 /i3 2> /dev/null
  # A file large enough to reach into the grown area: locate one of its blocks past the old end.
  old_end=$((128 * 1024 * 1024))
  mount -o remount,noinit_itable /i1 # no background zeroing of inode tables between the snapshots
  sync
  python3 /work/rawdiff.py snap "$I1" /tmp/i1.before "$old_end"
  head -c 1M /dev/urandom > /tmp/chunk
  for i in $(seq 1 120); do cat /tmp/chunk; done > /i1/grown.bin
  sync
  sha256sum < /i1/grown.bin > /work/grown.sha
  close_all
  python3 /work/rawdiff.py snap "$I1" /tmp/i1.after "$old_end"
  python3 /work/rawdiff.py pick /tmp/i1.before /tmp/i1.after > /work/tamper-grown
  measure "grown-area tamper offset: $(cat /work/tamper-grown)"
  check "I5 a block of the new file lies in the grown area" [ "$(cat /work/tamper-grown)" -gt "$old_end" ]
  # Power cut during a write burst on the volume, reopened by a restarted daemon.
  cvm_start || exit 1
  api POST /api/v1/bootstrap "$BOOT_I1"
  wait_op /api/v1/bootstrap
  check "I6 the volume reopens for the write burst ($BODY)" [ "$(jget status)" = completed ]
  dd if=/dev/urandom of=/i1/burst.bin bs=1M count=200 oflag=direct status=none &
  sleep 4
  measure "cutting power $(stat -c %s /i1/burst.bin 2> /dev/null) bytes into a direct-I/O write burst"
  sync /work/results.txt
  guest_power_cut
  ;;
C)
  # Power cut during the resize (the disk grew by 64 MiB): cut as soon as integritysetup resize or
  # resize2fs runs for this volume.
  cvm_start || exit 1
  api POST /api/v1/bootstrap "$BOOT_I1"
  for i in $(seq 1 6000); do
    if pgrep -f 'integritysetup resize' > /dev/null || pgrep -f 'resize2fs' > /dev/null; then
      ps -eo args | grep -E 'integritysetup resize|resize2fs' | grep -v grep | head -n 1 > /work/cut-during
      guest_power_cut
    fi
    sleep 0.01
  done
  fail "I7 the resize was never seen running, so no power cut landed in it"
  ;;
D)
  measure "phase C cut during: $(cat /work/cut-during 2> /dev/null | cut -c1-60)"
  cvm_start --log-level debug || exit 1
  api POST /api/v1/bootstrap "$BOOT_I1"
  wait_op /api/v1/bootstrap
  check "I7 after power cuts during a write burst and during the resize, the volume opens and e2fsck is clean or repairable ($BODY)" \
    [ "$(jget status)" = completed ]
  check "I7 e2fsck ran and exited 0 or 1" grep -q '"Tool":"e2fsck"' /work/daemon.1.log
  check "I7 mkfs never ran over the volume" bash -c "! grep -q '\"Tool\":\"mkfs.ext4\"' /work/daemon.1.log"
  measure "after the cut: $(grep -o 'finished a growth[^"]*' /work/daemon.1.log | head -n 1 || true)"
  before=$(cat /work/i1-blocks-b)
  after=$(blocks_of /i1)
  measure "i1_blocks_before_second_growth=$before after=$after"
  check "I7 the interrupted growth completed ($before -> $after blocks)" [ "$after" -gt $((before + 10000)) ]
  check "I7 data written before the cuts reads back unchanged" [ "$(sha256sum < /i1/keep.bin)" = "$(cat /work/keep.sha)" ]
  check "I8 a block the host flipped in the grown area reads as an I/O error" reads_as_io_error /i1/grown.bin
  # A rotation with revoke_old changes only keyslots: the volume key, and so the HMAC keys, stay, and the
  # new passphrase alone opens the whole stack again.
  api POST /api/v1/passphrase '{"volumes":{"i1":{"old_passphrase":"pass-i1","new_passphrase":"pass-i1-next","revoke_old":true}}}'
  wait_op /api/v1/passphrase
  check "I9 a rotation with revoke_old on the integrity volume completes ($BODY)" [ "$(jget status)" = completed ]
  cvm_stop
  close_all
  check "I9 the old passphrase no longer opens the header" bash -c "! printf %s pass-i1 | cryptsetup open --test-passphrase --key-file=- $I1"
  cvm_start || exit 1
  api POST /api/v1/bootstrap "${BOOT_I1/pass-i1/pass-i1-next}"
  wait_op /api/v1/bootstrap
  check "I9 the new passphrase reopens the integrity stack ($BODY)" [ "$(jget status)" = completed ]
  check "I9 and the data reads back unchanged" [ "$(sha256sum < /i1/keep.bin)" = "$(cat /work/keep.sha)" ]
  ;;
esac
finish
