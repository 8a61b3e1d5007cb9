# shellcheck shell=bash
# shellcheck disable=SC2034  # VM_* variables are read by the scenarios
# Real-kernel test bed: boots the host's Debian kernel under QEMU with the host
# root file system as a read-only 9p share (plus a tmpfs overlay), emulated
# NVMe disks that carry EBS-style serials, and a writable 9p share for the
# scenario's own files. Source this file from a scenario script; see README.md
# in this directory for the API.
#
# Nothing here needs KVM: QEMU runs under TCG unless VM_ACCEL says otherwise.

if [ -n "${VM_LIB_LOADED:-}" ]; then return 0; fi
VM_LIB_LOADED=1

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_REPO_ROOT=$(cd "$VM_LIB_DIR/../.." && pwd)

: "${VM_CACHE:=$VM_REPO_ROOT/artifacts/vm}"   # initramfs cache
: "${VM_RUNS:=$VM_CACHE/runs}"                 # default parent of work dirs
: "${VM_MEM:=2048}"                            # guest RAM, MiB
: "${VM_SMP:=2}"                               # guest vCPUs
: "${VM_ACCEL:=tcg}"                           # tcg | kvm
: "${VM_DISK_CACHE:=unsafe}"                   # QEMU -drive cache= mode
: "${VM_APPEND_EXTRA:=}"                       # extra kernel command line
# cryptomgr.notests=1 skips the crypto self-tests each crypto module runs when
# it loads; under TCG that is ~2 s for aesni_intel alone.
: "${VM_APPEND:=console=ttyS0 quiet loglevel=3 panic=-1 cryptomgr.notests=1}"
: "${VM_BIOS:=}"                               # firmware for -bios (empty: QEMU default)
: "${VM_QEMU_EXTRA:=}"                         # extra QEMU args (word-split)
: "${VM_POLL_S:=0.05}"                         # host poll interval
# SMBIOS tables for -smbios, one entry each, e.g. ("type=1,manufacturer=Google,product=Google
# Compute Engine" "type=3,asset=..."). An array, so values may hold spaces; empty means QEMU's own.
[ -n "${VM_SMBIOS+set}" ] || VM_SMBIOS=()
# What an EC2 Nitro instance's firmware shows (sys_vendor and chassis "Amazon EC2"): the EBS scenarios
# boot with it so that the daemon detects aws from DMI as it would on EC2.
VM_SMBIOS_EC2=("type=1,manufacturer=Amazon EC2,product=m6a.large,serial=ec2e1916-9099-7caf-fd21-0123456789ab"
               "type=3,manufacturer=Amazon EC2,asset=Amazon EC2")

# Return codes of vm_run besides the guest script's own exit code.
VM_RC_TIMEOUT=124   # TIMEOUT_S elapsed; QEMU was killed
VM_RC_NOEXIT=125    # QEMU ended but the guest left no exit code
VM_RC_CUT=137       # a power cut was performed (see vm_run_cut)

# isa-debug-exit: a guest byte V written to this port makes QEMU exit at once
# with status (V << 1) | 1. guest_power_cut writes VM_CUT_PORT_VALUE.
VM_CUT_PORT=0xf4
VM_CUT_PORT_VALUE=0x42                 # QEMU exit status 133
VM_CUT_QEMU_STATUS=$(( (VM_CUT_PORT_VALUE << 1) | 1 ))

VM_LAST_STATUS=""   # exit | timeout | noexit | cut   (set by vm_run)
VM_LAST_RC=""       # what vm_run returned
VM_LAST_MS=""       # wall time of the last vm_run, milliseconds
VM_WORKDIR="${VM_WORKDIR:-}"
VM__QEMU_PIDS=""    # QEMU (or timeout wrapper) pids still running

vm_log() { printf '[vm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
vm_die() { vm_log "ERROR: $*"; exit 1; }

vm__now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; printf '%s\n' $(( t / 1000 )); }

# ---------------------------------------------------------------- cleanup
vm_cleanup() {
    local p
    for p in $VM__QEMU_PIDS; do
        # Each QEMU runs under `timeout`, which leads its own process group.
        kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    VM__QEMU_PIDS=""
}
# Scenarios that install their own EXIT trap must call vm_cleanup from it.
trap vm_cleanup EXIT
trap 'vm_cleanup; exit 130' INT
trap 'vm_cleanup; exit 143' TERM

