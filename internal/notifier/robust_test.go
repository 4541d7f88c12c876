package notifier

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// TestLogModule runs class log through the coordinator: one warn line per
// open and one info line per close, with the rendered text as message and
// cluster, group and ID as fields; and a template that fails at run time
// costs one error line and one failed count, and nothing else.
func TestLogModule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("good", ERR)
		w.set("bad", ERR)
		core, logs := observer.New(zapcore.InfoLevel)
		cfg := conf("alerts", func(n *config.Notifier) {
			n.ClassName, n.SendClose = config.NotifierLog, true
			n.TemplateOpenText = `lag on {{.Group}} in {{.Cluster}}: {{.Result.Status}}{{if eq .Group "bad"}}{{.Nope}}{{end}}` + "\n"
			n.TemplateCloseText = `{{.Group}} recovered`
			n.GroupDenylist = "^ignored$"
		})
		c, err := New([]config.Notifier{cfg}, w.asker, zap.New(core), WithRand(fixedOffset(45*time.Second)), WithIDs(ids()))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		w.set("ignored", ERR)
		sleepUntil(t0, 20*time.Second)
		w.set("good", OK)
		sleepUntil(t0, 80*time.Second)
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, e := range logs.All() {
			f := e.ContextMap()
			if f["name"] != "alerts" || e.Message == "starting" || e.Message == "stopping" {
				continue
			}
			line := e.Level.String() + " " + e.Message
			if id, ok := f["id"]; ok {
				line += " cluster=" + f["cluster"].(string) + " group=" + f["group"].(string) + " id=" + id.(string)
			}
			if e.Level == zapcore.ErrorLevel {
				line = e.Level.String() + " " + e.Message + " group=" + f["group"].(string) + " " + f["error"].(string)
			}
			lines = append(lines, line)
		}
		assemble := "error failed to send notification group=bad failed to assemble open: template: notifier:1:77: " +
			"executing \"notifier\" at <.Nope>: can't evaluate field Nope in type *notifier.Notification"
		// Evaluations at 15 s and 75 s; the two groups' lines of one round
		// come in either order, and good's incident is A or B.
		id := "A"
		if strings.Contains(strings.Join(lines, "\n"), "id=B") && !strings.Contains(strings.Join(lines, "\n"), "id=A") {
			id = "B"
		}
		want := []string{assemble, "warn lag on good in c: ERR cluster=c group=good id=" + id,
			"info good recovered cluster=c group=good id=" + id, assemble}
		slices.Sort(want)
		slices.Sort(lines)
		if !slices.Equal(lines, want) {
			t.Errorf("log lines:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		if got := counted(c, "alerts"); got != "open 1/2/0 close 1/0/0 retries 0" {
			t.Errorf("counts %q", got)
		}
	})
}

// TestReplyForForgottenGroup delays the evaluator's answers by 30 s: the
// group is deleted from storage and forgotten by a refresh before its (ERR)
// reply arrives, which must then be dropped.
func TestReplyForForgottenGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", ERR)
		proxy := make(chan *protocol.EvaluatorRequest)
		t.Cleanup(func() { close(proxy) })
		go func() {
			for r := range proxy {
				inner := &protocol.EvaluatorRequest{Reply: make(chan *protocol.ConsumerGroupStatus, 1), Cluster: r.Cluster, Group: r.Group, ShowAll: r.ShowAll}
				w.asker.Evaluator <- inner
				st := <-inner.Reply
				go func() {
					time.Sleep(30 * time.Second)
					r.Reply <- st
				}()
			}
		}()
		rec := &recorder{}
		slow := &ask.Client{Storage: w.asker.Storage, Evaluator: proxy, Wait: time.Minute}
		c, err := New([]config.Notifier{conf("n", nil)}, slow, nil, WithRand(fixedOffset(45*time.Second)),
			withModules(map[string]Module{"n": rec}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Stop() })
		t0 := time.Now()
		sleepUntil(t0, 16*time.Second) // evaluated at 15 s, answer due at 45 s
		w.remove("g")
		sleepUntil(t0, 60*time.Second) // forgotten by the refresh at 20 s
		if got := rec.take(); len(got) != 0 {
			t.Errorf("sent for a forgotten group: %v", got)
		}
	})
}

// TestNoEvaluator checks that an evaluator that never answers costs a
// bounded wait per evaluation and nothing else: the group is evaluated again
// at its next time and notified once the evaluator answers.
func TestNoEvaluator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", ERR)
		// switchable takes requests; until useReal is closed it never answers them.
		switchable := make(chan *protocol.EvaluatorRequest)
		useReal := make(chan struct{})
		go func() {
			for r := range switchable {
				select {
				case <-useReal:
					w.asker.Evaluator <- r
				default:
				}
			}
		}()
		t.Cleanup(func() { close(switchable) })
		rec := &recorder{}
		c, err := New([]config.Notifier{conf("n", func(n *config.Notifier) { n.SendInterval = 0 })},
			&ask.Client{Storage: w.asker.Storage, Evaluator: switchable, Wait: 5 * time.Second}, nil,
			WithRand(fixedOffset(45*time.Second)), withModules(map[string]Module{"n": rec}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Stop() })
		t0 := time.Now()
		sleepUntil(t0, 70*time.Second)
		if got := rec.take(); len(got) != 0 {
			t.Fatalf("sent without an answer: %v", got)
		}
		close(useReal)
		sleepUntil(t0, 80*time.Second)
		if got := offsets(t0, rec.take()); len(got) != 1 || got[0] != 75 {
			t.Errorf("sent at %v, want 75", got)
		}
	})
}
