package notifier

import (
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/notifier/builtin"
	"github.com/warrenlag/warren/protocol"
)

// n8 is the reply, incident and extras of notifier.md example N8.
func n8() *Notification {
	p := &protocol.PartitionStatus{Topic: "orders", Partition: 3, Status: protocol.StatusStop,
		Start:      &protocol.ConsumerOffset{Offset: 1000, Timestamp: 1700000000000, Lag: &protocol.Lag{Value: 50}},
		End:        &protocol.ConsumerOffset{Offset: 1400, Timestamp: 1700000040000, Lag: &protocol.Lag{Value: 120}},
		CurrentLag: 180, Complete: 1}
	return &Notification{Cluster: "prod", Group: "billing", ID: "5f1c2a9e-0000-4000-8000-000000000001",
		Start:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Extras: map[string]string{"api_key": "K", "app": "burrow", "tier": "STG"},
		Result: protocol.ConsumerGroupStatus{Cluster: "prod", Group: "billing", Status: protocol.StatusError, Complete: 1,
			Partitions: []*protocol.PartitionStatus{p}, TotalPartitions: 4, Maxlag: p, TotalLag: 180}}
}

func render(t *testing.T, text string, n *Notification) (string, error) {
	t.Helper()
	tmpl, err := ParseTemplate(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	b, err := Execute(tmpl, "open", n)
	return string(b), err
}

// TestFuncNamesAgree pins that the configuration checks templates against
// exactly the functions templates get.
func TestFuncNamesAgree(t *testing.T) {
	var names []string
	for name := range Funcs() {
		names = append(names, name)
	}
	sort.Strings(names)
	want := slices.Clone(config.NotifierTemplateFuncs)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("Funcs %v, config checks %v", names, want)
	}
}

func TestTemplateN8(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`{{maxlag .Result.Maxlag}}`, "180"},
		{`{{maxlag nil}}`, "0"},
		{`{{index (partitioncounts .Result.Partitions) "stop"}}`, "1"},
		{`{{partitioncounts .Result.Partitions}}`, "map[rewind:0 stall:0 stop:1 unknown:0 warn:0]"},
		{`{{range $s, $t := topicsbystatus .Result.Partitions}}{{$s}}={{$t}}{{end}}`, "STOP=[orders]"},
		{`{{formattimestamp .Result.Maxlag.End.Timestamp "2006-01-02T15:04:05Z07:00"}}`, "2023-11-14T22:14:00Z"},
		{`{{.Start.Format "Jan 02, 2006 15:04:05 UTC"}}`, "Jan 02, 2024 03:04:05 UTC"},
		{`{{.ID}} {{.Id}} {{.Cluster}} {{.Group}} {{.Result.Status}} {{if eq .Result.Status 3}}bad{{end}}`,
			"5f1c2a9e-0000-4000-8000-000000000001 5f1c2a9e-0000-4000-8000-000000000001 prod billing ERR bad"},
		{`{{add 2 3}} {{minus 2 3}} {{multiply 2 3}} {{divide 7 2}} {{.Extras.app}}`, "5 -1 6 3 burrow"},
		{`{{range .Result.Partitions}}{{.Start.Lag}} {{.End.Lag}}{{end}}`, "{50} {120}"},
		{`{{jsonencoder .Result.Partitions}}`, `[{"topic":"orders","partition":3,"owner":"","client_id":"","status":"STOP",` +
			`"start":{"offset":1000,"timestamp":1700000000000,"observedAt":0,"lag":50},` +
			`"end":{"offset":1400,"timestamp":1700000040000,"observedAt":0,"lag":120},"current_lag":180,"complete":1}]`},
		{`{{jsonencoder nil}}`, "null"},
		// The file's own body is used even when it defines other templates.
		{`{{define "a"}}A{{end}}body{{define "b"}}B{{end}}`, "body"},
	} {
		got, err := render(t, tc.text, n8())
		if err != nil || got != tc.want {
			t.Errorf("%s\n got %q, %v\nwant %q", tc.text, got, err, tc.want)
		}
	}
}

func TestTemplateWarrenFields(t *testing.T) {
	n := n8()
	secs := 42.5
	n.Result.Partitions[0].Why = "stopped"
	n.Result.Partitions[0].LagSeconds = &secs
	got, err := render(t, `{{jsonencoder .Result.Partitions}}|{{range .Result.Partitions}}{{.Why}} {{.LagSeconds}}{{end}}`, n)
	if err != nil || !strings.Contains(got, `"complete":1,"why":"stopped","lag_seconds":42.5}]|stopped 42.5`) {
		t.Errorf("%q %v", got, err)
	}
}

func TestTemplateRunTimeErrors(t *testing.T) {
	for _, text := range []string{`{{.Nope}}`, `{{divide 1 0}}`, `{{add .Result.TotalLag 1}}`, `{{index .Result.Partitions 5}}`} {
		if got, err := render(t, text, n8()); !errors.Is(err, ErrTemplate) || got != "" {
			t.Errorf("%s: %q %v", text, got, err)
		}
	}
	var tm Templates
	if _, err := tm.Render(Close, n8()); !errors.Is(err, ErrTemplate) {
		t.Errorf("no close template: %v", err)
	}
}

