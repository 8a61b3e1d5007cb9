#!/usr/bin/env bash
# Install the Debian packages the VM test bed needs, skipping those already
# present. Safe to run repeatedly; needs root (CI runs as root).
#
# On success it prints the kernel version the harness will boot, i.e. a
# directory under /lib/modules that has a matching /boot/vmlinuz-<kver>.
set -euo pipefail

# systemd: systemd-socket-activate and systemd-socket-proxyd (the socket activation tests, on the host
# and in the guest; systemd-analyze for the unit checks). socat: the vsock bridge in the guest.
# python3-prometheus-client: the reference parser of /metrics (tests/prometheus/check-exposition.py).
PKGS=(qemu-system-x86 qemu-utils linux-image-amd64 busybox-static cryptsetup-bin dmsetup e2fsprogs
      kmod cpio xz-utils systemd socat python3-prometheus-client)

log() { printf 'install-deps: %s\n' "$*" >&2; }

pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# Prints the newest kver that has both a kernel image and a modules tree.
find_kver() {
    local d k best=""
    for d in /lib/modules/*/; do
        [ -d "$d" ] || continue
        k=$(basename "$d")
        if [ -f "/boot/vmlinuz-$k" ] && [ -f "$d/modules.dep" ]; then
            best=$k   # glob order is sorted; keep the last match
        fi
    done
    [ -n "$best" ] && printf '%s\n' "$best"
}

missing=()
for p in "${PKGS[@]}"; do
    pkg_installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { log "need root to install: ${missing[*]}"; exit 1; }
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # A kernel package in a container runs postinst hooks (initramfs-tools,
    # grub, zz-update-grub ...). Those are useless here; tell them to stand
    # down and tolerate a failure as long as the files we need end up on disk.
    export INITRD=No
    apt-get update -qq
    if ! apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${missing[@]}" >/dev/null; then
        log "apt-get install reported an error; trying to finish configuration"
        dpkg --configure -a >/dev/null 2>&1 || true
    fi
fi

for p in "${PKGS[@]}"; do
    pkg_installed "$p" || log "warning: package $p is not fully configured"
done

# If a kernel postinst died before depmod ran, finish that step here.
for d in /lib/modules/*/; do
    k=$(basename "$d")
    if [ -f "/boot/vmlinuz-$k" ] && [ ! -f "$d/modules.dep" ] && command -v depmod >/dev/null; then
        log "running depmod for $k"
        depmod -a "$k" || true
    fi
done

kver=$(find_kver || true)
if [ -z "$kver" ]; then
    log "no /lib/modules/<kver> with matching /boot/vmlinuz-<kver> found"
    exit 1
fi
# The harness copies the busybox binary into the initramfs; it must be static.
[ -x /bin/busybox ] || { log "/bin/busybox missing"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { log "qemu-system-x86_64 missing"; exit 1; }
command -v qemu-img >/dev/null || { log "qemu-img missing"; exit 1; }
command -v cryptsetup >/dev/null || { log "cryptsetup missing"; exit 1; }
[ -x /usr/bin/systemd-socket-activate ] || { log "systemd-socket-activate missing"; exit 1; }
command -v socat >/dev/null || { log "socat missing"; exit 1; }
/usr/bin/python3 -c 'import prometheus_client.parser' || { log "python3-prometheus-client missing"; exit 1; }
printf '%s\n' "$kver"
