package notifier

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

const (
	OK   = protocol.StatusOK
	WARN = protocol.StatusWarning
	ERR  = protocol.StatusError
)

// step changes the world at a time (seconds after Start): a status for group
// g, or its deletion.
type step struct {
	at     int
	status protocol.StatusConstant
	remove bool
}

// every sets g to status 10 s before each evaluation in [from, to] (the
// evaluations fall at 75, 135, 195, ...).
func every(status protocol.StatusConstant, from, to int) []step {
	var out []step
	for t := from; t <= to; t += 60 {
		out = append(out, step{at: t - 10, status: status})
	}
	return out
}

func steps(parts ...[]step) []step { return slices.Concat(parts...) }

// format writes a recorded notification as "t kind ID@start status", times in
// seconds after t0 and "-" for a zero start.
func format(t0 time.Time, s sent) string {
	start := "-"
	if !s.n.Start.IsZero() {
		start = fmt.Sprint(int(s.n.Start.Sub(t0) / time.Second))
	}
	return fmt.Sprintf("%d %s %s@%s %v", int(s.at.Sub(t0)/time.Second), s.kind, s.n.ID, start, s.n.Result.Status)
}

func conf(name string, edit func(*config.Notifier)) config.Notifier {
	n := nullConf(name)
	if edit != nil {
		edit(&n)
	}
	return n
}

// run plays script on group g, which appears in storage at t = 15 and so is
// found by the refresh at t = 20 and, with offset 5 s, evaluated at t = 75,
// 135, 195, ... as in notifier.md §10. It returns what each module was sent
// until t = end.
func run(t *testing.T, cfg []config.Notifier, script []step, end int) map[string][]string {
	got := map[string][]string{}
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		recs := map[string]*recorder{}
		for _, n := range cfg {
			recs[n.Name] = &recorder{}
		}
		t0 := time.Now()
		start(t, w, cfg, recs, WithRand(fixedOffset(5*time.Second)))
		script = append([]step{{at: 15, status: OK}}, script...)
		for _, s := range script {
			sleepUntil(t0, time.Duration(s.at)*time.Second)
			if s.remove {
				w.remove("g")
			} else {
				w.set("g", s.status)
			}
		}
		sleepUntil(t0, time.Duration(end)*time.Second)
		for name, r := range recs {
			for _, s := range r.take() {
				got[name] = append(got[name], format(t0, s))
			}
		}
	})
	return got
}

