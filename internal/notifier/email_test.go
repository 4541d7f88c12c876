package notifier

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // CRAM-MD5 is what is tested
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
)

// received is one message as the test server took it.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool   // the session was encrypted when MAIL came
	mech string // the AUTH mechanism, "" without AUTH
	user string
}

// smtpStub is a real SMTP server (go-smtp) in the test process. It records
// every message it accepts and can be told to refuse or to drop the
// connection.
type smtpStub struct {
	addr     string
	msgs     chan received
	sessions atomic.Int32
}

// stubOpts say how the stub behaves.
type stubOpts struct {
	tls      *tls.Config // offered with STARTTLS, or from the first byte with implicit
	implicit bool
	user     string // AUTH PLAIN and CRAM-MD5 offered when set
	pass     string
	// reject answers the command ("mail", "rcpt" or "data") with the error.
	reject map[string]*smtp.SMTPError
	// authBusy answers AUTH with 454, a temporary failure.
	authBusy bool
	// dropInData closes the connection after reading a few bytes of DATA.
	dropInData bool
}

func startStub(t *testing.T, o stubOpts) *smtpStub {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := &smtpStub{addr: ln.Addr().String(), msgs: make(chan received, 4)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		st.sessions.Add(1)
		return &stubSession{stub: st, opts: o, conn: c}, nil
	}))
	srv.Domain = "stub.test"
	srv.AllowInsecureAuth = true
	if o.implicit {
		ln = tls.NewListener(ln, o.tls)
	} else {
		srv.TLSConfig = o.tls
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return st
}

// message returns the message the stub accepted, failing the test when there
// is none: Send returns only after the stub answered the end of DATA, which it
// does after recording the message.
func (st *smtpStub) message(t *testing.T) received {
	t.Helper()
	select {
	case r := <-st.msgs:
		return r
	default:
		t.Fatal("the server accepted no message")
		return received{}
	}
}

func (st *smtpStub) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-st.msgs:
		t.Fatalf("the server accepted a message: %+v", r)
	default:
	}
}

type stubSession struct {
	stub *smtpStub
	opts stubOpts
	conn *smtp.Conn
	cur  received
}

func (s *stubSession) AuthMechanisms() []string {
	if s.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain, "CRAM-MD5"}
}

func (s *stubSession) Auth(mech string) (sasl.Server, error) {
	if s.opts.authBusy {
		return busyAuth{}, nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error {
			if user != s.opts.user || pass != s.opts.pass {
				return smtp.ErrAuthFailed
			}
			s.cur.mech, s.cur.user = mech, user
			return nil
		}), nil
	case "CRAM-MD5":
		return &cramMD5Server{user: s.opts.user, pass: s.opts.pass, ok: func(user string) { s.cur.mech, s.cur.user = mech, user }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *stubSession) Mail(from string, _ *smtp.MailOptions) error {
	if e := s.opts.reject["mail"]; e != nil {
		return e
	}
	_, s.cur.tls = s.conn.TLSConnectionState()
	s.cur.from = from
	return nil
}

func (s *stubSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := s.opts.reject["rcpt"]; e != nil {
		return e
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *stubSession) Data(r io.Reader) error {
	if s.opts.dropInData {
		_, _ = io.ReadFull(r, make([]byte, 8))
		_ = s.conn.Conn().Close()
		return errors.New("dropped")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if e := s.opts.reject["data"]; e != nil {
		return e
	}
	s.cur.data = data
	s.stub.msgs <- s.cur
	return nil
}

func (s *stubSession) Reset()        { s.cur = received{mech: s.cur.mech, user: s.cur.user} }
func (s *stubSession) Logout() error { return nil }

type busyAuth struct{}

func (busyAuth) Next([]byte) ([]byte, bool, error) {
	return nil, false, &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "try again later"}
}

// cramMD5Server is the server side of CRAM-MD5 (RFC 2195), which go-sasl
// does not have: a challenge, then "user hex(HMAC-MD5(pass, challenge))".
type cramMD5Server struct {
	user, pass string
	ok         func(user string)
	challenge  []byte
}

func (c *cramMD5Server) Next(response []byte) ([]byte, bool, error) {
	if c.challenge == nil {
		c.challenge = []byte("<1896.697170952@stub.test>")
		return c.challenge, false, nil
	}
	user, digest, found := strings.Cut(string(response), " ")
	mac := hmac.New(md5.New, []byte(c.pass))
	mac.Write(c.challenge)
	if !found || user != c.user || digest != hex.EncodeToString(mac.Sum(nil)) {
		return nil, false, smtp.ErrAuthFailed
	}
	c.ok(user)
	return nil, true, nil
}

// selfSigned makes a self-signed certificate for 127.0.0.1 and mail.test,
// and writes it as PEM to a file for extra-ca.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "warren test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"mail.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, path
}

// emailConfig is an email table sending to addr with the open template text.
func emailConfig(t *testing.T, addr, text string) config.Notifier {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.DefaultNotifier("mail", config.NotifierEmail)
	cfg.TemplateOpenText = text
	cfg.Server = host
	cfg.Port, _ = strconv.Atoi(port)
	cfg.From = "burrow@example.com"
	cfg.To = "a@example.com,b@example.com"
	return cfg
}

func newTestEmail(t *testing.T, cfg config.Notifier) *email {
	t.Helper()
	tmpls, err := parseTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := classes[config.NotifierEmail](cfg, Env{Log: zap.NewNop(), Templates: tmpls})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*email)
}

