package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func parseString(t *testing.T, body string) (*Config, error) {
	t.Helper()
	v, err := Read(write(t, t.TempDir(), "burrow.toml", body))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(v)
}

func TestNotifierDefaults(t *testing.T) {
	dir := t.TempDir()
	open := write(t, dir, "open.tmpl", `{{.ID}} {{jsonencoder .Result}}`)
	c, err := parseString(t, `
[notifier.Web]
class-name = "http"
url-open = "http://x/open?id={{.ID}}"
template-open = "`+open+`"
[notifier.Web.extras]
App = "burrow"
[notifier.Web.headers]
X-Api-Key = "k"
[notifier.quiet]
class-name = "null"
template-open = "builtin:event-open"
interval = "30"
send-close = true
template-close = "builtin:event-close"
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notifiers) != 2 {
		t.Fatalf("notifiers %+v", c.Notifiers)
	}
	q, w := c.Notifiers[0], c.Notifiers[1]
	if w.Name != "web" || w.Interval != time.Minute || w.SendInterval != time.Minute || w.Threshold != 2 ||
		w.MethodOpen != "POST" || w.MethodClose != "" || w.Timeout != 5*time.Second || w.Keepalive != 300*time.Second ||
		w.Extras["app"] != "burrow" || w.Headers["x-api-key"] != "k" || w.TemplateOpenText != `{{.ID}} {{jsonencoder .Result}}` {
		t.Errorf("web %+v", w)
	}
	if q.Name != "quiet" || q.Interval != 30*time.Second || q.SendInterval != 30*time.Second || !q.SendClose ||
		!strings.Contains(q.TemplateOpenText, `"event":"open"`) || !strings.Contains(q.TemplateCloseText, `"event":"close"`) {
		t.Errorf("quiet %+v", q)
	}
	b, _ := json.Marshal(w.Shown())
	want := `{"class-name":"http","group-allowlist":"","interval":60,"threshold":2,"timeout":5,"keepalive":300,` +
		`"url-open":"http://x/open?id={{.ID}}","url-close":"","method-open":"POST","method-close":"","template-open":"` + open +
		`","template-close":"","extra":{"app":"burrow"},"send-close":false,"extra-ca":"","noverify":""}`
	if string(b) != want {
		t.Errorf("shown\n got %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(q.Shown())
	if !strings.HasPrefix(string(b), `{"class-name":"null","group-allowlist":"","interval":30,"threshold":2,"template-open":"builtin:event-open"`) {
		t.Errorf("shown %s", b)
	}
}

func TestNotifierErrors(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.tmpl", "x")
	bad := write(t, dir, "bad.tmpl", "{{.ID")
	unknownFunc := write(t, dir, "func.tmpl", "{{nosuch .ID}}")
	for _, tc := range []struct{ name, body, want string }{
		{"class", `class-name = "slack"`, `notifier.n.class-name: unknown notifier className provided: "slack"`},
		{"empty class", `template-open = "` + good + `"`, `notifier.n.class-name: unknown notifier className provided: ""`},
		{"whitelist", `class-name = "null"` + "\n" + `template-open = "` + good + `"` + "\n" + `group-whitelist = "x"`,
			"notifier.n.group-whitelist: please change configurations to allowlist and denylist"},
		{"allowlist", `class-name = "null"` + "\n" + `template-open = "` + good + `"` + "\n" + `group-allowlist = "("`,
			"notifier.n.group-allowlist: failed to compile"},
		{"interval", `class-name = "null"` + "\n" + `template-open = "` + good + `"` + "\ninterval = 0",
			"notifier.n.interval: must be positive, got 0"},
		{"send-interval", `class-name = "null"` + "\n" + `template-open = "` + good + `"` + "\nsend-interval = -1",
			"notifier.n.send-interval: must not be negative, got -1"},
		{"no template", `class-name = "null"`, "notifier.n.template-open: Failed to compile TemplateOpen: no template file given"},
		{"missing file", `class-name = "null"` + "\n" + `template-open = "` + dir + `/none.tmpl"`,
			"notifier.n.template-open: Failed to compile TemplateOpen: open"},
		{"syntax", `class-name = "null"` + "\n" + `template-open = "` + bad + `"`, "notifier.n.template-open: Failed to compile TemplateOpen: template: notifier:1: unclosed action"},
		{"function", `class-name = "null"` + "\n" + `template-open = "` + unknownFunc + `"`, `function "nosuch" not defined`},
		{"builtin", `class-name = "null"` + "\n" + `template-open = "builtin:nosuch"`, "notifier.n.template-open: Failed to compile TemplateOpen: no built-in template builtin:nosuch (there are: builtin:"},
		{"close template", `class-name = "null"` + "\n" + `template-open = "` + good + `"` + "\nsend-close = true",
			"notifier.n.template-close: Failed to compile TemplateClose: no template file given"},
		{"url-open", `class-name = "http"` + "\n" + `template-open = "` + good + `"`, "notifier.n.url-open: no url-open specified"},
		{"url-close", `class-name = "http"` + "\n" + `template-open = "` + good + `"` + "\n" + `template-close = "` + good + `"` + "\nsend-close = true\nurl-open = \"http://x\"",
			"notifier.n.url-close: no url-close specified"},
		{"url template", `class-name = "http"` + "\n" + `template-open = "` + good + `"` + "\n" + `url-open = "http://x/{{.ID"`,
			"notifier.n.url-open: invalid URL template"},
		{"timeout", `class-name = "http"` + "\n" + `template-open = "` + good + `"` + "\nurl-open = \"http://x\"\ntimeout = 0",
			"notifier.n.timeout: must be positive"},
		{"extra-ca", `class-name = "http"` + "\n" + `template-open = "` + good + `"` + "\nurl-open = \"http://x\"\n" + `extra-ca = "` + dir + `/none.pem"`,
			"notifier.n.extra-ca: cannot read extra CA file"},
		{"email port", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nserver = \"smtp.example.com\"\nfrom = \"a@b\"\nto = \"c@d\"",
			"notifier.n.port: bad server or port: port must be 1 to 65535, got 0"},
		{"email port range", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nserver = \"smtp.example.com\"\nport = 70000\nfrom = \"a@b\"\nto = \"c@d\"",
			"notifier.n.port: bad server or port: port must be 1 to 65535, got 70000"},
		{"email server", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nport = 25\nfrom = \"a@b\"\nto = \"c@d\"",
			"notifier.n.server: bad server or port"},
		{"email from", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nserver = \"s\"\nport = 25\nto = \"c@d\"",
			"notifier.n.from: missing from address"},
		{"email to", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nserver = \"s\"\nport = 25\nfrom = \"c@d\"",
			"notifier.n.to: missing to address"},
		{"email auth", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nserver = \"s\"\nport = 25\nfrom = \"a@b\"\nto = \"c@d\"\nauth-type = \"login\"",
			`notifier.n.auth-type: unknown auth type "login"`},
		{"email bad from", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nserver = \"s\"\nport = 25\nfrom = \"burrow\"\nto = \"c@d\"",
			`notifier.n.from: bad from address "burrow": mail: missing '@' or angle-addr`},
		{"email bad to", `class-name = "email"` + "\n" + `template-open = "` + good + `"` + "\nserver = \"s\"\nport = 25\nfrom = \"a@b\"\nto = \"c@d,\"",
			`notifier.n.to: bad to address "": mail: no address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseString(t, "[notifier.n]\n"+tc.body+"\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestNotifierEmailAccepted(t *testing.T) {
	dir := t.TempDir()
	good := write(t, dir, "good.tmpl", "Subject: x\n")
	c, err := parseString(t, `[notifier.mail]
class-name = "email"
template-open = "`+good+`"
server = "smtp.example.com"
port = 587
from = "burrow@example.com"
to = "a@example.com, Ops <b@example.com>"
auth-type = "CRAMMD5"
noverify = true
extra-ca = "/nonexistent"
`)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Notifiers[0]
	if m.AuthType != "crammd5" || m.Port != 587 || !m.NoVerify || m.TemplateCloseText != "" {
		t.Errorf("%+v", m)
	}
	b, _ := json.Marshal(m.Shown())
	if !strings.Contains(string(b), `"port":587,"auth-type":"crammd5"`) || !strings.HasSuffix(string(b), `"noverify":"true"}`) ||
		strings.Contains(string(b), "password") {
		t.Errorf("shown %s", b)
	}
}
