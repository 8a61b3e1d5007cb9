// The Go anchor of bench/run.sh: the Go standard library's net/http over TLS with a fresh ECDSA
// P-256 self-signed certificate made at start and one GET /api/v1/status, the same shape as the
// bare-Kestrel baseline and the way the Go original serves. Standard library only.
//
// Usage: go-peer <port>. Listens on 127.0.0.1 only.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log"
	"math/big"
	"net/http"
	"os"
	"time"
)

func main() {
	port := "9443"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "go-peer"},
		DNSNames:     []string{"go-peer"},
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     now.AddDate(1, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write([]byte(`{"status":"bootstrap"}`))
	})
	server := &http.Server{
		Addr:      "127.0.0.1:" + port,
		Handler:   mux,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
	}
	log.Fatal(server.ListenAndServeTLS("", ""))
}
