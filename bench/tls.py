#!/usr/bin/env python3
"""TLS costs of cvm-control (issue 14), on 127.0.0.1 only, bounded in time.

In one run, with the same published daemon and the same server certificate (EC P-256 from files):
  configs      off      client authentication off
               pinned   --allow-client-key (a self-signed client key, pinned)
               spiffe   --client-ca + --allow-client (an X.509-SVID, leaf + intermediate, chained to
                        the bundle)
  handshakes   fresh connections per second, each: TCP connect, full TLS 1.3 handshake (no
               resumption: Python starts no session it was not handed, and with client
               authentication on the daemon refuses resumption anyway), GET /api/v1/status, close.
               The request makes the daemon finish validating the client certificate (in TLS 1.3 a
               client's handshake completes before the server has checked it). Also the p50/p99 of
               one such connection.
  keep-alive   p50/p99 of GET /api/v1/status over keep-alive connections (the handshake done once).
  daemon CPU   for both loads, the user + system CPU time the daemon process used (/proc/PID/stat),
               per connection or per request: the server's own cost, which contention for the cores
               does not inflate the way it inflates latencies and rates.
  Blocks run config after config, `--rounds` times over, so host drift hits every config alike.
  rotation     the daemon with --tls-cert/--tls-key (and a bundle); a rotation rewrites certificate,
               key and bundle with three truncating writes as spiffe-helper does; the latency runs
               from the end of the key write (the first moment the new pair is whole on disk) to the
               first fresh handshake that presents the new certificate, probed back to back.
Writes a JSON result file and prints a summary; the host's 1-minute load is recorded per block.
"""

import argparse
import base64
import datetime
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from measure import STATUS, free_port, load1, wait_quiet  # the footprint bench's helpers, same directory


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100.0 * (len(ordered) - 1))))]


def openssl(*args, **kw):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


class Pki:
    """Certificates made with openssl in a scratch directory."""

    def __init__(self, directory):
        self.dir = directory
        self.n = 0

    def path(self, name):
        return os.path.join(self.dir, name)

    def key(self, name):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", self.path(name + ".key"))

    def root(self, name, uri):
        self.key(name)
        openssl("req", "-x509", "-new", "-key", self.path(name + ".key"), "-subj", f"/O={name}", "-days", "2",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", f"subjectAltName={uri}", "-out", self.path(name + ".pem"))

    def issue(self, name, issuer, extensions):
        self.key(name)
        self.n += 1
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("\n".join(extensions) + "\n")
        openssl("req", "-new", "-key", self.path(name + ".key"), "-subj", f"/O=bench/CN={name}", "-out", self.path(name + ".csr"))
        openssl("x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.path(issuer + ".pem"), "-CAkey", self.path(issuer + ".key"),
                "-set_serial", str(1000 + self.n), "-days", "2", "-extfile", ext, "-out", self.path(name + ".pem"))

    def ca(self, name, issuer):
        self.issue(name, issuer, ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"])

    def leaf(self, name, issuer, san):
        self.issue(name, issuer, ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature",
                                  "extendedKeyUsage=serverAuth,clientAuth", f"subjectAltName={san}"])

    def self_signed(self, name):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.path(name + ".key"),
                "-out", self.path(name + ".pem"), "-days", "2", "-subj", f"/CN={name}")

    def cat(self, out, *names):
        with open(self.path(out), "w") as f:
            for n in names:
                with open(self.path(n + ".pem")) as c:
                    f.write(c.read())
        return self.path(out)

    def pin(self, name):
        der = subprocess.run(f"openssl x509 -in {self.path(name + '.pem')} -pubkey -noout | openssl pkey -pubin -outform der",
                             shell=True, check=True, capture_output=True).stdout
        return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()

    def der(self, name):
        with open(self.path(name + ".pem")) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())