# ---------------------------------------------------------------- kernel
# vm_kver: prints the kernel version to boot: $VM_KVER if set, else the newest
# /lib/modules/<kver> that has a matching /boot/vmlinuz-<kver>.
vm_kver() {
    if [ -n "${VM_KVER:-}" ]; then printf '%s\n' "$VM_KVER"; return 0; fi
    local d k best=""
    for d in /lib/modules/*/; do
        [ -d "$d" ] || continue
        k=$(basename "$d")
        [ -f "/boot/vmlinuz-$k" ] && [ -f "$d/modules.dep" ] && best=$k
    done
    [ -n "$best" ] || { vm_log "no bootable kernel; run tests/vm/install-deps.sh"; return 1; }
    printf '%s\n' "$best"
}

# vm_kernel: prints the kernel image to pass to -kernel. $VM_KERNEL if set.
# Otherwise, when the kernel supports PVH boot (CONFIG_PVH=y), an uncompressed
# vmlinux extracted once from /boot/vmlinuz-<kver> into $VM_CACHE: under TCG
# this skips the in-guest decompression, which costs ~3.5 s per boot. Falls
# back to /boot/vmlinuz-<kver>.
vm_kernel() {
    if [ -n "${VM_KERNEL:-}" ]; then printf '%s\n' "$VM_KERNEL"; return 0; fi
    local kver img out tmp magic off cmd
    kver=$(vm_kver) || return 1
    img=/boot/vmlinuz-$kver
    if ! grep -qx 'CONFIG_PVH=y' "/boot/config-$kver" 2>/dev/null; then
        printf '%s\n' "$img"; return 0
    fi
    out="$VM_CACHE/vmlinux-$kver-$(sha256sum "$img" | cut -c1-12)"
    if [ -s "$out" ]; then printf '%s\n' "$out"; return 0; fi
    mkdir -p "$VM_CACHE" || return 1
    tmp="$out.tmp.$$"
    # Find the compressed payload inside the bzImage by its magic bytes and
    # keep the first candidate that decompresses to an ELF file.
    for magic in $'\xfd7zXZ:xz -dc --single-stream' $'\x1f\x8b\x08:gzip -dc' \
                 $'\x28\xb5\x2f\xfd:zstd -qdc'; do
        cmd=${magic#*:}; magic=${magic%%:*}
        command -v "${cmd%% *}" >/dev/null || continue
        for off in $(LC_ALL=C grep -abo "$magic" "$img" 2>/dev/null | head -n 3 | cut -d: -f1); do
            # shellcheck disable=SC2086
            tail -c +$((off + 1)) "$img" | $cmd > "$tmp" 2>/dev/null || true
            if [ "$(head -c 4 "$tmp" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
                mv -f "$tmp" "$out"
                vm_log "extracted $(basename "$out") for PVH boot"
                printf '%s\n' "$out"; return 0
            fi
        done
    done
    rm -f "$tmp"
    printf '%s\n' "$img"
}

# Modules the initramfs itself loads: just enough to reach the 9p shares and
# build the overlay. Everything else is loaded from the host's /lib/modules
# once inside the chroot (kernel auto-loading is routed there too).
VM_INITRD_MODULES="virtio_pci 9pnet_virtio 9p overlay"

# Prints "name path" lines in load order, deduplicated, built-ins skipped.
vm__module_order() {
    local kver=$1
    # shellcheck disable=SC2086
    modprobe -S "$kver" --show-depends -a $VM_INITRD_MODULES |
        awk '$1 == "insmod" && !seen[$2]++ {
                 n = $2; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n)
                 print n, $2 }'
}

# The /init of the initramfs (busybox sh). Kept as a literal so its hash can
# key the cache.
vm__init_script() {
    cat <<'INIT'
#!/bin/busybox sh
# Generated by tests/vm/lib.sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

die() { echo "vm-init: FATAL: $*"; echo "VM-INIT-FAILED"; sync; poweroff -f; sleep 5; }

while read -r name; do
    insmod "/mods/$name.ko" || die "insmod $name"
done < /mods/order

mkdir -p /host /ovl /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host ||
    die "mount hostroot"
mount -t tmpfs -o mode=0755 tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work /newroot ||
    die "mount overlay"

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=0755 tmpfs $R/run
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mkdir -p $R/work
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 work $R/work ||
    die "mount work share"

# Route the kernel's module auto-loading to the host's modprobe + /lib/modules.
printf '#!/bin/sh\nexec /bin/chroot /newroot /sbin/modprobe "$@"\n' > /bin/vm-modprobe
chmod 0755 /bin/vm-modprobe
echo /bin/vm-modprobe > /proc/sys/kernel/modprobe

ip link set lo up
hostname vmguest

echo; echo "VM-GUEST-START"
chroot $R /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=dumb LANG=C.UTF-8 VM_GUEST=1 \
    /bin/bash -c 'cd /work && exec /bin/bash /work/guest.sh'
rc=$?
echo "$rc" > $R/work/exit-code.tmp && mv $R/work/exit-code.tmp $R/work/exit-code
echo "VM-GUEST-EXIT $rc"
sync
poweroff -f
sleep 5
INIT
}

# vm_build_initrd: builds the initramfs if needed and prints its path.
# Cached in $VM_CACHE as initrd-<kver>-<hash>.gz, where the hash covers the
# /init text, the module list and the busybox binary.
vm_build_initrd() {
    local kver order key out tmp bb name path
    kver=$(vm_kver) || return 1
    bb=$(command -v busybox 2>/dev/null || true)
    [ -x /bin/busybox ] && bb=/bin/busybox
    [ -n "$bb" ] || { vm_log "busybox not found (busybox-static)"; return 1; }
    order=$(vm__module_order "$kver") || return 1
    [ -n "$order" ] || { vm_log "could not resolve initramfs modules for $kver"; return 1; }
    key=$( { printf '%s\n' "$kver" "$order"; vm__init_script; sha256sum "$bb"; } |
           sha256sum | cut -c1-16)
    out="$VM_CACHE/initrd-$kver-$key.gz"
    if [ -s "$out" ]; then printf '%s\n' "$out"; return 0; fi

    mkdir -p "$VM_CACHE" || return 1
    tmp=$(mktemp -d "$VM_CACHE/.initrd.XXXXXX") || return 1
    (
        set -e
        cd "$tmp"
        mkdir -p bin dev proc sys mods
        cp "$bb" bin/busybox
        ln -s busybox bin/sh
        vm__init_script > init
        chmod 0755 init
        : > mods/order
        while read -r name path; do
            case $path in
                *.ko.xz)  xz -dc "$path" > "mods/$name.ko" ;;
                *.ko.zst) zstd -qdc "$path" > "mods/$name.ko" ;;
                *.ko.gz)  gzip -dc "$path" > "mods/$name.ko" ;;
                *)        cp "$path" "mods/$name.ko" ;;
            esac
            printf '%s\n' "$name" >> mods/order
        done <<< "$order"
        find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -6 > ../"${out##*/}.tmp"
    ) || { rm -rf "$tmp"; vm_log "initramfs build failed"; return 1; }
    rm -rf "$tmp"
    mv -f "$out.tmp" "$out"
    # Drop initramfs images of older /init versions for this kernel.
    find "$VM_CACHE" -maxdepth 1 -name "initrd-$kver-*.gz" ! -name "${out##*/}" -delete 2>/dev/null || true
    vm_log "built $(basename "$out") ($(du -k "$out" | cut -f1) KiB)"
    printf '%s\n' "$out"
}

