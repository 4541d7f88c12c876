package notifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/tlsconf"
)

func init() { register(config.NotifierHTTP, newHTTP) }

// maxDiscard bounds how much of a reply body is read (and discarded) so that
// its connection can be reused.
const maxDiscard = 64 << 10

// httpModule is class http (notifier.md §6): a request whose URL and body are
// templates, to a receiver that answers 2xx when it accepts it.
type httpModule struct {
	cfg       config.Notifier
	log       *zap.Logger
	templates *Templates
	urlOpen   *template.Template
	urlClose  *template.Template // nil without send-close
	client    *http.Client
	transport *http.Transport
}

func newHTTP(cfg config.Notifier, env Env) (Module, error) {
	m := &httpModule{cfg: cfg, log: env.Log, templates: env.Templates}
	var err error
	if m.urlOpen, err = ParseTemplate(cfg.URLOpen); err != nil || cfg.URLOpen == "" {
		return nil, fmt.Errorf("url-open: invalid URL template %q: %v", cfg.URLOpen, err)
	}
	if cfg.SendClose {
		if m.urlClose, err = ParseTemplate(cfg.URLClose); err != nil || cfg.URLClose == "" {
			return nil, fmt.Errorf("url-close: invalid URL template %q: %v", cfg.URLClose, err)
		}
	}
	tlsConfig, err := tlsconf.Client(cfg.ExtraCA, cfg.NoVerify)
	if errors.Is(err, tlsconf.ErrNoCertificates) {
		env.Log.Warn("extra-ca holds no certificate; using the system roots", zap.Error(err))
	} else if err != nil {
		return nil, fmt.Errorf("extra-ca: %w", err)
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: cfg.Keepalive}
	m.transport = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: cfg.Timeout,
		DisableKeepAlives:   cfg.DisableHTTPKeepalive,
		MaxIdleConnsPerHost: MaxInFlight,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	m.client = &http.Client{Transport: m.transport, Timeout: cfg.Timeout}
	return m, nil
}

// Send renders the URL and body and makes one request. Failures to connect,
// timeouts, 429 and 5xx are transient; Retry-After is passed on.
func (m *httpModule) Send(ctx context.Context, kind Kind, n *Notification) error {
	body, err := m.templates.Render(kind, n)
	if err != nil {
		return err
	}
	urlTmpl, method := m.urlOpen, m.cfg.MethodOpen
	if kind == Close {
		urlTmpl, method = m.urlClose, m.cfg.MethodClose
	}
	rawURL, err := Execute(urlTmpl, "url-"+kind.String(), n)
	if err != nil {
		return err
	}
	u, err := url.Parse(string(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("bad URL %q: not an http or https URL (%v)", rawURL, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cannot build the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for name, value := range m.cfg.Headers {
		req.Header.Set(name, value)
	}
	if m.cfg.Username != "" {
		req.SetBasicAuth(m.cfg.Username, m.cfg.Password)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return Transient(fmt.Errorf("%s %s: %w", method, redact(u), err))
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDiscard))
	resp.Body.Close()
	if err != nil { // the timeout covers the reply's body too
		return Transient(fmt.Errorf("%s %s: reading the reply (%s): %w", method, redact(u), resp.Status, err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if ce := m.log.Check(zap.DebugLevel, "sent"); ce != nil {
			ce.Write(zap.String("kind", kind.String()), zap.String("cluster", n.Cluster), zap.String("group", n.Group),
				zap.Int("code", resp.StatusCode))
		}
		return nil
	}
	err = fmt.Errorf("%s %s: receiver answered %s", method, redact(u), resp.Status)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return TransientAfter(err, retryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	return err
}

// Close closes the idle connections.
func (m *httpModule) Close() error {
	m.transport.CloseIdleConnections()
	return nil
}

// redact drops the user information and query of a URL for log lines, since
// either may hold a secret (Slack and Teams webhooks hold theirs in the path,
// which is kept: it is how the operator tells receivers apart).
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		c.RawQuery = "…"
	}
	return c.String()
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date. It
// returns 0 when there is none or it cannot be read.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