class Daemon:
    def __init__(self, binary, args):
        self.port = free_port()
        self.run_dir = tempfile.mkdtemp(prefix="cvm-bench-tls-")
        self.log = open(os.path.join(self.run_dir, "daemon.log"), "w")
        self.proc = subprocess.Popen([binary, "--address", "127.0.0.1", "--port", str(self.port), "--run-dir", self.run_dir,
                                      "--log-format", "json", "--log-level", "warn", *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, context, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}")
            try:
                status, _ = request(self.port, context)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise RuntimeError("daemon did not answer")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def client_context(cert=None, key=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if cert:
        context.load_cert_chain(cert, key)
    return context


def request(port, context, conn=None):
    own = conn is None
    if own:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    conn.request("GET", STATUS)
    response = conn.getresponse()
    body = response.read()
    if own:
        conn.close()
    return response.status, body


def cpu_seconds(pid):
    """User + system CPU time the process has used so far (its own and its threads')."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_threads(threads, seconds, work):
    """Runs work(stop_at, out) in `threads` threads; returns the merged lists of latencies and errors."""
    stop_at = time.perf_counter() + seconds
    outs = [{"lat": [], "errors": 0} for _ in range(threads)]
    pool = [threading.Thread(target=work, args=(stop_at, o)) for o in outs]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return [x for o in outs for x in o["lat"]], sum(o["errors"] for o in outs)


def handshakes(pid, port, context, seconds, threads):
    def work(stop_at, out):
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                status, _ = request(port, context)
                if status != 200:
                    out["errors"] += 1
                    continue
            except (OSError, http.client.HTTPException):
                out["errors"] += 1
                continue
            out["lat"].append((time.perf_counter() - t0) * 1000.0)

    cpu = cpu_seconds(pid)
    lat, errors = run_threads(threads, seconds, work)
    cpu = cpu_seconds(pid) - cpu
    return {"per_s": len(lat) / seconds, "connections": len(lat), "errors": errors,
            "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "daemon_cpu_ms_per": cpu * 1000.0 / max(1, len(lat))}


def keep_alive(pid, port, context, seconds, threads):
    def work(stop_at, out):
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
        request(port, context, conn)  # the one handshake, not measured
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                status, _ = request(port, context, conn)
                if status != 200:
                    out["errors"] += 1
                    continue
            except (OSError, http.client.HTTPException):
                out["errors"] += 1
                conn.close()
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
                continue
            out["lat"].append((time.perf_counter() - t0) * 1000.0)
        conn.close()

    cpu = cpu_seconds(pid)
    lat, errors = run_threads(threads, seconds, work)
    cpu = cpu_seconds(pid) - cpu
    return {"per_s": len(lat) / seconds, "requests": len(lat), "errors": errors,
            "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "daemon_cpu_ms_per": cpu * 1000.0 / max(1, len(lat))}


def served_der(port, context):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def write(path, data):
    """A truncating write, as spiffe-helper's os.WriteFile does: open with O_TRUNC, then write."""
    with open(path, "w") as f:
        f.write(data)


def rotations(binary, pki, count, log):
    d = tempfile.mkdtemp(prefix="cvm-bench-rot-")
    cert, key, bundle = (os.path.join(d, n) for n in ("svid.pem", "svid_key.pem", "svid_bundle.pem"))
    names = [f"rot{i}" for i in range(count + 1)]
    for n in names:
        pki.leaf(n, "inter", "URI:spiffe://bench.test/cvm, IP:127.0.0.1")
    read = lambda n, ext: open(pki.path(n + ext)).read()
    inter = read("inter", ".pem")
    write(cert, read(names[0], ".pem") + inter)
    write(key, read(names[0], ".key"))
    write(bundle, read("root", ".pem"))
    daemon = Daemon(binary, ["--tls-cert", cert, "--tls-key", key, "--client-ca", bundle,
                             "--allow-client", "spiffe://bench.test/client"])
    context = client_context(pki.path("svid-chain.pem"), pki.path("client.key"))
    results = []
    failed_handshakes = 0
    try:
        daemon.wait_ready(context)
        for i, n in enumerate(names[1:], start=1):
            time.sleep(1.0)  # let the previous rotation settle; not measured
            expected = pki.der(n)
            write(cert, read(n, ".pem") + inter)
            write(key, read(n, ".key"))
            written = time.perf_counter()
            write(bundle, read("root", ".pem"))
            probes = 0
            while True:
                probes += 1
                try:
                    if served_der(daemon.port, context) == expected:
                        break
                except (OSError, ssl.SSLError):
                    failed_handshakes += 1
                if time.perf_counter() - written > 10:
                    raise RuntimeError(f"rotation {i}: new certificate not served within 10 s")
            results.append((time.perf_counter() - written) * 1000.0)
            log(f"  rotation {i:2d}: {results[-1]:6.1f} ms ({probes} probes)")
    finally:
        daemon.stop()
        shutil.rmtree(d, ignore_errors=True)
    return {"rotations": len(results), "ms": results, "min_ms": min(results), "median_ms": statistics.median(results),
            "p95_ms": percentile(results, 95), "max_ms": max(results), "failed_handshakes": failed_handshakes}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--daemon", required=True, help="the published cvm-control")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured block")
    parser.add_argument("--threads", type=int, default=2, help="client threads (connections) per block")
    parser.add_argument("--rounds", type=int, default=2, help="times each config is measured, interleaved")
    parser.add_argument("--rotations", type=int, default=20)
    parser.add_argument("--load-limit", type=float, default=1.5, help="wait (bounded) for the 1-min load to drop to this before each block")
    parser.add_argument("--max-wait", type=float, default=120.0, help="seconds to wait for a quiet host before measuring anyway")
    parser.add_argument("--out", help="JSON result file")
    args = parser.parse_args()

    log = lambda m: print(m, flush=True)
    scratch = tempfile.mkdtemp(prefix="cvm-bench-pki-")
    pki = Pki(scratch)
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        log("making certificates with openssl")
        pki.root("root", "URI:spiffe://bench.test")
        pki.ca("inter", "root")
        pki.leaf("server", "inter", "URI:spiffe://bench.test/cvm, IP:127.0.0.1")
        pki.leaf("client", "inter", "URI:spiffe://bench.test/client")
        pki.self_signed("laptop")
        server_chain = pki.cat("server-chain.pem", "server", "inter")
        pki.cat("svid-chain.pem", "client", "inter")
        bundle = pki.cat("bundle.pem", "root")
        server = ["--tls-cert", server_chain, "--tls-key", pki.path("server.key")]
        configs = {
            "off": (server, client_context()),
            "pinned": (server + ["--allow-client-key", pki.pin("laptop")], client_context(pki.path("laptop.pem"), pki.path("laptop.key"))),
            "spiffe": (server + ["--client-ca", bundle, "--allow-client", "spiffe://bench.test/client"],
                       client_context(pki.path("svid-chain.pem"), pki.path("client.key"))),
        }
        blocks = {name: {"handshakes": [], "keep_alive": []} for name in configs}
        for r in range(args.rounds):
            for name, (flags, context) in configs.items():
                wait_quiet(args.load_limit, args.max_wait, log)
                daemon = Daemon(args.daemon, flags)
                try:
                    daemon.wait_ready(context)
                    pid = daemon.proc.pid
                    handshakes(pid, daemon.port, context, 1.0, args.threads)  # warm-up, not measured
                    keep_alive(pid, daemon.port, context, 1.0, args.threads)
                    before = load1()
                    h = handshakes(pid, daemon.port, context, args.seconds, args.threads)
                    k = keep_alive(pid, daemon.port, context, args.seconds, args.threads)
                    h["load1"] = k["load1"] = (before, load1())
                finally:
                    daemon.stop()
                blocks[name]["handshakes"].append(h)
                blocks[name]["keep_alive"].append(k)
                log(f"  round {r + 1} {name:6s}: {h['per_s']:7.1f} connections/s (p50 {h['p50_ms']:.2f} ms, p99 {h['p99_ms']:.2f} ms, "
                    f"daemon CPU {h['daemon_cpu_ms_per']:.2f} ms each, {h['errors']} errors); "
                    f"keep-alive p50 {k['p50_ms']:.2f} ms, p99 {k['p99_ms']:.2f} ms ({k['per_s']:.0f} req/s, "
                    f"daemon CPU {k['daemon_cpu_ms_per']:.3f} ms each, {k['errors']} errors); "
                    f"load {before:.2f}->{load1():.2f}")
        log(f"rotation latency over {args.rotations} rotations")
        wait_quiet(args.load_limit, args.max_wait, log)
        rotation_load = load1()
        rotation = rotations(args.daemon, pki, args.rotations, log)
        rotation["load1"] = (rotation_load, load1())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    summary = {}
    for name, b in blocks.items():
        summary[name] = {
            "connections_per_s": statistics.median(x["per_s"] for x in b["handshakes"]),
            "connection_p50_ms": statistics.median(x["p50_ms"] for x in b["handshakes"]),
            "connection_p99_ms": statistics.median(x["p99_ms"] for x in b["handshakes"]),
            "connection_daemon_cpu_ms": statistics.median(x["daemon_cpu_ms_per"] for x in b["handshakes"]),
            "request_daemon_cpu_ms": statistics.median(x["daemon_cpu_ms_per"] for x in b["keep_alive"]),
            "keep_alive_p50_ms": statistics.median(x["p50_ms"] for x in b["keep_alive"]),
            "keep_alive_p99_ms": statistics.median(x["p99_ms"] for x in b["keep_alive"]),
        }
    result = {"started": started.isoformat(), "args": vars(args), "cpus": os.cpu_count(),
              "openssl": subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip(),
              "blocks": blocks, "summary": summary, "rotation": rotation}
    log("")
    log("config   connections/s  connection p50  connection p99  daemon CPU/conn  keep-alive p50  keep-alive p99  daemon CPU/req   (medians of the rounds)")
    for name, s in summary.items():
        log(f"{name:8s} {s['connections_per_s']:13.1f}  {s['connection_p50_ms']:11.2f} ms  {s['connection_p99_ms']:11.2f} ms"
            f"  {s['connection_daemon_cpu_ms']:12.2f} ms  {s['keep_alive_p50_ms']:11.2f} ms  {s['keep_alive_p99_ms']:11.2f} ms  {s['request_daemon_cpu_ms']:11.3f} ms")
    log(f"rotation: min {rotation['min_ms']:.1f} ms, median {rotation['median_ms']:.1f} ms, p95 {rotation['p95_ms']:.1f} ms, "
        f"max {rotation['max_ms']:.1f} ms over {rotation['rotations']} rotations; {rotation['failed_handshakes']} failed handshakes")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        log(f"wrote {args.out}")
    return 0 if rotation["failed_handshakes"] == 0 and rotation["max_ms"] <= 2000 else 1


if __name__ == "__main__":
    sys.exit(main())
