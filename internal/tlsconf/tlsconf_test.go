package tlsconf

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestClient(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(caFile string, noVerify bool) error {
		cfg, err := Client(caFile, noVerify)
		if err != nil && !errors.Is(err, ErrNoCertificates) {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get("", false); err == nil {
		t.Error("an unknown CA was trusted")
	}
	if err := get(ca, false); err != nil {
		t.Errorf("extra CA: %v", err)
	}
	if err := get("", true); err != nil {
		t.Errorf("noverify: %v", err)
	}
	if err := get(filepath.Join(dir, "missing.pem"), true); err != nil {
		t.Errorf("noverify ignores the CA file: %v", err)
	}
	if _, err := Client(filepath.Join(dir, "missing.pem"), false); err == nil || errors.Is(err, ErrNoCertificates) {
		t.Errorf("missing file: %v", err)
	}
	if cfg, err := Client(empty, false); !errors.Is(err, ErrNoCertificates) || cfg == nil {
		t.Errorf("empty file: %v %v", cfg, err)
	}
}
