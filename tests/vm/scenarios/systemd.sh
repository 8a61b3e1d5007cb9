#!/bin/bash
# Issue 18 in a real kernel, one boot on a blank disk:
#   M  /metrics scraped during a real bootstrap and after it, over HTTPS and over --unix-socket; a
#      second daemon reopens the volume so that all six step histograms get observations. The scrapes
#      stay in the work dir, and scenarios.sh runs the Prometheus client library's own text parser
#      (check-exposition.py) on each of them on the host after the boot: in this TCG guest one Python
#      start with that library costs 7-15 s, on the host well under one;
#   N  sd_notify from the published binary: READY=1 and watchdog keep-alives to a stand-in manager;
#   V  vsock: vsock_loopback loaded, the daemon's TLS listener reached from a Python AF_VSOCK client at
#      CID 1 through socat, and through systemd-socket-activate + systemd-socket-proxyd (the programs
#      of deploy/cvm-control-vsock.{socket,service}); TLS handshake and GET /api/v1/status end to end.
set -u
SCENARIO=systemd
. /work/guest-lib.sh
. /work/cvm-guest.sh
guest_setup 60 > /dev/null

SOCK=/run/cvm-control/api.sock
mkdir -p /run/cvm-control

# A stand-in service manager: every datagram at NOTIFY_SOCKET, one line per message (newlines as |).
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", "|") + "\n")
' /run/notify.sock /work/notify.log &
NOTIFY_PID=$!
for _ in $(seq 1 100); do [ -S /run/notify.sock ] && break; sleep 0.1; done

