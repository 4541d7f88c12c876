package notifier

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRound is one evaluation round over every group, through the real
// evaluation workers, evaluator and storage, with one null module: every
// group due at once, evaluated, decided and (for the bad ones, one in ten)
// notified. The loop's part is played by the benchmark goroutine; only its
// timers are left out. cpu-ms/round is the CPU time of the whole process
// (storage and evaluator included) per round; at interval 60 s, 5 % of one
// core is 3000 cpu-ms/round.
func BenchmarkRound(b *testing.B) {
	for _, groups := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("groups=%d", groups), func(b *testing.B) {
			w := newWorld(b)
			names := make(map[groupKey]struct{}, groups)
			for i := range groups {
				g := fmt.Sprintf("group-%05d", i)
				status := protocol.StatusOK
				if i%10 == 0 {
					status = protocol.StatusError
				}
				w.set(g, status)
				names[groupKey{"c", g}] = struct{}{}
			}
			c, err := New([]config.Notifier{conf("n", nil)}, w.asker, zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			c.startWorkers()
			b.Cleanup(func() { c.Stop() })
			at := time.Now()
			c.applyGroups(refreshResult{groups: names}, at)
			if len(c.groups) != groups {
				b.Fatalf("%d groups known", len(c.groups))
			}
			b.ReportAllocs()
			cpu := cpuTime()
			rounds := 0
			for b.Loop() {
				at = at.Add(c.e)
				c.schedule.due(at, c.e, c.start)
				c.drain()
				rounds++
			}
			b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(rounds), "cpu-ms/round")
			if got := counted(c, "n"); rounds > 0 && got == "open 0/0/0 close 0/0/0 retries 0" {
				b.Errorf("nothing sent: %s", got)
			}
		})
	}
}

// drain plays the loop until every due evaluation has been handled.
func (c *Coordinator) drain() {
	pending := len(c.due)
	for pending > 0 {
		var jobs chan evaluation
		var head evaluation
		if len(c.due) > 0 {
			jobs, head = c.jobs, c.due[0]
		}
		select {
		case jobs <- head:
			c.due = c.due[1:]
		case r := <-c.replies:
			c.handle(r)
			pending--
		}
	}
}
