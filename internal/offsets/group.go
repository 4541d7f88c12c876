package offsets

import (
	"github.com/warrenlag/warren/protocol"
)

// shard is the state that one worker owns: the groups hashed to it. It is not
// goroutine safe; only its worker (or, before Start, the dispatcher) touches it.
type shard struct {
	s      *Store
	set    settings
	groups []map[string]*group // by cluster index

	// The group and topic of the previous commit or owner: a group's commits
	// come in runs (one offset commit covers many partitions).
	lastCl    int32
	lastName  string
	lastGroup *group
	lastTopic *topic // of lastGroup
	lastTName string

	// verdicts caches what the allow/deny lists said of group names that are not
	// stored, so that a rejected group's commits cost no regular expression. It
	// is emptied when it reaches maxVerdicts.
	verdicts map[string]bool

	_ [shardPad]byte
}

const maxVerdicts = 4096

// shardPad keeps shards apart, so that two workers never write one cache line.
const shardPad = 128

// group is one consumer group of one cluster.
type group struct {
	topics     map[string]*topic
	lastCommit int64 // Timestamp of the newest appended commit

	// owners holds the distinct (owner, client id) pairs of the group;
	// part.owner is an index into it, plus one.
	owners   []owner
	ownerIdx map[owner]uint32
}

type owner struct {
	host, clientID string
}

// topic is a group's view of one topic: a window per partition, all in one slab.
// Partition p owns hist[p*intervals : (p+1)*intervals].
type topic struct {
	parts []part
	hist  []entry
}

// part is the header of one partition's window.
type part struct {
	owner uint32 // index+1 into group.owners; 0 = none
	span         // head == noWindow: never committed to nor owned
}

// noWindow marks a partition whose window was never used. Intervals is at most
// MaxIntervals, so no valid head takes this value.
const noWindow = 1<<16 - 1

// entry is one stored commit. It has no pointers, so the GC never scans windows.
type entry struct {
	offset int64
	order  int64
	ts     int64
	obs    int64 // observed time << 1 | 1 when lag is known
	lag    uint64
}

func (e *entry) lagKnown() bool  { return e.obs&1 == 1 }
func (e *entry) observed() int64 { return e.obs >> 1 }

func newShard(s *Store, clusters int) *shard {
	sh := &shard{s: s, set: s.set, groups: make([]map[string]*group, clusters)}
	for i := range sh.groups {
		sh.groups[i] = make(map[string]*group)
	}
	return sh
}

// do applies one request.
func (sh *shard) do(m *msg) {
	r := &m.r
	switch r.RequestType {
	case protocol.StorageSetConsumerOffset:
		sh.setOffset(m)
	case protocol.StorageSetConsumerOwner:
		sh.setOwner(m)
	case protocol.StorageSetConsumerRepeat:
		sh.repeat(m)
	case protocol.StorageClearConsumerOwners:
		sh.clearOwners(m)
	case protocol.StorageSetDeleteGroup:
		sh.deleteGroup(m)
	case protocol.StorageFetchConsumer:
		switch g := sh.fetchGroup(m); {
		case g == nil:
			sh.s.answer(r, nil, false)
		case r.Topic == protocol.WindowsForm:
			sh.s.answer(r, sh.fetchWindows(m, g), true)
		default:
			sh.s.answer(r, sh.fetchConsumer(m, g), true)
		}
	case protocol.StorageSetDeleteTopic:
		sh.forget()
		for _, g := range sh.groups[m.cl] {
			delete(g.topics, r.Topic)
		}
		m.fan.done(sh.s, r, nil)
	case protocol.StorageFetchConsumers:
		names := make([]string, 0, len(sh.groups[m.cl]))
		for name := range sh.groups[m.cl] {
			names = append(names, name)
		}
		m.fan.done(sh.s, r, names)
	case snapshotRequest:
		sh.snapshotSlice(m.snap)
	case protocol.StorageFetchConsumersForTopic:
		var names []string
		for name, g := range sh.groups[m.cl] {
			if _, ok := g.topics[r.Topic]; ok {
				names = append(names, name)
			}
		}
		m.fan.done(sh.s, r, names)
	}
}

// forget empties the one-entry caches, before anything is deleted.
func (sh *shard) forget() {
	sh.lastGroup, sh.lastTopic = nil, nil
}

// group returns the named group of cluster cl, or nil.
func (sh *shard) group(cl int32, name string) *group {
	if sh.lastGroup != nil && name == sh.lastName && cl == sh.lastCl {
		return sh.lastGroup
	}
	return sh.groups[cl][name]
}

