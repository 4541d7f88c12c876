package offsets

import (
	"time"

	"github.com/warrenlag/warren/protocol"
)

// replyWait bounds how long an answer waits for its caller to read it. A caller
// that reads later finds its Reply closed, as for an unknown group.
const replyWait = time.Minute

// answer sends v on r.Reply (unless none) and closes it. It never blocks the
// goroutine that calls it: when the caller is not yet receiving, a goroutine of
// its own waits for it, for at most replyWait. A Reply that its owner has closed
// is counted, not a crash.
func (s *Store) answer(r *protocol.StorageRequest, v any, found bool) {
	ch := r.Reply
	if ch == nil {
		return
	}
	defer func() {
		if recover() != nil {
			s.drops.add(replyFailed, r)
		}
	}()
	if found {
		select {
		case ch <- v:
		default:
			// A copy: r may live in a batch that its worker reuses.
			go s.answerLater(*r, v)
			return
		}
	}
	close(ch)
}

func (s *Store) answerLater(r protocol.StorageRequest, v any) {
	defer func() {
		if recover() != nil {
			s.drops.add(replyFailed, &r)
		}
	}()
	t := time.NewTimer(replyWait)
	defer t.Stop()
	select {
	case r.Reply <- v:
	case <-t.C:
		s.drops.add(replyAbandoned, &r)
	}
	close(r.Reply)
}
