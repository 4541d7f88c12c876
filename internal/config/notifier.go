package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cast"

	"github.com/warrenlag/warren/internal/notifier/builtin"
)

// The notifier classes. Email is configured here; its module lives in
// internal/notifier like the others.
const (
	NotifierHTTP  = "http"
	NotifierEmail = "email"
	NotifierNull  = "null"
	NotifierLog   = "log"
)

// NotifierTemplateFuncs are the names of the functions notification templates
// may call (notifier.md §5.3). The parser checks templates against these
// names; internal/notifier supplies the functions and tests that the two lists
// agree.
var NotifierTemplateFuncs = []string{"jsonencoder", "topicsbystatus", "partitioncounts",
	"add", "minus", "multiply", "divide", "maxlag", "formattimestamp"}

// Notifier is one [notifier.NAME] table (notifier.md §1), with Burrow's
// defaults applied (DefaultNotifier) and every value checked.
type Notifier struct {
	Name      string
	ClassName string

	// Common to every class.
	GroupAllowlist string
	GroupDenylist  string
	Interval       time.Duration
	SendInterval   time.Duration // Interval when not set
	Threshold      int
	SendOnce       bool
	SendClose      bool
	Extras         map[string]string // keys lower-cased
	// TemplateOpen and TemplateClose are the references as configured: a file
	// path or builtin:NAME. TemplateOpenText and TemplateCloseText are the
	// templates' source, read once by the parser; TemplateCloseText is read
	// only with SendClose.
	TemplateOpen      string
	TemplateClose     string
	TemplateOpenText  string
	TemplateCloseText string

	// Class http.
	URLOpen              string
	URLClose             string
	MethodOpen           string
	MethodClose          string // POST by default only with SendClose, else ""
	Timeout              time.Duration
	Keepalive            time.Duration
	DisableHTTPKeepalive bool
	Headers              map[string]string // names lower-cased
	Username             string
	Password             string

	// Classes http and email.
	ExtraCA  string
	NoVerify bool

	// Class email.
	Server   string
	Port     int
	From     string
	To       string
	AuthType string // "", "plain" or "crammd5", lower-cased

	// noverifyShown is noverify as written ("" when unset), which /v3/config
	// shows as a string.
	noverifyShown string
}

// DefaultNotifier returns a notifier table with Burrow's defaults: interval and
// send-interval 60 s, threshold 2, POST, timeout 5 s, keepalive 300 s, no
// extras or headers.
func DefaultNotifier(name, class string) Notifier {
	return Notifier{
		Name:         name,
		ClassName:    class,
		Interval:     60 * time.Second,
		SendInterval: 60 * time.Second,
		Threshold:    2,
		Extras:       map[string]string{},
		MethodOpen:   "POST",
		Timeout:      5 * time.Second,
		Keepalive:    300 * time.Second,
		Headers:      map[string]string{},
	}
}

// notifiers reads every [notifier.NAME] table, in name order. A table with an
// unknown class is reported and left out.
func (p *parser) notifiers() []Notifier {
	var out []Notifier
	for _, name := range p.names("notifier") {
		if n, ok := p.notifier(name); ok {
			out = append(out, n)
		}
	}
	return out
}

func (p *parser) notifier(name string) (Notifier, bool) {
	root := "notifier." + name
	key := func(k string) string { return root + "." + k }
	n := DefaultNotifier(name, p.str(key("class-name"), ""))
	switch n.ClassName {
	case NotifierHTTP, NotifierEmail, NotifierNull, NotifierLog:
	default:
		p.fail(key("class-name"), "unknown notifier className provided: %q (want http, email, null or log)", n.ClassName)
		return n, false
	}
	for _, old := range []string{"group-whitelist", "group-blacklist"} {
		if p.v.IsSet(key(old)) {
			p.fail(key(old), "please change configurations to allowlist and denylist")
		}
	}
	n.GroupAllowlist = p.regexp(key("group-allowlist"))
	n.GroupDenylist = p.regexp(key("group-denylist"))
	n.Interval = p.seconds(key("interval"), 60)
	n.SendInterval = p.seconds(key("send-interval"), int(n.Interval/time.Second))
	n.Threshold = p.integer(key("threshold"), 2)
	n.SendOnce = p.boolean(key("send-once"), false)
	n.SendClose = p.boolean(key("send-close"), false)
	n.Extras = p.stringMap(key("extras"))
	if n.Interval <= 0 {
		p.fail(key("interval"), "must be positive, got %d", int(n.Interval/time.Second))
	}
	if n.SendInterval < 0 {
		p.fail(key("send-interval"), "must not be negative, got %d", int(n.SendInterval/time.Second))
	}
	n.TemplateOpen = p.str(key("template-open"), "")
	n.TemplateOpenText = p.template(key("template-open"), "TemplateOpen", n.TemplateOpen)
	n.TemplateClose = p.str(key("template-close"), "")
	if n.SendClose {
		n.TemplateCloseText = p.template(key("template-close"), "TemplateClose", n.TemplateClose)
	}
	n.ExtraCA = p.str(key("extra-ca"), "")
	n.NoVerify = p.boolean(key("noverify"), false)
	if p.v.Get(key("noverify")) != nil {
		n.noverifyShown = p.str(key("noverify"), "")
	}
	n.Username = p.str(key("username"), "")
	n.Password = p.str(key("password"), "")
	switch n.ClassName {
	case NotifierHTTP:
		p.notifierHTTP(key, &n)
	case NotifierEmail:
		p.notifierEmail(key, &n)
	}
	return n, true
}

