package notifier

import (
	"slices"
	"strings"
	"time"
)

// Incident is an open incident of a group, as Incidents lists it.
type Incident struct {
	// Cluster and Group name the group.
	Cluster, Group string
	// ID is the incident's ID, carried by every notification of it.
	ID string
	// Start is when the incident opened: the scheduled time of the evaluation
	// that first found the group at WARN or worse.
	Start time.Time
	// Told lists, in name order, the modules that sent an open notification
	// of it (their threshold reached, their filters passed); empty while none
	// has yet.
	Told []string
}

// Incidents returns the open incidents, sorted by cluster and group. The
// result is the caller's own. It may be called at any time from any
// goroutine: while the coordinator runs it stops the loop only to copy the
// state, as Snapshot does; before Start it lists what Restore put in.
func (c *Coordinator) Incidents() []Incident {
	in := c.incidents()
	n := len(c.modules)
	out := make([]Incident, 0, len(in.groups))
	for i := range in.groups {
		g := &in.groups[i]
		if g.id == "" {
			continue // only a module's last notification is left: no incident
		}
		inc := Incident{Cluster: g.key.cluster, Group: g.key.group, ID: g.id, Start: time.Unix(0, g.start)}
		for j, ns := range in.last[i*n : (i+1)*n] {
			if ns != notSet {
				inc.Told = append(inc.Told, c.modules[j].cfg.Name)
			}
		}
		out = append(out, inc)
	}
	slices.SortFunc(out, func(a, b Incident) int {
		if d := strings.Compare(a.Cluster, b.Cluster); d != 0 {
			return d
		}
		return strings.Compare(a.Group, b.Group)
	})
	return out
}
