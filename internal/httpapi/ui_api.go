package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/warrenlag/warren/internal/notifier"
	"github.com/warrenlag/warren/protocol"
)

// The dashboard's JSON routes, read-only, built for its pages: one request
// per page and refresh. Names go out through encoding/json, HTML-safe; the
// pages put them into the document as text only.

// IncidentLister lists the notifier's open incidents; *notifier.Coordinator
// is one.
type IncidentLister interface {
	Incidents() []notifier.Incident
}

// uiWorkers is how many group evaluations an overview asks for at once: the
// evaluator answers each on a goroutine of its own (up to its own bound), so
// a few in flight keep it busy without queueing a thousand.
const uiWorkers = 8

// uiFresh is how long an overview is served again to every viewer before it
// is built anew: a thousand groups are a thousand evaluations (cached by the
// evaluator for expire-cache, 10 s by default), and any number of open pages
// refreshing every few seconds then cost one build a second at most.
const uiFresh = time.Second

// groupKey names a group of a cluster.
type groupKey struct{ cluster, group string }

// uiState is the dashboard's own state: since when each group has had its
// status, as the dashboard saw it, and the last overview. The evaluator
// keeps no history, so a status's start is the first overview or group page
// that found it; a group first seen in a status is marked as having had it
// since at least then.
type uiState struct {
	// build is a one-slot lock on the last overview, held while one is
	// built, so that concurrent viewers share one build; a viewer that
	// leaves stops waiting for it.
	build chan struct{}
	body  []byte
	built time.Time
	fresh time.Duration

	mu   sync.Mutex // guards seen
	seen map[groupKey]seenStatus
}

type seenStatus struct {
	status protocol.StatusConstant
	since  time.Time
	exact  bool // the change was seen, not just the status
}

// observe records a group's status at now and returns since when it has had
// it. The caller holds mu.
func (u *uiState) observe(k groupKey, st protocol.StatusConstant, now time.Time) seenStatus {
	if u.seen == nil {
		u.seen = map[groupKey]seenStatus{}
	}
	prev, ok := u.seen[k]
	switch {
	case !ok:
		prev = seenStatus{status: st, since: now}
	case prev.status != st:
		prev = seenStatus{status: st, since: now, exact: true}
	}
	u.seen[k] = prev
	return prev
}

type uiOverviewReply struct {
	Now       int64              `json:"now"`
	Clusters  []uiClusterSummary `json:"clusters"`
	Notifier  bool               `json:"notifier"`
	Incidents []uiIncident       `json:"incidents"`
}

type uiClusterSummary struct {
	Name   string           `json:"name"`
	Groups []uiGroupSummary `json:"groups"`
}

type uiGroupSummary struct {
	Group      string         `json:"group"`
	Status     string         `json:"status"`
	Complete   float32        `json:"complete"`
	TotalLag   uint64         `json:"totallag"`
	LagSeconds *float64       `json:"lag_seconds"` // of the partition furthest behind in time; null when none can be told
	Partitions int            `json:"partitions"`
	ByStatus   map[string]int `json:"by_status"`
	Since      int64          `json:"since"`
	SinceSeen  bool           `json:"since_first_seen"` // the status was already there when first seen
}

type uiIncident struct {
	Cluster string   `json:"cluster"`
	Group   string   `json:"group"`
	ID      string   `json:"id"`
	Since   int64    `json:"since"`
	Told    []string `json:"told"`
}

