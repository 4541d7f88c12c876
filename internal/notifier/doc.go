// Package notifier is Warren's notifier subsystem (shared/spec/notifier.md):
// on a fixed schedule it asks the evaluator for the status of every consumer
// group storage knows, keeps one incident per group while the group is worse
// than OK, and hands notifications to the modules of the [notifier.NAME]
// tables: http, email, log and null.
//
// # Design
//
// One Coordinator per process runs every module. Its state has one owner:
//
//   - The loop goroutine owns every group's state (schedule, incident, the
//     time of each module's last open notification) and needs no lock. It
//     refreshes the group list from storage at Start and every 10 s (in a
//     helper goroutine, so a slow storage holds nothing up), keeps groups in a
//     min-heap by the time of their next evaluation, and hands due groups to
//     a fixed pool of evaluation workers.
//   - Evaluation workers ask the evaluator through ask.Client.Status (ShowAll
//     false) and post the reply back to the loop, which applies the incident
//     and decision rules of notifier.md §4 and queues notifications. Nothing
//     the loop does waits on a network.
//   - Each module has its own sender: a queue holding at most one
//     notification per group (a newer one replaces an older one not yet
//     sent) and MaxInFlight workers calling Module.Send. Transient failures
//     are retried after 1 s, 2 s and 4 s, or after the receiver's
//     Retry-After (up to MaxRetryAfter), unless a newer notification for the
//     group replaces the retry. A slow or dead receiver therefore delays
//     neither evaluations, nor other modules, nor more than MaxInFlight of its
//     own groups.
//
// Schedule. E is the smallest interval of all modules. A group found by a
// refresh is first evaluated at a uniformly random time in (0, E] after it,
// then at exact multiples of E after that first time. Incident Start and the
// spacing of open notifications use these scheduled times, not the times
// replies happen to arrive (notifier.md §12 item 2).
//
// Templates. A template is a file, or a template shipped with Warren named
// "builtin:NAME" (see package builtin). Templates get the functions of Funcs
// and a *Notification; the file's own body is the template executed.
//
// Modules. A module implements Module and registers a Factory for its
// class-name in an init function of its own file (see register). Its Send is
// given the kind (Open or Close) and the notification, renders with its
// Templates and delivers; the sender does the queueing, retrying, logging and
// counting.
//
// Wiring. New(cfg, asker, log, opts...) builds it from config.Notifiers,
// Start and Stop run it (Stop waits at most StopWait for sends under way),
// and Collector exports warren_notifications_total{notifier,kind,result} and
// warren_notification_retries_total{notifier}, read at scrape time.
// config.Notifier.Shown renders a table for /v3/config/notifier/{name}.
//
// Cost. One round over 10,000 groups (evaluator and storage included) costs
// about 110 ms of CPU on the development machine (BenchmarkRound), about 0.2 %
// of one core at interval 60 s.
//
// State file. Snapshot adds the incidents and each module's LastNotify to
// Warren's state file (section "notifier.incidents", see snapshot.go), and
// Restore puts them back before Start, so that a restart neither opens a
// second incident for a group already in one nor repeats an open within
// send-interval, and a close carries the original incident's ID. Restored
// groups wait for the first refresh that lists them; one storage no longer
// lists is forgotten without a close. Notifications queued in senders at
// Stop are not kept.
//
// Several instances. With WithPassive the coordinator starts passive: it
// keeps its group list and schedule but neither evaluates nor sends until
// Lead, which first replaces the incident state with the records it is given
// (those the previous leader published through WithPublish, one record per
// change of a group's state). Follow makes it passive again; its modules then
// abandon what waits to be sent or retried. Package internal/ha decides which.
//
// Time, randomness and IDs. The coordinator reads the runtime's clock and
// timers, so tests run it inside testing/synctest bubbles, where time is fake
// and advances only when every goroutine waits; the random first offsets and
// the incident IDs are injectable with WithRand and WithIDs.
package notifier
