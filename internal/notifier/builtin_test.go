package notifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-openapi/strfmt"
	amalert "github.com/prometheus/alertmanager/alert"
	ammodels "github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/common/model"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/notifier/builtin"
	"github.com/warrenlag/warren/protocol"
)

// The built-in templates of notifier.md §12 item 15 are rendered here for
// opens and closes of several notifications and checked against what each
// receiver accepts. Each checker names the reference it follows.

// pdKey is a routing key of the 32 characters PagerDuty requires.
const pdKey = "0123456789abcdef0123456789abcdef"

// hostile is a name that breaks JSON, HTML and Slack mrkdwn when pasted as is.
const hostile = `a"b\c<script>`

func fptr(f float64) *float64 { return &f }

// builtinNotification is an ERR incident of group g with four partitions:
// STOP with a lag in seconds, WARN with an estimated one, STALL without one,
// and WARN without a reason.
func builtinNotification(cluster, group, topic string) *Notification {
	parts := []*protocol.PartitionStatus{
		{Topic: topic, Partition: 0, Status: protocol.StatusStop, CurrentLag: 1800, Complete: 1,
			End: &protocol.ConsumerOffset{Offset: 5000, Timestamp: 1704164645000},
			Why: "STOP: last commit 420 s ago, window spans 600 s", LagSeconds: fptr(431.25)},
		{Topic: topic, Partition: 7, Status: protocol.StatusWarning, CurrentLag: 950, Complete: 1,
			Why: "WARN: lag grew in every one of 10 commits", LagSeconds: fptr(88.5), LagEstimated: true},
		{Topic: "payments", Partition: 2, Status: protocol.StatusStall, CurrentLag: 20, Complete: 1,
			Why: "STALL: committed offset 77 for 600 s while the log moved"},
		{Topic: "payments", Partition: 3, Status: protocol.StatusWarning, CurrentLag: 12, Complete: 0.5},
	}
	return &Notification{Cluster: cluster, Group: group, ID: "5f1c2a9e-0000-4000-8000-000000000001",
		Start:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Extras: map[string]string{"routing_key": pdKey, "team": "kafka-oncall", "generator_url": "https://warren.example.com/"},
		Result: protocol.ConsumerGroupStatus{Cluster: cluster, Group: group, Status: protocol.StatusError, Complete: 1,
			Partitions: parts, TotalPartitions: 12, Maxlag: parts[0], TotalLag: 2782}}
}

// closeOf is n as a close: the group is OK, no partition is listed, and the
// most lagging partition's newest commit is after the incident's start.
func closeOf(n *Notification) *Notification {
	c := *n
	c.Result.Status = protocol.StatusOK
	c.Result.Partitions = nil
	c.Result.TotalLag = 3
	c.Result.Maxlag = &protocol.PartitionStatus{Topic: "orders", Status: protocol.StatusOK, CurrentLag: 3,
		End: &protocol.ConsumerOffset{Offset: 9000, Timestamp: c.Start.Add(20 * time.Minute).UnixMilli()}}
	return &c
}

