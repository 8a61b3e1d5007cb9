#!/bin/bash
# Boot 3 with hostile or unusable disks: scenarios 8 (LUKS under another passphrase),
# 9 (a disk with a foreign filesystem), 11 (kill -9 mid-bootstrap, restart, same request) and
# 12 (bootstrap.json lost while the volumes stay mounted: a new caller must prove itself).
set -u
SCENARIO=failures
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null
cvm_start || exit 1

# 8. One volume already holds LUKS under another passphrase; the other is blank.
api POST /api/v1/bootstrap '{"user_id":"bob","volumes":{
  "good":{"volume_id":"vol-0eee5555","passphrase":"good-pass-1"},
  "locked":{"volume_id":"vol-0ccc3333","passphrase":"not-the-owner"}}}'
wait_op /api/v1/bootstrap
check "S8 bootstrap fails overall" [ "$(jget status):$(jget error)" = "failed:one or more volumes failed" ]
check "S8 the good volume is ok" [ "$(jget volumes.good.status)" = ok ]
check "S8 the good volume is mounted" [ "$(mount_source /good)" = "ext4 /dev/mapper/good" ]
check "S8 the locked volume reports luksOpen failed" [ "$(jget volumes.locked.error)" = "luksOpen failed" ]
check "S8 its detail is cryptsetup's own words" grep -q "No key available with this passphrase" <<< "$(jget volumes.locked.detail)"
check "S8 the detail carries no passphrase" bash -c "! grep -q not-the-owner <<< '$BODY'"

# 9. A disk with an existing filesystem is refused and left alone.
api POST /api/v1/bootstrap '{"user_id":"bob","volumes":{
  "good":{"volume_id":"vol-0eee5555","passphrase":"good-pass-1"},
  "foreign":{"volume_id":"vol-0ddd4444","passphrase":"whatever-1"}}}'
wait_op /api/v1/bootstrap
check "S9 the foreign disk is refused" [ "$(jget volumes.foreign.error)" = "device is not blank; refusing to format" ]
check "S9 the refusal names what blkid found" grep -q 'TYPE="ext4"' <<< "$(jget volumes.foreign.detail)"
check "S9 the other volume is still ok" [ "$(jget volumes.good.status)" = ok ]

# 11. kill -9 of the daemon (and its children) mid-bootstrap, restart, same request.
KBOOT='{"user_id":"carol","volumes":{"k":{"volume_id":"vol-0fff6666","passphrase":"k-pass-1"}}}'
api POST /api/v1/bootstrap "$KBOOT"
check "S11 bootstrap is accepted" [ "$CODE" = 202 ]
for _ in $(seq 1 600); do
  [ -e /dev/mapper/k ] && break
  sleep 0.05
done
# Kill first, check after: a check between the two let mkfs and mount finish before the kill landed.
cvm_kill9
check "S11 the kill landed mid-bootstrap (mapping open, not mounted, no bootstrap.json)" \
  bash -c "[ -e /dev/mapper/k ] && ! grep -q ' /k ' /proc/self/mountinfo && [ ! -e $CVM_RUN_DIR/bootstrap.json ]"
left_keys=$(ls -A "$CVM_RUN_DIR/keys" 2> /dev/null | tr '\n' ' ')
cvm_start || exit 1
api GET /api/v1/status
check "S11 restarted daemon is back in bootstrap" [ "$(jget status)" = bootstrap ]
check "S11 the restart cleared what the killed run left in the key directory (left: ${left_keys:-nothing})" \
  [ -z "$(ls -A "$CVM_RUN_DIR/keys" 2> /dev/null)" ]
api POST /api/v1/bootstrap "$KBOOT"
check "S11 the same request is accepted again" [ "$CODE" = 202 ]
wait_op /api/v1/bootstrap
check "S11 the bootstrap completes ($BODY)" [ "$(jget status)" = completed ]
check "S11 the volume is mounted" [ "$(mount_source /k)" = "ext4 /dev/mapper/k" ]

# 12. Issue 12: the daemon is killed and bootstrap.json is gone, while the volumes stay mapped and
# mounted (what a kill -9 between the mount and the record write leaves). Whoever bootstraps first
# would become the owner; an existing mapping must now prove it is the volume, and the passphrase must
# open its header.
DK=$(readlink -f "$(guest_ebs_dev vol0fff6666)")
header_area() { head -c 16777216 "$1" | sha256sum; } # both header copies and the keyslot area
echo "written before the restart" > /k/marker.txt
sync
k_header=$(header_area "$DK")
cvm_kill9
rm -f "$CVM_RUN_DIR/bootstrap.json"
cvm_start || exit 1
api GET /api/v1/status
check "S12 without bootstrap.json the restarted daemon is in bootstrap" [ "$(jget status)" = bootstrap ]

api POST /api/v1/bootstrap '{"user_id":"mallory","volumes":{"k":{"volume_id":"vol-0fff6666","passphrase":"guessed-pass"}}}'
check "S12 a bootstrap with a wrong passphrase is accepted" [ "$CODE" = 202 ]
wait_op /api/v1/bootstrap
check "S12 a wrong passphrase on the mounted volume is a per-volume error ($BODY)" \
  [ "$(jget status):$(jget volumes.k.error)" = "failed:passphrase does not open the volume" ]
api GET /api/v1/status
check "S12 the status stays bootstrap" [ "$(jget status)" = bootstrap ]
check "S12 the volume is still mounted from its mapping" [ "$(mount_source /k)" = "ext4 /dev/mapper/k" ]
check "S12 its data is untouched" [ "$(cat /k/marker.txt 2> /dev/null)" = "written before the restart" ]
check "S12 its header area is byte-for-byte unchanged" [ "$(header_area "$DK")" = "$k_header" ]
check "S12 no bootstrap.json was written" [ ! -e "$CVM_RUN_DIR/bootstrap.json" ]
check "S12 the owner's user_id file is unchanged" [ "$(cat "$CVM_RUN_DIR/user_id.env")" = CVM_USER_ID=carol ]

# The same dm name bound to another volume (whose passphrase the caller does know).
api POST /api/v1/bootstrap '{"user_id":"mallory","volumes":{"k":{"volume_id":"vol-0eee5555","passphrase":"good-pass-1"}}}'
wait_op /api/v1/bootstrap
check "S12 the dm name of a mapping on another device is refused ($BODY)" \
  [ "$(jget status):$(jget volumes.k.error)" = "failed:existing mapping is not this volume" ]
check "S12 the refusal names the device the mapping sits on" grep -q "but volume vol-0eee5555 is" <<< "$(jget volumes.k.detail)"
api GET /api/v1/status
check "S12 the status still stays bootstrap" [ "$(jget status)" = bootstrap ]
check "S12 the header is still unchanged" [ "$(header_area "$DK")" = "$k_header" ]

# The owner's own request proves the mapping and completes.
api POST /api/v1/bootstrap "$KBOOT"
wait_op /api/v1/bootstrap
check "S12 the right request completes ($BODY)" [ "$(jget status)" = completed ]
api GET /api/v1/status
check "S12 then the daemon is ready" [ "$(jget status)" = ready ]
check "S12 and bootstrap.json is back" [ -s "$CVM_RUN_DIR/bootstrap.json" ]
check "S12 the proof left the header as it was" [ "$(header_area "$DK")" = "$k_header" ]
check "S12 no header copy is left on tmpfs ($(ls -A "$CVM_RUN_DIR/keys" | tr '\n' ' '))" [ -z "$(ls -A "$CVM_RUN_DIR/keys")" ]

cvm_stop
umount /good /k
cryptsetup close good
cryptsetup close k
sync
finish
