#!/usr/bin/env bash
# Real-kernel scenarios for cvm-control (issue 3): the published daemon runs in a QEMU guest with
# NVMe disks that carry EBS serials, real dm-crypt, LUKS2 and ext4, and is driven over HTTPS.
# The chains main, failures, hostile and powercut run as on EC2 (SMBIOS says Amazon EC2); the chain
# clouds (issue 16) boots once per other cloud, with that cloud's SMBIOS strings and disk naming.
#
# Usage: tests/vm/scenarios.sh            (publishes the daemon first)
#        CVM_BIN=/path/cvm-control tests/vm/scenarios.sh
# Ends with "vm scenarios: N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

started=$(date +%s)
if [ -z "${CVM_BIN:-}" ]; then
  "$repo/scripts/publish.sh" "$repo/artifacts/publish" > /dev/null
  CVM_BIN=$repo/artifacts/publish/cvm-control
fi
[ -x "$CVM_BIN" ] || { echo "scenarios: $CVM_BIN is not executable" >&2; exit 2; }
command -v readelf > /dev/null || { echo "scenarios: readelf is required (binutils)" >&2; exit 2; }

host_results=$(mktemp)
all_results=$(mktemp)
trap 'vm_cleanup; rm -f "$host_results" "$all_results"' EXIT

host_check() { # host_check "what" command...
  local what=$1
  shift
  if "$@"; then echo "PASS host: $what"; else echo "FAIL host: $what"; fi | tee -a "$host_results"
}

# Cheap keyslots for host-side setup only (the daemon's own cost comes from its flags).
host_luks() { cryptsetup --batch-mode --pbkdf argon2id --pbkdf-memory 32768 --pbkdf-force-iterations 4 "$@"; }

# The binary the guests run is a NativeAOT one: its ELF has the __managedcode section that the
# ILCompiler emits. Checked on the very copy a guest ran, once it has run.
aot_checked=0
aot_check() {
  local bin=$1/cvm-control
  host_check "the daemon the guest ran is NativeAOT: readelf -S shows __managedcode in $bin ($(du -h "$bin" | cut -f1))" \
    bash -c "readelf -S '$bin' | grep -q __managedcode && cmp -s '$bin' '$CVM_BIN'"
  readelf -SW "$bin" | grep __managedcode | sed 's/^ */  readelf: /'
  aot_checked=1
}

# boot WORKDIR SCRIPT TIMEOUT DISKS...: one guest run; collects its results.
boot() {
  local workdir=$1 script=$2 timeout=$3
  shift 3
  cp "$here/cvm-guest.sh" "$workdir/cvm-guest.sh"
  # The guest's /work is this work dir, which hides the host's /work; so the binary travels in it.
  cp "$CVM_BIN" "$workdir/cvm-control"
  echo 'CVM_BIN=/work/cvm-control' > "$workdir/cvm-env.sh"
  rm -f "$workdir/results.txt"
  local rc=0
  vm_run "$workdir" "$here/scenarios/$script" "$timeout" "$@" || rc=$?
  echo "== $script: exit $rc ($VM_LAST_STATUS) in $((VM_LAST_MS / 1000)) s"
  if [ -f "$workdir/results.txt" ]; then
    cat "$workdir/results.txt" >> "$all_results"
  fi
  if { [ "$VM_LAST_STATUS" != exit ] && [ "$VM_LAST_STATUS" != cut ]; } || { [ "$VM_LAST_STATUS" = exit ] && [ ! -s "$workdir/results.txt" ]; }; then
    echo "FAIL $script: the guest did not finish (status $VM_LAST_STATUS); see $workdir/console.log" | tee -a "$all_results"
    tail -n 40 "$workdir/guest.log" 2> /dev/null || true
  fi
  if [ "$aot_checked" = 0 ]; then aot_check "$workdir"; fi
}

# CVM_VM_CHAINS selects chains for a quicker loop while developing (default: all of them).
chains=${CVM_VM_CHAINS:-main failures hostile powercut systemd clouds client integrity}
want() { [[ " $chains " == *" $1 "* ]]; }

# The EBS chains boot with an EC2 instance's SMBIOS strings, so the daemon detects aws itself.
VM_SMBIOS=("${VM_SMBIOS_EC2[@]}")