// TestBuiltinEvent renders the generic JSON event, open and close, and checks
// it is JSON carrying why and lag_seconds, with names that need escaping.
func TestBuiltinEvent(t *testing.T) {
	if names := builtin.Names(); !slices.Contains(names, "event-open") || !slices.Contains(names, "event-close") {
		t.Fatalf("names %v", names)
	}
	n := n8()
	n.Group = `bill"ing`
	secs := 12.0
	n.Result.Partitions[0].Why = "no commit for 300 s"
	n.Result.Partitions[0].LagSeconds = &secs
	for _, ref := range []string{"builtin:event-open", "builtin:event-close"} {
		text, err := config.ReadTemplate(ref)
		if err != nil {
			t.Fatal(err)
		}
		out, err := render(t, text, n)
		if err != nil {
			t.Fatal(ref, err)
		}
		if !strings.HasSuffix(out, "}\n") || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: not one line ending in a line feed: %q", ref, out)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%s: %v in %s", ref, err, out)
		}
		if v["group"] != `bill"ing` || v["id"] != n.ID || v["start"] != "2024-01-02T03:04:05Z" || v["status"] != "ERR" {
			t.Errorf("%s: %s", ref, out)
		}
		if ref == "builtin:event-open" {
			p := v["partitions"].([]any)[0].(map[string]any)
			if p["why"] != "no commit for 300 s" || p["lag_seconds"] != 12.0 || p["topic"] != "orders" || v["event"] != "open" {
				t.Errorf("open: %s", out)
			}
		} else if v["event"] != "close" {
			t.Errorf("close: %s", out)
		}
	}
	// No incident (threshold 1 on an OK group): id and start are null.
	n.ID, n.Start = "", time.Time{}
	text, _ := config.ReadTemplate("builtin:event-open")
	out, err := render(t, text, n)
	if err != nil || !strings.Contains(out, `"id":null`) || !strings.Contains(out, `"start":null`) {
		t.Errorf("%q %v", out, err)
	}
}

func TestTransient(t *testing.T) {
	base := errors.New("boom")
	if _, ok := IsTransient(base); ok {
		t.Error("plain error is transient")
	}
	if after, ok := IsTransient(Transient(base)); !ok || after != 0 {
		t.Error("Transient")
	}
	err := TransientAfter(base, 3*time.Second)
	if after, ok := IsTransient(err); !ok || after != 3*time.Second || !errors.Is(err, base) {
		t.Error("TransientAfter")
	}
	if Transient(nil) != nil || TransientAfter(nil, time.Second) != nil {
		t.Error("nil must stay nil")
	}
}

// TestTemplateN8Bodies renders templates of our own that use the fields and
// functions of Burrow's shipped http templates (post with the incident's
// events, delete with .Id), on example N8's reply: the bodies are N8's, with
// Warren's why added to the partition.
func TestTemplateN8Bodies(t *testing.T) {
	n := n8()
	n.Result.Partitions[0].Why = "stopped"
	post := `{"api_key":"{{index .Extras "api_key"}}","app":"{{index .Extras "app"}}","block":false,` +
		`"events":[{"id":"{{.ID}}","event":{"severity":"{{.Result.Status}}","tier":"{{index .Extras "tier"}}",` +
		`"group":"{{.Group}}","start":"{{.Start.Format "Jan 02, 2006 15:04:05 UTC"}}","complete":{{.Result.Complete}},` +
		`"partitions":{{.Result.Partitions | jsonencoder}}}}]}` + "\n"
	del := `{"api_key":"{{index .Extras "api_key"}}","app":"{{index .Extras "app"}}","block":false,"ids":["{{.Id}}"]}` + "\n"
	for _, tc := range []struct{ name, text, want string }{
		{"post", post, `{"api_key":"K","app":"burrow","block":false,"events":[{"id":"5f1c2a9e-0000-4000-8000-000000000001","event":{"severity":"ERR","tier":"STG","group":"billing","start":"Jan 02, 2024 03:04:05 UTC","complete":1,"partitions":[{"topic":"orders","partition":3,"owner":"","client_id":"","status":"STOP","start":{"offset":1000,"timestamp":1700000000000,"observedAt":0,"lag":50},"end":{"offset":1400,"timestamp":1700000040000,"observedAt":0,"lag":120},"current_lag":180,"complete":1,"why":"stopped"}]}}]}` + "\n"},
		{"delete", del, `{"api_key":"K","app":"burrow","block":false,"ids":["5f1c2a9e-0000-4000-8000-000000000001"]}` + "\n"},
	} {
		got, err := render(t, tc.text, n)
		if err != nil || got != tc.want {
			t.Errorf("%s:\n got %q, %v\nwant %q", tc.name, got, err, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: not JSON", tc.name)
		}
	}
}