# scrape URL_OR_SOCKET FILE: GET /metrics into FILE; sets CODE.
scrape() {
  if [ "$1" = unix ]; then
    CODE=$(curl -s --unix-socket "$SOCK" -o "$2" -w '%{http_code}' --max-time 60 http://cvm/metrics)
  else
    CODE=$(curl -sk -o "$2" -w '%{http_code}' --max-time 60 "$CVM_URL/metrics")
  fi
}

step_count() { # step_count FILE STEP: the _count of that step for dm name data, outcome ok
  sed -n "s/^cvm_control_volume_step_duration_seconds_count{dm_name=\"data\",outcome=\"ok\",step=\"$1\"} //p" "$2"
}

NOTIFY_SOCKET=/run/notify.sock WATCHDOG_USEC=4000000 cvm_start --unix-socket "$SOCK" || exit 1

# N. The published binary tells the manager it is ready, and keeps the watchdog fed.
for _ in $(seq 1 100); do grep -q 'READY=1' /work/notify.log 2> /dev/null && break; sleep 0.2; done
check "N1 READY=1 reached the manager once the API answered ($(head -c 200 /work/notify.log))" grep -q '^READY=1|STATUS=Waiting for a bootstrap$' /work/notify.log
for _ in $(seq 1 100); do [ "$(grep -c '^WATCHDOG=1$' /work/notify.log)" -ge 2 ] && break; sleep 0.2; done
check "N2 WATCHDOG=1 keep-alives arrive (WatchdogSec=4s)" [ "$(grep -c '^WATCHDOG=1$' /work/notify.log)" -ge 2 ]

# M. Metrics during a real bootstrap.
api POST /api/v1/bootstrap '{"user_id":"metrics-user","volumes":{"data":{"volume_id":"vol-05d00001","passphrase":"metrics-pass-1"}}}'
check "M1 bootstrap accepted" [ "$CODE" = 202 ]
during=0
for i in $(seq 1 600); do
  scrape https /work/metrics.during.$i
  if grep -q '^cvm_control_operation_in_progress{kind="bootstrap"} 1$' /work/metrics.during.$i; then
    during=$i
  else
    rm -f /work/metrics.during.$i
    break
  fi
  sleep 1
done
check "M1 /metrics answered while the bootstrap ran ($during scrapes; the host parses them)" [ "$during" -gt 0 ]
wait_op /api/v1/bootstrap
check "M1 bootstrap completes ($BODY)" [ "$(jget status)" = completed ]

scrape https /work/metrics.after
check "M2 /metrics after the bootstrap is 200" [ "$CODE" = 200 ]
for step in luksFormat open mkfs mount; do
  check "M2 step $step of volume data observed once" [ "$(step_count $step /work/metrics.after)" = 1 ]
done
check "M2 no passphrase, user id or volume id in any label" bash -c "! grep -Eq 'metrics-pass|metrics-user|vol-05d00001|vol05d00001' /work/metrics.after"
scrape unix /work/metrics.unix
check "M3 /metrics over the Unix socket (plain HTTP) is 200" [ "$CODE" = 200 ]
check "M3 the Unix socket file is 0660" [ "$(mode_of $SOCK)" = 660 ]
code=$(curl -s --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' --max-time 60 -X POST -d '{}' http://cvm/api/v1/shutdown)
check "M3 shutdown over the Unix socket is refused with 403" [ "$code" = 403 ]

# V. vsock. The daemon keeps running on 127.0.0.1:9443.
if ! modprobe vsock_loopback 2> /work/vsock-modprobe.err || [ ! -e /dev/vsock ]; then
  fail "V0 vsock_loopback cannot be loaded in this guest: $(cat /work/vsock-modprobe.err)"
else
  pass "V0 vsock_loopback loaded ($(uname -r)), /dev/vsock present"
  # vsock-client.py PORT: TLS over AF_VSOCK to CID 1, GET /api/v1/status; prints the status body and
  # the SHA-256 of the certificate it was served.
  cat > /work/vsock-client.py <<'PY'
import hashlib, socket, ssl, sys, time
family, address = (socket.AF_VSOCK, (1, int(sys.argv[1]))) if sys.argv[1] != "tcp" else (socket.AF_INET, ("127.0.0.1", 9443))
for attempt in range(100):  # the listener may still be starting
    raw = socket.socket(family, socket.SOCK_STREAM)
    raw.settimeout(60)
    try:
        raw.connect(address)
        break
    except (ConnectionRefusedError, ConnectionResetError):
        raw.close()
        time.sleep(0.1)
else:
    sys.exit(f"nobody accepts at {address}")
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # pinned below instead: the daemon's certificate is self-signed
with context.wrap_socket(raw) as tls:
    tls.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: cvm-control\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := tls.recv(4096):
        answer += chunk
    print(tls.version(), hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest())
print(answer.split(b"\r\n\r\n", 1)[-1].decode())
PY
  direct=$(python3 /work/vsock-client.py tcp 2>&1)
  # As the issue has it: socat bridges vsock port 9444 to the daemon's TLS listener.
  socat VSOCK-LISTEN:9444,fork TCP:127.0.0.1:9443 2> /work/socat.err &
  SOCAT_PID=$!
  via_socat=$(python3 /work/vsock-client.py 9444 2>&1)
  check "V1 TLS and GET /api/v1/status over AF_VSOCK (CID 1) through socat ($via_socat)" grep -q '"status":"ready"' <<< "$via_socat"
  check "V1 the certificate over vsock is the daemon's own (TLS ends in the daemon)" [ "$(head -1 <<< "$via_socat")" = "$(head -1 <<< "$direct")" ]
  kill "$SOCAT_PID" 2> /dev/null
  # The units' chain: systemd listens on vsock::9443 and starts systemd-socket-proxyd with the socket.
  systemd-socket-activate --listen=vsock::9443 /lib/systemd/systemd-socket-proxyd 127.0.0.1:9443 > /work/proxyd.log 2>&1 &
  PROXY_PID=$!
  via_proxyd=$(python3 /work/vsock-client.py 9443 2>&1)
  check "V2 TLS and GET /api/v1/status over vsock::9443 through systemd-socket-activate and systemd-socket-proxyd ($via_proxyd; $(head -c 200 /work/proxyd.log))" grep -q '"status":"ready"' <<< "$via_proxyd"
  check "V2 the certificate over the proxy is the daemon's own" [ "$(head -1 <<< "$via_proxyd")" = "$(head -1 <<< "$direct")" ]
  kill "$PROXY_PID" 2> /dev/null
fi

# M4. A second daemon on the same disk reopens it: open, e2fsck, resize2fs and mount get observed too.
cvm_stop
check "N3 STOPPING=1 reached the manager" grep -q '^STOPPING=1|' /work/notify.log
umount /data && cryptsetup close data
rm -f "$CVM_RUN_DIR/bootstrap.json"
cvm_start || exit 1
api POST /api/v1/bootstrap '{"user_id":"metrics-user","volumes":{"data":{"volume_id":"vol-05d00001","passphrase":"metrics-pass-1"}}}'
wait_op /api/v1/bootstrap
check "M4 the second bootstrap reopens the volume ($BODY)" [ "$(jget status)" = completed ]
scrape https /work/metrics.reopen
for step in open e2fsck resize2fs mount; do
  check "M4 step $step of volume data observed once" [ "$(step_count $step /work/metrics.reopen)" = 1 ]
done
check "M4 nothing formatted or made anew on reopen" [ -z "$(step_count luksFormat /work/metrics.reopen)$(step_count mkfs /work/metrics.reopen)" ]
for s in luksFormat open mkfs e2fsck resize2fs mount; do
  for f in /work/metrics.after /work/metrics.reopen; do
    v=$(sed -n "s/^cvm_control_volume_step_duration_seconds_sum{dm_name=\"data\",outcome=\"ok\",step=\"$s\"} //p" "$f")
    [ -n "$v" ] && measure "step_${s}_seconds=$v"
  done
done
cvm_stop
kill "$NOTIFY_PID" 2> /dev/null
finish
