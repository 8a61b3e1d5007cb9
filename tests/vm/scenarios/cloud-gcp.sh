#!/bin/bash
# Issue 16, GCP: SMBIOS says Google Compute Engine, so the daemon detects gcp for real. Persistent
# disks sit on virtio-scsi as scsi-hd vendor Google, product PersistentDisk, serial = device name.
# data-disk-1 has a google-<name> link (as guest-configs' udev rules make it) and its VPD serial; the
# link goes before the restart, so the reopen finds it from sysfs alone. The host also presents
# dup-disk twice, a partition (of scratch-disk) linked as part-disk, a link evil-disk that leads
# outside /dev, and busy-disk already mounted.
set -u
SCENARIO=gcp
CVM_ITER_TIME=1 # cheap keyslots: these scenarios test finding disks, not the KDF
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null

data=$(guest_scsi_with_serial data-disk-1)
part=$(guest_scsi_with_serial scratch-disk)
busy=$(guest_scsi_with_serial busy-disk)
# (No process substitution: this guest has no /dev/fd.)
dups=$(guest_scsi_with_serial dup-disk)
dup1=$(sed -n 1p <<< "$dups")
dup2=$(sed -n 2p <<< "$dups")
check "setup: the guest sees the SMBIOS product name" [ "$(cat /sys/class/dmi/id/product_name)" = "Google Compute Engine" ]
check "setup: the disks are there ($data $part $busy $dup1 $dup2)" [ -n "$data" -a -n "$part" -a -n "$busy" -a -n "$dup1" -a -n "$dup2" ]
mkdir -p /dev/disk/by-id
ln -s "../../$data" /dev/disk/by-id/google-data-disk-1
# scratch-disk carries an MBR with one partition, written by the host (this guest has no sfdisk).
for _ in $(seq 1 50); do [ -b "/dev/${part}1" ] && break; sleep 0.1; done
check "setup: the kernel found scratch-disk's partition ${part}1" [ -b "/dev/${part}1" ]
ln -s "../../${part}1" /dev/disk/by-id/google-part-disk
: > /work/evil.img
ln -s /work/evil.img /dev/disk/by-id/google-evil-disk
mkfs.ext4 -q "/dev/$busy"
mkdir -p /mnt/busy
mount "/dev/$busy" /mnt/busy

cvm_start || exit 1
cloud_detected gcp 'DMI product_name is'

GOOD='{"user_id":"gina","volumes":{"data":{"volume_id":"data-disk-1","passphrase":"gcp-data-1"}}}'
api POST /api/v1/bootstrap '{"user_id":"gina","volumes":{
  "data":{"volume_id":"data-disk-1","passphrase":"gcp-data-1"},
  "dup":{"volume_id":"dup-disk","passphrase":"gcp-dup-1"},
  "part":{"volume_id":"part-disk","passphrase":"gcp-part-1"},
  "evil":{"volume_id":"evil-disk","passphrase":"gcp-evil-1"},
  "busy":{"volume_id":"busy-disk","passphrase":"gcp-busy-1"}}}'
wait_op /api/v1/bootstrap
echo "$BODY"
check "G1 the persistent disk is bootstrapped" [ "$(jget volumes.data.status)" = ok ]
check "G1 it is mounted from its mapping" [ "$(mount_source /data)" = "ext4 /dev/mapper/data" ]
check "G1 the link and the VPD serial both named it" \
  resolved_as data-disk-1 "/dev/$data (/dev/disk/by-id/google-data-disk-1; SCSI 0:0:"
err=$(volume_error dup)
check "G2 two disks with one device name are refused, naming both ($err)" \
  matches "$err" "more than one device matches | volume dup-disk matches /dev/$dup1 (SCSI * serial dup-disk) and /dev/$dup2 (SCSI * serial dup-disk)*"
check "G2 the first duplicate was not touched" untouched_disk "/dev/$dup1"
check "G2 the second duplicate was not touched" untouched_disk "/dev/$dup2"
err=$(volume_error part)
check "G3 a link to a partition is refused ($err)" matches "$err" "device refused | *but /dev/${part}1 is a partition of $part; *"
check "G3 the partition was not touched" untouched_disk "/dev/${part}1"
err=$(volume_error evil)
check "G4 a link that leads outside /dev is refused ($err)" matches "$err" "device refused | /dev/disk/by-id/google-evil-disk points to /work/evil.img, outside /dev"
check "G4 the file it leads to is still empty" [ ! -s /work/evil.img ]
err=$(volume_error busy)
check "G5 a mounted disk is refused ($err)" matches "$err" "device refused | *but /dev/$busy is mounted at /mnt/busy"
check "G5 it is still the ext4 it was" [ "$(blkid -o value -s TYPE "/dev/$busy")" = ext4 ]
check "G the daemon logged no passphrase" bash -c "! grep -qE 'gcp-(data|dup|part|evil|busy)-1' /work/daemon.$DAEMON_N.log"

cloud_finish "$GOOD" /dev/disk/by-id/google-data-disk-1
check "R2 without the link, the VPD serial alone found the disk" resolved_as data-disk-1 "/dev/$data (SCSI 0:0:"
umount /mnt/busy
finish