# ---------------------------------------------------------------- workdir/disks
# vm_workdir NAME: makes a fresh, empty $VM_RUNS/NAME and sets VM_WORKDIR to it.
# (Call it directly, not in $(...), so that VM_WORKDIR is set.)
vm_workdir() {
    local name=${1:?vm_workdir NAME}
    VM_WORKDIR="$VM_RUNS/$name"
    rm -rf "$VM_WORKDIR"
    mkdir -p "$VM_WORKDIR"
    VM_WORKDIR=$(cd "$VM_WORKDIR" && pwd)
}

# vm__disk_path WORKDIR NAME_OR_PATH: a path with a slash is used as is,
# otherwise the disk is WORKDIR/NAME.img.
vm__disk_path() {
    case $2 in
        */*) printf '%s\n' "$2" ;;
        *)   printf '%s/%s.img\n' "$1" "$2" ;;
    esac
}

# vm_disk NAME SIZE: creates a sparse raw image $VM_WORKDIR/NAME.img (SIZE as
# qemu-img takes it: 256M, 1G ...), replacing any old one; prints its path.
vm_disk() {
    local name=${1:?vm_disk NAME SIZE} size=${2:?vm_disk NAME SIZE} p
    [ -n "$VM_WORKDIR" ] || { vm_log "vm_disk: call vm_workdir first"; return 1; }
    p=$(vm__disk_path "$VM_WORKDIR" "$name")
    rm -f "$p"
    qemu-img create -q -f raw "$p" "$size" || return 1
    printf '%s\n' "$p"
}

# vm_disk_resize NAME_OR_PATH SIZE: qemu-img resize on a raw image, e.g. +256M.
# Only while no VM uses the image.
vm_disk_resize() {
    local p
    p=$(vm__disk_path "$VM_WORKDIR" "${1:?vm_disk_resize NAME SIZE}")
    qemu-img resize -q -f raw "$p" "${2:?vm_disk_resize NAME SIZE}"
}

# ---------------------------------------------------------------- running
# vm_run WORKDIR GUEST_SCRIPT TIMEOUT_S [DISK_SPEC ...]
#   Boots a guest and runs GUEST_SCRIPT (copied to WORKDIR/guest.sh) as root
#   with bash, cwd /work. WORKDIR is the writable 9p share, seen as /work in
#   the guest; guest-lib.sh and vm-env.sh are put there too. Each DISK_SPEC
#   attaches one disk (DISK: see vm__disk_path), in the given order:
#     DISK:SERIAL              its own NVMe controller with that serial
#     vblk:DISK:SERIAL         virtio-blk with that serial (/sys/block/vdX/serial)
#     scsi:DISK:CTRL[:OPTS]    scsi-hd on virtio-scsi controller CTRL (0, 1, ...; each
#                              one used is created once, in ascending order), with
#                              OPTS passed on, e.g. vendor=Msft,product=Virtual Disk,lun=3
#   VM_SMBIOS (an array) adds -smbios tables, so the guest's DMI can be a cloud's.
#   Returns the guest script's exit code, or VM_RC_TIMEOUT / VM_RC_NOEXIT /
#   VM_RC_CUT; VM_LAST_STATUS says which case it was. Console output goes to
#   WORKDIR/console.log and the guest script's part of it to WORKDIR/guest.log
#   (both also kept as console.N.log / guest.N.log for run N).
#   Power cut: the guest running `guest_power_cut` (guest-lib.sh), or creating
#   /work/cut-now, ends QEMU at once with no guest shutdown.
vm_run() {
    local wd=$1 script=$2 timeout_s=$3
    shift 3
    VM__CUT_AFTER_MS="" vm__run "$wd" "$script" "$timeout_s" "$@"
}

# vm_run_cut WORKDIR GUEST_SCRIPT TIMEOUT_S AFTER_S [DISK_SPEC ...]
#   Like vm_run, but also cuts the power (SIGKILL to QEMU) AFTER_S seconds
#   (decimals allowed) after QEMU started, if the guest is still running.
vm_run_cut() {
    local wd=$1 script=$2 timeout_s=$3 after=$4 ms
    shift 4
    ms=$(awk -v s="$after" 'BEGIN { printf "%d", s * 1000 }')
    VM__CUT_AFTER_MS=$ms vm__run "$wd" "$script" "$timeout_s" "$@"
}

vm__run() {
    local wd=$1 script=$2 timeout_s=$3
    shift 3
    local kver kernel initrd spec disk serial rest ctrl opts i=0 n qpid qstatus rc start now deadline cut_at=""
    local -a args serials=() disk_args=() controllers=()
    local vblk=0 scsi=0

    case $timeout_s in
        '' | *[!0-9]*) vm_log "vm_run: TIMEOUT_S must be whole seconds, got '$timeout_s'"; return 2 ;;
    esac
    [ -d "$wd" ] || { vm_log "vm_run: no work dir $wd"; return 2; }
    wd=$(cd "$wd" && pwd)
    [ -f "$script" ] || { vm_log "vm_run: no guest script $script"; return 2; }
    kver=$(vm_kver) || return 2
    initrd=$(vm_build_initrd) || return 2
    kernel=$(vm_kernel) || return 2

    if [ "$(readlink -f "$script")" != "$(readlink -f "$wd/guest.sh")" ]; then
        cp "$script" "$wd/guest.sh"
    fi
    cp "$VM_LIB_DIR/guest-lib.sh" "$wd/guest-lib.sh"
    rm -f "$wd/exit-code" "$wd/exit-code.tmp" "$wd/cut-now" "$wd/qemu.pid"

    args=(-machine q35 -accel "$VM_ACCEL" -cpu max -smp "$VM_SMP" -m "$VM_MEM"
          -nographic -no-reboot -nodefaults -serial stdio -monitor none
          ${VM_BIOS:+-bios "$VM_BIOS"}
          -kernel "$kernel" -initrd "$initrd"
          -append "$VM_APPEND $VM_APPEND_EXTRA"
          -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
          -virtfs "local,path=$wd,mount_tag=work,security_model=none,multidevs=remap"
          -device "isa-debug-exit,iobase=$VM_CUT_PORT,iosize=0x01"
          -pidfile "$wd/qemu.pid")
    for spec in "$@"; do
        case $spec in
            vblk:*)
                rest=${spec#vblk:}; disk=${rest%%:*}; serial=${rest#*:}
                if [ "$disk" = "$rest" ] || [ -z "$disk" ] || [ -z "$serial" ]; then
                    vm_log "vm_run: disk spec '$spec' is not vblk:DISK:SERIAL"; return 2
                fi
                disk_args+=(-device "virtio-blk-pci,drive=d$i,serial=$serial")
                vblk=$((vblk + 1)) ;;
            scsi:*)
                rest=${spec#scsi:}; disk=${rest%%:*}; rest=${rest#*:}
                ctrl=${rest%%:*}; opts=""
                [ "$ctrl" != "$rest" ] && opts=${rest#*:}
                case $ctrl in
                    '' | *[!0-9]*) vm_log "vm_run: disk spec '$spec' is not scsi:DISK:CTRL[:OPTS]"; return 2 ;;
                esac
                [ -n "$disk" ] || { vm_log "vm_run: disk spec '$spec' names no disk"; return 2; }
                [[ " ${controllers[*]} " == *" $ctrl "* ]] || controllers+=("$ctrl")
                disk_args+=(-device "scsi-hd,bus=scsi$ctrl.0,drive=d$i${opts:+,$opts}")
                scsi=$((scsi + 1)) ;;
            *)
                disk=${spec%:*}; serial=${spec##*:}
                if [ "$disk" = "$spec" ] || [ -z "$serial" ] || [ -z "$disk" ]; then
                    vm_log "vm_run: disk spec '$spec' is not DISK:SERIAL"; return 2
                fi
                disk_args+=(-device "nvme,serial=$serial,drive=d$i")
                serials+=("$serial") ;;
        esac
        disk=$(vm__disk_path "$wd" "$disk")
        [ -f "$disk" ] || { vm_log "vm_run: no disk image $disk"; return 2; }
        args+=(-drive "file=$disk,if=none,id=d$i,format=raw,cache=$VM_DISK_CACHE")
        i=$((i + 1))
    done
    # Controllers in ascending order: with controllers 0..N all used, controller N is the guest's
    # SCSI host N (no other SCSI host driver loads in this guest).
    for ctrl in $(printf '%s\n' "${controllers[@]}" | sort -n); do
        args+=(-device "virtio-scsi-pci,id=scsi$ctrl")
    done
    args+=("${disk_args[@]}")
    for spec in "${VM_SMBIOS[@]}"; do
        args+=(-smbios "$spec")
    done
    # shellcheck disable=SC2206
    [ -n "$VM_QEMU_EXTRA" ] && args+=($VM_QEMU_EXTRA)
    printf 'VM_DISK_SERIALS="%s"\nVM_SCSI_DISKS=%s\nVM_VBLK_DISKS=%s\nVM_KVER="%s"\n' \
        "${serials[*]}" "$scsi" "$vblk" "$kver" > "$wd/vm-env.sh"

    n=1
    while [ -e "$wd/console.$n.log" ]; do n=$((n + 1)); done

    start=$(vm__now_ms)
    deadline=$(( start + timeout_s * 1000 ))
    [ -n "${VM__CUT_AFTER_MS:-}" ] && cut_at=$(( start + VM__CUT_AFTER_MS ))
    # The outer `timeout` is only a backstop in case this shell dies; the
    # loop below enforces TIMEOUT_S itself.
    timeout -s KILL $(( timeout_s + 20 )) qemu-system-x86_64 "${args[@]}" \
        </dev/null >"$wd/console.log" 2>&1 &
    qpid=$!
    VM__QEMU_PIDS="$VM__QEMU_PIDS $qpid"

    VM_LAST_STATUS=""
    while kill -0 "$qpid" 2>/dev/null; do
        now=$(vm__now_ms)
        if [ -e "$wd/cut-now" ]; then
            vm__kill_qemu "$qpid"; VM_LAST_STATUS="cut"; break
        fi
        if [ -n "$cut_at" ] && [ "$now" -ge "$cut_at" ]; then
            vm__kill_qemu "$qpid"; VM_LAST_STATUS="cut"; break
        fi
        if [ "$now" -ge "$deadline" ]; then
            vm__kill_qemu "$qpid"; VM_LAST_STATUS="timeout"; break
        fi
        sleep "$VM_POLL_S"
    done
    qstatus=0
    wait "$qpid" 2>/dev/null || qstatus=$?
    VM__QEMU_PIDS=${VM__QEMU_PIDS/ $qpid/}
    VM_LAST_MS=$(( $(vm__now_ms) - start ))

    if [ -z "$VM_LAST_STATUS" ] && [ "$qstatus" = "$VM_CUT_QEMU_STATUS" ]; then
        VM_LAST_STATUS="cut"
    fi
    case $VM_LAST_STATUS in
        cut)     rc=$VM_RC_CUT ;;
        timeout) rc=$VM_RC_TIMEOUT ;;
        *)
            if [ -s "$wd/exit-code" ]; then
                rc=$(tr -dc 0-9 < "$wd/exit-code"); rc=${rc:-$VM_RC_NOEXIT}
                VM_LAST_STATUS="exit"
            else
                rc=$VM_RC_NOEXIT; VM_LAST_STATUS="noexit"
            fi ;;
    esac
    # The guest's own output, between the markers /init prints, without CRs.
    tr -d '\r' < "$wd/console.log" |
        sed -n '/VM-GUEST-START$/,/^VM-GUEST-EXIT /{/VM-GUEST-START$/d;/^VM-GUEST-EXIT /d;p}' \
        > "$wd/guest.log"
    cp "$wd/console.log" "$wd/console.$n.log"
    cp "$wd/guest.log" "$wd/guest.$n.log"
    VM_LAST_RC=$rc
    vm_log "run $n in ${wd##*/}: $VM_LAST_STATUS rc=$rc in ${VM_LAST_MS} ms"
    if [ "$VM_LAST_STATUS" = noexit ] || [ "$VM_LAST_STATUS" = timeout ]; then
        vm_log "last console lines:"
        tail -n 15 "$wd/console.log" | tr -d '\r' | awk '{ print "    " $0 }' >&2
    fi
    return "$rc"
}

# vm_pid_alive PID: true if PID is a live (not zombie) process. A killed QEMU
# whose timeout wrapper died with it is reparented to PID 1 and may stay a
# zombie for a while; that does not count as alive.
vm_pid_alive() {
    local st
    st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Power cut: SIGKILL QEMU and its `timeout` wrapper. GNU timeout makes itself
# the leader of a new process group holding QEMU, so kill that group.
vm__kill_qemu() {
    local wrapper=$1
    kill -KILL -- "-$wrapper" 2>/dev/null || kill -KILL "$wrapper" 2>/dev/null || true
}