// sendBounded calls Send and fails the test if it has not returned within
// limit: a guard against a hang, not a wait.
func sendBounded(t *testing.T, ctx context.Context, m *email, limit time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- m.Send(ctx, Open, n8()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("Send did not return within %v", limit)
		return nil
	}
}

// parsed is a received message read back: its headers and decoded body.
func parsed(t *testing.T, r received) (*mail.Message, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(r.data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, r.data)
	}
	if cte := msg.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding %q", cte)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return msg, strings.ReplaceAll(string(body), "\r\n", "\n")
}

// n8Email renders, for example N8, what the spec says Burrow's
// default-email.tmpl renders (our wording of its fixed sentence).
const n8Email = `Subject: [Burrow] Kafka Consumer Lag Alert

A Kafka consumer group is in trouble; its state follows.

Cluster:  {{.Cluster}}
Group:    {{.Group}}
Status:   {{.Result.Status}}
Complete: {{.Result.Complete}}
Errors:   {{len .Result.Partitions}} partitions have problems
{{range .Result.Partitions}}          {{.Status}} {{.Topic}}:{{.Partition}} ({{.Start.Timestamp}}, {{.Start.Offset}}, {{.Start.Lag}}) -> ({{.End.Timestamp}}, {{.End.Offset}}, {{.End.Lag}})
{{end}}
`

