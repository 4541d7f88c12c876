package notifier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/tlsconf"
)

func init() { register(config.NotifierEmail, newEmail) }

// Bounds of one email send.
const (
	// emailTimeout bounds the dial, and then each stretch of the SMTP session
	// (greeting to AUTH, then MAIL to the end of DATA), as gomail's 10 s dial
	// timeout did in the original (notifier.md §7 item 4).
	emailTimeout = 10 * time.Second
	// emailSendTimeout bounds a whole send, whatever the server does: the
	// connection is closed when it passes.
	emailSendTimeout = 30 * time.Second
)

// errNoSubject is the failure of a rendered message that does not begin with
// "Subject: ".
var errNoSubject = errors.New("no subject line detected")

// email is class email (notifier.md §7): it renders the template, takes the
// subject, content type and MIME version from its header lines, and sends the
// rest as the body over one SMTP connection per message.
//
// The message is assembled with go-mail's Msg, whose model fits the spec:
// From, To and Subject headers, a Date, one MIME-Version header, and a single
// text part written as "Content-Type: <type>; charset=UTF-8" with
// quoted-printable encoding, the bytes gomail wrote in the original. The
// header lines are parsed from the rendered text here (parseEmail), since
// that parsing, semicolon removal included, is the compatible behaviour and
// no library does it. go-mail also writes a Message-ID, which gomail did not.
//
// The SMTP session is go-mail's Client, driven step by step
// (DialToSMTPClientWithContext, SendWithSMTPClient, then QUIT) rather than
// with DialAndSend, so that a failed QUIT after the server accepted the
// message does not turn a delivered notification into a retried one.
//
// email is safe for concurrent use: Send builds everything it uses per call
// and only reads the module's fields.
type email struct {
	log       *zap.Logger
	templates *Templates

	host        string
	port        int
	implicitTLS bool        // port 465: TLS from the first byte, else STARTTLS when offered
	tls         *tls.Config // roots, server name and noverify, for both modes
	auth        mail.SMTPAuthType
	username    string
	password    string
	from        string
	to          []string

	// dialTCP opens the TCP connection; tests point it at their listener.
	dialTCP func(ctx context.Context, network, addr string) (net.Conn, error)
	// timeout and sendTimeout are emailTimeout and emailSendTimeout; tests
	// shorten them.
	timeout     time.Duration
	sendTimeout time.Duration
}

// newEmail builds the email module from its checked configuration. It reads
// the extra-ca file and connects to nothing.
func newEmail(cfg config.Notifier, env Env) (Module, error) {
	key := func(k string) string { return "notifier." + cfg.Name + "." + k }
	m := &email{
		log:         env.Log,
		templates:   env.Templates,
		host:        cfg.Server,
		port:        cfg.Port,
		implicitTLS: cfg.Port == 465,
		username:    cfg.Username,
		password:    cfg.Password,
		from:        cfg.From,
		to:          strings.Split(cfg.To, ","),
		dialTCP:     (&net.Dialer{}).DialContext,
		timeout:     emailTimeout,
		sendTimeout: emailSendTimeout,
	}
	switch strings.ToLower(cfg.AuthType) {
	case "":
		m.auth = mail.SMTPAuthNoAuth
	case "plain":
		m.auth = mail.SMTPAuthPlain
	case "crammd5":
		m.auth = mail.SMTPAuthCramMD5
	default:
		return nil, fmt.Errorf("%s: unknown auth type %q", key("auth-type"), cfg.AuthType)
	}
	tc, err := tlsconf.Client(cfg.ExtraCA, cfg.NoVerify)
	if errors.Is(err, tlsconf.ErrNoCertificates) {
		env.Log.Warn("no certificate in extra CA file; using the system roots only", zap.String("file", cfg.ExtraCA))
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", key("extra-ca"), err)
	}
	tc.ServerName = cfg.Server
	m.tls = tc
	return m, nil
}

// Send renders the notification and delivers it (see Module). Template
// failures and a missing subject are permanent; see classifySMTP for the
// rest.
func (m *email) Send(ctx context.Context, kind Kind, n *Notification) error {
	text, err := m.templates.Render(kind, n)
	if err != nil {
		return err
	}
	parts, err := parseEmail(string(text))
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrTemplate, kind, err)
	}
	msg, err := m.message(parts)
	if err != nil {
		return err
	}
	if err := m.deliver(ctx, msg); err != nil {
		return classifySMTP(fmt.Errorf("email to %s: %w", net.JoinHostPort(m.host, strconv.Itoa(m.port)), err))
	}
	if ce := m.log.Check(zap.DebugLevel, "sent"); ce != nil {
		ce.Write(zap.String("kind", kind.String()), zap.String("cluster", n.Cluster), zap.String("group", n.Group))
	}
	return nil
}

// Close does nothing: each message has its own connection.
func (m *email) Close() error { return nil }

// emailParts are what a rendered email template gives.
type emailParts struct {
	subject     string
	contentType string // "text/plain" unless the template sets one
	mimeVersion string
	hasMIME     bool // a MIME-version line was found, even an empty one
	body        string
}

// Prefixes of the header lines of a rendered email template. They are matched
// with this exact case, as in the original.
const (
	subjectPrefix     = "Subject: "
	contentTypePrefix = "Content-Type: "
	mimeVersionPrefix = "MIME-version: "
)

