#!/bin/bash
# Issue 5, boot 1: three volumes with data, cleanly shut down, for the host to attack afterwards.
set -u
SCENARIO=hostile-prep
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null
cvm_start || exit 1
api POST /api/v1/bootstrap '{"user_id":"eve","volumes":{
  "h1":{"volume_id":"vol-00000a01","passphrase":"h1-pass-1"},
  "h2":{"volume_id":"vol-00000a02","passphrase":"h2-pass-1"},
  "h3":{"volume_id":"vol-00000a03","passphrase":"h3-pass-1"}}}'
wait_op /api/v1/bootstrap
check "prep: three volumes bootstrapped ($BODY)" [ "$(jget status)" = completed ]
for v in h1 h2 h3; do
  head -c 4194304 /dev/urandom > "/$v/data.bin"
  sha256sum < "/$v/data.bin" > "/work/$v.data.sha256"
  dev=$(readlink -f "$(guest_ebs_dev "vol00000a0${v#h}")")
  check "prep: $v carries the cvm-control marker token" grep -q '"type":"cvm-control"' <<< "$(cryptsetup luksDump --dump-json-metadata "$dev")"
done
cvm_stop
umount /h1 /h2 /h3
for v in h1 h2 h3; do cryptsetup close "$v"; done
sync
finish