# --- Chain 1: fresh disks, then a reboot after the host changed them. ---
# The integrity chain (issue 19) runs beside the others: a second guest at a time, as the CI budget
# asks. Its output goes to its own log, shown at the end; its results join the same list.
integrity_chain() {
trap vm_cleanup EXIT
# Below the other chains in CPU priority: their guests keep their pace, and this one takes the slack.
renice -n 19 -p "$BASHPID" > /dev/null
local integ from
vm_workdir cvm-integrity
integ=$VM_WORKDIR
vm_disk i1 128M > /dev/null
vm_disk p1 128M > /dev/null
vm_disk i3 64M > /dev/null
cp "$here/rawdiff.py" "$integ/rawdiff.py"
integrity_disks=(i1:vol00000e01 p1:vol00000e02 i3:vol00000e03)
# flip IMAGE OFFSET: the host changes one byte of a powered-off disk (xor 0x5a), 100 bytes into the block.
flip() { python3 -c 'import sys; f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]) + 100; f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0x5A]))' "$1" "$2"; }
echo PHASE=A > "$integ/phase.env"
boot "$integ" integrity.sh 900 "${integrity_disks[@]}"
if [ -s "$integ/tamper-i1" ] && [ -s "$integ/tamper-p1" ]; then
  flip "$integ/i1.img" "$(cat "$integ/tamper-i1")"
  flip "$integ/p1.img" "$(cat "$integ/tamper-p1")"
  # i3: random bytes over everything past its dm-integrity superblock and journal: tags and data.
  from=$(cat "$integ/i3-corrupt-from")
  head -c $((64 * 1024 * 1024 - from)) /dev/urandom | dd of="$integ/i3.img" bs=4096 seek=$((from / 4096)) conv=notrunc status=none
  vm_disk_resize i1 +256M > /dev/null
  echo PHASE=B > "$integ/phase.env"
  boot "$integ" integrity.sh 900 "${integrity_disks[@]}"
  [ "$VM_LAST_STATUS" = cut ] || echo "FAIL integrity: phase B ended without its power cut ($VM_LAST_STATUS)" | tee -a "$all_results"
fi
if [ -s "$integ/tamper-grown" ]; then
  flip "$integ/i1.img" "$(cat "$integ/tamper-grown")"
  vm_disk_resize i1 +64M > /dev/null
  echo PHASE=C > "$integ/phase.env"
  boot "$integ" integrity.sh 900 "${integrity_disks[@]}"
  [ "$VM_LAST_STATUS" = cut ] || echo "FAIL integrity: phase C ended without its power cut ($VM_LAST_STATUS)" | tee -a "$all_results"
  echo PHASE=D > "$integ/phase.env"
  boot "$integ" integrity.sh 900 "${integrity_disks[@]}"
fi
}
integrity_log=$(mktemp)
integrity_pid=""
if want integrity; then
  vm_build_initrd > /dev/null
  integrity_chain > "$integrity_log" 2>&1 &
  integrity_pid=$!
fi

if want main; then
vm_workdir cvm-main
main=$VM_WORKDIR
vm_disk d1 256M > /dev/null
vm_disk d2 256M > /dev/null
boot "$main" fresh.sh 600 d1:vol0aaa1111 d2:vol0bbb2222

# Between boots, as an untrusted host could: keyslots added out of band, and disk 2 grown.
printf '%s' pass-data-1 > "$main/k-boot"
for stale in stale-a stale-b; do
  printf '%s' "$stale" > "$main/k-new"
  host_luks luksAddKey --key-file "$main/k-boot" "$main/d1.img" "$main/k-new"
done
rm -f "$main/k-boot" "$main/k-new"
vm_disk_resize d2 +256M > /dev/null
boot "$main" reboot.sh 600 d1:vol0aaa1111 d2:vol0bbb2222
fi

# --- Chain 2: disks the daemon must refuse, and a crash mid-bootstrap. ---
if want failures; then
vm_workdir cvm-failures
fail=$VM_WORKDIR
vm_disk d3 128M > /dev/null
vm_disk d4 128M > /dev/null
vm_disk d5 128M > /dev/null
vm_disk d6 128M > /dev/null
printf '%s' owner-pass > "$fail/k-owner"
host_luks luksFormat --type luks2 --key-file "$fail/k-owner" "$fail/d3.img"
rm -f "$fail/k-owner"
mkdir -p "$fail/seed"
echo "precious data" > "$fail/seed/precious.txt"
mkfs.ext4 -q -d "$fail/seed" "$fail/d4.img"
d4_before=$(sha256sum < "$fail/d4.img")
d3_before=$(sha256sum < "$fail/d3.img")
boot "$fail" failures.sh 600 d3:vol0ccc3333 d4:vol0ddd4444 d5:vol0eee5555 d6:vol0fff6666
host_check "S9 the disk with a filesystem is byte-for-byte untouched" [ "$(sha256sum < "$fail/d4.img")" = "$d4_before" ]
host_check "S8 the LUKS disk of another owner is byte-for-byte untouched" [ "$(sha256sum < "$fail/d3.img")" = "$d3_before" ]
fi

