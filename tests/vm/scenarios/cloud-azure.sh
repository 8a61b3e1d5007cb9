#!/bin/bash
# Issue 16, Azure: SMBIOS gives the Azure chassis asset tag, so the daemon detects azure for real.
# Data disks are scsi-hd vendor Msft, product "Virtual Disk" with a LUN, on a second virtio-scsi
# controller. LUN 3 has /dev/disk/azure/scsi1/lun3 (as WALinuxAgent's udev rules make it) and its
# H:C:T:L 1:0:0:3; the link goes before the restart, so the reopen finds it from sysfs alone. The host
# also presents LUN 7 twice (two targets on one controller), and an OS-like disk at LUN 0 on the first
# controller that is mounted: with no VMBus identity (virtio-scsi has none) only the root disk's
# controller could be told apart from a data-disk controller, so LUN 0 is a match, and it is refused
# because it is mounted.
set -u
SCENARIO=azure
CVM_ITER_TIME=1 # cheap keyslots: these scenarios test finding disks, not the KDF
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null

lun3=$(guest_scsi_at 1:0:0:3)
dup1=$(guest_scsi_at 1:0:1:7)
dup2=$(guest_scsi_at 1:0:2:7)
os=$(guest_scsi_at 0:0:0:0)
check "setup: the disks are at their addresses ($os $lun3 $dup1 $dup2)" [ -n "$os" -a -n "$lun3" -a -n "$dup1" -a -n "$dup2" ]
check "setup: the guest sees the Azure chassis asset tag" [ "$(cat /sys/class/dmi/id/chassis_asset_tag)" = 7783-7084-3265-9085-8269-3286-77 ]
mkdir -p /dev/disk/azure/scsi1
ln -s "../../../$lun3" /dev/disk/azure/scsi1/lun3
mkfs.ext4 -q "/dev/$os"
mkdir -p /mnt/os
mount "/dev/$os" /mnt/os

cvm_start || exit 1
cloud_detected azure 'DMI chassis_asset_tag is 7783-7084-3265-9085-8269-3286-77'

GOOD='{"user_id":"ada","volumes":{"data":{"volume_id":"3","passphrase":"az-data-1"}}}'
api POST /api/v1/bootstrap '{"user_id":"ada","volumes":{
  "data":{"volume_id":"3","passphrase":"az-data-1"},
  "dup":{"volume_id":"7","passphrase":"az-dup-1"},
  "os":{"volume_id":"0","passphrase":"az-os-1"}}}'
wait_op /api/v1/bootstrap
echo "$BODY"
check "A1 the data disk at LUN 3 is bootstrapped" [ "$(jget volumes.data.status)" = ok ]
check "A1 it is mounted from its mapping" [ "$(mount_source /data)" = "ext4 /dev/mapper/data" ]
check "A1 the scsi1/lun3 link and H:C:T:L both named it" \
  resolved_as 3 "/dev/$lun3 (/dev/disk/azure/scsi1/lun3; SCSI 1:0:0:3 Msft Virtual Disk on SCSI host 1, which has no VMBus identity"
err=$(volume_error dup)
check "A2 one LUN on two disks is refused, naming both ($err)" \
  matches "$err" "more than one device matches | volume 7 matches /dev/$dup1 (SCSI 1:0:1:7 *) and /dev/$dup2 (SCSI 1:0:2:7 *)*"
check "A2 the first duplicate was not touched" untouched_disk "/dev/$dup1"
check "A2 the second duplicate was not touched" untouched_disk "/dev/$dup2"
err=$(volume_error os)
check "A3 the mounted OS-like disk at LUN 0 is refused ($err)" matches "$err" "device refused | volume 0 is /dev/$os (SCSI 0:0:0:0 *), but /dev/$os is mounted at /mnt/os"
check "A3 it is still the ext4 it was" [ "$(blkid -o value -s TYPE "/dev/$os")" = ext4 ]
check "A the daemon logged no passphrase" bash -c "! grep -qE 'az-(data|dup|os)-1' /work/daemon.$DAEMON_N.log"

cloud_finish "$GOOD" /dev/disk/azure/scsi1/lun3
check "R2 without the link, H:C:T:L alone found the disk" resolved_as 3 "/dev/$lun3 (SCSI 1:0:0:3 Msft Virtual Disk on SCSI host 1"
umount /mnt/os
finish