// builtinCases are the notifications every template is rendered with.
func builtinCases() []struct {
	name string
	n    *Notification
} {
	plain := builtinNotification("prod", "billing", "orders")
	warn := builtinNotification("prod", "billing", "orders")
	warn.Result.Status = protocol.StatusWarning
	warn.Result.Partitions = warn.Result.Partitions[1:2]
	bad := builtinNotification(`pr"od\`, hostile, `t"o\p<i>c`)
	none := builtinNotification("prod", "billing", "orders")
	none.Result.Partitions = nil
	none.Result.Maxlag = nil
	// Many partitions and names far over every receiver's limits, with
	// characters of several bytes.
	long := builtinNotification(strings.Repeat("ç", 600), strings.Repeat("é<", 1500), strings.Repeat("t", 249))
	for i := range 60 {
		long.Result.Partitions = append(long.Result.Partitions, &protocol.PartitionStatus{
			Topic: strings.Repeat("t", 249), Partition: int32(100 + i), Status: protocol.StatusWarning,
			CurrentLag: 1<<63 + 12345, Why: strings.Repeat("w", 600), LagSeconds: fptr(123456789.125), LagEstimated: true})
	}
	// No incident: threshold 1 on an OK group.
	ok := builtinNotification("prod", "billing", "orders")
	ok.ID, ok.Start = "", time.Time{}
	ok.Result.Status, ok.Result.Partitions = protocol.StatusOK, nil
	return []struct {
		name string
		n    *Notification
	}{{"err", plain}, {"warn", warn}, {"hostile", bad}, {"no partitions", none}, {"long", long}, {"no incident", ok}}
}

func renderBuiltin(t *testing.T, name string, n *Notification) []byte {
	t.Helper()
	text, err := config.ReadTemplate(builtin.Prefix + name)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := ParseTemplate(text)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b, err := Execute(tmpl, name, n)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !strings.HasPrefix(name, "text-") && !json.Valid(b) { // text-*: one line of text
		t.Fatalf("%s: not JSON:\n%s", name, b)
	}
	return b
}

// strict decodes b into v, refusing fields v does not have: the checkers'
// structs list every field the templates may write, so a misspelt field fails.
func strict(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// builtinTarget pairs a receiver's templates, NAME-open and NAME-close, with
// its checker.
type builtinTarget struct {
	name  string
	check func(t *testing.T, k Kind, n *Notification, body []byte)
}

var builtinTargets = []builtinTarget{
	{"event", checkEvent},
	{"slack", checkSlack},
	{"teams", checkTeams},
	{"pagerduty", checkPagerDuty},
	{"opsgenie", checkOpsgenie},
	{"alertmanager", checkAlertmanager},
	{"text", checkText},
}

// checkText: one line, naming the status, cluster and group exactly, and the
// incident; an open lists at most three partitions and says how many more.
func checkText(t *testing.T, k Kind, n *Notification, body []byte) {
	t.Helper()
	s := string(body)
	if strings.Contains(strings.TrimSuffix(s, "\n"), "\n") {
		t.Errorf("not one line: %q", s)
	}
	if !strings.Contains(s, n.Cluster+"/"+n.Group) || !strings.Contains(s, n.Result.Status.String()) {
		t.Errorf("no status or group: %q", s)
	}
	if n.ID != "" && !strings.Contains(s, n.ID) {
		t.Errorf("no incident ID: %q", s)
	}
	if k == Close {
		if !strings.HasPrefix(s, "RESOLVED ") {
			t.Errorf("close does not say resolved: %q", s)
		}
		return
	}
	if more := len(n.Result.Partitions) - 3; more > 0 && !strings.Contains(s, fmt.Sprintf("and %d more", more)) {
		t.Errorf("%d partitions, the rest not counted: %q", len(n.Result.Partitions), s)
	}
}

// TestBuiltinTemplates renders every built-in template, open and close, for
// every case and checks the result against the receiver's rules.
func TestBuiltinTemplates(t *testing.T) {
	var tested []string
	for _, tg := range builtinTargets {
		tested = append(tested, tg.name+"-open", tg.name+"-close")
		for _, tc := range builtinCases() {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				tg.check(t, Open, tc.n, renderBuiltin(t, tg.name+"-open", tc.n))
				if tc.n.ID != "" { // a close always ends an incident
					c := closeOf(tc.n)
					tg.check(t, Close, c, renderBuiltin(t, tg.name+"-close", c))
				}
			})
		}
	}
	slices.Sort(tested)
	if names := builtin.Names(); !slices.Equal(names, tested) {
		t.Errorf("built-in templates %v, tested %v: add a target to builtinTargets", names, tested)
	}
}

// exact reports whether s is short enough that templates must carry it whole.
func exact(s string) bool { return runes(s) <= 200 }