// TestEmailMessage sends examples N8 and N9, and a MIME-version line, to a
// plain server and checks the message as received.
func TestEmailMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		subject    string
		rawCT      string // the Content-Type line as written
		mime       string
		body       string
	}{
		{"N8", n8Email, "[Burrow] Kafka Consumer Lag Alert", "Content-Type: text/plain; charset=UTF-8\r\n", "1.0",
			"\nA Kafka consumer group is in trouble; its state follows.\n\nCluster:  prod\nGroup:    billing\nStatus:   ERR\n" +
				"Complete: 1\nErrors:   1 partitions have problems\n" +
				"          STOP orders:3 (1700000000000, 1000, {50}) -> (1700000040000, 1400, {120})\n\n\n"},
		{"N9", "Subject: lag on {{.Group}}\n\nContent-Type: text/html; charset=utf-8\n<p>x</p>\n", "lag on billing",
			"Content-Type: text/html charset=utf-8; charset=UTF-8\r\n", "1.0", "\n<p>x</p>\n\n"},
		{"MIME-version", "Subject: v\nMIME-version: 1.0;\nContent-Type: text/html\nbody", "v",
			"Content-Type: text/html; charset=UTF-8\r\n", "1.0", "body\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := startStub(t, stubOpts{})
			m := newTestEmail(t, emailConfig(t, st.addr, tc.text))
			if err := sendBounded(t, context.Background(), m, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			r := st.message(t)
			if r.from != "burrow@example.com" || strings.Join(r.to, " ") != "a@example.com b@example.com" || r.tls || r.mech != "" {
				t.Errorf("envelope %q %q, tls %v, auth %q", r.from, r.to, r.tls, r.mech)
			}
			msg, body := parsed(t, r)
			h := msg.Header
			if h.Get("Subject") != tc.subject || h.Get("MIME-Version") != tc.mime || h.Get("Date") == "" ||
				h.Get("From") != "<burrow@example.com>" || h.Get("To") != "<a@example.com>, <b@example.com>" {
				t.Errorf("headers %q", h)
			}
			if len(h["Mime-Version"]) != 1 {
				t.Errorf("MIME-Version headers %q", h["Mime-Version"])
			}
			if !bytes.Contains(r.data, []byte("\r\n"+tc.rawCT)) {
				t.Errorf("no %q in\n%s", tc.rawCT, r.data)
			}
			if body != tc.body {
				t.Errorf("body\n got %q\nwant %q", body, tc.body)
			}
		})
	}
}

// TestEmailNoSend: a message that cannot be built is a permanent failure, and
// no connection is made.
func TestEmailNoSend(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       error
	}{
		{"N9 with an empty first line", "\nSubject: lag on {{.Group}}\n\n<p>x</p>\n", errNoSubject},
		{"lower-case subject", "subject: x\n", errNoSubject},
		{"run-time template error", "Subject: x\n{{divide 1 0}}\n", ErrTemplate},
		{"no such field", "Subject: x\n{{.Nosuch}}\n", ErrTemplate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := startStub(t, stubOpts{})
			m := newTestEmail(t, emailConfig(t, st.addr, tc.text))
			err := sendBounded(t, context.Background(), m, 10*time.Second)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrTemplate) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if _, ok := IsTransient(err); ok {
				t.Errorf("%v is transient", err)
			}
			if n := st.sessions.Load(); n != 0 {
				t.Errorf("%d connections", n)
			}
		})
	}
}

