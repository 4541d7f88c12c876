package kafka

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/throttle"
	"github.com/warrenlag/warren/protocol"
)

// TopicSource reads committed offsets and owners from the offsets topic
// (__consumer_offsets), as Burrow does: every partition directly, without a
// consumer group and without committing, from the start (or, with
// start-latest, from the end, optionally backfilling the existing records once).
// A reader whose poll fails waits before the next (see WithBackoff), and the
// topic's changes between readable and unreadable are logged once each.
type TopicSource struct {
	cfg    config.Consumer
	log    *zap.Logger
	out    sender
	opts   []kgo.Opt
	dec    *decoder
	timing timing

	clients []*kgo.Client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	health   health
	warnings throttle.Log

	pmu   sync.Mutex
	pos   *positions // of the readers running or last run; nil before
	saved *saved     // restored, for the next Start

	// Records counts the records read (their requests handed to storage);
	// Errors the fetch errors.
	Records atomic.Uint64
	Errors  atomic.Uint64
}

// ErrNoOffsetsTopic is returned by Start when the offsets topic cannot be found
// or read; with offsets-source auto, the admin API is used instead.
var ErrNoOffsetsTopic = errors.New("offsets topic cannot be read")

// NewTopicSource prepares a topic source; it connects to nothing.
func NewTopicSource(cfg config.Consumer, storage chan *protocol.StorageRequest, log *zap.Logger, o ...Opt) (*TopicSource, error) {
	opts, err := ClientOptions(cfg.Servers, cfg.Profile)
	if err != nil {
		return nil, fmt.Errorf("consumer.%s: %w", cfg.Name, err)
	}
	t, err := newTiming(o)
	if err != nil {
		return nil, fmt.Errorf("consumer.%s: %w", cfg.Name, err)
	}
	d := &decoder{cluster: cfg.Cluster}
	if cfg.GroupAllowlist != "" {
		d.allow = regexp.MustCompile(cfg.GroupAllowlist) // checked by config
	}
	if cfg.GroupDenylist != "" {
		d.deny = regexp.MustCompile(cfg.GroupDenylist)
	}
	return &TopicSource{cfg: cfg, log: log, out: sender{ch: storage}, opts: opts, dec: d, timing: t,
		health: health{log: log}, warnings: throttle.Log{Every: 30 * time.Second}}, nil
}

// Start finds the offsets topic's partitions and starts their readers. When the
// topic does not exist or its offsets cannot be listed, it returns an error
// wrapping ErrNoOffsetsTopic.
func (s *TopicSource) Start() error {
	admin, adm, err := connect("consumer."+s.cfg.Name, s.cfg.Servers, s.opts)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	topic := s.cfg.OffsetsTopic
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil || len(starts[topic]) == 0 {
		return fmt.Errorf("consumer.%s: %w: %s: %v", s.cfg.Name, ErrNoOffsetsTopic, topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("consumer.%s: %w: %s: %v", s.cfg.Name, ErrNoOffsetsTopic, topic, err)
	}

	saved := s.takeSaved()
	live, backfill, until := map[int32]int64{}, map[int32]int64{}, map[int32]int64{}
	var resumed int
	var outOfRange []int32
	for p, o := range starts[topic] {
		end := ends[topic][p].Offset
		if at, ok := saved[p]; ok {
			if at >= o.Offset && at <= end {
				live[p] = at
				resumed++
				continue
			}
			outOfRange = append(outOfRange, p)
		}
		if !s.cfg.StartLatest {
			live[p] = o.Offset
			continue
		}
		live[p] = end
		if s.cfg.BackfillEarliest && end > o.Offset {
			backfill[p] = o.Offset
			until[p] = end
		}
	}
	if saved != nil {
		s.log.Info("resuming the offsets topic from the saved positions", zap.Int("partitions", resumed),
			zap.Int("saved", len(saved)))
	}
	if len(outOfRange) > 0 {
		slices.Sort(outOfRange)
		s.log.Warn("saved positions outside the offsets topic's partitions (records deleted by retention, or the topic recreated): those partitions start by the start rule",
			zap.Int32s("partitions", outOfRange))
	}
	return s.run(live, backfill, until)
}

// run starts the readers: live ones from the given offsets, and, if any,
// backfill ones up to until. Their positions start at those offsets.
func (s *TopicSource) run(live, backfill, until map[int32]int64) error {
	pos := newPositions(s.baseOrder(), live, backfill)
	s.pmu.Lock()
	s.pos = pos
	s.pmu.Unlock()
	ctx, stop := context.WithCancel(context.Background())
	s.cancel = stop
	if err := s.reader(ctx, live, nil, pos); err != nil {
		s.Stop()
		return err
	}
	if len(backfill) > 0 {
		if err := s.reader(ctx, backfill, until, pos); err != nil {
			s.Stop()
			return err
		}
	}
	s.log.Info("started: reading committed offsets from the offsets topic", zap.String("topic", s.cfg.OffsetsTopic),
		zap.Int("partitions", len(live)), zap.Int("backfill", len(backfill)))
	return nil
}

// resume starts reading again from ends, each partition's end offset when the
// topic was last probed: what came before was read through the admin API.
func (s *TopicSource) resume(ends map[int32]int64) error {
	return s.run(ends, nil, nil)
}

// reader starts one client reading the given partitions from the given
// offsets. With until, it is a backfill reader: it reads each partition up to
// that offset and then stops reading it.
func (s *TopicSource) reader(ctx context.Context, from, until map[int32]int64, pos *positions) error {
	at := make(map[int32]kgo.Offset, len(from))
	for p, o := range from {
		at[p] = kgo.NewOffset().At(o)
	}
	opts := append(append([]kgo.Opt{}, s.opts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.OffsetsTopic: at}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // a position out of range starts over
		kgo.FetchMaxWait(time.Second))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("consumer.%s: %w", s.cfg.Name, err)
	}
	s.clients = append(s.clients, cl)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.read(ctx, cl, until, pos)
	}()
	return nil
}