# --- Chain 3 (issue 5): a hostile host rewrites disks between boots. ---
if want hostile; then
vm_workdir cvm-hostile
hostile=$VM_WORKDIR
for d in h1 h2 h3 h4; do vm_disk "$d" 128M > /dev/null; done
boot "$hostile" hostile-prep.sh 600 h1:vol00000a01 h2:vol00000a02 h3:vol00000a03
python3 "$here/forge-luks2-header.py" "$hostile/h1.img" segment-cipher-null
host_check "5.1 cryptsetup itself accepts the forged cipher_null header (the attack is real)" \
  grep -q 'cipher: cipher_null-ecb' <<< "$(cryptsetup luksDump "$hostile/h1.img")"
dd if=/dev/zero of="$hostile/h2.img" bs=1M count=4 conv=notrunc status=none
dd if=/dev/urandom of="$hostile/h3.img" bs=1M count=1 conv=notrunc status=none
h1_sum=$(sha256sum < "$hostile/h1.img")
h2_tail=$(tail -c +4194305 "$hostile/h2.img" | sha256sum)
h3_tail=$(tail -c +1048577 "$hostile/h3.img" | sha256sum)
boot "$hostile" hostile.sh 900 h1:vol00000a01 h2:vol00000a02 h3:vol00000a03 h4:vol00000a04
host_check "5.1 the forged volume is byte-for-byte untouched" [ "$(sha256sum < "$hostile/h1.img")" = "$h1_sum" ]
host_check "5.2 the data past the zeroed 4 MiB is intact" [ "$(tail -c +4194305 "$hostile/h2.img" | sha256sum)" = "$h2_tail" ]
host_check "5.3 the disk with random bytes is untouched past them" [ "$(tail -c +1048577 "$hostile/h3.img" | sha256sum)" = "$h3_tail" ]
fi

# --- Chain 4 (issue 5): power cuts at random moments of rotations and keyslot cleanups. ---
if want powercut; then
vm_workdir cvm-powercut
cut=$VM_WORKDIR
vm_disk p1 128M > /dev/null
current=pc-pass-0
candidates=""
required=""
# revoke (issue 15): a rotation with revoke_old; trials 4 and 6 cut at a random moment of the first
# and the second half of the revocation (after the new slot is written), trial 9 at a random moment of
# the whole rotation.
kinds=(first rotate cleanup revoke cleanup revoke cleanup rotate revoke verify)
landed=""
for i in "${!kinds[@]}"; do
  trial=$((i + 1))
  kind=${kinds[$i]}
  next=pc-pass-$trial
  printf 'TRIAL=%s\nKIND=%s\nCURRENT=%q\nNEXT=%q\nCANDIDATES=%q\nREQUIRED=%q\n' \
    "$trial" "$kind" "$current" "$next" "$candidates" "$required" > "$cut/trial.env"
  rm -f "$cut/current-pass"
  boot "$cut" powercut.sh 600 p1:vol00000c01
  if [ "$kind" != verify ] && [ "$VM_LAST_STATUS" != cut ]; then
    echo "FAIL powercut: trial $trial ended without a power cut ($VM_LAST_STATUS)" | tee -a "$all_results"
  fi
  # Where a revoking trial's cut landed, from the daemon's log on the work share (what reached it).
  if [ "$kind" = revoke ]; then
    if grep -q 'revoked key slot' "$cut/daemon.1.log" 2> /dev/null; then landed="$landed after-revoke"
    elif grep -q 'new passphrase added' "$cut/daemon.1.log" 2> /dev/null; then landed="$landed added-not-yet-revoked"
    else landed="$landed before-the-add-was-written"; fi
  fi
  [ -s "$cut/current-pass" ] && current=$(cat "$cut/current-pass")
  case $kind in
    first | rotate | revoke) candidates="$current $next" required="" ;;
    cleanup) candidates="$current" required="$current" ;;
  esac
