#!/bin/bash
# Boot 1 on blank disks: scenarios 1 (fresh bootstrap), 2 (idempotency), 7 (rotation),
# 3 (daemon restart recovers from bootstrap.json) and 10 (shutdown).
set -u
SCENARIO=fresh
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null

D1=$(readlink -f "$(guest_ebs_dev vol0aaa1111)")
D2=$(readlink -f "$(guest_ebs_dev vol0bbb2222)")
cvm_start || exit 1

# A. Attestation on a real kernel without a TEE (no configfs-tsm, no guest driver): the platform says
# so, evidence is refused with 501, and the online verifier fails with that reason.
api GET /api/v1/platform
check "A1 platform reports tee none on a plain VM" [ "$CODE:$(jget tee)" = "200:none" ]
check "A1 platform reports the guest's kernel release" [ "$(jget kernel_release)" = "$(uname -r)" ]
cloud_detected aws "DMI sys_vendor is"
api GET "/api/v1/attestation?nonce=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
check "A1 attestation without a provider is 501" [ "$CODE" = 501 ]
verify_out=$("$CVM_BIN" verify --url https://127.0.0.1:9443 --json); verify_rc=$?
check "A1 verify --url exits 1 against a VM without a TEE ($verify_out)" [ "$verify_rc" = 1 ]
check "A1 verify --url names the daemon's 501" grep -q 'answered 501' <<< "$verify_out"

BOOT='{"user_id":"alice",
  "env":{"app.env":{"MODE":"prod","GREETING":"hi \"there\" $HOME `x` \\ end"}},
  "secret":{"db.env":{"DB_PASSWORD":"s3cr3t-value"}},
  "volumes":{"data":{"volume_id":"vol-0aaa1111","passphrase":"pass-data-1"},
             "logs":{"volume_id":"vol-0bbb2222","passphrase":"pass-logs-1","mount_point":"/var/log/app"}}}'

# 1. Fresh bootstrap of two volumes.
api POST /api/v1/bootstrap "$BOOT"
check "S1 bootstrap is accepted with 202" [ "$CODE" = 202 ]
start=$(date +%s%N)
wait_op /api/v1/bootstrap
measure "fresh_bootstrap_2_volumes_ms=$((($(date +%s%N) - start) / 1000000))"
check "S1 bootstrap completes ($BODY)" [ "$(jget status)" = completed ]
api GET /api/v1/status
check "S1 status is ready" [ "$(jget status)" = ready ]
for dev in "$D1" "$D2"; do
  dump=$(cryptsetup luksDump "$dev")
  check "S1 $dev header is LUKS2" grep -Eq '^Version:[[:space:]]+2$' <<< "$dump"
  check "S1 $dev data segment is aes-xts-plain64" grep -Eq '^[[:space:]]+cipher:[[:space:]]+aes-xts-plain64$' <<< "$dump"
  check "S1 $dev keyslot is argon2id" grep -Eq '^[[:space:]]+PBKDF:[[:space:]]+argon2id$' <<< "$dump"
done
check "S1 /data is ext4 from /dev/mapper/data" [ "$(mount_source /data)" = "ext4 /dev/mapper/data" ]
check "S1 /var/log/app is ext4 from /dev/mapper/logs" [ "$(mount_source /var/log/app)" = "ext4 /dev/mapper/logs" ]
check "S1 env file is 0644" [ "$(mode_of $CVM_RUN_DIR/env/app.env)" = 644 ]
check "S1 secret dir is 0700" [ "$(mode_of $CVM_RUN_DIR/secret)" = 700 ]
check "S1 secret file is 0600" [ "$(mode_of $CVM_RUN_DIR/secret/db.env)" = 600 ]
check "S1 user_id.env is 0644" [ "$(mode_of $CVM_RUN_DIR/user_id.env)" = 644 ]
check "S1 user_id.env content" [ "$(cat $CVM_RUN_DIR/user_id.env)" = 'CVM_USER_ID=alice' ]
check "S1 secret file content" [ "$(cat $CVM_RUN_DIR/secret/db.env)" = 'DB_PASSWORD=s3cr3t-value' ]
# sh reads the env file back as exactly the value given (systemd's rules are the same for these escapes).
greeting=$(env -i sh -c "set -a; . $CVM_RUN_DIR/env/app.env; printf '%s' \"\$GREETING\"")
check "S1 env file value reads back exactly" [ "$greeting" = 'hi "there" $HOME `x` \ end' ]
check "S1 bootstrap.json is 0600" [ "$(mode_of $CVM_RUN_DIR/bootstrap.json)" = 600 ]
check "S1 bootstrap.json holds no secret" bash -c "! grep -Eq 'pass-data|pass-logs|s3cr3t' $CVM_RUN_DIR/bootstrap.json"
check "S1 no passphrase in the daemon log" bash -c "! grep -Eq 'pass-data|pass-logs|s3cr3t' /work/daemon.1.log"

# 2. Idempotency.
api POST /api/v1/bootstrap "$BOOT"
check "S2 identical retry returns 200 ready" [ "$CODE:$(jget status)" = "200:ready" ]
api POST /api/v1/bootstrap "${BOOT/pass-logs-1/pass-logs-X}"
check "S2 different request returns 409" [ "$CODE" = 409 ]

# Data for the reboot scenario, and the size before the host grows the disk.
echo hello-1 > /data/marker.txt
sync
stat -f -c %b /var/log/app > /work/logs-blocks-before

# 7. Rotation.
api POST /api/v1/passphrase '{"volumes":{"data":{"old_passphrase":"wrong","new_passphrase":"pass-data-2"}}}'
check "S7 wrong old passphrase returns 401 naming the volume" [ "$CODE:$(jget detail)" = "401:volumes: data" ]
api POST /api/v1/passphrase '{"volumes":{"data":{"old_passphrase":"pass-data-1","new_passphrase":"pass-data-2"}}}'
check "S7 rotation is accepted with 202" [ "$CODE" = 202 ]
wait_op /api/v1/passphrase
check "S7 rotation completes ($BODY)" [ "$(jget status)" = completed ]
check "S7 the new passphrase opens the volume" opens "$D1" pass-data-2
check "S7 the old passphrase still opens the volume" opens "$D1" pass-data-1
check "S7 no key file is left behind" bash -c "[ -z \"\$(ls -A $CVM_RUN_DIR/keys)\" ]"

# 3. Daemon restart: recovery from bootstrap.json.
cvm_stop
cvm_start || exit 1
api GET /api/v1/status
check "S3 restarted daemon comes back ready" [ "$(jget status)" = ready ]
api POST /api/v1/bootstrap "$BOOT"
check "S3 identical bootstrap after restart returns 200" [ "$CODE" = 200 ]

# 10. Shutdown.
api POST /api/v1/shutdown '{"user_id":"mallory"}'
check "S10 wrong user_id returns 401" [ "$CODE" = 401 ]
check "S10 nothing reached systemctl" [ ! -e /work/systemctl.log ]
api POST /api/v1/shutdown '{"user_id":"alice"}'
check "S10 right user_id returns ok" [ "$CODE:$(jget status)" = "200:ok" ]
check "S10 systemctl poweroff was called" [ "$(cat /work/systemctl.log 2> /dev/null)" = poweroff ]
api GET /api/v1/status
check "S10 status is shutdown" [ "$(jget status)" = shutdown ]

cvm_stop
umount /data /var/log/app
cryptsetup close data
cryptsetup close logs
sync
finish