func checkEvent(t *testing.T, k Kind, n *Notification, body []byte) {
	var v struct {
		Event      string            `json:"event"`
		ID         *string           `json:"id"`
		Cluster    string            `json:"cluster"`
		Group      string            `json:"group"`
		Status     string            `json:"status"`
		Start      *time.Time        `json:"start"`
		Complete   *float64          `json:"complete"`
		Count      *int              `json:"partition_count"`
		TotalLag   uint64            `json:"total_lag"`
		Extras     map[string]string `json:"extras"`
		Partitions []struct {
			Topic        string   `json:"topic"`
			Partition    int32    `json:"partition"`
			Status       string   `json:"status"`
			CurrentLag   uint64   `json:"current_lag"`
			LagSeconds   *float64 `json:"lag_seconds"`
			LagEstimated bool     `json:"lag_estimated"`
			Why          string   `json:"why"`
		} `json:"partitions"`
	}
	strict(t, body, &v)
	if v.Event != k.String() || v.Cluster != n.Cluster || v.Group != n.Group || v.Status != n.Result.Status.String() {
		t.Errorf("event %s", body)
	}
	if (v.ID == nil) != (n.ID == "") || (v.Start == nil) != (n.ID == "") {
		t.Errorf("id and start must be null exactly without incident: %s", body)
	}
	if k == Open {
		if len(v.Partitions) != len(n.Result.Partitions) {
			t.Fatalf("partitions %d, want %d", len(v.Partitions), len(n.Result.Partitions))
		}
		for i, p := range n.Result.Partitions {
			got := v.Partitions[i]
			if got.Topic != p.Topic || got.Why != p.Why || got.LagEstimated != p.LagEstimated ||
				(p.LagSeconds == nil) != (got.LagSeconds == nil) || (p.LagSeconds != nil && *got.LagSeconds != *p.LagSeconds) {
				t.Errorf("partition %d: %+v", i, got)
			}
		}
	}
}

// Slack: an incoming webhook takes a message with text and/or blocks and
// attachments (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/);
// &, < and > in mrkdwn text must be sent as &amp;, &lt; and &gt;
// (https://api.slack.com/docs/message-formatting); a section's text holds at
// most 3000 characters, its fields at most 10 of 2000, a header 150
// (https://api.slack.com/reference/block-kit/blocks); at most 50 blocks.
type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text"`
	Fields   []slackText `json:"fields"`
	Elements []slackText `json:"elements"`
}

var (
	slackColor  = regexp.MustCompile(`^#[0-9a-f]{6}$`)
	slackEntity = regexp.MustCompile(`&(amp|lt|gt|#[0-9]+);`)
)

func checkSlack(t *testing.T, k Kind, n *Notification, body []byte) {
	var m struct {
		Text        string `json:"text"`
		Attachments []struct {
			Color    string       `json:"color"`
			Fallback string       `json:"fallback"`
			Blocks   []slackBlock `json:"blocks"`
		} `json:"attachments"`
	}
	strict(t, body, &m)
	if m.Text == "" || len(m.Attachments) != 1 {
		t.Fatalf("message %s", body)
	}
	if strings.ContainsAny(slackEntity.ReplaceAllString(m.Text, ""), "<>&") {
		t.Errorf("unescaped control character in mrkdwn text %q", m.Text)
	}
	if k == Close && !strings.HasPrefix(m.Text, "Resolved") {
		t.Errorf("close text %q", m.Text)
	}
	a := m.Attachments[0]
	if !slackColor.MatchString(a.Color) || a.Fallback != m.Text || len(a.Blocks) == 0 || len(a.Blocks) > 50 {
		t.Errorf("attachment %s", body)
	}
	var fields, sections []string
	for _, b := range a.Blocks {
		var texts []slackText
		limit := 3000
		switch b.Type {
		case "header":
			limit = 150
			texts = []slackText{*b.Text}
		case "section":
			if b.Text != nil {
				texts = []slackText{*b.Text}
				sections = append(sections, b.Text.Text)
			} else {
				limit = 2000
				texts = b.Fields
				if len(b.Fields) > 10 {
					t.Errorf("%d fields", len(b.Fields))
				}
				for _, f := range b.Fields {
					fields = append(fields, f.Text)
				}
			}
		case "context":
			texts = b.Elements
			if len(texts) > 10 {
				t.Errorf("%d context elements", len(texts))
			}
		default:
			t.Errorf("block type %q", b.Type)
		}
		for _, x := range texts {
			if x.Type != "plain_text" || x.Text == "" || runes(x.Text) > limit {
				t.Errorf("%s text of %d characters, type %q", b.Type, runes(x.Text), x.Type)
			}
		}
	}
	if exact(n.Group) && !slices.Contains(fields, "Group\n"+n.Group) || exact(n.Cluster) && !slices.Contains(fields, "Cluster\n"+n.Cluster) {
		t.Errorf("names not exact in fields %q", fields)
	}
	want := min(len(n.Result.Partitions), 10)
	if len(sections) != want {
		t.Fatalf("%d partition sections, want %d", len(sections), want)
	}
	if want > 0 && n.Result.Partitions[0].LagSeconds != nil && n.Result.Partitions[0].Why != "" {
		p := n.Result.Partitions[0]
		if !strings.Contains(sections[0], fmt.Sprint(*p.LagSeconds)+" s behind") || !strings.Contains(sections[0], p.Why[:20]) {
			t.Errorf("first partition %q", sections[0])
		}
	}
}