// newGroup creates the named group of cluster cl.
func (sh *shard) newGroup(cl int32, name string) *group {
	g := &group{topics: make(map[string]*topic)}
	sh.groups[cl][name] = g
	return g
}

// accept applies the allow and deny lists to a group that is not stored yet.
func (sh *shard) accept(name string) bool {
	s := &sh.set
	if s.allow == nil && s.deny == nil {
		return true
	}
	if ok, seen := sh.verdicts[name]; seen {
		return ok
	}
	ok := (s.allow == nil || s.allow.MatchString(name)) && (s.deny == nil || !s.deny.MatchString(name))
	if sh.verdicts == nil || len(sh.verdicts) >= maxVerdicts {
		sh.verdicts = make(map[string]bool)
	}
	sh.verdicts[name] = ok
	return ok
}

// partition returns the window of partition p of topic name in g, creating the
// topic (sized to the broker's count) and growing it as needed. The window is
// marked as used.
func (sh *shard) partition(cl int32, group string, g *group, name string, p int, count int) (*part, []entry) {
	size := sh.set.intervals
	var t *topic
	if g == sh.lastGroup && sh.lastTopic != nil && name == sh.lastTName {
		t = sh.lastTopic
	} else {
		t = g.topics[name]
		if t == nil {
			t = &topic{}
			g.topics[name] = t
		}
		sh.lastCl, sh.lastName, sh.lastGroup = cl, group, g
		sh.lastTName, sh.lastTopic = name, t
	}
	if p >= len(t.parts) {
		n := max(count, p+1)
		parts := make([]part, n)
		copy(parts, t.parts)
		for i := len(t.parts); i < n; i++ {
			parts[i].head = noWindow
		}
		hist := make([]entry, n*size)
		copy(hist, t.hist)
		t.parts, t.hist = parts, hist
	}
	pt := &t.parts[p]
	if pt.head == noWindow {
		pt.head = 0
	}
	return pt, t.hist[p*size : (p+1)*size]
}

// setOffset applies a StorageSetConsumerOffset, in the order of the spec's steps.
func (sh *shard) setOffset(m *msg) {
	s, r := sh.s, &m.r
	now := m.now
	if r.Timestamp < now-sh.set.expireMs {
		s.drops.add(expired, r)
		return
	}
	g, pt, ring := sh.window(m)
	if g == nil {
		return
	}
	// The observed time is whole seconds in milliseconds, as the original
	// stamps it (time.Now().Unix()*1000): clients compare it with that.
	c := entry{offset: r.Offset, order: r.Order, ts: r.Timestamp, obs: now / 1000 * 1000 << 1}
	res := place(ring, &pt.span, c, m.broker, sh.set.minDistMs)
	if res.why != accepted {
		s.drops.add(res.why, r)
		return
	}
	if res.appended {
		g.lastCommit = r.Timestamp
	}
}

// placed says what place did with a commit.
type placed struct {
	why      reason // accepted, tooOld or duplicate
	appended bool   // it was newer than every stored commit
}

// place stores commit c in the window ring (header sp) by its Order, as the
// spec's placement rules say: append, insert, replace, merge (min-distance) or
// drop. broker is the partition's newest broker offset, for the lag of an append.
func place(ring []entry, sp *span, c entry, broker int64, minDistMs int64) placed {
	size := len(ring)
	n := int(sp.n)
	head := int(sp.head)
	at := func(i int) *entry {
		i += head
		if i >= size {
			i -= size
		}
		return &ring[i]
	}
	full := n == size

	// Where does it go? prev is the entry just before that place, which a commit
	// closer than min-distance merges into; -1 when there is none.
	const (
		doAppend = iota
		doFront
		doReplaceOldest
		doInsert
	)
	var how, prev, j int
	switch {
	case n == 0 || c.order > at(n-1).order:
		how, prev = doAppend, n-1
	case full && c.order <= at(0).order:
		return placed{why: tooOld}
	default:
		j = n - 1
		for j >= 0 && at(j).order > c.order {
			j--
		}
		switch {
		case j >= 0 && at(j).order == c.order:
			return placed{why: duplicate}
		case j < 0:
			how, prev = doFront, -1
		case full && j == 0:
			how, prev = doReplaceOldest, -1
		default:
			how, prev = doInsert, j
		}
	}

	if how == doAppend {
		c.obs |= 1
		if broker > c.offset {
			c.lag = uint64(broker - c.offset)
		}
	}
	res := placed{appended: how == doAppend}

	if prev >= 0 {
		// prev holds a smaller Order than c by construction.
		if pe := at(prev); c.ts-pe.ts < minDistMs {
			c.ts = pe.ts
			*pe = c
			return res
		}
	}

	switch how {
	case doAppend:
		if full {
			*at(0) = c
			head++
			if head == size {
				head = 0
			}
		} else {
			*at(n) = c
			n++
		}
	case doFront:
		head--
		if head < 0 {
			head = size - 1
		}
		*at(0) = c
		n++
	case doReplaceOldest:
		*at(0) = c
	case doInsert:
		if full {
			// The oldest falls out; everything moves one place towards it.
			head++
			if head == size {
				head = 0
			}
			n--
			j--
		}
		for k := n; k > j+1; k-- {
			*at(k) = *at(k - 1)
		}
		*at(j + 1) = c
		n++
	}
	sp.head, sp.n = uint16(head), uint16(n)
	return res
}