// parseEmail splits a rendered template into headers and body
// (notifier.md §7 item 2). The text must begin with "Subject: ". Split on
// line feeds, the first Subject line gives the subject; every Content-Type
// line sets the content type (the last wins) and every MIME-version line the
// MIME version, both with their semicolons removed. These lines are dropped
// and each other line, plus a line feed, is the body: so a text ending in a
// line feed gives a body ending in two.
func parseEmail(text string) (emailParts, error) {
	if !strings.HasPrefix(text, subjectPrefix) {
		return emailParts{}, errNoSubject
	}
	p := emailParts{contentType: "text/plain"}
	var body strings.Builder
	body.Grow(len(text))
	haveSubject := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case !haveSubject && strings.HasPrefix(line, subjectPrefix):
			p.subject, haveSubject = headerValue(line, subjectPrefix), true
		case strings.HasPrefix(line, contentTypePrefix):
			p.contentType = strings.ReplaceAll(headerValue(line, contentTypePrefix), ";", "")
		case strings.HasPrefix(line, mimeVersionPrefix):
			p.mimeVersion, p.hasMIME = strings.ReplaceAll(headerValue(line, mimeVersionPrefix), ";", ""), true
		default:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	p.body = body.String()
	return p, nil
}

// headerValue is the text of line between prefix, which line starts with,
// and the next occurrence of prefix, or the end of the line.
func headerValue(line, prefix string) string {
	v := line[len(prefix):]
	if i := strings.Index(v, prefix); i >= 0 {
		v = v[:i]
	}
	return v
}

// message builds the message: From, To (the to key split on commas),
// Subject, Date, Message-ID, MIME-Version (1.0 unless the template set one),
// and one quoted-printable text part.
func (m *email) message(p emailParts) (*mail.Msg, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.From(m.from); err != nil {
		return nil, fmt.Errorf("from address %q: %w", m.from, err)
	}
	if err := msg.To(m.to...); err != nil {
		return nil, fmt.Errorf("to addresses %q: %w", strings.Join(m.to, ","), err)
	}
	msg.Subject(p.subject)
	if p.hasMIME {
		// One MIME-Version header with the template's value. (gomail kept its
		// own "Mime-Version: 1.0" beside the template's "MIME-version" line,
		// two headers for one field.)
		msg.SetMIMEVersion(mail.MIMEVersion(p.mimeVersion))
	}
	msg.SetBodyString(mail.ContentType(p.contentType), p.body)
	return msg, nil
}

// deliver sends msg over one new connection: implicit TLS on port 465, else
// STARTTLS when the server offers it (TLSOpportunistic), then AUTH as
// configured. The connection is closed when ctx is done or sendTimeout
// passes, which ends any read or write under way, so deliver always returns
// by then.
func (m *email) deliver(ctx context.Context, msg *mail.Msg) error {
	ctx, cancel := context.WithTimeout(ctx, m.sendTimeout)
	defer cancel()

	// conn and stopAbort are set by dial, which go-mail calls on this
	// goroutine, once; the AfterFunc closes only the conn it was given.
	var conn net.Conn
	stopAbort := func() bool { return false }
	defer func() {
		stopAbort()
		if conn != nil {
			_ = conn.Close() // go-mail does not close it when the session fails before QUIT
		}
	}()
	dial := func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		c, err := m.dialTCP(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		conn = c
		stopAbort = context.AfterFunc(ctx, func() { _ = c.Close() })
		if !m.implicitTLS {
			return c, nil
		}
		tc := tls.Client(c, m.tls)
		if err := tc.HandshakeContext(dialCtx); err != nil {
			return nil, err
		}
		return tc, nil // a *tls.Conn, so that the session knows it is encrypted
	}

	opts := []mail.Option{
		mail.WithPort(m.port),
		mail.WithTimeout(m.timeout),
		mail.WithTLSConfig(m.tls),
		mail.WithDialContextFunc(dial),
		mail.WithoutNoop(), // a NOOP right after EHLO tells nothing, and hides the reply code of a failure
	}
	if m.implicitTLS {
		opts = append(opts, mail.WithSSL()) // dial does the TLS; this stops go-mail trying STARTTLS too
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if m.auth != mail.SMTPAuthNoAuth {
		opts = append(opts, mail.WithSMTPAuth(m.auth), mail.WithUsername(m.username), mail.WithPassword(m.password))
	}
	client, err := mail.NewClient(m.host, opts...)
	if err != nil {
		return err
	}
	session, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	if err := client.SendWithSMTPClient(session, msg); err != nil {
		return err
	}
	_ = client.CloseWithSMTPClient(session) // QUIT; the server has the message already
	return nil
}

// classifySMTP marks err Transient when trying again later may succeed: an
// SMTP 4xx reply, or a connection that could not be made or was lost (no
// reply at all). 5xx replies, certificates that fail verification and
// everything else (a malformed address, an auth mechanism the server does not
// offer, PLAIN refused over a clear connection) are permanent.
func classifySMTP(err error) error {
	var reply *textproto.Error
	var sendErr *mail.SendError
	var certErr *tls.CertificateVerificationError
	var netErr net.Error
	switch {
	case errors.As(err, &reply):
		return transientIf(reply.Code/100 == 4, err)
	case errors.As(err, &sendErr):
		// go-mail keeps the reply in the message only; its code says the rest.
		if code := sendErr.ErrorCode(); code != 0 {
			return transientIf(code/100 == 4, err)
		}
		switch sendErr.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return err
		}
		return Transient(err) // the session broke off without a reply
	case errors.As(err, &certErr):
		return err // trying again will not make the certificate trusted
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, context.DeadlineExceeded):
		return Transient(err)
	}
	return err
}

func transientIf(ok bool, err error) error {
	if ok {
		return Transient(err)
	}
	return err
}