// TestWorkedExamples plays notifier.md §10's examples N1 to N5 and N7.
func TestWorkedExamples(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    []config.Notifier
		script []step
		end    int
		want   map[string][]string
	}{
		{"N1", []config.Notifier{conf("n", nil)}, steps(every(ERR, 75, 195), every(OK, 255, 255)), 300,
			map[string][]string{"n": {"75 open A@75 ERR", "135 open A@75 ERR", "195 open A@75 ERR"}}},
		{"N1 send-close", []config.Notifier{conf("n", func(n *config.Notifier) { n.SendClose = true })},
			steps(every(ERR, 75, 195), every(OK, 255, 315)), 330,
			map[string][]string{"n": {"75 open A@75 ERR", "135 open A@75 ERR", "195 open A@75 ERR", "255 close A@75 OK"}}},
		{"N2", []config.Notifier{conf("n", func(n *config.Notifier) { n.Threshold, n.SendClose = 3, true })},
			steps(every(WARN, 75, 195), every(OK, 255, 315)), 330,
			map[string][]string{"n": {"255 close A@75 OK"}}},
		{"N3", []config.Notifier{conf("n", func(n *config.Notifier) { n.Threshold = 1 })},
			steps(every(OK, 75, 75), every(ERR, 135, 135), every(OK, 195, 255)), 270,
			map[string][]string{"n": {"75 open @- OK", "135 open A@135 ERR", "195 open A@135 OK", "255 open @- OK"}}},
		{"N4 send-close", []config.Notifier{conf("n", func(n *config.Notifier) { n.SendOnce, n.SendClose = true, true })},
			steps(every(ERR, 75, 195), every(OK, 255, 255), every(ERR, 315, 435)), 450,
			map[string][]string{"n": {"75 open A@75 ERR", "255 close A@75 OK", "315 open B@315 ERR"}}},
		{"N4 no close", []config.Notifier{conf("n", func(n *config.Notifier) { n.SendOnce = true })},
			steps(every(ERR, 75, 195), every(OK, 255, 255), every(ERR, 315, 435)), 450,
			map[string][]string{"n": {"75 open A@75 ERR"}}},
		{"N5", []config.Notifier{conf("fast", nil), conf("slow", func(n *config.Notifier) { n.Interval, n.SendInterval = 300*time.Second, 300*time.Second })},
			every(ERR, 75, 435), 450,
			map[string][]string{
				"fast": {"75 open A@75 ERR", "135 open A@75 ERR", "195 open A@75 ERR", "255 open A@75 ERR", "315 open A@75 ERR", "375 open A@75 ERR", "435 open A@75 ERR"},
				"slow": {"75 open A@75 ERR", "375 open A@75 ERR"}}},
		{"N7", []config.Notifier{conf("n", func(n *config.Notifier) { n.SendClose = true })},
			steps(every(ERR, 75, 135), []step{{at: 185, remove: true}, {at: 302, status: ERR}}), 370,
			map[string][]string{"n": {"75 open A@75 ERR", "135 open A@75 ERR", "365 open B@365 ERR"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, tc.cfg, tc.script, tc.end)
			for name, want := range tc.want {
				if !slices.Equal(got[name], want) {
					t.Errorf("%s:\n got %q\nwant %q", name, got[name], want)
				}
			}
		})
	}
}

// TestDecisionTable plays every row of notifier.md §4.5 through the real
// evaluator: the evaluation at 75 sets the incident up (WARN opens incident
// A; OK leaves none), the one at 135 has the status under test, and an
// observer module (threshold 1, send-interval 0, no close) shows at 195,
// where the group is OK, which incident was left after 135.
func TestDecisionTable(t *testing.T) {
	type row struct {
		threshold int
		status    protocol.StatusConstant
		incident  bool // an incident is open before the evaluation at 135
		sendClose bool
		sendOnce  bool
		sent      string // what the module is sent at 135, "" for nothing
		after     string // the observer's notification at 195
	}
	const none, same, fresh = "195 open @- OK", "195 open A@75 OK", "195 open A@135 OK"
	var rows []row
	for _, sc := range []bool{false, true} {
		rows = append(rows,
			row{1, OK, false, sc, false, "135 open @- OK", none},
			row{1, WARN, false, sc, false, "135 open A@135 WARN", fresh},
			row{1, WARN, true, sc, false, "135 open A@75 WARN", same},
			row{2, OK, false, sc, false, "", none},
			row{3, WARN, false, sc, false, "", fresh},
			row{3, WARN, true, sc, false, "", same},
			row{2, WARN, false, sc, true, "135 open A@135 WARN", fresh}, // send-once, LastNotify unset
			row{2, WARN, true, sc, true, "", same},                      // send-once, LastNotify set at 75
		)
	}
	rows = append(rows,
		row{1, OK, true, false, false, "135 open A@75 OK", none},
		row{1, OK, true, true, false, "135 close A@75 OK", none},
		row{2, OK, true, false, false, "", none},
		row{2, OK, true, true, false, "135 close A@75 OK", none},
		row{3, OK, true, true, false, "135 close A@75 OK", none}, // incident opened by a WARN below the threshold
		row{2, ERR, true, false, false, "135 open A@75 ERR", same},
	)
	for _, r := range rows {
		name := fmt.Sprintf("threshold %d %v incident=%v close=%v once=%v", r.threshold, r.status, r.incident, r.sendClose, r.sendOnce)
		t.Run(name, func(t *testing.T) {
			m := conf("m", func(n *config.Notifier) { n.Threshold, n.SendClose, n.SendOnce = r.threshold, r.sendClose, r.sendOnce })
			obs := conf("obs", func(n *config.Notifier) { n.Threshold, n.SendInterval = 1, 0 })
			prep := OK
			if r.incident {
				prep = WARN
			}
			got := run(t, []config.Notifier{m, obs}, steps(every(prep, 75, 75), every(r.status, 135, 135), every(OK, 195, 195)), 200)
			var at135, at195 []string
			for _, s := range got["m"] {
				if strings.HasPrefix(s, "135 ") {
					at135 = append(at135, s)
				}
			}
			for _, s := range got["obs"] {
				if strings.HasPrefix(s, "195 ") {
					at195 = append(at195, s)
				}
			}
			var want []string
			if r.sent != "" {
				want = []string{r.sent}
			}
			if !slices.Equal(at135, want) {
				t.Errorf("sent at 135: got %q, want %q (all: %q)", at135, want, got["m"])
			}
			if !slices.Equal(at195, []string{r.after}) {
				t.Errorf("incident after: got %q, want %q", at195, r.after)
			}
		})
	}
}