// uiOverview answers every cluster and group with its status, lags and
// partition counts, and the open incidents.
func (s *Server) uiOverview(w http.ResponseWriter, r *http.Request) {
	u := &s.ui
	select {
	case u.build <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	defer func() { <-u.build }()
	if u.body == nil || time.Since(u.built) >= u.fresh {
		body, err := s.buildOverview(r.Context())
		if err != nil {
			if r.Context().Err() == nil {
				s.fail(w, r, http.StatusServiceUnavailable, "storage or the evaluator did not answer in time")
			}
			return
		}
		u.body, u.built = body, time.Now()
	}
	s.reply(w, r, http.StatusOK, rawJSON(u.body))
}

// rawJSON is a reply already written.
type rawJSON []byte

func (b rawJSON) appendJSON(out []byte) ([]byte, error) { return append(out, b...), nil }

// buildOverview evaluates every group. The caller holds s.ui.build. The first
// failure ends the build: the evaluator is not asked about the others.
func (s *Server) buildOverview(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		key groupKey
		out *uiGroupSummary
	}
	var jobs []job
	reply := uiOverviewReply{Clusters: []uiClusterSummary{}}
	clusters, err := s.asker.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range clusters {
		groups, _, err := s.asker.Groups(ctx, c)
		if err != nil {
			return nil, err
		}
		cs := uiClusterSummary{Name: c, Groups: make([]uiGroupSummary, len(groups))}
		for i, g := range groups {
			jobs = append(jobs, job{groupKey{c, g}, &cs.Groups[i]})
		}
		reply.Clusters = append(reply.Clusters, cs)
	}
	statuses := make([]*protocol.ConsumerGroupStatus, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(uiWorkers, len(jobs)) {
		wg.Go(func() {
			for i := range next {
				if s.opts.Evaluator == nil || ctx.Err() != nil {
					continue
				}
				if statuses[i], errs[i] = s.asker.Status(ctx, jobs[i].key.cluster, jobs[i].key.group, true); errs[i] != nil {
					cancel()
				}
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i := range jobs {
		if errs[i] != nil {
			return nil, errs[i]
		}
	}
	if err := ctx.Err(); err != nil { // the viewer left: some groups were not asked
		return nil, err
	}
	now := time.Now()
	keep := make(map[groupKey]seenStatus, len(jobs))
	s.ui.mu.Lock()
	for i, j := range jobs {
		*j.out = summarize(j.key.group, statuses[i])
		seen := s.ui.observe(j.key, statusOf(statuses[i]), now)
		keep[j.key] = seen
		j.out.Since, j.out.SinceSeen = seen.since.UnixMilli(), !seen.exact
	}
	s.ui.seen = keep // groups gone are forgotten
	s.ui.mu.Unlock()
	reply.Now = now.UnixMilli()
	reply.Notifier, reply.Incidents = s.incidents()
	return json.Marshal(reply)
}

func statusOf(st *protocol.ConsumerGroupStatus) protocol.StatusConstant {
	if st == nil {
		return protocol.StatusNotFound
	}
	return st.Status
}

// summarize is a group's line of the overview; st may be nil (no evaluator).
func summarize(group string, st *protocol.ConsumerGroupStatus) uiGroupSummary {
	out := uiGroupSummary{Group: group, Status: statusOf(st).String(), ByStatus: map[string]int{}}
	if st == nil {
		return out
	}
	out.Complete, out.TotalLag, out.Partitions = st.Complete, st.TotalLag, st.TotalPartitions
	listed := 0
	for _, ps := range st.Partitions {
		out.ByStatus[ps.Status.String()]++
		listed++
		if ps.LagSeconds != nil && finite(*ps.LagSeconds) && (out.LagSeconds == nil || *ps.LagSeconds > *out.LagSeconds) {
			v := *ps.LagSeconds
			out.LagSeconds = &v
		}
	}
	if rest := st.TotalPartitions - listed; rest > 0 { // partitions the evaluator did not list are OK
		out.ByStatus["OK"] += rest
	}
	return out
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// incidents lists the notifier's open incidents; ok is false without a
// notifier.
func (s *Server) incidents() (ok bool, out []uiIncident) {
	if s.opts.Incidents == nil {
		return false, []uiIncident{}
	}
	list := s.opts.Incidents.Incidents()
	out = make([]uiIncident, 0, len(list))
	for _, in := range list {
		told := in.Told
		if told == nil {
			told = []string{}
		}
		out = append(out, uiIncident{Cluster: in.Cluster, Group: in.Group, ID: in.ID, Since: in.Start.UnixMilli(), Told: told})
	}
	return true, out
}

type uiGroupReply struct {
	Now            int64           `json:"now"`
	Cluster        string          `json:"cluster"`
	Group          string          `json:"group"`
	Status         string          `json:"status"`
	Complete       float32         `json:"complete"`
	TotalLag       uint64          `json:"totallag"`
	PartitionCount int             `json:"partition_count"`
	Since          int64           `json:"since"`
	SinceSeen      bool            `json:"since_first_seen"`
	Partitions     []uiPartition   `json:"partitions"`
	Topics         []uiTopicSeries `json:"topics"`
	Incident       *uiIncident     `json:"incident"`
}

type uiPartition struct {
	Topic        string   `json:"topic"`
	Partition    int32    `json:"partition"`
	Status       string   `json:"status"`
	Owner        string   `json:"owner"`
	ClientID     string   `json:"client_id"`
	CurrentLag   uint64   `json:"current_lag"`
	LagSeconds   *float64 `json:"lag_seconds"`
	LagEstimated bool     `json:"lag_estimated"`
	Complete     float32  `json:"complete"`
	Why          string   `json:"why"`
}

// uiTopicSeries is what a topic's chart draws: per partition, the commits
// of the window and the broker's log end readings, each a flat list of
// (Unix ms, offset) pairs, oldest first.
type uiTopicSeries struct {
	Name       string     `json:"name"`
	Partitions []uiSeries `json:"partitions"`
}

type uiSeries struct {
	Partition int32   `json:"partition"`
	Commits   []int64 `json:"commits"`
	Broker    []int64 `json:"broker"`
}

// uiGroup answers a group's evaluation, every partition with its rule and
// evidence, and the series of its charts: ?cluster=C&group=G.
func (s *Server) uiGroup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cluster, group := q.Get("cluster"), q.Get("group")
	if s.opts.Evaluator == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "no evaluator is running")
		return
	}
	st, err := s.asker.Status(r.Context(), cluster, group, true)
	if err != nil {
		if r.Context().Err() == nil {
			s.fail(w, r, http.StatusServiceUnavailable, "evaluator did not answer in time")
		}
		return
	}
	if st.Status == protocol.StatusNotFound {
		s.fail(w, r, http.StatusNotFound, "cluster or consumer not found")
		return
	}
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer, Cluster: cluster,
		Group: group, Topic: protocol.WindowsForm}, "cluster or consumer not found")
	if !ok {
		return
	}
	now := time.Now()
	out := uiGroupReply{Now: now.UnixMilli(), Cluster: cluster, Group: group, Status: st.Status.String(),
		Complete: st.Complete, TotalLag: st.TotalLag, PartitionCount: st.TotalPartitions,
		Partitions: make([]uiPartition, 0, len(st.Partitions))}
	s.ui.mu.Lock()
	seen := s.ui.observe(groupKey{cluster, group}, st.Status, now)
	s.ui.mu.Unlock()
	out.Since, out.SinceSeen = seen.since.UnixMilli(), !seen.exact
	for _, ps := range st.Partitions {
		p := uiPartition{Topic: ps.Topic, Partition: ps.Partition, Status: ps.Status.String(), Owner: ps.Owner,
			ClientID: ps.ClientID, CurrentLag: ps.CurrentLag, LagEstimated: ps.LagEstimated, Complete: ps.Complete, Why: ps.Why}
		if ps.LagSeconds != nil && finite(*ps.LagSeconds) {
			v := *ps.LagSeconds
			p.LagSeconds = &v
		}
		out.Partitions = append(out.Partitions, p)
	}
	out.Topics = series(v)
	if _, list := s.incidents(); list != nil {
		for i := range list {
			if list[i].Cluster == cluster && list[i].Group == group {
				out.Incident = &list[i]
			}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "could not encode JSON")
		return
	}
	s.reply(w, r, http.StatusOK, rawJSON(b))
}

// series turns storage's reply into the charts' series: the compact form
// Warren's storage answers, or the usual ConsumerTopics of another storage,
// whose commits carry the lag at the time (their log end is offset + lag).
func series(v any) []uiTopicSeries {
	out := []uiTopicSeries{}
	switch reply := v.(type) {
	case *protocol.ConsumerWindows:
		defer reply.Release()
		k := 0
		for _, t := range reply.Topics {
			ts := uiTopicSeries{Name: t.Name, Partitions: make([]uiSeries, 0, t.Partitions)}
			for i := 0; i < t.Partitions && k < len(reply.Partitions); i, k = i+1, k+1 {
				p := &reply.Partitions[k]
				sr := uiSeries{Partition: int32(i), Commits: []int64{}, Broker: []int64{}}
				for _, c := range reply.Window(p) {
					sr.Commits = append(sr.Commits, c.Timestamp, c.Offset)
				}
				for _, b := range reply.History(p) {
					sr.Broker = append(sr.Broker, b.Timestamp, b.Offset)
				}
				ts.Partitions = append(ts.Partitions, sr)
			}
			out = append(out, ts)
		}
	case protocol.ConsumerTopics:
		for _, name := range slices.Sorted(maps.Keys(reply)) {
			ts := uiTopicSeries{Name: name, Partitions: []uiSeries{}}
			for i, p := range reply[name] {
				sr := uiSeries{Partition: int32(i), Commits: []int64{}, Broker: []int64{}}
				if p != nil {
					for _, o := range p.Offsets {
						if o == nil {
							continue
						}
						sr.Commits = append(sr.Commits, o.Timestamp, o.Offset)
						if o.Lag != nil {
							sr.Broker = append(sr.Broker, o.Timestamp, o.Offset+int64(o.Lag.Value))
						}
					}
				}
				ts.Partitions = append(ts.Partitions, sr)
			}
			out = append(out, ts)
		}
	}
	return out
}

type uiClusterReply struct {
	Now     int64     `json:"now"`
	Cluster string    `json:"cluster"`
	Topics  []uiTopic `json:"topics"`
	Groups  []string  `json:"groups"`
}

type uiTopic struct {
	Name       string   `json:"name"`
	Partitions int      `json:"partitions"`
	Offsets    []int64  `json:"offsets"` // log end per partition that has one
	Groups     []string `json:"groups"`
}

// uiCluster answers a cluster's topics with their log ends and the groups
// that read each: ?cluster=C.
func (s *Server) uiCluster(w http.ResponseWriter, r *http.Request) {
	cluster := r.URL.Query().Get("cluster")
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopics, Cluster: cluster}, "cluster not found")
	if !ok {
		return
	}
	out := uiClusterReply{Now: time.Now().UnixMilli(), Cluster: cluster, Topics: []uiTopic{}}
	for _, name := range sorted(v) {
		t := uiTopic{Name: name, Offsets: []int64{}, Groups: []string{}}
		if v, ok, err := s.asker.Fetch(r.Context(), &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic,
			Cluster: cluster, Topic: name}); err != nil {
			s.fail(w, r, http.StatusServiceUnavailable, "storage did not answer in time")
			return
		} else if ok {
			if offsets, _ := v.([]int64); offsets != nil {
				t.Offsets = offsets
			}
		}
		t.Partitions = len(t.Offsets)
		v, ok, err := s.asker.Fetch(r.Context(), &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumersForTopic,
			Cluster: cluster, Topic: name})
		if err != nil {
			s.fail(w, r, http.StatusServiceUnavailable, "storage did not answer in time")
			return
		}
		if ok {
			t.Groups = sorted(v)
		}
		out.Topics = append(out.Topics, t)
	}
	groups, _, err := s.asker.Groups(r.Context(), cluster)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "storage did not answer in time")
		return
	}
	out.Groups = groups
	if out.Groups == nil {
		out.Groups = []string{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "could not encode JSON")
		return
	}
	s.reply(w, r, http.StatusOK, rawJSON(b))
}
