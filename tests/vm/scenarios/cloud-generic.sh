#!/bin/bash
# Issue 16, generic: SMBIOS names a plain KVM machine, so the daemon detects generic for real, and a
# volume_id is a disk serial: gen-vd-1 on virtio-blk (/sys/block/vdX/serial). The host also gives
# dup-serial-1 to an NVMe disk (the controller serial) and to a SCSI disk (its VPD page 0x80 serial).
set -u
SCENARIO=generic
CVM_ITER_TIME=1 # cheap keyslots: these scenarios test finding disks, not the KDF
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null

vd=$(for b in /sys/block/vd*; do [ "$(cat "$b/serial")" = gen-vd-1 ] && echo "${b##*/}"; done)
dup_nvme=$(for b in /sys/block/nvme*n1; do [ "$(guest_serial_of "${b##*/}")" = dup-serial-1 ] && echo "${b##*/}"; done)
dup_sd=$(guest_scsi_with_serial dup-serial-1)
check "setup: the disks are there ($vd $dup_nvme $dup_sd)" [ -n "$vd" -a -n "$dup_nvme" -a -n "$dup_sd" ]

cvm_start || exit 1
cloud_detected generic 'DMI matches no known cloud'

GOOD='{"user_id":"gus","volumes":{"data":{"volume_id":"gen-vd-1","passphrase":"gen-data-1"}}}'
api POST /api/v1/bootstrap '{"user_id":"gus","volumes":{
  "data":{"volume_id":"gen-vd-1","passphrase":"gen-data-1"},
  "dup":{"volume_id":"dup-serial-1","passphrase":"gen-dup-1"}}}'
wait_op /api/v1/bootstrap
echo "$BODY"
check "N1 the virtio-blk volume is bootstrapped" [ "$(jget volumes.data.status)" = ok ]
check "N1 it sits on the virtio-blk disk" [ "$(cryptsetup status data | awk '$1 == "device:" { print $2 }')" = "/dev/$vd" ]
check "N1 the serial named it" resolved_as gen-vd-1 "/dev/$vd (virtio-blk serial gen-vd-1)"
err=$(volume_error dup)
check "N2 one serial on an NVMe and a SCSI disk is refused, naming both ($err)" \
  matches "$err" "more than one device matches | volume dup-serial-1 matches /dev/$dup_nvme (NVMe serial dup-serial-1) and /dev/$dup_sd (SCSI 0:0:0:0 serial dup-serial-1)*"
check "N2 the NVMe duplicate was not touched" untouched_disk "/dev/$dup_nvme"
check "N2 the SCSI duplicate was not touched" untouched_disk "/dev/$dup_sd"
check "N the daemon logged no passphrase" bash -c "! grep -qE 'gen-(data|dup)-1' /work/daemon.$DAEMON_N.log"

cloud_finish "$GOOD"
finish
