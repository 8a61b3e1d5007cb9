#!/usr/bin/env bash
# End-to-end TLS and client authentication: the published daemon, certificates and keys made by
# openssl, requests made by Debian's curl, all on 127.0.0.1. Covers the three modes of the README
# (self-signed, pinned client keys, SPIFFE with spiffe-helper's file names), every bad input of
# issue 14, hot reload through three truncating writes, and files the daemon cannot read. For
# those the daemon runs as root with the capability bounding set of deploy/cvm-control.service
# (setpriv): without CAP_DAC_OVERRIDE, root cannot read a mode-0000 file either, as in production.
#
# Usage: CVM_BIN=artifacts/publish/cvm-control tests/tls/e2e.sh
# Ends with "tls e2e: N passed, M failed"; exit status 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

bin=$(realpath "${CVM_BIN:?set CVM_BIN to the published cvm-control}")

need() { # command package
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >/dev/null
  fi
  command -v "$1" >/dev/null || { echo "tls e2e: $1 is required (apt-get install $2)" >&2; exit 1; }
}
need curl curl
need openssl openssl
need setpriv util-linux
need python3 python3

work=$(mktemp -d /tmp/cvm-tls-e2e.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $1"; [ -n "${2-}" ] && sed 's/^/    /' <<< "$2"; }
check() { # description command...
  local what=$1; shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- The daemon -----------------------------------------------------------------------------------
# start NAME [--unit-caps] ARGS...: runs the daemon on a free loopback port, logging text to $work/NAME.log.
start() {
  local name=$1; shift
  local prefix=()
  if [ "${1-}" = --unit-caps ]; then
    shift
    # CapabilityBoundingSet= of deploy/cvm-control.service.
    prefix=(setpriv --bounding-set "-all,$(unit_caps)")
  fi
  port=$(free_port)
  log=$work/$name.log
  mkdir -p "$work/run-$name"
  "${prefix[@]}" "$bin" --address "${address:-127.0.0.1}" --port "$port" --run-dir "$work/run-$name" --log-format text "$@" > "$log" 2>&1 &
  daemon=$!
  pids+=("$daemon")
  url=https://127.0.0.1:$port
}

# Waits (bounded) for the daemon to listen; false if it exited first.
listening() {
  for _ in $(seq 1 300); do
    grep -q "Listening on https://" "$log" && return 0
    kill -0 "$daemon" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

stop() { kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; }

# "+sys_admin,+ipc_lock,+mknod,+syslog" from the unit's CapabilityBoundingSet=CAP_SYS_ADMIN CAP_IPC_LOCK CAP_MKNOD CAP_SYSLOG.
unit_caps() {
  sed -n 's/^CapabilityBoundingSet=//p' deploy/cvm-control.service | tr ' ' '\n' | sed 's/^CAP_/+/' | tr 'A-Z' 'a-z' | paste -sd, -
}

# Waits (bounded) until the log holds the fixed string $1 (at least $2 times).
logged() {
  local want=${2:-1}
  for _ in $(seq 1 150); do
    [ "$(grep -cF -- "$1" "$log")" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "    log lacks: $1" >&2
  return 1
}

# GET /api/v1/status with curl ARGS...; sets $code (HTTP status, 000 when there was none), $body, $rc.
get() {
  body=$(curl -s -o - -w '\n%{http_code}' --max-time 10 "$@" "$url/api/v1/status")
  rc=$?
  code=${body##*$'\n'}
  body=${body%$'\n'*}
}

# --- Certificates ---------------------------------------------------------------------------------
pki=$work/pki
mkdir -p "$pki/newcerts"
: > "$pki/index.txt"
echo 1000 > "$pki/serial"
cat > "$pki/ca.cnf" <<CNF
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = $pki
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
default_days = 30
[ policy_any ]
commonName = optional
organizationName = optional
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca_ext='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash'
svid_ext() { echo "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=$1"; }

# issue NAME ISSUER SUBJECT EXTENSIONS [openssl ca options...]: NAME.key, NAME.pem (leaf only).
issue() {
  local name=$1 issuer=$2 subject=$3 ext=$4; shift 4
  [ -f "$pki/$name.key" ] || key "$pki/$name.key"
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  printf '%b\n' "$ext" > "$pki/$name.ext"
  openssl ca -config "$pki/ca.cnf" -batch -notext -preserveDN -cert "$pki/$issuer.pem" -keyfile "$pki/$issuer.key" \
    -in "$pki/$name.csr" -out "$pki/$name.pem" -extfile "$pki/$name.ext" "$@" 2>/dev/null
}
root() { # NAME SUBJECT URI
  key "$pki/$1.key"
  openssl req -x509 -new -key "$pki/$1.key" -subj "$2" -days 30 -out "$pki/$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "subjectAltName=$3" 2>/dev/null
}
pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64; }

echo "making certificates with $(openssl version)"
root root "/O=example.org" "URI:spiffe://example.org"
root other "/O=other.org" "URI:spiffe://other.org"
issue inter root "/O=example.org/CN=intermediate" "$ca_ext"
issue other-inter other "/O=other.org/CN=intermediate" "$ca_ext"
svid() { issue "$1" "${3:-inter}" "/O=SPIRE" "$(svid_ext "$2")" "${@:4}"; }
svid server "URI:spiffe://example.org/cvm, IP:127.0.0.1, DNS:localhost"
svid server2 "URI:spiffe://example.org/cvm, IP:127.0.0.1, DNS:localhost"
svid owner "URI:spiffe://example.org/owner"
svid intruder "URI:spiffe://example.org/intruder"
svid two-uris "URI:spiffe://example.org/owner, URI:spiffe://example.org/admin"
issue ca-leaf inter "/O=SPIRE" "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\nsubjectAltName=URI:spiffe://example.org/owner"
svid other-td "URI:spiffe://other.org/owner" other-inter
svid uppercase "URI:spiffe://Example.org/owner"
svid dotdot "URI:spiffe://example.org/ops/../owner"
svid query "URI:spiffe://example.org/owner?admin=1"
svid expired "URI:spiffe://example.org/owner" inter -startdate 20250101000000Z -enddate 20250102000000Z
svid future "URI:spiffe://example.org/owner" inter -startdate 20350101000000Z -enddate 20350102000000Z
svid wrong-bundle "URI:spiffe://example.org/owner" other-inter
issue not-ca inter "/O=example.org/CN=not a CA" "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature"
svid under-not-ca "URI:spiffe://example.org/owner" not-ca
# A 100-certificate chain: 99 intermediates under the root, then the leaf.
prev=inter
: > "$pki/deep-chain.pem"
for i in $(seq 1 98); do
  issue "deep$i" "$prev" "/O=example.org/CN=level $i" "$ca_ext"
  prev=deep$i
done
svid deep "URI:spiffe://example.org/owner" "$prev"
for i in $(seq 98 -1 1); do cat "$pki/deep$i.pem" >> "$pki/deep-chain.pem"; done
cat "$pki/inter.pem" >> "$pki/deep-chain.pem"
chain() { cat "$pki/$1.pem"; shift; for c in "$@"; do cat "$pki/$c.pem"; done; }

# spiffe-helper's file names: svid.pem (leaf + intermediates), svid_key.pem, svid_bundle.pem.
spiffe=$work/spiffe
mkdir -p "$spiffe"
chain server inter > "$spiffe/svid.pem"
cp "$pki/server.key" "$spiffe/svid_key.pem"
cat "$pki/root.pem" > "$spiffe/svid_bundle.pem"
chmod 644 "$spiffe"/*
for name in owner intruder two-uris ca-leaf uppercase dotdot query expired future under-not-ca; do
  case $name in
    under-not-ca) chain "$name" not-ca inter > "$pki/$name.chain" ;;
    *) chain "$name" inter > "$pki/$name.chain" ;;
  esac
done
chain other-td other-inter > "$pki/other-td.chain"
chain wrong-bundle other-inter > "$pki/wrong-bundle.chain"
{ cat "$pki/deep.pem" "$pki/deep-chain.pem"; } > "$pki/deep.chain"
echo "deep chain: $(grep -c 'BEGIN CERTIFICATE' "$pki/deep.chain") certificates"

as() { echo --cert "$pki/$1.chain" --key "$pki/$1.key"; }

# --- 1. Self-signed, no client authentication -----------------------------------------------------
echo "# self-signed, client authentication off"
start open
check "starts with a self-signed certificate" listening
get -k
check "GET /status answers 200 without a client certificate" test "$code" = 200
check "on loopback there is no open-port warning" bash -c "! grep -q 'without client authentication' '$log'"
stop
address=0.0.0.0 start exposed
listening
check "on 0.0.0.0 without client authentication it warns at start" logged "Listening on 0.0.0.0:$port without client authentication: anyone who can reach this port can bootstrap the VM"
stop

# --- 2. Pinned client keys, files made the README's way -------------------------------------------
echo "# pinned client keys"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/laptop.key" -out "$work/laptop.pem" -days 365 -subj /CN=laptop 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/stranger.key" -out "$work/stranger.pem" -days 365 -subj /CN=stranger 2>/dev/null
laptop_pin="sha256//$(pin "$work/laptop.pem")"
stranger_pin="sha256//$(pin "$work/stranger.pem")"
start pinned --allow-client-key "$laptop_pin"
listening
get -k --cert "$work/laptop.pem" --key "$work/laptop.key"
check "a pinned self-signed client gets 200" test "$code" = 200
get -k --cert "$work/stranger.pem" --key "$work/stranger.key"
check "another key gets 403" test "$code" = 403
detail() { python3 -c 'import json,sys; print(json.load(sys.stdin)["detail"])' <<< "$body"; }
check "the 403 body names its pin" test "$(detail)" = "the key $stranger_pin is not among the --allow-client-key pins"
check "the 403 is logged with the pin" logged "the key $stranger_pin is not among the --allow-client-key pins"
get -k
check "no client certificate: no HTTP answer at all (handshake refused)" test "$code" = 000 -a "$rc" != 0
check "the refused handshake is logged" logged "which presented no certificate: no client certificate was presented"
# curl computes the same pin from the daemon's side: its own --pinnedpubkey accepts it.
server_pin="sha256//$(curl -sk -w '%{certs}' --cert "$work/laptop.pem" --key "$work/laptop.key" "$url/api/v1/status" -o /dev/null 2>/dev/null | openssl x509 -pubkey -noout 2>/dev/null | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
get -k --pinnedpubkey "$server_pin" --cert "$work/laptop.pem" --key "$work/laptop.key"
check "curl --pinnedpubkey of the daemon's key works with a client certificate" test "$code" = 200
stop

# --- 3. SPIFFE with spiffe-helper's files ---------------------------------------------------------
echo "# SPIFFE"
start spiffe --tls-cert "$spiffe/svid.pem" --tls-key "$spiffe/svid_key.pem" --client-ca "$spiffe/svid_bundle.pem" --allow-client spiffe://example.org/owner
check "starts with the SVID from svid.pem" listening
check "the listening line names the file and client authentication" logged "(certificate $spiffe/svid.pem: 'O=SPIRE'"
get --cacert "$spiffe/svid_bundle.pem" $(as owner)
check "the owner's SVID gets 200, and curl validates the daemon's chain to the bundle" test "$code" = 200
get --cacert "$spiffe/svid_bundle.pem" $(as intruder)
check "an SVID that is not allowed gets 403" test "$code" = 403
check "the 403 body names the presented ID" test "$(detail)" = "spiffe://example.org/intruder is not allowed by --allow-client, and its key sha256//$(pin "$pki/intruder.pem") is not among the --allow-client-key pins"

refused() { # NAME expected-log-text
  get --cacert "$spiffe/svid_bundle.pem" $(as "$1")
  if [ "$code" = 000 ] && [ "$rc" != 0 ] && logged "$2"; then ok "$1: handshake refused, logged"; else not_ok "$1: handshake refused, logged (HTTP $code, curl $rc)" "$(tail -3 "$log")"; fi
}
refused two-uris "it has 2 URI SANs (spiffe://example.org/owner, spiffe://example.org/admin)"
refused ca-leaf "spiffe://example.org/owner is a CA certificate (basicConstraints CA:TRUE)"
refused other-td "which presented spiffe://other.org/owner (sha256//"
refused uppercase "its URI SAN \"spiffe://Example.org/owner\" is not a valid SPIFFE ID: it has an uppercase letter ('E') in its trust domain"
refused dotdot "its URI SAN \"spiffe://example.org/ops/../owner\" is not a valid SPIFFE ID: it has a '..' path segment"
refused query "its URI SAN \"spiffe://example.org/owner?admin=1\" is not a valid SPIFFE ID: it has a query ('?')"
refused expired "the client certificate expired at 2025-01-02T00:00:00Z"
refused future "the client certificate is not valid before 2035-01-01T00:00:00Z"
refused wrong-bundle "its chain does not lead to a root in the --client-ca bundle"
refused under-not-ca "certificate 2 of its chain ('CN=not a CA, O=example.org') issued a certificate but is not a CA (basicConstraints)"
refused deep "it presented 100 certificates; at most 8 are accepted"
get --cacert "$spiffe/svid_bundle.pem" $(as owner)
check "after all that the owner still gets 200" test "$code" = 200
check "the daemon is still running" kill -0 "$daemon"

# Hot reload: spiffe-helper's three truncating writes, while curl keeps handshaking.
probe_log=$work/probe.log
: > "$probe_log"
( while [ ! -e "$work/stop-probe" ]; do
    # The daemon's bundle file is itself rewritten meanwhile; curl trusts a copy of the root.
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 --cacert "$pki/root.pem" $(as owner) "$url/api/v1/status" >> "$probe_log"
  done ) &
prober=$!
pids+=("$prober")
sleep 0.5
: > "$spiffe/svid.pem"; sleep 0.3
chain server2 inter > "$spiffe/svid.pem"; sleep 0.3
: > "$spiffe/svid_key.pem"; sleep 0.3
new_pin="sha256//$(pin "$pki/server2.pem")"
cat "$pki/server2.key" > "$spiffe/svid_key.pem"; written=$(date +%s%N)
until curl -s -o /dev/null --max-time 5 --cacert "$pki/root.pem" --pinnedpubkey "$new_pin" $(as owner) "$url/api/v1/status"; do
  [ $(( ($(date +%s%N) - written) / 1000000 )) -gt 10000 ] && break
done
seen_ms=$(( ($(date +%s%N) - written) / 1000000 ))
: > "$spiffe/svid_bundle.pem"; sleep 0.3
cat "$pki/root.pem" > "$spiffe/svid_bundle.pem"
sleep 0.5
touch "$work/stop-probe"
wait "$prober" 2>/dev/null
probes=$(wc -l < "$probe_log")
bad=$(grep -vc '^200$' "$probe_log")
if [ "$probes" -gt 10 ] && [ "$bad" = 0 ]; then ok "no handshake failed during the three truncating writes ($probes probes)"
else not_ok "no handshake failed during the three truncating writes ($probes probes, $bad not 200)" "$(sort "$probe_log" | uniq -c)"; fi
# A timing goal is the bench's to measure (bench/tls.py, 20 rotations); here it must merely happen.
check "the new certificate is served (first seen ${seen_ms} ms after its key was written)" test "$seen_ms" -le 10000
check "the torn states were logged and the old pair kept" logged "Keeping the --tls-cert $spiffe/svid.pem and --tls-key $spiffe/svid_key.pem applied at"
check "the new pair was logged" logged "Reloaded --tls-cert $spiffe/svid.pem and --tls-key $spiffe/svid_key.pem: serving 'O=SPIRE'"

# A truncated PEM and a key file holding a certificate: kept, logged.
head -c 300 "$pki/server.pem" > "$spiffe/svid.pem"
check "a truncated certificate file is logged" logged "$spiffe/svid.pem has an incomplete or malformed PEM block"
chain server inter > "$spiffe/svid.pem"
cp "$pki/server.pem" "$spiffe/svid_key.pem"
check "a key file holding a certificate is logged" logged "$spiffe/svid_key.pem holds no private key (found CERTIFICATE)"
get --cacert "$spiffe/svid_bundle.pem" --pinnedpubkey "$new_pin" $(as owner)
check "meanwhile the last good pair is served" test "$code" = 200
cp "$pki/server.key" "$spiffe/svid_key.pem"

# The bundle deleted while running.
rm "$spiffe/svid_bundle.pem"
check "a deleted bundle is logged" logged "$spiffe/svid_bundle.pem: no such file"
get --cacert "$pki/root.pem" $(as owner)
check "with the bundle gone the last good roots still admit the owner" test "$code" = 200
stop

# --- 4. Files the daemon cannot read (root without CAP_DAC_OVERRIDE, as under the unit) -----------
echo "# unreadable files (daemon as root with the unit's capabilities: no CAP_DAC_OVERRIDE)"
chain server inter > "$spiffe/svid.pem"
cp "$pki/server.key" "$spiffe/svid_key.pem"
cat "$pki/root.pem" > "$spiffe/svid_bundle.pem"
chmod 644 "$spiffe"/*
chmod 000 "$spiffe/svid_key.pem"
start unreadable-start --unit-caps --tls-cert "$spiffe/svid.pem" --tls-key "$spiffe/svid_key.pem"
wait "$daemon" 2>/dev/null
exit_code=$?
check "a key file of mode 0000 at start: exit 1" test "$exit_code" = 1
check "... with the reason logged" logged "Cannot start: $spiffe/svid_key.pem: permission denied"
chmod 644 "$spiffe/svid_key.pem"
start unreadable-run --unit-caps --tls-cert "$spiffe/svid.pem" --tls-key "$spiffe/svid_key.pem" --client-ca "$spiffe/svid_bundle.pem" --allow-client spiffe://example.org/owner
check "with the unit's capabilities it starts with readable files" listening
chmod 000 "$spiffe/svid_key.pem" "$spiffe/svid_bundle.pem"
chain server2 inter > "$spiffe/svid.pem"
check "a key file turned 0000 while running is logged" logged "$spiffe/svid_key.pem: permission denied"
check "a bundle turned 0000 while running is logged" logged "$spiffe/svid_bundle.pem: permission denied"
old_pin="sha256//$(pin "$pki/server.pem")"
get --cacert "$pki/root.pem" --pinnedpubkey "$old_pin" $(as owner)
check "the last good pair and bundle are still in use" test "$code" = 200
chmod 644 "$spiffe/svid_key.pem" "$spiffe/svid_bundle.pem"
cat "$pki/server2.key" > "$spiffe/svid_key.pem"
check "readable again: the new pair is loaded" logged "Reloaded --tls-cert $spiffe/svid.pem"
stop

echo "tls e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