done
echo "PASS host: power-cut trials run: $((${#kinds[@]} - 1)) (2 during rotation, 3 during rotation with revoke_old, cuts landed:$landed; 3 during keyslot cleanup)" | tee -a "$host_results"
fi

# --- Chain 6 (issue 15): the owner's client on the host (the published binary) drives a bootstrap and a
# revoking rotation of the daemon in the guest through QEMU's user network; the guest then checks that
# only the new passphrase opens the volume. The power cuts during revoking rotations are in chain 4. ---
if want client; then
vm_workdir cvm-client
cw=$VM_WORKDIR
vm_disk e1 128M > /dev/null
old_pass=client-old-$RANDOM$RANDOM
new_pass=client-new-$RANDOM$RANDOM
( umask 077
  printf '%s\n' "$old_pass" > "$cw/old.pass"
  printf '%s\n' "$new_pass" > "$cw/new.pass"
  echo '{"user_id":"owner","volumes":{"data":{"volume_id":"vol-0e010e01","passphrase_file":"old.pass"}}}' > "$cw/bootstrap.json"
  echo '{"volumes":{"data":{"old_passphrase_file":"old.pass","new_passphrase_file":"new.pass","revoke_old":true}}}' > "$cw/rotate.json" )
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=https://127.0.0.1:$port
rm -f "$cw/daemon-up" "$cw/client-done"
VM_QEMU_EXTRA="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-:9443 -device virtio-net-pci,netdev=n0" \
  boot "$cw" client.sh 2400 e1:vol0e010e01 &
guest=$!
for _ in $(seq 1 600); do
  [ -e "$cw/daemon-up" ] && break
  kill -0 "$guest" 2> /dev/null || break
  sleep 1
done

# client NAME ARGS...: runs the published binary as the owner would, records its exit code, stdout
# (JSON lines: not a terminal), stderr, and what ps would show of it while it ran.
client() {
  local name=$1 pid rc=0
  shift
  "$CVM_BIN" "$@" > "$cw/$name.jsonl" 2> "$cw/$name.err" &
  pid=$!
  while kill -0 "$pid" 2> /dev/null; do
    { tr '\0' ' ' < "/proc/$pid/cmdline"; echo; tr '\0' '\n' < "/proc/$pid/environ"; } >> "$cw/$name.proc" 2> /dev/null
    sleep 0.5
  done
  wait "$pid" || rc=$?
  echo "$rc" > "$cw/$name.rc"
}
if [ -e "$cw/daemon-up" ]; then
  started_ms=$(date +%s%3N)
  client bootstrap bootstrap --url "$url" --request "$cw/bootstrap.json" --insecure-skip-attestation --timeout 15m
  echo "MEASURE client bootstrap of one volume through the guest's network: $(($(date +%s%3N) - started_ms)) ms" | tee -a "$host_results"
  started_ms=$(date +%s%3N)
  client rotate rotate --url "$url" --request "$cw/rotate.json" --insecure-skip-attestation --timeout 15m
  echo "MEASURE client revoking rotation: $(($(date +%s%3N) - started_ms)) ms" | tee -a "$host_results"
  client status status --url "$url"
fi
printf 'OLD_PASS=%q\nNEW_PASS=%q\n' "$old_pass" "$new_pass" > "$cw/client-passes.env"
touch "$cw/client-done"
wait "$guest" || true
jq_last() { python3 -c 'import json, sys; rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print(json.dumps(rows[-1]))' "$1" 2> /dev/null; }
host_check "C1 the client's bootstrap exits 0 ($(cat "$cw/bootstrap.err" 2> /dev/null | head -c 300))" [ "$(cat "$cw/bootstrap.rc" 2> /dev/null)" = 0 ]
host_check "C1 it warns that the daemon is not attested" grep -q 'the daemon is NOT attested' "$cw/bootstrap.err"
host_check "C1 it pinned the first key and sent the request" grep -q '"event":"attestation_skipped","pinned_pubkey":"sha256//' "$cw/bootstrap.jsonl"
# Polled once a second: the long luksFormat (a KDF run) is always seen, the short steps after it may not be.
host_check "C1 it followed the volume's steps: luksFormat, then a later one ($(grep -o '"step":"[a-zA-Z_]*"' "$cw/bootstrap.jsonl" 2> /dev/null | tr '\n' ' '))" \
  bash -c "grep -q '\"step\":\"luksFormat\"' '$cw/bootstrap.jsonl' && grep -Eq '\"step\":\"(check_header|luksOpen|mkfs|mount)\"' '$cw/bootstrap.jsonl'"
