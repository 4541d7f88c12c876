package httpapi

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/warrenlag/warren/protocol"
)

// raw GETs path with the given Accept-Encoding (none when empty) through a
// transport that neither asks for gzip nor decodes it, and returns the bytes
// as sent.
func (f *fixture) raw(t *testing.T, path, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(b)) {
		t.Errorf("GET %s: Content-Length %q for %d bytes", path, cl, len(b))
	}
	return resp, b
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// gzipCheck GETs tt.path with and without gzip and fails t unless the
// body is tt.body either way, compressed (Content-Encoding and Vary, and a
// Content-Length of the bytes sent) exactly when it has least bytes or more.
// It returns whether the body was compressed.
func (f *fixture) gzipCheck(t *testing.T, tt golden, least int) bool {
	t.Helper()
	resp, b := f.raw(t, tt.path, "gzip, deflate, br")
	big := len(tt.body) >= least
	body := string(b)
	if big {
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET %s (%d bytes): Content-Encoding %q", tt.path, len(tt.body), resp.Header.Get("Content-Encoding"))
			return false
		}
		body = gunzip(t, b)
	} else if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("GET %s (%d bytes): compressed", tt.path, len(tt.body))
	}
	if resp.StatusCode != tt.status || body != tt.body {
		t.Errorf("GET %s gzip = %d\n%s\nwant %d\n%s", tt.path, resp.StatusCode, body, tt.status, tt.body)
	}
	if got := resp.Header.Get("Vary") == "Accept-Encoding"; got != big {
		t.Errorf("GET %s (%d bytes): Vary %q", tt.path, len(tt.body), resp.Header.Get("Vary"))
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET %s: headers %v", tt.path, resp.Header)
	}

	resp, b = f.raw(t, tt.path, "")
	if resp.StatusCode != tt.status || resp.Header.Get("Content-Encoding") != "" || string(b) != tt.body {
		t.Errorf("GET %s identity = %d, Content-Encoding %q, body\n%s", tt.path, resp.StatusCode, resp.Header.Get("Content-Encoding"), b)
	}
	return big
}

// TestGzipGolden: with compression from the first byte, a client that
// accepts gzip gets every golden body compressed, and it decompresses to
// exactly the golden body; a client that does not gets the golden body.
func TestGzipGolden(t *testing.T) {
	f := newFixture(t, "", func(o *Options) { o.GzipMin = 1 })
	for _, tt := range goldenBodies() {
		f.gzipCheck(t, tt, 1)
	}
}

// TestGzip: by default only bodies of 1,400 bytes or more are compressed: the
// /lag, /status and detail of a group of 40 partitions, none of the golden
// bodies (the largest, grp's /lag, is 1,359 bytes).
func TestGzip(t *testing.T) {
	f := newFixture(t, "")
	for _, tt := range goldenBodies() {
		if f.gzipCheck(t, tt, defaultGzipMin) {
			t.Errorf("GET %s: a golden body was compressed", tt.path)
		}
	}
	// A wide group on a topic of 40 partitions, with names to escape, on a
	// server that compresses from 1,400 bytes.
	f = newFixture(t, "", func(o *Options) { o.GzipMin = 1400 })
	for p := range 40 {
		f.ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetBrokerOffset, Cluster: "local", Topic: "wide",
			Partition: int32(p), TopicPartitionCount: 40, Offset: int64(1000 + p*p), Timestamp: now.UnixMilli()}
		f.ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset, Cluster: "local", Group: "wide",
			Topic: "wide", Partition: int32(p), Offset: int64(900 + p), Order: 1, Timestamp: now.UnixMilli() - 1000}
		f.ch <- &protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOwner, Cluster: "local", Group: "wide",
			Topic: "wide", Partition: int32(p), Owner: fmt.Sprintf("/10.0.0.%d", p), ClientID: "<client & co>"}
	}
	for _, p := range []string{"/v3/kafka/local/consumer/wide/lag", "/v3/kafka/local/consumer/wide/status",
		"/v3/kafka/local/consumer/wide"} {
		_, b := f.raw(t, p, "")
		if !f.gzipCheck(t, golden{p, 200, string(b)}, 1400) {
			t.Errorf("GET %s: %d bytes not compressed", p, len(b))
		}
	}
}

// TestAcceptsGzip reads Accept-Encoding as RFC 9110 writes it: codings are
// case-insensitive, and a weight of zero refuses one.
func TestAcceptsGzip(t *testing.T) {
	for _, tt := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZip"}, true},
		{[]string{"deflate, gzip;q=0.5"}, true},
		{[]string{"br", " gzip ; q=1.0"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; Q=0.000"}, false},
		{[]string{"gzip;q=0.001"}, true},
		{[]string{"gzip;level=1;q=0."}, false},
		{[]string{"x-gzip"}, false},
		{[]string{"*"}, false},
		{[]string{"br, identity"}, false},
		{[]string{"gzipx, deflate"}, false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Accept-Encoding"] = tt.header
		if got := acceptsGzip(r); got != tt.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tt.header, got, tt.want)
		}
	}
}
