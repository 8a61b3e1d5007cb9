# shellcheck shell=bash
# Guest-side helpers. vm_run copies this file to the work share; a guest
# script uses it with:   . /work/guest-lib.sh
# It runs inside the guest chroot (host root, read-only 9p + tmpfs overlay),
# as root, with no udev and no systemd.

# shellcheck disable=SC1091
[ -f /work/vm-env.sh ] && . /work/vm-env.sh
: "${VM_DISK_SERIALS:=}"
: "${VM_SCSI_DISKS:=0}"
: "${VM_VBLK_DISKS:=0}"

# No udev runs here and /run is a fresh tmpfs, so /run/udev/control is absent:
# libdevmapper (cryptsetup, dmsetup) sees that udev is not running, creates
# and removes /dev/mapper nodes itself and never waits on a udev cookie.
# DM_DISABLE_UDEV=1 is therefore not needed (and not set here).

glog() { printf '[guest %s] %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$*"; }

# guest_modules: loads what disk-encryption tests need and makes sure
# /dev/mapper/control exists.
guest_modules() {
    # The kernel could also auto-load most of these on first use (the
    # initramfs routes its module requests to the host's modprobe), but that
    # would put seconds of module loading inside the first cryptsetup call.
    modprobe -a nvme dm-mod dm-crypt ext4 xts || { glog "modprobe failed"; return 1; }
    # SCSI and virtio-blk drivers only when the run has such disks (vm-env.sh counts them).
    if [ "$VM_SCSI_DISKS" -gt 0 ]; then
        modprobe -a virtio_scsi sd_mod || { glog "modprobe virtio_scsi sd_mod failed"; return 1; }
    fi
    if [ "$VM_VBLK_DISKS" -gt 0 ]; then
        modprobe virtio_blk || { glog "modprobe virtio_blk failed"; return 1; }
    fi
    # Optional: AES-NI (TCG's -cpu max emulates it) and the AF_ALG skcipher
    # interface cryptsetup uses for keyslot encryption.
    modprobe -a -q aesni_intel algif_skcipher 2>/dev/null || true
    if [ ! -c /dev/mapper/control ]; then
        # devtmpfs normally creates it when dm-mod loads; fall back to mknod.
        local mm
        mm=$(cat /sys/class/misc/device-mapper/dev 2>/dev/null) || mm=""
        if [ -n "$mm" ]; then
            mkdir -p /dev/mapper
            mknod /dev/mapper/control c "${mm%:*}" "${mm#*:}"
        fi
    fi
    [ -c /dev/mapper/control ] || { glog "no /dev/mapper/control"; return 1; }
}

# guest_serial_of BLOCKDEV_NAME: prints the NVMe serial of e.g. nvme0n1,
# trimmed of the padding spaces the controller reports.
guest_serial_of() {
    local s
    s=$(cat "/sys/block/$1/device/serial" 2>/dev/null) || return 1
    s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}
    printf '%s\n' "$s"
}

# guest_wait_nvme [TIMEOUT_S]: waits until every serial in VM_DISK_SERIALS
# has a namespace block device nvme*n1 with a /dev node.
guest_wait_nvme() {
    local timeout_s=${1:-20} i=0 want s b found
    want=0
    for s in $VM_DISK_SERIALS; do want=$((want + 1)); done
    while [ "$i" -lt $(( timeout_s * 10 )) ]; do
        found=0
        for s in $VM_DISK_SERIALS; do
            for b in /sys/block/nvme*n1; do
                [ -e "$b" ] || continue
                if [ "$(guest_serial_of "${b##*/}")" = "$s" ] && [ -b "/dev/${b##*/}" ]; then
                    found=$((found + 1)); break
                fi
            done
        done
        [ "$found" -ge "$want" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    glog "timed out waiting for NVMe disks ($found of $want): $VM_DISK_SERIALS"
    return 1
}

# guest_wait_disks [TIMEOUT_S]: waits until the run's SCSI (sd*) and virtio-blk (vd*)
# disks all have a block device and a /dev node; SCSI scanning is asynchronous.
guest_wait_disks() {
    local timeout_s=${1:-20} i=0 b sd vd
    while [ "$i" -lt $(( timeout_s * 10 )) ]; do
        sd=0; vd=0
        for b in /sys/block/sd* /sys/block/vd*; do
            [ -e "$b" ] && [ -b "/dev/${b##*/}" ] || continue
            case ${b##*/} in sd*) sd=$((sd + 1)) ;; vd*) vd=$((vd + 1)) ;; esac
        done
        [ "$sd" -ge "$VM_SCSI_DISKS" ] && [ "$vd" -ge "$VM_VBLK_DISKS" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    glog "timed out waiting for disks: $sd of $VM_SCSI_DISKS SCSI, $vd of $VM_VBLK_DISKS virtio-blk"
    return 1
}

# guest_scsi_at H:C:T:L: prints the sdX at that SCSI address (the name of its device directory).
guest_scsi_at() {
    local b
    for b in /sys/block/sd*; do
        [ "$(basename "$(readlink -f "$b/device")")" = "$1" ] && { printf '%s\n' "${b##*/}"; return 0; }
    done
    return 1
}

# guest_scsi_with_serial SERIAL: prints every sdX whose VPD page 0x80 serial is SERIAL.
guest_scsi_with_serial() {
    local b s
    for b in /sys/block/sd*; do
        s=$(tail -c +5 "$b/device/vpd_pg80" 2>/dev/null | tr -d '\0') || continue
        s=${s%"${s##*[![:space:]]}"}
        [ "$s" = "$1" ] && printf '%s\n' "${b##*/}"
    done
    return 0
}

# guest_ebs_links: creates what AWS's udev rules would, for every NVMe
# namespace 1:  /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_<serial>
# -> ../../nvmeXn1. Prints "serial device" lines.
guest_ebs_links() {
    local b dev s
    mkdir -p /dev/disk/by-id
    for b in /sys/block/nvme*n1; do
        [ -e "$b" ] || continue
        dev=${b##*/}
        s=$(guest_serial_of "$dev") || continue
        [ -n "$s" ] || continue
        ln -sfn "../../$dev" "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$s"
        printf '%s %s\n' "$s" "$dev"
    done
}

# guest_ebs_dev SERIAL: prints /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_SERIAL
guest_ebs_dev() {
    printf '/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_%s\n' "$1"
}

# guest_setup [TIMEOUT_S]: modules + wait for disks + the EBS by-id links of NVMe disks.
guest_setup() {
    guest_modules || return 1
    guest_wait_nvme "${1:-20}" || return 1
    guest_wait_disks "${1:-20}" || return 1
    guest_ebs_links >/dev/null
}

# guest_power_cut: pulls the plug at once. Writes to QEMU's isa-debug-exit
# port, which ends QEMU before the guest executes another instruction: no
# sync, no unmount, no device shutdown. Falls back to asking the host (marker
# file /work/cut-now, polled every ~50 ms) if the port is unavailable.
guest_power_cut() {
    printf '\x42' | dd of=/dev/port bs=1 seek=$((0xf4)) count=1 conv=notrunc status=none 2>/dev/null
    : > /work/cut-now
    sleep 60
}

# guest_request_cut: asks the host to kill QEMU (marker file) and returns at
# once, so the guest keeps running until the kill lands (within ~50 ms).
guest_request_cut() { : > /work/cut-now; }
