#!/bin/bash
# Issue 5, boot 2, after the host attacked the disks between boots:
#   h1: a cipher_null data segment forged into a consistent header   -> refused (scenario 1)
#   h2: first 4 MiB zeroed on a volume holding data                  -> refused (scenario 2)
#   h3: random bytes over the start of the disk                      -> refused (scenario 3)
#   h4: a fresh all-zero disk                                        -> formatted as before (scenario 4)
set -u
SCENARIO=hostile
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null
cvm_start || exit 1
api POST /api/v1/bootstrap '{"user_id":"eve","volumes":{
  "h1":{"volume_id":"vol-00000a01","passphrase":"h1-pass-1"},
  "h2":{"volume_id":"vol-00000a02","passphrase":"h2-pass-1"},
  "h3":{"volume_id":"vol-00000a03","passphrase":"h3-pass-1"},
  "h4":{"volume_id":"vol-00000a04","passphrase":"h4-pass-1"}}}'
wait_op /api/v1/bootstrap
echo "$BODY"
check "5.1 the forged cipher_null header is rejected" [ "$(jget volumes.h1.error)" = "LUKS2 header rejected" ]
check "5.1 the rejection names the field" grep -q 'segments.0.encryption is "cipher_null-ecb"' <<< "$(jget volumes.h1.detail)"
check "5.1 the forged volume was never opened" [ ! -e /dev/mapper/h1 ]
check "5.2 the volume with a zeroed header is refused" [ "$(jget volumes.h2.error)" = "device is not blank; refusing to format" ]
check "5.2 the refusal says where data was found" grep -q 'non-zero bytes at offset' <<< "$(jget volumes.h2.detail)"
check "5.3 the volume with random bytes at its start is refused" [ "$(jget volumes.h3.error)" = "device is not blank; refusing to format" ]
check "5.4 the fresh all-zero disk is formatted and ok" [ "$(jget volumes.h4.status)" = ok ]
check "5.4 it is mounted" [ "$(mount_source /h4)" = "ext4 /dev/mapper/h4" ]
dev4=$(readlink -f "$(guest_ebs_dev vol00000a04)")
check "5.4 it carries the cvm-control marker" grep -q '"type":"cvm-control"' <<< "$(cryptsetup luksDump --dump-json-metadata "$dev4")"
check "5.4 its keyslot cipher is pinned" grep -Eq '^[[:space:]]+Cipher:[[:space:]]+aes-xts-plain64$' <<< "$(cryptsetup luksDump "$dev4")"
check "no header copy or key file is left on tmpfs" bash -c "[ -z \"\$(ls -A $CVM_RUN_DIR/keys)\" ]"
cvm_stop

# 6. kill -9 while the env and secret files and bootstrap.json are being written: never a torn file.
# The volume is already mounted, so once the mapping is proven (header copy, one KDF run) the bootstrap
# goes straight to writing 240 files.
python3 - > /work/atomic-request.json << 'PY'
import json
# About 400 KiB in all: well inside the API's 1 MiB body limit.
files = {f"f{i:03}.env": {f"K{j}": f"v{i}x{j}" + "a" * 70 for j in range(20)} for i in range(120)}
print(json.dumps({"user_id": "eve", "env": files, "secret": files,
                  "volumes": {"h4": {"volume_id": "vol-00000a04", "passphrase": "h4-pass-1"}}}))
PY
check_files() { # RUN_DIR: every file present must be whole (exactly the expected bytes)
  python3 - "$1" << 'PY'
import json, os, sys
run = sys.argv[1]
request = json.load(open("/work/atomic-request.json"))
bad = []
for kind in ("env", "secret"):
    d = os.path.join(run, kind)
    for name in (os.listdir(d) if os.path.isdir(d) else []):
        if name.startswith(".tmp-"):
            continue  # an unfinished temp file is not a state file; it is removed by the next write
        want = "".join(f"{k}={v}\n" for k, v in sorted(request[kind][name].items()))
        if open(os.path.join(d, name)).read() != want:
            bad.append(f"{kind}/{name}")
record = os.path.join(run, "bootstrap.json")
if os.path.exists(record):
    try:
        json.load(open(record))
    except ValueError:
        bad.append("bootstrap.json")
print("torn:", bad if bad else "none")
sys.exit(1 if bad else 0)
PY
}
for trial in 1 2 3 4 5; do
  CVM_RUN_DIR=/run/cvm-atomic-$trial
  cvm_start || exit 1
  api POST /api/v1/bootstrap @/work/atomic-request.json
  check "6 trial $trial: the request is accepted" [ "$CODE" = 202 ]
  # Provisioning starts as soon as the mounted volume is proven, and took under a second here: kill
  # within it.
  for _ in $(seq 1 600); do
    grep -q 'already mounted at /h4' "/work/daemon.$DAEMON_N.log" && break
    sleep 0.05
  done
  delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", r % 100 / 100 }')
  sleep "$delay"
  cvm_kill9
  written=$(ls "$CVM_RUN_DIR/env" 2> /dev/null | grep -vc '^\.tmp-' || true)
  secrets=$(ls "$CVM_RUN_DIR/secret" 2> /dev/null | grep -vc '^\.tmp-' || true)
  temps=$(ls -A "$CVM_RUN_DIR/env" "$CVM_RUN_DIR/secret" 2> /dev/null | grep -c '^\.tmp-' || true)
  record=$([ -e "$CVM_RUN_DIR/bootstrap.json" ] && echo yes || echo no)
  measure "kill -9 trial $trial after ${delay}s: env files $written/120, secret files $secrets/120, unfinished temp files $temps, bootstrap.json $record"
  check "6 trial $trial: no torn file after kill -9 at ${delay}s" check_files "$CVM_RUN_DIR"
  cvm_start || exit 1
  api POST /api/v1/bootstrap @/work/atomic-request.json
  wait_op /api/v1/bootstrap
  check "6 trial $trial: the same request then completes ($(jget status))" [ "$(jget status)" = completed ]
  check "6 trial $trial: every file whole afterwards" check_files "$CVM_RUN_DIR"
  check "6 trial $trial: all 240 files present" [ "$(ls -A "$CVM_RUN_DIR/env" "$CVM_RUN_DIR/secret" | grep -c '\.env$')" = 240 ]
  check "6 trial $trial: no temp file left" [ "$(ls -A "$CVM_RUN_DIR/env" "$CVM_RUN_DIR/secret" | grep -c '^\.tmp-')" = 0 ]
  cvm_stop
done

umount /h4
cryptsetup close h4
sync
finish