// setOwner applies a StorageSetConsumerOwner.
func (sh *shard) setOwner(m *msg) {
	r := &m.r
	if g, pt, _ := sh.window(m); g != nil {
		pt.owner = g.ownerIndex(owner{host: r.Owner, clientID: r.ClientID})
	}
}

// window applies the checks that a commit and an owner share (the lists, then
// the broker facts), creates what is missing, and returns the group and the
// partition's window; a nil group when the request is dropped (and counted).
func (sh *shard) window(m *msg) (*group, *part, []entry) {
	r := &m.r
	g := sh.group(m.cl, r.Group)
	if g == nil && !sh.accept(r.Group) {
		sh.s.drops.add(groupRejected, r)
		return nil, nil, nil
	}
	if why := m.why(); why != accepted {
		sh.s.drops.add(why, r)
		return nil, nil, nil
	}
	if g == nil {
		g = sh.newGroup(m.cl, r.Group)
	}
	pt, ring := sh.partition(m.cl, r.Group, g, r.Topic, int(r.Partition), int(m.count))
	return g, pt, ring
}

// ownerIndex returns the index+1 of o in g.owners, adding it when new. The table
// is rebuilt from the partitions when it holds many more owners than are in use,
// so owners that come and go do not pile up.
func (g *group) ownerIndex(o owner) uint32 {
	if o == (owner{}) {
		return 0
	}
	if i, ok := g.ownerIdx[o]; ok {
		return i
	}
	if len(g.owners) >= 64 && len(g.owners) >= 2*g.partitionCount() {
		g.compactOwners()
	}
	if g.ownerIdx == nil {
		g.ownerIdx = make(map[owner]uint32)
	}
	g.owners = append(g.owners, o)
	i := uint32(len(g.owners))
	g.ownerIdx[o] = i
	return i
}

func (g *group) partitionCount() int {
	n := 0
	for _, t := range g.topics {
		n += len(t.parts)
	}
	return n
}

// compactOwners drops owners no partition refers to.
func (g *group) compactOwners() {
	old := g.owners
	g.owners = nil
	g.ownerIdx = make(map[owner]uint32)
	for _, t := range g.topics {
		for i := range t.parts {
			pt := &t.parts[i]
			if pt.owner == 0 {
				continue
			}
			o := old[pt.owner-1]
			idx, ok := g.ownerIdx[o]
			if !ok {
				g.owners = append(g.owners, o)
				idx = uint32(len(g.owners))
				g.ownerIdx[o] = idx
			}
			pt.owner = idx
		}
	}
}

// clearOwners applies a StorageClearConsumerOwners.
func (sh *shard) clearOwners(m *msg) {
	r := &m.r
	g := sh.groups[m.cl][r.Group]
	if g == nil {
		if !sh.accept(r.Group) {
			sh.s.drops.add(groupRejected, r)
		}
		return
	}
	for _, t := range g.topics {
		for i := range t.parts {
			t.parts[i].owner = 0
		}
	}
	g.owners, g.ownerIdx = nil, nil
}

// deleteGroup applies a StorageSetDeleteGroup.
func (sh *shard) deleteGroup(m *msg) {
	r := &m.r
	groups := sh.groups[m.cl]
	g := groups[r.Group]
	if g == nil {
		return
	}
	sh.forget()
	if r.Topic != "" {
		delete(g.topics, r.Topic)
		if len(g.topics) > 0 {
			return
		}
	}
	delete(groups, r.Group)
}
