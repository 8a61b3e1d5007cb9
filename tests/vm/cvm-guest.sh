# shellcheck shell=bash
# Guest-side helpers for the cvm-control scenarios: run the published daemon, call its API over
# HTTPS on 127.0.0.1, and record PASS/FAIL lines in /work/results.txt for the host to collect.
# Sourced by the scenario scripts after /work/guest-lib.sh.

# shellcheck source=/dev/null
. /work/cvm-env.sh # CVM_BIN: the published NativeAOT daemon, copied into the work share
# Run it from the guest's tmpfs, as a real VM runs it from a disk behind its page cache: executed
# straight from the 9p share, every page the daemon touches first is a round trip to the host.
cp "$CVM_BIN" /tmp/cvm-control
CVM_BIN=/tmp/cvm-control
# The same for the system trust store, which the daemon's TLS stack reads at every start (about 150
# files, ~85 ms on a disk) although its self-signed certificate needs none of it: over 9p under
# TCG that took 4-10 s per start. Once per boot, copied into tmpfs and bound over /etc/ssl/certs.
if ! mountpoint -q /etc/ssl/certs; then
  mkdir -p /tmp/ssl-certs
  cp -L /etc/ssl/certs/* /tmp/ssl-certs/ 2> /dev/null
  mount --bind /tmp/ssl-certs /etc/ssl/certs
fi

RESULTS=/work/results.txt
CVM_URL=https://127.0.0.1:9443
CVM_RUN_DIR=/run/cvm
CVM_PID=
DAEMON_N=0
SCENARIO=${SCENARIO:-vm}

pass() { echo "PASS $SCENARIO: $*" | tee -a "$RESULTS"; }
fail() { echo "FAIL $SCENARIO: $*" | tee -a "$RESULTS"; }
# check "what" command...   records whether the command succeeded
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
measure() { echo "MEASURE $*" | tee -a "$RESULTS"; }

# A stand-in systemctl that records its arguments: there is no systemd in this guest.
mkdir -p /work/bin
cat > /work/bin/systemctl <<'SH'
#!/bin/sh
echo "$*" >> /work/systemctl.log
SH
chmod +x /work/bin/systemctl

# cvm_start [extra flags...]: starts the daemon in its own session (so that it can be killed with
# its children, as systemd would) and waits until it answers. Records how long that took, from the
# exec to the first 200 that curl saw (polled every 0.1 s; each poll is a process start and a TLS
# handshake under TCG, so the figure is an upper bound), as a MEASURE line.
cvm_start() {
  DAEMON_N=$((DAEMON_N + 1))
  local t0 i
  t0=$(date +%s%N)
  setsid env PATH="/work/bin:$PATH" "$CVM_BIN" --address 127.0.0.1 --port 9443 --run-dir "$CVM_RUN_DIR" \
    --luks-pbkdf-memory 32768 --luks-iter-time 100 --device-timeout 20s --log-format json "$@" \
    > "/work/daemon.$DAEMON_N.log" 2>&1 < /dev/null &
  CVM_PID=$!
  for i in $(seq 1 600); do
    if [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "$CVM_URL/api/v1/status")" = 200 ]; then
      measure "daemon_exec_to_first_200_ms=$((($(date +%s%N) - t0) / 1000000)) ($SCENARIO, start $DAEMON_N)"
      return 0
    fi
    kill -0 "$CVM_PID" 2> /dev/null || break
    sleep 0.1
  done
  echo "daemon did not answer; its log:"
  cat "/work/daemon.$DAEMON_N.log"
  return 1
}

cvm_stop() {
  kill -TERM "$CVM_PID" 2> /dev/null
  wait "$CVM_PID" 2> /dev/null
}

# kill -9 of the daemon and every child it has running (a crash under systemd's control group).
cvm_kill9() {
  kill -9 -- "-$CVM_PID" 2> /dev/null
  wait "$CVM_PID" 2> /dev/null || true
}

# api METHOD PATH [BODY]: sets CODE and BODY. A BODY of "@file" is read from that file (one argv
# string may not exceed 128 KiB).
api() {
  local out=/tmp/api.out
  if [ $# -ge 3 ]; then
    CODE=$(curl -sk -o "$out" -w '%{http_code}' --max-time 60 -X "$1" -H 'content-type: application/json' --data-binary "$3" "$CVM_URL$2")
  else
    CODE=$(curl -sk -o "$out" -w '%{http_code}' --max-time 60 -X "$1" "$CVM_URL$2")
  fi
  BODY=$(cat "$out")
}

# jget a.b.c: prints that field of BODY (empty when missing).
jget() {
  python3 -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$BODY" "$1"
}

# wait_op PATH: polls a GET endpoint until it leaves in_progress (bounded). Once a second: under TCG
# every poll (process start + TLS handshake) costs CPU that the operation itself needs.
wait_op() {
  local i
  for i in $(seq 1 600); do
    api GET "$1"
    if ! grep -q '"status":"in_progress"' <<< "$BODY"; then
      return 0
    fi
    sleep 1
  done
  return 1
}

# mount_source MOUNTPOINT: the source device of the topmost mount there (mountinfo field after " - ").
mount_source() { awk -v mp="$1" '$5 == mp { for (i = 7; i <= NF; i++) if ($i == "-") { src = $(i + 2); fs = $(i + 1) } } END { if (src != "") print fs, src }' /proc/self/mountinfo; }

# opens DEVICE PASSPHRASE: does the passphrase open the LUKS device? (stdin, no newline)
opens() { printf '%s' "$2" | cryptsetup open --test-passphrase --key-file=- "$1" > /dev/null 2>&1; }

mode_of() { stat -c %a "$1" 2> /dev/null; }

finish() {
  local failed
  failed=$(grep -c "^FAIL $SCENARIO" "$RESULTS" 2> /dev/null || true)
  echo "$SCENARIO done: ${failed:-0} failed"
  [ "${failed:-0}" = 0 ]
}