host_check "C2 the revoking rotation was followed through its steps ($(grep -o '"step":"[a-zA-Z_]*"' "$cw/rotate.jsonl" 2> /dev/null | tr '\n' ' '))" \
  grep -q '"step":"' "$cw/rotate.jsonl"
host_check "C1 it ended with bootstrap completed" grep -q '"event":"done","operation":"bootstrap","status":"completed","exit_code":0' "$cw/bootstrap.jsonl"
host_check "C2 the client's revoking rotation exits 0 ($(cat "$cw/rotate.err" 2> /dev/null | head -c 300))" [ "$(cat "$cw/rotate.rc" 2> /dev/null)" = 0 ]
host_check "C2 the rotation's result lists the revoked slot ($(jq_last "$cw/rotate.jsonl"))" \
  grep -q '"volumes":{"data":{"status":"ok","revoked_slots":\[0\]}}' "$cw/rotate.jsonl"
host_check "C2 status after the rotation: ready, rotation completed" \
  bash -c "[ \"\$(cat '$cw/status.rc')\" = 0 ] && grep -q '\"status\":\"ready\"' '$cw/status.jsonl'"
host_check "C4 the client's argv and environment never held a passphrase (sampled every 0.5 s: $(cat "$cw"/*.proc 2> /dev/null | wc -l) lines)" \
  bash -c "[ -s '$cw/bootstrap.proc' ] && ! grep -Fq -e '$old_pass' -e '$new_pass' '$cw/bootstrap.proc' '$cw/rotate.proc'"
host_check "C4 no passphrase in the client's output" bash -c "! grep -Fq -e '$old_pass' -e '$new_pass' '$cw'/*.jsonl '$cw'/*.err"

fi

# --- Chain 5 (issue 18): /metrics during a real bootstrap through the reference parser, sd_notify from
# the published binary, and the vsock chain (vsock_loopback, socat, systemd-socket-proxyd). ---
if want systemd; then
vm_workdir cvm-systemd
sd=$VM_WORKDIR
vm_disk s1 128M > /dev/null
boot "$sd" systemd.sh 600 s1:vol05d00001
# The guest's scrapes, through the Prometheus client library's own text parser (Debian's
# python3-prometheus-client), here on the host: in the TCG guest each Python start costs 7-15 s.
parse() { /usr/bin/python3 "$repo/tests/prometheus/check-exposition.py" "$@" > "$1.check" 2>&1; }
during=()
for f in "$sd"/metrics.during.*; do [[ -e $f && $f != *.check ]] && during+=("$f"); done
host_check "M1 the reference parser accepts every scrape taken during the bootstrap (${#during[@]}), each with state bootstrap and the bootstrap in progress" \
  bash -c '[ $# -gt 0 ] || exit 1; for f; do /usr/bin/python3 "$0" "$f" --sample cvm_control_state "{\"state\": \"bootstrap\"}" 1 \
    --sample cvm_control_operation_in_progress "{\"kind\": \"bootstrap\"}" 1 > "$f.check" 2>&1 || { cat "$f.check"; exit 1; }; done' \
  "$repo/tests/prometheus/check-exposition.py" "${during[@]}"
host_check "M2 the reference parser accepts the scrape after the bootstrap, with observations in the step, KDF, operation and request histograms" \
  parse "$sd/metrics.after" \
  --nonempty-histogram cvm_control_volume_step_duration_seconds \
  --nonempty-histogram cvm_control_kdf_gate_wait_seconds \
  --nonempty-histogram cvm_control_operation_duration_seconds \
  --nonempty-histogram http_server_request_duration_seconds \
  --sample cvm_control_state '{"state": "ready"}' 1 \
  --sample cvm_control_operation_duration_seconds_count '{"kind": "bootstrap", "outcome": "completed"}' 1
host_check "M3 the reference parser accepts the scrape over the Unix socket" parse "$sd/metrics.unix" --sample cvm_control_state '{"state": "ready"}' 1
host_check "M4 the reference parser accepts the scrape after the reopen, with step observations" \
  parse "$sd/metrics.reopen" --nonempty-histogram cvm_control_volume_step_duration_seconds