func TestParseEmail(t *testing.T) {
	for _, tc := range []struct {
		text string
		want emailParts
	}{
		{"Subject: a\nb", emailParts{subject: "a", contentType: "text/plain", body: "b\n"}},
		{"Subject: a\nSubject: b\n", emailParts{subject: "a", contentType: "text/plain", body: "Subject: b\n\n"}},
		// A value stops at the next occurrence of its own prefix.
		{"Subject: aSubject: b\n", emailParts{subject: "a", contentType: "text/plain", body: "\n"}},
		// Content-Type anywhere, last wins, semicolons gone; Subject's kept.
		{"Subject: a;b\nContent-Type: text/html;\nx\nContent-Type: text/x; a=b; c=d\n",
			emailParts{subject: "a;b", contentType: "text/x a=b c=d", body: "x\n\n"}},
		{"Subject: a\nMIME-version: 1.0;\nMime-Version: 2\ncontent-type: x\n",
			emailParts{subject: "a", contentType: "text/plain", mimeVersion: "1.0", hasMIME: true, body: "Mime-Version: 2\ncontent-type: x\n\n"}},
		{"Subject: \r\n", emailParts{subject: "\r", contentType: "text/plain", body: "\n"}},
	} {
		got, err := parseEmail(tc.text)
		if err != nil || got != tc.want {
			t.Errorf("%q\n got %+v, %v\nwant %+v", tc.text, got, err, tc.want)
		}
	}
	for _, text := range []string{"", " Subject: a", "\nSubject: a", "Subject:a", "SUBJECT: a"} {
		if _, err := parseEmail(text); !errors.Is(err, errNoSubject) {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// TestEmailTLS: STARTTLS when the server offers it, verified against
// extra-ca; refused, permanently, when the certificate is not trusted; and
// implicit TLS when the port is 465, with AUTH PLAIN allowed because the
// connection is encrypted.
func TestEmailTLS(t *testing.T) {
	t.Parallel()
	serverTLS, caFile := selfSigned(t)

	for _, tc := range []struct {
		name     string
		extraCA  string
		noverify bool
		trusted  bool
	}{
		{"STARTTLS with extra-ca", caFile, false, true},
		{"STARTTLS untrusted", "", false, false},
		{"STARTTLS noverify", "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := startStub(t, stubOpts{tls: serverTLS})
			cfg := emailConfig(t, st.addr, "Subject: s\nb\n")
			cfg.ExtraCA, cfg.NoVerify = tc.extraCA, tc.noverify
			err := sendBounded(t, context.Background(), newTestEmail(t, cfg), 10*time.Second)
			if !tc.trusted {
				var certErr *tls.CertificateVerificationError
				if !errors.As(err, &certErr) {
					t.Fatalf("got %v, want a certificate error", err)
				}
				if _, ok := IsTransient(err); ok {
					t.Errorf("%v is transient", err)
				}
				st.none(t)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := st.message(t); !r.tls {
				t.Error("sent in clear")
			}
		})
	}
	t.Run("implicit on 465", func(t *testing.T) {
		t.Parallel()
		st := startStub(t, stubOpts{tls: serverTLS, implicit: true, user: "u", pass: "p"})
		cfg := emailConfig(t, "mail.test:465", "Subject: s\nb\n")
		cfg.ExtraCA, cfg.AuthType, cfg.Username, cfg.Password = caFile, "plain", "u", "p"
		m := newTestEmail(t, cfg)
		if !m.implicitTLS {
			t.Fatal("port 465 is not implicit TLS")
		}
		var dialed string
		m.dialTCP = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = addr
			return (&net.Dialer{}).DialContext(ctx, network, st.addr)
		}
		if err := sendBounded(t, context.Background(), m, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if r := st.message(t); !r.tls || r.mech != sasl.Plain || r.user != "u" || dialed != "mail.test:465" {
			t.Errorf("tls %v, auth %q %q, dialed %q", r.tls, r.mech, r.user, dialed)
		}
	})
	t.Run("STARTTLS is not implicit", func(t *testing.T) {
		t.Parallel()
		cfg := emailConfig(t, "mail.test:587", "Subject: s\n")
		if newTestEmail(t, cfg).implicitTLS {
			t.Error("port 587 is implicit TLS")
		}
	})
}

// TestEmailAuth: AUTH PLAIN and CRAM-MD5 with the credentials the server
// checks; wrong credentials are a permanent failure; PLAIN is not sent in
// clear to a host other than localhost.
func TestEmailAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, authType, host, pass string
		mech                       string // "" when the send fails
	}{
		{"plain", "plain", "", "secret", sasl.Plain},
		{"crammd5", "crammd5", "", "secret", "CRAM-MD5"},
		{"plain wrong password", "plain", "", "wrong", ""},
		{"crammd5 wrong password", "crammd5", "", "wrong", ""},
		{"plain in clear to a remote host", "plain", "mail.test", "secret", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := startStub(t, stubOpts{user: "alice", pass: "secret"})
			addr := st.addr
			if tc.host != "" {
				addr = net.JoinHostPort(tc.host, "25")
			}
			cfg := emailConfig(t, addr, "Subject: s\nb\n")
			cfg.AuthType, cfg.Username, cfg.Password = tc.authType, "alice", tc.pass
			m := newTestEmail(t, cfg)
			m.dialTCP = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, st.addr)
			}
			err := sendBounded(t, context.Background(), m, 10*time.Second)
			if tc.mech == "" {
				if err == nil {
					t.Fatal("sent")
				}
				if _, ok := IsTransient(err); ok {
					t.Errorf("%v is transient", err)
				}
				st.none(t)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := st.message(t); r.mech != tc.mech || r.user != "alice" {
				t.Errorf("auth %q %q", r.mech, r.user)
			}
		})
	}
}

