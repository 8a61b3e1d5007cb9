#!/bin/bash
# Boot 3 with hostile or unusable disks: scenarios 8 (LUKS under another passphrase),
# 9 (a disk with a foreign filesystem) and 11 (kill -9 mid-bootstrap, restart, same request).
set -u
SCENARIO=failures
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null
cvm_start || exit 1

# 8. One volume already holds LUKS under another passphrase; the other is blank.
api POST /api/v1/bootstrap '{"user_id":"bob","volumes":{
  "good":{"volume_id":"vol-0eee555","passphrase":"good-pass-1"},
  "locked":{"volume_id":"vol-0ccc333","passphrase":"not-the-owner"}}}'
wait_op /api/v1/bootstrap
check "S8 bootstrap fails overall" [ "$(jget status):$(jget error)" = "failed:one or more volumes failed" ]
check "S8 the good volume is ok" [ "$(jget volumes.good.status)" = ok ]
check "S8 the good volume is mounted" [ "$(mount_source /good)" = "ext4 /dev/mapper/good" ]
check "S8 the locked volume reports luksOpen failed" [ "$(jget volumes.locked.error)" = "luksOpen failed" ]
check "S8 its detail is cryptsetup's own words" grep -q "No key available with this passphrase" <<< "$(jget volumes.locked.detail)"
check "S8 the detail carries no passphrase" bash -c "! grep -q not-the-owner <<< '$BODY'"

# 9. A disk with an existing filesystem is refused and left alone.
api POST /api/v1/bootstrap '{"user_id":"bob","volumes":{
  "good":{"volume_id":"vol-0eee555","passphrase":"good-pass-1"},
  "foreign":{"volume_id":"vol-0ddd444","passphrase":"whatever-1"}}}'
wait_op /api/v1/bootstrap
check "S9 the foreign disk is refused" [ "$(jget volumes.foreign.error)" = "device is not blank; refusing to format" ]
check "S9 the refusal names what blkid found" grep -q 'TYPE="ext4"' <<< "$(jget volumes.foreign.detail)"
check "S9 the other volume is still ok" [ "$(jget volumes.good.status)" = ok ]

# 11. kill -9 of the daemon (and its children) mid-bootstrap, restart, same request.
KBOOT='{"user_id":"carol","volumes":{"k":{"volume_id":"vol-0fff666","passphrase":"k-pass-1"}}}'
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
cvm_start || exit 1
api GET /api/v1/status
check "S11 restarted daemon is back in bootstrap" [ "$(jget status)" = bootstrap ]
api POST /api/v1/bootstrap "$KBOOT"
check "S11 the same request is accepted again" [ "$CODE" = 202 ]
wait_op /api/v1/bootstrap
check "S11 the bootstrap completes ($BODY)" [ "$(jget status)" = completed ]
check "S11 the volume is mounted" [ "$(mount_source /k)" = "ext4 /dev/mapper/k" ]

cvm_stop
umount /good /k
cryptsetup close good
cryptsetup close k
sync
finish
