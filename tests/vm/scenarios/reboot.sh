#!/bin/bash
# Boot 2 with the same disks, after the host grew disk 2 and added stale keyslots to disk 1:
# scenarios 4 (data survives through e2fsck), 5 (filesystem grows), 6 (stale keyslots removed)
# and measurement (b), the KDF runs of that reopen.
set -u
SCENARIO=reboot
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null

D1=$(readlink -f "$(guest_ebs_dev vol0aaa1111)")
REAL_CRYPTSETUP=$(command -v cryptsetup)

# A cryptsetup shim that counts KDF runs: cryptsetup --debug prints one
# "Running keyslot key derivation." per keyslot it tries. Debug lines (starting with "#") are kept out of
# what the daemon sees.
cat > /work/bin/cryptsetup <<SH
#!/bin/bash
err=\$(mktemp); out=\$(mktemp)
$REAL_CRYPTSETUP --debug "\$@" > "\$out" 2> "\$err"
rc=\$?
echo "\$(cat "\$out" "\$err" | grep -c 'Running keyslot key derivation') \$*" >> /work/kdf.log
# --debug implies --verbose and appends "# ..." even right after output without a final newline
# (luksDump's JSON ends in "}# Releasing ..."): restore exactly what the plain command prints.
filter() {
  sed -E '/^#/d; s/^}# .*/}/' "\$1" | { if [[ " \$* " == *" --verbose "* ]]; then cat; else grep -v '^Command successful\.\$'; fi; }
}
filter "\$out" "\$@"
filter "\$err" "\$@" >&2
rm -f "\$out" "\$err"
exit \$rc
SH
chmod +x /work/bin/cryptsetup

slots_before=$(cryptsetup luksDump "$D1" | grep -cE '^  [0-9]+: luks2')
measure "stale_keyslots_before=$((slots_before - 1))"

cvm_start --log-level debug || exit 1
BOOT='{"user_id":"alice",
  "env":{"app.env":{"MODE":"prod","GREETING":"hi \"there\" $HOME `x` \\ end"}},
  "secret":{"db.env":{"DB_PASSWORD":"s3cr3t-value"}},
  "volumes":{"data":{"volume_id":"vol-0aaa1111","passphrase":"pass-data-1"},
             "logs":{"volume_id":"vol-0bbb2222","passphrase":"pass-logs-1","mount_point":"/var/log/app"}}}'
api POST /api/v1/bootstrap "$BOOT"
wait_op /api/v1/bootstrap
check "S4 bootstrap after reboot completes ($BODY)" [ "$(jget status)" = completed ]

# 4. The data written in boot 1 is still there, and the filesystem went through e2fsck, not mkfs.
check "S4 data written before the reboot is intact" [ "$(cat /data/marker.txt 2> /dev/null)" = hello-1 ]
check "S4 e2fsck ran" grep -q '"Tool":"e2fsck"' /work/daemon.1.log
check "S4 mkfs did not run" bash -c "! grep -q '\"Tool\":\"mkfs.ext4\"' /work/daemon.1.log"

# 5. The host grew disk 2 between boots: the filesystem is larger now.
before=$(cat /work/logs-blocks-before)
after=$(stat -f -c %b /var/log/app)
measure "logs_blocks_before=$before logs_blocks_after=$after"
check "S5 grown disk gives a larger filesystem ($before -> $after blocks)" [ "$after" -gt "$before" ]

# 6. Only the bootstrap passphrase's slot is left.
cvm_stop
dump=$(cryptsetup luksDump "$D1")
check "S6 exactly one keyslot is left" [ "$(grep -cE '^  [0-9]+: luks2' <<< "$dump")" = 1 ]
check "S6 the bootstrap passphrase opens the volume" opens "$D1" pass-data-1
check "S6 the out-of-band passphrase no longer opens it" bash -c "! printf %s stale-a | $REAL_CRYPTSETUP open --test-passphrase --key-file=- $D1 2> /dev/null"

# (b) KDF runs the daemon spent on disk 1 (open + cleanup). The kills run on a copy of disk 1's checked
# header (only disk 1 has stale slots), so they are counted by name, not by device.
kdf=$(awk -v dev="$D1" '{ for (i = 2; i <= NF; i++) if ($i == dev || $i == "luksKillSlot") { s += $1; break } } END { print s + 0 }' /work/kdf.log)
k=$((slots_before - 1))
measure "reopen_kdf_runs=$kdf stale_slots=$k goal<=$((1 + k))"
check "(b) reopen with $k stale slots costs at most 1+k KDF runs ($kdf)" [ "$kdf" -le $((1 + k)) ]

umount /data /var/log/app
"$REAL_CRYPTSETUP" close data
"$REAL_CRYPTSETUP" close logs
sync
finish
