// Package tlsconf builds the TLS configurations of Warren's outgoing
// connections (notifier receivers, SMTP servers, and later Kafka brokers)
// from the keys Burrow uses: an extra CA file and noverify.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrNoCertificates is wrapped by Client's error when the CA file holds no
// PEM certificate. The configuration returned with it is usable (the system
// roots alone), so a caller may log the error and go on, as Burrow's http
// notifier does, or treat it as fatal.
var ErrNoCertificates = errors.New("no PEM certificate found")

// Client returns a client TLS configuration. With noVerify the peer's
// certificate is not checked and caFile is ignored. Otherwise the
// certificates of the PEM file caFile, when given, are trusted in addition to
// the system roots. An unreadable file is an error and no configuration.
func Client(caFile string, noVerify bool) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if noVerify {
		cfg.InsecureSkipVerify = true
		return cfg, nil
	}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		sys, _ := x509.SystemCertPool()
		if sys == nil {
			sys = x509.NewCertPool()
		}
		cfg.RootCAs = sys
		return cfg, fmt.Errorf("CA file %s: %w", caFile, ErrNoCertificates)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// Files returns the client TLS configuration of a Kafka client profile's TLS
// section, as the original builds it: with caFile, only its certificates are
// trusted (not the system roots); with certFile and keyFile, the client
// presents that certificate; noVerify skips checking the broker's.
func Files(caFile, certFile, keyFile string, noVerify bool) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: noVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // the operator's choice
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TLS CA file %s: %w", caFile, ErrNoCertificates)
		}
		tc.RootCAs = pool
	}
	if certFile != "" && keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read TLS certificate or key file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
