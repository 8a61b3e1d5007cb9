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
RESULTS=/work/results.txt
CVM_URL=https://127.0.0.1:9443
CVM_ADDRESS=${CVM_ADDRESS:-127.0.0.1} # 0.0.0.0 when a client outside the guest calls in
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

# The exec-to-first-200 clock: a poller that is already running when the daemon is exec'd, so its own
# start does not count, and that polls every 10 ms over TLS without loading any CA bundle (curl loads
# one at every start, which took seconds per poll in this guest).
cat > /tmp/first200.py <<'PY'
import http.client, os, ssl, sys, time
go, out, ready = sys.argv[1:4]
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
tls.check_hostname = False
tls.verify_mode = ssl.CERT_NONE
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
time.sleep(0.002)
t0 = float(open(go).read())
deadline = time.time() + 120
while time.time() < deadline:
    try:
        conn = http.client.HTTPSConnection("127.0.0.1", 9443, context=tls, timeout=10)
        conn.request("GET", "/api/v1/status")
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status == 200:
            with open(out, "w") as f:
                f.write(str(int((time.time() - t0) * 1000)))
            sys.exit(0)
    except (OSError, http.client.HTTPException):
        pass
    time.sleep(0.01)
sys.exit(1)
PY

# cvm_start [extra flags...]: starts the daemon in its own session (so that it can be killed with
# its children, as systemd would) and waits until it answers 200. Records the time from the exec to
# that first 200 as a MEASURE line.
cvm_start() {
  DAEMON_N=$((DAEMON_N + 1))
  local i poller
  # The new keyslots' cost: cheap by default; CVM_PBKDF_MEMORY=default passes no cost flags at all.
  local cost=(--luks-pbkdf-memory "${CVM_PBKDF_MEMORY:-32768}" --luks-iter-time "${CVM_ITER_TIME:-100}")
  [ "${CVM_PBKDF_MEMORY:-}" = default ] && cost=()
  rm -f /tmp/first200.go /tmp/first200.ms /tmp/first200.ready
  python3 /tmp/first200.py /tmp/first200.go /tmp/first200.ms /tmp/first200.ready &
  poller=$!
  for i in $(seq 1 600); do [ -e /tmp/first200.ready ] && break; sleep 0.05; done
  echo "$EPOCHREALTIME" > /tmp/first200.go.tmp && mv /tmp/first200.go.tmp /tmp/first200.go
  setsid env PATH="/work/bin:$PATH" "$CVM_BIN" --address "$CVM_ADDRESS" --port 9443 --run-dir "$CVM_RUN_DIR" \
    "${cost[@]}" --device-timeout 20s --log-format json "$@" \
    > "/work/daemon.$DAEMON_N.log" 2>&1 < /dev/null &
  CVM_PID=$!
  while kill -0 "$poller" 2> /dev/null && kill -0 "$CVM_PID" 2> /dev/null; do sleep 0.1; done
  if wait "$poller" && [ -s /tmp/first200.ms ]; then
    measure "daemon_exec_to_first_200_ms=$(cat /tmp/first200.ms) ($SCENARIO, start $DAEMON_N)"
    return 0
  fi
  kill "$poller" 2> /dev/null
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

# --- Issue 16: the same checks on every cloud. ---

# cloud_detected CLOUD REASON: the platform reports CLOUD, and the start log says what DMI gave and why.
cloud_detected() {
  api GET /api/v1/platform
  check "the platform reports cloud $1" [ "$CODE:$(jget cloud)" = "200:$1" ]
  check "the start log says cloud $1 was chosen because $2" grep -qF "Cloud: $1 (auto: $2" "/work/daemon.$DAEMON_N.log"
}

# volume_error NAME: the error and detail of one volume in BODY, as "error | detail".
volume_error() { echo "$(jget "volumes.$1.error") | $(jget "volumes.$1.detail")"; }

# untouched_disk DEV: no LUKS header was written (hostile disks must be left alone).
untouched_disk() { ! cryptsetup isLuks "$1" 2> /dev/null; }

# close_volumes MOUNT...: unmounts MOUNT... and closes every dm-crypt mapping.
close_volumes() {
  local mp
  for mp in "$@"; do
    umount "$mp"
  done
  for mp in /dev/mapper/*; do
    [ "${mp##*/}" = control ] || cryptsetup close "${mp##*/}"
  done
}

# cloud_finish GOOD HOSTILE_REQUEST_DONE: after a bootstrap that mixed one good volume ("data", at
# /data) with hostile ones, the good request alone completes; then restart recovery:
#  R1: a daemon restart comes back ready, and the identical bootstrap is 200;
#  R2: with the volume unmounted and closed and with UNLINK (a udev-style link, if any) removed, a
#      restarted daemon stays in bootstrap, and the same request finds the disk again from sysfs
#      alone, reopens it (no format) and the data is intact.
cloud_finish() {
  local request=$1 unlink=${2:-}
  echo "marker /data" > /data/marker.txt
  sync
  api POST /api/v1/bootstrap "$request"
  wait_op /api/v1/bootstrap
  check "the good volume alone completes the bootstrap ($BODY)" [ "$(jget status)" = completed ]
  cvm_stop
  cvm_start || return 1
  api GET /api/v1/status
  check "R1 a restarted daemon comes back ready" [ "$(jget status)" = ready ]
  api POST /api/v1/bootstrap "$request"
  check "R1 the identical bootstrap after the restart is 200" [ "$CODE" = 200 ]
  cvm_stop
  close_volumes /data
  [ -n "$unlink" ] && rm -f "$unlink"
  cvm_start || return 1
  api GET /api/v1/status
  check "R2 with the volume closed, a restarted daemon is in bootstrap" [ "$(jget status)" = bootstrap ]
  api POST /api/v1/bootstrap "$request"
  wait_op /api/v1/bootstrap
  check "R2 the same request finds the disk again and reopens it ($BODY)" [ "$(jget status)" = completed ]
  check "R2 nothing was formatted again" bash -c "! grep -q 'formatting blank device' /work/daemon.$DAEMON_N.log"
  check "R2 the data is intact" [ "$(cat /data/marker.txt 2> /dev/null)" = "marker /data" ]
  cvm_stop
  close_volumes /data
}

# resolved_as VOLUME_ID TEXT: the daemon's current log says the volume was found as TEXT (device and evidence).
resolved_as() { grep -qF "Volume $1 is $2" "/work/daemon.$DAEMON_N.log"; }

# matches TEXT PATTERN: TEXT matches the glob PATTERN (for checks on error details).
matches() { [[ $1 == $2 ]]; }