func (s *TopicSource) read(ctx context.Context, cl *kgo.Client, until map[int32]int64, pos *positions) {
	topic := s.cfg.OffsetsTopic
	progress := "burrow-" + s.cfg.Name
	handed := true // whether every request of the record was handed to storage
	emit := func(r *protocol.StorageRequest) { handed = s.out.send(ctx, r) && handed }
	left := len(until)
	wait := backoff{first: s.timing.backoffFirst, limit: s.timing.backoffLimit}
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return
		}
		failed := s.failures(fs)
		if failed == 0 {
			s.health.ok()
			wait.reset()
		}
		now := time.Now().Unix() * 1000 // whole seconds, as the original stamps its progress
		fs.EachRecord(func(rec *kgo.Record) {
			at := pos.of(rec.Partition)
			last := false // the backfill of the partition ends with this record
			if until != nil {
				end, ok := until[rec.Partition]
				if !ok {
					return
				}
				if rec.Offset >= end-1 {
					delete(until, rec.Partition)
					left--
					cl.PauseFetchPartitions(map[string][]int32{topic: {rec.Partition}})
					if rec.Offset >= end { // the live reader reads it
						at.backfilled()
						return
					}
					last = true
				}
			}
			// Warren's own progress, as the group burrow-<module name>.
			handed = true
			emit(&protocol.StorageRequest{RequestType: protocol.StorageSetConsumerOffset,
				Cluster: s.cfg.Cluster, Group: progress, Topic: topic, Partition: rec.Partition,
				Offset: rec.Offset + 1, Order: rec.Offset, Timestamp: now})
			if why, detail := s.dec.decode(rec.Key, rec.Value, rec.Offset, emit); why != skipNone {
				s.skipped(why, detail, rec)
			}
			if !handed { // stopping: the record counts as not read
				return
			}
			// Read only now that storage holds its requests: a snapshot of
			// the positions is never ahead of storage's.
			switch {
			case last:
				at.backfilled()
			case until != nil:
				at.backfill.Store(rec.Offset + 1)
			default:
				at.next.Store(rec.Offset + 1)
			}
			s.Records.Add(1)
		})
		if until != nil && left == 0 {
			s.log.Info("backfill done")
			return
		}
		// The client fetches again as soon as a fetch is polled, and a topic
		// that cannot be read fails each fetch at once: without a wait, the
		// reader spins (480,782 errors in 45 s, before this wait).
		if failed > 0 && !s.timing.sleep(ctx, wait.next()) {
			return
		}
	}
}