// Teams: a Workflows webhook ("When a Teams webhook request is received")
// takes a message whose attachments are Adaptive Cards
// (https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using);
// Teams posts messages of at most about 28 KB.
type teamsRun struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Weight   string `json:"weight"`
	Size     string `json:"size"`
	IsSubtle bool   `json:"isSubtle"`
}

func checkTeams(t *testing.T, k Kind, n *Notification, body []byte) {
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string  `json:"contentType"`
			ContentURL  *string `json:"contentUrl"`
			Content     struct {
				Schema  string            `json:"$schema"`
				Type    string            `json:"type"`
				Version string            `json:"version"`
				MSTeams map[string]string `json:"msteams"`
				Body    []struct {
					Type     string     `json:"type"`
					Text     string     `json:"text"`
					Size     string     `json:"size"`
					Weight   string     `json:"weight"`
					Color    string     `json:"color"`
					Wrap     bool       `json:"wrap"`
					IsSubtle bool       `json:"isSubtle"`
					Spacing  string     `json:"spacing"`
					Inlines  []teamsRun `json:"inlines"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	strict(t, body, &m)
	if len(body) > 28<<10 {
		t.Errorf("message of %d bytes", len(body))
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("envelope %s", body)
	}
	c := m.Attachments[0].Content
	if c.Type != "AdaptiveCard" || c.Version != "1.4" || !strings.HasPrefix(c.Schema, "http://adaptivecards.io/") || len(c.Body) == 0 {
		t.Fatalf("card %s", body)
	}
	var values []string
	partitions := 0
	for _, e := range c.Body {
		switch e.Type {
		case "TextBlock":
			if e.Text == "" {
				t.Error("empty TextBlock")
			}
		case "RichTextBlock":
			if len(e.Inlines) == 0 {
				t.Error("empty RichTextBlock")
			}
			for _, r := range e.Inlines {
				if r.Type != "TextRun" || r.Text == "" {
					t.Errorf("inline %+v", r)
				}
			}
			if e.Spacing == "Medium" {
				partitions++
			}
			if len(e.Inlines) == 2 {
				values = append(values, e.Inlines[0].Text+e.Inlines[1].Text)
			}
		default:
			t.Errorf("element type %q", e.Type)
		}
	}
	if exact(n.Group) && !slices.Contains(values, "Group: "+n.Group) || exact(n.Cluster) && !slices.Contains(values, "Cluster: "+n.Cluster) {
		t.Errorf("names not exact in %q", values)
	}
	if want := min(len(n.Result.Partitions), 10); partitions != want || k == Close && c.Body[0].Text != "Kafka consumer lag: resolved" {
		t.Errorf("%d partitions, want %d; title %q", partitions, want, c.Body[0].Text)
	}
}

// PagerDuty Events API v2: routing_key (32 characters), event_action
// (trigger, acknowledge or resolve) and, for a trigger, payload.summary (at
// most 1024 characters), payload.source and payload.severity (critical, error,
// warning or info) are required; dedup_key holds at most 255 characters
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/,
// https://developer.pagerduty.com/docs/events-api-v2/resolve-events/).
type pdEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Client      string `json:"client"`
	ClientURL   string `json:"client_url"`
	Payload     *struct {
		Summary       string `json:"summary"`
		Source        string `json:"source"`
		Severity      string `json:"severity"`
		Timestamp     string `json:"timestamp"`
		Component     string `json:"component"`
		Group         string `json:"group"`
		Class         string `json:"class"`
		CustomDetails struct {
			Cluster         string   `json:"cluster"`
			ConsumerGroup   string   `json:"consumer_group"`
			Status          string   `json:"status"`
			Complete        float64  `json:"complete"`
			TotalLag        uint64   `json:"total_lag"`
			PartitionCount  int      `json:"partition_count"`
			PartitionsNotOK int      `json:"partitions_not_ok"`
			IncidentID      *string  `json:"incident_id"`
			IncidentStart   *string  `json:"incident_start"`
			Partitions      []pdPart `json:"partitions"`
		} `json:"custom_details"`
	} `json:"payload"`
}

type pdPart struct {
	Topic        string   `json:"topic"`
	Partition    int32    `json:"partition"`
	Status       string   `json:"status"`
	CurrentLag   uint64   `json:"current_lag"`
	LagSeconds   *float64 `json:"lag_seconds"`
	LagEstimated bool     `json:"lag_estimated"`
	Why          string   `json:"why"`
}

func severity(s protocol.StatusConstant, err, warn, other string) string {
	switch s {
	case protocol.StatusError:
		return err
	case protocol.StatusWarning:
		return warn
	}
	return other
}

func checkPagerDuty(t *testing.T, k Kind, n *Notification, body []byte) {
	var e pdEvent
	strict(t, body, &e)
	if len(e.RoutingKey) != 32 || e.RoutingKey != n.Extras["routing_key"] || e.DedupKey != n.ID || len(e.DedupKey) > 255 {
		t.Errorf("event %s", body)
	}
	if k == Close {
		if e.EventAction != "resolve" || e.Payload != nil || e.DedupKey == "" {
			t.Errorf("resolve %s", body)
		}
		return
	}
	p := e.Payload
	if e.EventAction != "trigger" || p == nil {
		t.Fatalf("trigger %s", body)
	}
	if p.Summary == "" || runes(p.Summary) > 1024 || p.Source == "" ||
		p.Severity != severity(n.Result.Status, "critical", "warning", "info") {
		t.Errorf("payload: summary of %d characters, source %q, severity %q", runes(p.Summary), p.Source, p.Severity)
	}
	if _, err := time.Parse(time.RFC3339, p.Timestamp); (err == nil) != (n.ID != "") {
		t.Errorf("timestamp %q", p.Timestamp)
	}
	d := p.CustomDetails
	if d.ConsumerGroup != n.Group || d.Cluster != n.Cluster || p.Component != n.Group || d.TotalLag != n.Result.TotalLag ||
		d.PartitionsNotOK != len(n.Result.Partitions) || len(d.Partitions) != min(len(n.Result.Partitions), 50) {
		t.Errorf("custom_details %+v", d)
	}
	for i, got := range d.Partitions {
		want := n.Result.Partitions[i]
		if got.Topic != want.Topic || got.Why != want.Why || (got.LagSeconds == nil) != (want.LagSeconds == nil) || got.Status != want.Status.String() {
			t.Errorf("partition %d: %+v", i, got)
		}
	}
	if len(body) > 512<<10 {
		t.Errorf("event of %d bytes", len(body))
	}
}

// Opsgenie Alert API: create needs message (at most 130 characters); alias at
// most 512, description 15000, details 8000 in all, tags 20 of 50 each,
// priority P1 to P5, source 100; close takes user, source and note
// (https://docs.opsgenie.com/docs/alert-api).
func checkOpsgenie(t *testing.T, k Kind, n *Notification, body []byte) {
	if k == Close {
		var c struct {
			User   string `json:"user"`
			Source string `json:"source"`
			Note   string `json:"note"`
		}
		strict(t, body, &c)
		if c.Source == "" || runes(c.Source) > 100 || c.Note == "" || runes(c.Note) > 25000 || !strings.Contains(c.Note, n.ID) {
			t.Errorf("close %s", body)
		}
		checkOpsgenieCloseURL(t, n)
		return
	}
	var a struct {
		Message     string `json:"message"`
		Alias       string `json:"alias"`
		Description string `json:"description"`
		Priority    string `json:"priority"`
		Source      string `json:"source"`
		Entity      string `json:"entity"`
		Tags        []string
		Responders  []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"responders"`
		Details map[string]string `json:"details"`
	}
	strict(t, body, &a)
	if a.Message == "" || runes(a.Message) > 130 || a.Alias != n.ID || runes(a.Description) > 15000 || runes(a.Entity) > 512 ||
		a.Priority != severity(n.Result.Status, "P2", "P3", "P5") || a.Source == "" || runes(a.Source) > 100 {
		t.Errorf("alert: message of %d characters, description of %d, priority %q: %.300s",
			runes(a.Message), runes(a.Description), a.Priority, body)
	}
	if len(a.Tags) > 20 || len(a.Responders) != 1 || a.Responders[0] != struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}{"team", n.Extras["team"]} {
		t.Errorf("tags %q, responders %+v", a.Tags, a.Responders)
	}
	for _, tag := range a.Tags {
		if runes(tag) > 50 {
			t.Errorf("tag %q", tag)
		}
	}
	size := 0
	for key, v := range a.Details {
		size += runes(key) + runes(v)
	}
	if size > 8000 || exact(n.Group) && a.Details["consumer_group"] != n.Group {
		t.Errorf("details of %d characters: %q", size, a.Details)
	}
	if len(n.Result.Partitions) > 0 && exact(n.Result.Partitions[0].Topic) && !strings.Contains(a.Description, n.Result.Partitions[0].Topic) {
		t.Errorf("description %q", a.Description)
	}
}

