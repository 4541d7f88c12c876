package notifier

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// Kind says which template, URL and method a notification uses.
type Kind int

// The kinds of notification.
const (
	// Open is sent while a group is at or above the module's threshold, and
	// repeated every send-interval.
	Open Kind = iota
	// Close is sent once when an incident ends, with send-close.
	Close
)

// String returns "open" or "close", the kind label of the metrics.
func (k Kind) String() string {
	if k == Close {
		return "close"
	}
	return "open"
}

// Notification is the value every template (body and URL) is executed with
// (notifier.md §5.2). Its field names are part of the template contract.
//
// A Notification, its Extras and its Result (including the partitions it
// points to) are shared between the sender of a module and the coordinator
// and must be treated as read-only.
type Notification struct {
	// Cluster and Group name the consumer group.
	Cluster string
	Group   string
	// ID is the incident's ID (a version 4 UUID), "" when the group has none.
	ID string
	// Start is when the incident opened (the scheduled time of the evaluation
	// that opened it), in UTC; the zero time when there is none.
	Start time.Time
	// Extras is the module's extras table, keys lower-cased.
	Extras map[string]string
	// Result is the evaluator's reply, with only the partitions worse than OK
	// listed.
	Result protocol.ConsumerGroupStatus
}

// Id returns ID. It lets Burrow's templates that write {{.Id}} (such as the
// shipped default-http-delete.tmpl) work (notifier.md §12 item 5).
func (n *Notification) Id() string { return n.ID } //nolint:revive // the name is the template contract

// Module sends the notifications of one [notifier.NAME] table. The
// coordinator decides what to send and when; a module only delivers.
//
// The coordinator calls Send from the module's own sender, at most
// MaxInFlight calls at once and never two at once for the same group, so
// Send must be safe for concurrent use. The contract of Send:
//   - kind says which template (and, for http, URL and method) to use; render
//     with Templates.Render, which returns an error that is never retried;
//   - ctx is cancelled when Stop gives up waiting (after StopWait): Send must
//     then return promptly. Send must also bound its own work (the http
//     module's timeout, the email module's dial timeout);
//   - it returns nil when the receiver accepted the notification; an error
//     made with Transient or TransientAfter for a failure worth retrying (a
//     refused or lost connection, a timeout, HTTP 429 or 5xx, SMTP 4xx); any
//     other error is permanent and the notification is dropped;
//   - it need not log failures: the coordinator logs each one once and counts
//     it. It may log success at debug level.
//
// Close is called once, after the last Send has returned or been abandoned,
// to release connections; it must not block for long.
type Module interface {
	Send(ctx context.Context, kind Kind, n *Notification) error
	Close() error
}

// Env is what a module's constructor is given besides its configuration.
type Env struct {
	// Log is the module's logger, with its name and class as fields.
	Log *zap.Logger
	// Templates are the module's open and close templates, parsed.
	Templates *Templates
}

// Factory builds the module of one class from its checked configuration. It
// connects to nothing; an error is a configuration error naming the key.
type Factory func(cfg config.Notifier, env Env) (Module, error)

// classes are the module constructors by class-name. Each module's file
// registers its class in an init function, e.g. email.go:
//
//	func init() { register(config.NotifierEmail, newEmail) }
var classes = map[string]Factory{}

// register adds the constructor of a class. It panics on a second
// registration of one class, a programmer's error.
func register(class string, f Factory) {
	if _, ok := classes[class]; ok {
		panic("notifier: class " + class + " registered twice")
	}
	classes[class] = f
}

// Classes returns the class names that have a module, sorted.
func Classes() []string {
	out := make([]string, 0, len(classes))
	for c := range classes {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Bounds of sending, per module (notifier.md §12 items 10 and 13).
const (
	// MaxInFlight is the most sends a module has under way at once.
	MaxInFlight = 16
	// StopWait is how long Stop waits for sends under way.
	StopWait = 10 * time.Second
	// MaxRetryAfter is the longest Retry-After honoured; a receiver asking for
	// a longer wait is not retried.
	MaxRetryAfter = 60 * time.Second
)

// retryDelays are the waits before the second, third and fourth attempts.
var retryDelays = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}

// transientError marks a failure worth retrying.
type transientError struct {
	err   error
	after time.Duration // the receiver's Retry-After; 0 when none
}

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// Transient marks err as a temporary failure: the send is retried after 1 s,
// 2 s and 4 s. A nil err stays nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err}
}

// TransientAfter marks err as a temporary failure after which the receiver
// asked for a wait (HTTP Retry-After): the next attempt comes after that wait
// instead of the usual one, or never when it is longer than MaxRetryAfter.
// A wait of 0 or less is the same as Transient.
func TransientAfter(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err, after: max(after, 0)}
}

// IsTransient reports whether err was marked by Transient or TransientAfter,
// and the wait the receiver asked for (0 when none).
func IsTransient(err error) (after time.Duration, ok bool) {
	var t *transientError
	if errors.As(err, &t) {
		return t.after, true
	}
	return 0, false
}

// ErrTemplate is wrapped by every template execution failure: the
// notification cannot be built, and is not retried.
var ErrTemplate = errors.New("failed to assemble")

func templateError(what string, err error) error {
	return fmt.Errorf("%w %s: %v", ErrTemplate, what, err)
}