// failures counts the errors of a poll and records them in the topic's health.
func (s *TopicSource) failures(fs kgo.Fetches) int {
	n := 0
	var first error
	fs.EachError(func(t string, p int32, err error) {
		n++
		if first == nil {
			first = err
		}
		if ce := s.log.Check(zap.DebugLevel, "cannot read a partition of the offsets topic"); ce != nil {
			ce.Write(zap.String("topic", t), zap.Int32("partition", p), zap.Error(err))
		}
	})
	if n > 0 {
		s.Errors.Add(uint64(n))
		s.health.failed(n, first)
	}
	return n
}

// skipped counts a skipped record and logs it: a malformed record as a
// throttled warning, the others at debug level.
func (s *TopicSource) skipped(why skip, detail string, rec *kgo.Record) {
	s.dec.skips[why].Add(1)
	if skipWarns[why] {
		s.warnings.Warn(s.log, "skipped a record of the offsets topic", zap.String("reason", skipNames[why]),
			zap.String("detail", detail), zap.Int32("partition", rec.Partition), zap.Int64("offset", rec.Offset))
		return
	}
	if ce := s.log.Check(zap.DebugLevel, "skipped a record of the offsets topic"); ce != nil {
		ce.Write(zap.String("reason", skipNames[why]), zap.String("detail", detail),
			zap.Int32("partition", rec.Partition), zap.Int64("offset", rec.Offset))
	}
}

// Stop ends the readers and closes their connections.
func (s *TopicSource) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	for _, cl := range s.clients {
		cl.Close()
	}
	s.wg.Wait()
	s.cancel, s.clients = nil, nil
}

// Stats returns the source's counts; its rounds are the records read.
func (s *TopicSource) Stats() Stats {
	return Stats{Errors: s.Errors.Load(), Rounds: s.Records.Load(), Skips: s.Skips(), Source: config.SourceTopic}
}

// Skips returns the records skipped, by reason.
func (s *TopicSource) Skips() map[string]uint64 { return s.dec.Skips() }

// probe reports whether the offsets topic can be read now and, if so, each
// partition's end offset, where reading can resume. It fetches at those ends,
// which returns no data but fails as the readers' fetches fail: listing offsets
// alone would not do, as it needs only Describe, which an ACL denying Read
// leaves allowed. Its metadata request is its own, not kadm's cached one, which
// would keep an error for seconds after the topic became readable.
func (s *TopicSource) probe(ctx context.Context, cl *kgo.Client) (map[int32]int64, error) {
	topic := s.cfg.OffsetsTopic
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = []kmsg.MetadataRequestTopic{mt}
	md, err := mreq.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if len(md.Topics) != 1 || len(md.Topics[0].Partitions) == 0 {
		return nil, fmt.Errorf("%w: %s has no partitions", ErrNoOffsetsTopic, topic)
	}
	td := md.Topics[0]
	if err := kerr.ErrorForCode(td.ErrorCode); err != nil {
		return nil, err
	}
	listed, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, err
	}
	ends := make(map[int32]int64, len(td.Partitions))
	fetches := map[int32]*kmsg.FetchRequest{} // by leader
	for _, pd := range td.Partitions {
		if err := kerr.ErrorForCode(pd.ErrorCode); err != nil {
			return nil, fmt.Errorf("partition %d: %w", pd.Partition, err)
		}
		end, ok := listed.Lookup(topic, pd.Partition)
		if !ok {
			return nil, fmt.Errorf("partition %d: no end offset", pd.Partition)
		}
		ends[pd.Partition] = end.Offset
		req := fetches[pd.Leader]
		if req == nil {
			req = kmsg.NewPtrFetchRequest() // MaxWaitMillis 0: answered at once
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = topic, td.TopicID
			req.Topics = []kmsg.FetchRequestTopic{rt}
			fetches[pd.Leader] = req
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = pd.Partition, end.Offset, 1
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	}
	for leader, req := range fetches {
		if err := fetchable(ctx, cl.Broker(int(leader)), req); err != nil {
			return nil, err
		}
	}
	return ends, nil
}

// fetchable sends a probe's Fetch and reports the first error it answers.
// Offsets out of range (the log moved on since they were listed) are readable.
func fetchable(ctx context.Context, b *kgo.Broker, req *kmsg.FetchRequest) error {
	kresp, err := b.Request(ctx, req)
	if err != nil {
		return err
	}
	resp := kresp.(*kmsg.FetchResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return err
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil && !errors.Is(err, kerr.OffsetOutOfRange) {
				return fmt.Errorf("partition %d: %w", p.Partition, err)
			}
		}
	}
	return nil
}
