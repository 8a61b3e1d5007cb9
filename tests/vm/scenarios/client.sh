#!/bin/bash
# Issue 15 on a real kernel: the owner's client runs on the host (the published binary) and reaches the
# daemon through QEMU's user-mode network (a hostfwd on the host's 127.0.0.1). This boot brings up the
# network and the daemon, says so in /work/daemon-up, and waits for the host to write
# /work/client-done; then it checks the volume with cryptsetup itself.
set -u
SCENARIO=client
. /work/guest-lib.sh
CVM_ADDRESS=0.0.0.0
. /work/cvm-guest.sh
guest_setup 60 > /dev/null
DEV=$(readlink -f "$(guest_ebs_dev vol0e010e01)")

# QEMU's user network: the guest is 10.0.2.15, and the host forwards its port to 9443 here.
# iproute2 when the host has it, else busybox's ip (tests/vm/install-deps.sh installs busybox-static).
IP=(ip)
command -v ip > /dev/null || IP=(busybox ip)
modprobe virtio_net
"${IP[@]}" link set eth0 up && "${IP[@]}" addr add 10.0.2.15/24 dev eth0
check "C0 the guest network is up" "${IP[@]}" addr show dev eth0

cvm_start || exit 1
touch /work/daemon-up

# The host drives bootstrap, rotation and status meanwhile; it writes client-done when it is finished.
for _ in $(seq 1 1800); do
  [ -e /work/client-done ] && break
  sleep 1
done
check "C0 the host's client finished within 30 min" [ -e /work/client-done ]

# shellcheck source=/dev/null
. /work/client-passes.env # OLD_PASS, NEW_PASS: written by the host after the client ran
check "C3 the new passphrase opens the volume" opens "$DEV" "$NEW_PASS"
check "C3 the old passphrase no longer opens it" bash -c "! printf '%s' '$OLD_PASS' | cryptsetup open --test-passphrase --key-file=- '$DEV' > /dev/null 2>&1"
slots=$(cryptsetup luksDump "$DEV" | grep -cE '^  [0-9]+: luks2$')
check "C3 exactly one keyslot is left ($slots)" [ "$slots" = 1 ]
check "C3 /data is still mounted from /dev/mapper/data" [ "$(mount_source /data)" = "ext4 /dev/mapper/data" ]
check "C3 the daemon's log holds no passphrase" bash -c "! grep -Fq -e '$OLD_PASS' -e '$NEW_PASS' /work/daemon.1.log"
cvm_stop
finish