for f in "$sd"/metrics.*.check; do [ -e "$f" ] && echo "  $(basename "$f"): $(head -c 300 "$f")"; done
fi

# --- Chain 6 (issue 16): GCP, Azure and a plain KVM host, one boot each, cloud detected from SMBIOS. ---
# Each boot: a bootstrap (the disk found through a udev-style link and sysfs at once), the
# duplicate-identity refusal and other hostile-host refusals, then restart recovery (the reopen from
# sysfs alone).
if want clouds; then
started_clouds=$(date +%s)
vm_workdir cvm-cloud-gcp
gcp=$VM_WORKDIR
vm_disk g1 64M > /dev/null
for d in g2 g3 g4 g5; do vm_disk "$d" 32M > /dev/null; done
# g4 (scratch-disk) gets an MBR with one Linux partition from sector 2048 to the end, so the guest
# kernel sees g4's partition 1 at probe time.
python3 - "$gcp/g4.img" << 'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    sectors = f.seek(0, 2) // 512
    f.seek(446)
    f.write(bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + struct.pack("<II", 2048, sectors - 2048) + bytes(48) + b"\x55\xaa")
PY
PD=vendor=Google,product=PersistentDisk
VM_SMBIOS=("type=1,manufacturer=Google,product=Google Compute Engine,serial=GoogleCloud-0123456789ABCDEF"
           "type=3,manufacturer=Google")
boot "$gcp" cloud-gcp.sh 900 "scsi:g1:0:$PD,serial=data-disk-1" "scsi:g2:0:$PD,serial=dup-disk" \
  "scsi:g3:0:$PD,serial=dup-disk" "scsi:g4:0:$PD,serial=scratch-disk" "scsi:g5:0:$PD,serial=busy-disk"

vm_workdir cvm-cloud-azure
azure=$VM_WORKDIR
vm_disk a1 64M > /dev/null
for d in a0 a2 a3; do vm_disk "$d" 32M > /dev/null; done
VD="vendor=Msft,product=Virtual Disk"
VM_SMBIOS=("type=1,manufacturer=Microsoft Corporation,product=Virtual Machine"
           "type=3,manufacturer=Microsoft Corporation,asset=7783-7084-3265-9085-8269-3286-77")
boot "$azure" cloud-azure.sh 900 "scsi:a0:0:$VD,lun=0" "scsi:a1:1:$VD,lun=3" \
  "scsi:a2:1:$VD,scsi-id=1,lun=7" "scsi:a3:1:$VD,scsi-id=2,lun=7"

vm_workdir cvm-cloud-generic
generic=$VM_WORKDIR
vm_disk n1 64M > /dev/null
for d in n2 n3; do vm_disk "$d" 32M > /dev/null; done
VM_SMBIOS=("type=1,manufacturer=QEMU,product=Standard PC" "type=3,manufacturer=QEMU,asset=rack-4-slot-2")
boot "$generic" cloud-generic.sh 900 "vblk:n1:gen-vd-1" "n2:dup-serial-1" "scsi:n3:0:serial=dup-serial-1"
VM_SMBIOS=("${VM_SMBIOS_EC2[@]}")
echo "MEASURE clouds chain: $(($(date +%s) - started_clouds)) s for 3 boots" | tee -a "$host_results"
fi

if [ -n "$integrity_pid" ]; then
  integrity_rc=0
  wait "$integrity_pid" || integrity_rc=$?
  echo "== integrity chain (ran beside the others), exit $integrity_rc:"
  cat "$integrity_log"
fi
rm -f "$integrity_log"

cat "$host_results" >> "$all_results"
echo
grep '^MEASURE' "$all_results" || true
# Exec to first 200 inside the TCG guest, over every daemon start of the run.
grep -oE 'daemon_exec_to_first_200_ms=[0-9]+' "$all_results" | cut -d= -f2 | sort -n |
  awk '{ v[NR] = $1 } END { if (NR) printf "MEASURE daemon_exec_to_first_200_ms over %d starts: min %d, median %d, max %d\n", NR, v[1], v[int((NR + 1) / 2)], v[NR] }' || true
grep '^FAIL' "$all_results" || true
passed=$(grep -c '^PASS' "$all_results" || true)
failed=$(grep -c '^FAIL' "$all_results" || true)
echo "vm scenarios took $(($(date +%s) - started)) s"
echo "vm scenarios: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
