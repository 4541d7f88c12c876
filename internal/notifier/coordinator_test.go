package notifier

import (
	"fmt"
	"slices"
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