func (p *parser) notifierHTTP(key func(string) string, n *Notifier) {
	n.URLOpen = p.str(key("url-open"), "")
	n.URLClose = p.str(key("url-close"), "")
	n.MethodOpen = p.str(key("method-open"), "POST")
	if n.SendClose {
		n.MethodClose = p.str(key("method-close"), "POST")
	} else {
		n.MethodClose = p.str(key("method-close"), "")
	}
	n.Timeout = p.seconds(key("timeout"), 5)
	n.Keepalive = p.seconds(key("keepalive"), 300)
	n.DisableHTTPKeepalive = p.boolean(key("disable-http-keepalive"), false)
	n.Headers = p.stringMap(key("headers"))
	if n.URLOpen == "" {
		p.fail(key("url-open"), "no url-open specified")
	} else {
		p.urlTemplate(key("url-open"), n.URLOpen)
	}
	if n.SendClose {
		if n.URLClose == "" {
			p.fail(key("url-close"), "no url-close specified")
		} else {
			p.urlTemplate(key("url-close"), n.URLClose)
		}
	}
	if n.Timeout <= 0 {
		p.fail(key("timeout"), "must be positive, got %d", int(n.Timeout/time.Second))
	}
	if n.Keepalive < 0 {
		p.fail(key("keepalive"), "must not be negative, got %d", int(n.Keepalive/time.Second))
	}
	p.extraCA(key("extra-ca"), n)
}

func (p *parser) notifierEmail(key func(string) string, n *Notifier) {
	n.Server = p.str(key("server"), "")
	n.Port = p.integer(key("port"), 0)
	n.From = p.str(key("from"), "")
	n.To = p.str(key("to"), "")
	n.AuthType = strings.ToLower(p.str(key("auth-type"), ""))
	hostPort := net.JoinHostPort(n.Server, strconv.Itoa(n.Port))
	switch {
	case n.Server == "":
		p.fail(key("server"), "bad server or port: no server specified")
	case n.Port < 1 || n.Port > 65535:
		p.fail(key("port"), "bad server or port: port must be 1 to 65535, got %d", n.Port)
	default:
		if err := checkHostPort(hostPort, false); err != nil {
			p.fail(key("server"), "bad server or port: %v", err)
		}
	}
	// An address the SMTP client cannot parse would fail every send; say so
	// at start. to is split on commas and not trimmed, as when sending.
	if n.From == "" {
		p.fail(key("from"), "missing from address")
	} else if _, err := mail.ParseAddress(n.From); err != nil {
		p.fail(key("from"), "bad from address %q: %v", n.From, err)
	}
	if n.To == "" {
		p.fail(key("to"), "missing to address")
	} else {
		for _, addr := range strings.Split(n.To, ",") {
			if _, err := mail.ParseAddress(addr); err != nil {
				p.fail(key("to"), "bad to address %q: %v", addr, err)
			}
		}
	}
	switch n.AuthType {
	case "", "plain", "crammd5":
	default:
		p.fail(key("auth-type"), "unknown auth type %q (want plain, crammd5 or none)", n.AuthType)
	}
	p.extraCA(key("extra-ca"), n)
}

// extraCA checks that the extra CA file can be read; it is ignored (and not
// read) with noverify.
func (p *parser) extraCA(key string, n *Notifier) {
	if n.ExtraCA == "" || n.NoVerify {
		return
	}
	if _, err := os.ReadFile(n.ExtraCA); err != nil {
		p.fail(key, "cannot read extra CA file: %v", err)
	}
}

// stringMap reads a table of strings (extras, headers); viper has already
// lower-cased its keys.
func (p *parser) stringMap(key string) map[string]string {
	raw := p.v.Get(key)
	if raw == nil {
		return map[string]string{}
	}
	m, err := cast.ToStringMapStringE(raw)
	if err != nil {
		p.fail(key, "not a table of strings: %v", raw)
		return map[string]string{}
	}
	return m
}

// template reads and checks the template that ref names (a file or a built-in
// template) and returns its text. what is Burrow's name for the key.
func (p *parser) template(key, what, ref string) string {
	text, err := ReadTemplate(ref)
	if err == nil {
		err = CheckTemplate(text)
	}
	if err != nil {
		p.fail(key, "Failed to compile %s: %v", what, err)
		return ""
	}
	return text
}