// checkOpsgenieCloseURL renders the url-close that docs/notifiers.md gives and
// checks that it names the alert by its alias.
func checkOpsgenieCloseURL(t *testing.T, n *Notification) {
	tmpl, err := ParseTemplate("https://api.opsgenie.com/v2/alerts/{{.ID}}/close?identifierType=alias")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Execute(tmpl, "url", n)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(string(b))
	if err != nil || u.Path != "/v2/alerts/"+n.ID+"/close" || u.Query().Get("identifierType") != "alias" {
		t.Errorf("url-close %s: %v", b, err)
	}
}

// Alertmanager: decoded into its own API types and validated with its own
// code, as POST /api/v2/alerts does (api/v2/api.go postAlertsHandler in
// v0.35.0): the OpenAPI validation, then startsAt defaulted, empty labels
// removed and alert.Validate.
func checkAlertmanager(t *testing.T, k Kind, n *Notification, body []byte) {
	var strictShape []struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     string            `json:"startsAt"`
		EndsAt       string            `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
	}
	strict(t, body, &strictShape)
	var alerts ammodels.PostableAlerts
	if err := json.Unmarshal(body, &alerts); err != nil {
		t.Fatal(err)
	}
	if err := alerts.Validate(strfmt.Default); err != nil {
		t.Fatalf("openapi validation: %v\n%s", err, body)
	}
	want := 1
	if k == Close {
		want = 2
	}
	if len(alerts) != want {
		t.Fatalf("%d alerts, want %d", len(alerts), want)
	}
	now := time.Now()
	var severities []string
	for _, pa := range alerts {
		a := model.Alert{Labels: model.LabelSet{}, Annotations: model.LabelSet{},
			StartsAt: time.Time(pa.StartsAt), EndsAt: time.Time(pa.EndsAt), GeneratorURL: string(pa.GeneratorURL)}
		for key, v := range pa.Labels {
			if v != "" {
				a.Labels[model.LabelName(key)] = model.LabelValue(v)
			}
		}
		for key, v := range pa.Annotations {
			a.Annotations[model.LabelName(key)] = model.LabelValue(v)
		}
		if a.StartsAt.IsZero() {
			a.StartsAt = now
			if !a.EndsAt.IsZero() {
				a.StartsAt = a.EndsAt
			}
		}
		if err := amalert.Validate(&a); err != nil {
			t.Fatalf("alert.Validate: %v\n%s", err, body)
		}
		l := pa.Labels
		if l["alertname"] != "KafkaConsumerLag" || l["cluster"] != n.Cluster || l["consumer_group"] != n.Group || l["incident_id"] != n.ID {
			t.Errorf("labels %q", l)
		}
		severities = append(severities, l["severity"])
		if n.ID != "" && !time.Time(pa.StartsAt).Equal(n.Start) || string(pa.GeneratorURL) != n.Extras["generator_url"] {
			t.Errorf("startsAt %v, generatorURL %q", pa.StartsAt, pa.GeneratorURL)
		}
		if pa.Annotations["summary"] == "" {
			t.Errorf("annotations %q", pa.Annotations)
		}
		if k == Open {
			if !time.Time(pa.EndsAt).IsZero() || !strings.Contains(pa.Annotations["summary"], n.Group) {
				t.Errorf("open: endsAt %v, summary %q", pa.EndsAt, pa.Annotations["summary"])
			}
			continue
		}
		// Resolved: endsAt is past, never before startsAt, and here the newest
		// commit of the most lagging partition.
		end := time.Time(pa.EndsAt)
		if !end.Before(now) || end.Before(n.Start) || !end.Equal(time.UnixMilli(n.Result.Maxlag.End.Timestamp)) {
			t.Errorf("close: endsAt %v", end)
		}
	}
	if k == Open && severities[0] != severity(n.Result.Status, "critical", "warning", "info") ||
		k == Close && !slices.Equal(severities, []string{"warning", "critical"}) {
		t.Errorf("severities %q for %s", severities, n.Result.Status)
	}
}

// TestBuiltinAlertmanagerCloseTime pins the end time of a close whose newest
// commit is older than the incident: the incident's start, so that endsAt is
// never before startsAt.
func TestBuiltinAlertmanagerCloseTime(t *testing.T) {
	c := closeOf(builtinNotification("prod", "billing", "orders"))
	c.Result.Maxlag.End.Timestamp = c.Start.Add(-time.Hour).UnixMilli()
	var alerts ammodels.PostableAlerts
	if err := json.Unmarshal(renderBuiltin(t, "alertmanager-close", c), &alerts); err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if !time.Time(a.EndsAt).Equal(c.Start) {
			t.Errorf("endsAt %v, want %v", a.EndsAt, c.Start)
		}
	}
	c.Result.Maxlag = nil
	if err := json.Unmarshal(renderBuiltin(t, "alertmanager-close", c), &alerts); err != nil || !time.Time(alerts[0].EndsAt).Equal(c.Start) {
		t.Errorf("without maxlag: %v %v", alerts, err)
	}
}

// TestBuiltinDocs reads every TOML example of docs/notifiers.md as a
// configuration, and renders each notifier's templates and URLs with its own
// extras: the examples are complete and what they send passes the checks.
func TestBuiltinDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/notifiers.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```toml\n(.*?)```").FindAllSubmatch(doc, -1)
	seen := map[string]bool{}
	for i, b := range blocks {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("example%d.toml", i))
		if err := os.WriteFile(path, b[1], 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := config.Read(path)
		if err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		cfg, err := config.Parse(v)
		if err != nil {
			t.Fatalf("example %d: %v\n%s", i, err, b[1])
		}
		for _, nc := range cfg.Notifiers {
			target, _ := strings.CutSuffix(strings.TrimPrefix(nc.TemplateOpen, builtin.Prefix), "-open")
			i := slices.IndexFunc(builtinTargets, func(tg builtinTarget) bool { return tg.name == target })
			if target == "text" && nc.ClassName == config.NotifierLog && i >= 0 {
				tm, err := parseTemplates(nc)
				if err != nil {
					t.Fatal(err)
				}
				n := builtinNotification("prod", "billing", "orders")
				for k, nk := range map[Kind]*Notification{Open: n, Close: closeOf(n)} {
					body, err := tm.Render(k, nk)
					if err != nil {
						t.Fatal(err)
					}
					builtinTargets[i].check(t, k, nk, body)
				}
				seen[target] = true
				continue
			}
			if i < 0 || nc.ClassName != config.NotifierHTTP || !nc.SendClose || nc.TemplateClose != builtin.Prefix+target+"-close" ||
				nc.URLOpen == "" || nc.URLClose == "" {
				t.Errorf("notifier %s: %+v", nc.Name, nc)
				continue
			}
			seen[target] = true
			tm, err := parseTemplates(nc)
			if err != nil {
				t.Fatal(err)
			}
			n := builtinNotification("prod", "billing", "orders")
			n.Extras = nc.Extras
			c := closeOf(n)
			for _, step := range []struct {
				k   Kind
				n   *Notification
				url string
			}{{Open, n, nc.URLOpen}, {Close, c, nc.URLClose}} {
				body, err := tm.Render(step.k, step.n)
				if err != nil {
					t.Fatal(err)
				}
				builtinTargets[i].check(t, step.k, step.n, body)
				ut, err := ParseTemplate(step.url)
				if err != nil {
					t.Fatal(err)
				}
				u, err := Execute(ut, "url", step.n)
				if err != nil {
					t.Fatal(err)
				}
				if pu, err := url.Parse(string(u)); err != nil || pu.Scheme != "https" && pu.Scheme != "http" || pu.Host == "" {
					t.Errorf("%s url %s: %v", nc.Name, u, err)
				}
			}
		}
	}
	for _, tg := range builtinTargets {
		if !seen[tg.name] {
			t.Errorf("docs/notifiers.md has no example for %s", tg.name)
		}
	}
}