// TestStartupTiming is N6 as Warren does it (notifier.md §12 item 12): a
// group already bad at Start is notified within E of Start, at the random
// offset, and not before.
func TestStartupTiming(t *testing.T) {
	for _, off := range []time.Duration{0, 20 * time.Second, 59 * time.Second} {
		t.Run(off.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				w.set("g", ERR)
				rec := &recorder{}
				t0 := time.Now()
				start(t, w, []config.Notifier{conf("n", nil)}, map[string]*recorder{"n": rec}, WithRand(fixedOffset(off)))
				first := 60*time.Second - off
				sleepUntil(t0, first-time.Millisecond)
				if got := rec.take(); len(got) != 0 {
					t.Fatalf("sent before %v: %v", first, got)
				}
				sleepUntil(t0, first)
				if got := rec.take(); len(got) != 1 || got[0].at.Sub(t0) != first || got[0].n.Start.Sub(t0) != first {
					t.Fatalf("at %v: %v", first, got)
				}
			})
		})
	}
}

// TestTwoProcesses is N10 as far as one process goes (notifier.md §9.3): a
// second coordinator started on the same storage, after the first stopped,
// knows nothing of the first one's incident: it opens its own, and closes
// only that one.
func TestTwoProcesses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.set("g", ERR)
		cfg := []config.Notifier{conf("n", func(n *config.Notifier) { n.SendClose = true })}
		p, q := &recorder{}, &recorder{}
		t0 := time.Now()
		cp := start(t, w, cfg, map[string]*recorder{"n": p}, WithIDs(func() string { return "P-incident" }))
		sleepUntil(t0, 100*time.Second)
		cp.Stop()
		start(t, w, cfg, map[string]*recorder{"n": q}, WithIDs(func() string { return "Q-incident" }))
		sleepUntil(t0, 200*time.Second)
		w.set("g", OK)
		sleepUntil(t0, 300*time.Second)
		var gotP, gotQ []string
		for _, s := range p.take() {
			gotP = append(gotP, format(t0, s))
		}
		for _, s := range q.take() {
			gotQ = append(gotQ, format(t0, s))
		}
		if want := []string{"15 open P-incident@15 ERR", "75 open P-incident@15 ERR"}; !slices.Equal(gotP, want) {
			t.Errorf("P: got %q\nwant %q", gotP, want)
		}
		if want := []string{"115 open Q-incident@115 ERR", "175 open Q-incident@115 ERR", "235 close Q-incident@115 OK"}; !slices.Equal(gotQ, want) {
			t.Errorf("Q: got %q\nwant %q", gotQ, want)
		}
	})
}