func (p *parser) urlTemplate(key, text string) {
	if err := CheckTemplate(text); err != nil {
		p.fail(key, "invalid URL template: %v", err)
	}
}

// ReadTemplate returns the text of the template ref names: a built-in
// template when ref starts with "builtin:", else the file at path ref.
func ReadTemplate(ref string) (string, error) {
	if ref == "" {
		return "", errors.New("no template file given")
	}
	if text, ok, err := builtin.Lookup(ref); ok {
		return text, err
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// CheckTemplate parses text as a notification template would be parsed, with
// functions of the names in NotifierTemplateFuncs.
func CheckTemplate(text string) error {
	funcs := make(template.FuncMap, len(NotifierTemplateFuncs))
	for _, name := range NotifierTemplateFuncs {
		funcs[name] = func(...any) any { return nil }
	}
	_, err := template.New("notifier").Funcs(funcs).Parse(text)
	return err
}

// Shown returns the notifier as /v3/config/notifier/{name} shows it (http.md
// §5.9): the members of its class, in Burrow's order, without passwords.
// Classes null and log share one shape.
func (n Notifier) Shown() any {
	extra := make(map[string]string, len(n.Extras))
	for k, v := range n.Extras {
		extra[k] = v
	}
	secs := func(d time.Duration) int { return int(d / time.Second) }
	switch n.ClassName {
	case NotifierHTTP:
		return notifierHTTPShown{ClassName: n.ClassName, GroupAllowlist: n.GroupAllowlist, Interval: secs(n.Interval),
			Threshold: n.Threshold, Timeout: secs(n.Timeout), Keepalive: secs(n.Keepalive), URLOpen: n.URLOpen,
			URLClose: n.URLClose, MethodOpen: n.MethodOpen, MethodClose: n.MethodClose, TemplateOpen: n.TemplateOpen,
			TemplateClose: n.TemplateClose, Extra: extra, SendClose: n.SendClose, ExtraCA: n.ExtraCA, NoVerify: n.noverifyShown}
	case NotifierEmail:
		return notifierEmailShown{ClassName: n.ClassName, GroupAllowlist: n.GroupAllowlist, Interval: secs(n.Interval),
			Threshold: n.Threshold, TemplateOpen: n.TemplateOpen, TemplateClose: n.TemplateClose, Extra: extra,
			SendClose: n.SendClose, Server: n.Server, Port: n.Port, AuthType: n.AuthType, Username: n.Username,
			From: n.From, To: n.To, ExtraCA: n.ExtraCA, NoVerify: n.noverifyShown}
	}
	return notifierNullShown{ClassName: n.ClassName, GroupAllowlist: n.GroupAllowlist, Interval: secs(n.Interval),
		Threshold: n.Threshold, TemplateOpen: n.TemplateOpen, TemplateClose: n.TemplateClose, Extra: extra,
		SendClose: n.SendClose}
}

// String names the notifier for log lines and errors.
func (n Notifier) String() string { return fmt.Sprintf("notifier.%s (%s)", n.Name, n.ClassName) }

type notifierHTTPShown struct {
	ClassName      string            `json:"class-name"`
	GroupAllowlist string            `json:"group-allowlist"`
	Interval       int               `json:"interval"`
	Threshold      int               `json:"threshold"`
	Timeout        int               `json:"timeout"`
	Keepalive      int               `json:"keepalive"`
	URLOpen        string            `json:"url-open"`
	URLClose       string            `json:"url-close"`
	MethodOpen     string            `json:"method-open"`
	MethodClose    string            `json:"method-close"`
	TemplateOpen   string            `json:"template-open"`
	TemplateClose  string            `json:"template-close"`
	Extra          map[string]string `json:"extra"`
	SendClose      bool              `json:"send-close"`
	ExtraCA        string            `json:"extra-ca"`
	NoVerify       string            `json:"noverify"`
}

type notifierEmailShown struct {
	ClassName      string            `json:"class-name"`
	GroupAllowlist string            `json:"group-allowlist"`
	Interval       int               `json:"interval"`
	Threshold      int               `json:"threshold"`
	TemplateOpen   string            `json:"template-open"`
	TemplateClose  string            `json:"template-close"`
	Extra          map[string]string `json:"extra"`
	SendClose      bool              `json:"send-close"`
	Server         string            `json:"server"`
	Port           int               `json:"port"`
	AuthType       string            `json:"auth-type"`
	Username       string            `json:"username"`
	From           string            `json:"from"`
	To             string            `json:"to"`
	ExtraCA        string            `json:"extra-ca"`
	NoVerify       string            `json:"noverify"`
}

type notifierNullShown struct {
	ClassName      string            `json:"class-name"`
	GroupAllowlist string            `json:"group-allowlist"`
	Interval       int               `json:"interval"`
	Threshold      int               `json:"threshold"`
	TemplateOpen   string            `json:"template-open"`
	TemplateClose  string            `json:"template-close"`
	Extra          map[string]string `json:"extra"`
	SendClose      bool              `json:"send-close"`
}
