package offsets

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestConcurrentMix: many goroutines send every kind of request at once, bad ones
// included, through a started store. Every fetch must get exactly one answer or a
// closed Reply, nothing may panic, and the race detector must stay quiet.
func TestConcurrentMix(t *testing.T) {
	cfg := Config{Intervals: 4, Workers: 5, Clusters: []string{"a", "b"}, MaxPartitions: 8,
		GroupDenylist: "3"}
	now := testNow
	cfg.Now = func() time.Time { return time.UnixMilli(now) } // never changes: no race
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	const senders, requests = 8, 3000
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(g), 9))
			data := make([]byte, requests*8)
			for i := range data {
				data[i] = byte(rnd.Uint32())
			}
			d := &decoder{data: data}
			for !d.done() {
				r := d.request(now)
				if r == nil {
					continue
				}
				s.Handle(r)
				if r.Reply == nil {
					continue
				}
				select {
				case _, ok := <-r.Reply:
					if ok {
						if _, more := <-r.Reply; more {
							t.Errorf("%v answered twice", r.RequestType)
						}
					}
				case <-time.After(10 * time.Second):
					t.Errorf("%v never answered", r.RequestType)
					return
				}
			}
		}()
	}
	wg.Wait()
	s.Stop()
	if d := s.Drops(); d["reply_failed"] != 0 || d["reply_abandoned"] != 0 {
		t.Errorf("replies lost: %v", d)
	}
}