// TestEmailFailures: SMTP 4xx replies and lost connections are transient,
// 5xx replies permanent; a server that drops the connection in DATA, stops
// answering, or is left by a cancelled context, never holds Send.
func TestEmailFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		opts      stubOpts
		transient bool
	}{
		{"MAIL 451", stubOpts{reject: map[string]*smtp.SMTPError{"mail": {Code: 451, Message: "try later"}}}, true},
		{"MAIL 550", stubOpts{reject: map[string]*smtp.SMTPError{"mail": {Code: 550, Message: "no"}}}, false},
		{"RCPT 450", stubOpts{reject: map[string]*smtp.SMTPError{"rcpt": {Code: 450, Message: "busy"}}}, true},
		{"RCPT 550", stubOpts{reject: map[string]*smtp.SMTPError{"rcpt": {Code: 550, Message: "no such user"}}}, false},
		{"DATA 452", stubOpts{reject: map[string]*smtp.SMTPError{"data": {Code: 452, Message: "full"}}}, true},
		{"DATA 554", stubOpts{reject: map[string]*smtp.SMTPError{"data": {Code: 554, Message: "spam"}}}, false},
		{"dropped in DATA", stubOpts{dropInData: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := startStub(t, tc.opts)
			err := sendBounded(t, context.Background(), newTestEmail(t, emailConfig(t, st.addr, "Subject: s\nb\n")), 10*time.Second)
			if err == nil {
				t.Fatal("sent")
			}
			if _, ok := IsTransient(err); ok != tc.transient {
				t.Errorf("%v: transient %v, want %v", err, ok, tc.transient)
			}
			st.none(t)
		})
	}
	t.Run("AUTH 454", func(t *testing.T) {
		t.Parallel()
		st := startStub(t, stubOpts{user: "alice", pass: "secret", authBusy: true})
		cfg := emailConfig(t, st.addr, "Subject: s\n")
		cfg.AuthType, cfg.Username, cfg.Password = "crammd5", "alice", "secret"
		err := sendBounded(t, context.Background(), newTestEmail(t, cfg), 10*time.Second)
		if _, ok := IsTransient(err); !ok || !strings.Contains(err.Error(), "454") {
			t.Errorf("got %v, want a transient 454", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		err = sendBounded(t, context.Background(), newTestEmail(t, emailConfig(t, addr, "Subject: s\n")), 10*time.Second)
		if _, ok := IsTransient(err); !ok {
			t.Errorf("got %v, want transient", err)
		}
	})
	t.Run("silent server", func(t *testing.T) {
		t.Parallel()
		addr, _ := silentServer(t)
		m := newTestEmail(t, emailConfig(t, addr, "Subject: s\n"))
		m.timeout = 100 * time.Millisecond
		err := sendBounded(t, context.Background(), m, 10*time.Second)
		if _, ok := IsTransient(err); !ok {
			t.Errorf("got %v, want transient", err)
		}
	})
	t.Run("whole send bounded", func(t *testing.T) {
		t.Parallel()
		addr, _ := silentServer(t)
		m := newTestEmail(t, emailConfig(t, addr, "Subject: s\n"))
		m.sendTimeout = 100 * time.Millisecond // shorter than the per-step timeout (10 s)
		if err := sendBounded(t, context.Background(), m, 5*time.Second); err == nil {
			t.Error("sent")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		addr, helloed := silentServer(t)
		m := newTestEmail(t, emailConfig(t, addr, "Subject: s\n"))
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-helloed
			cancel()
		}()
		if err := sendBounded(t, ctx, m, 5*time.Second); err == nil {
			t.Error("sent")
		}
		cancel()
	})
}

// silentServer greets, then reads and never answers. helloed is closed when
// the first command arrives.
func silentServer(t *testing.T) (addr string, helloed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	ch := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = fmt.Fprint(c, "220 silent.test ESMTP\r\n")
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err == nil {
			close(ch)
		}
		_, _ = io.Copy(io.Discard, c) // until the client gives up
	}()
	return ln.Addr().String(), ch
}
