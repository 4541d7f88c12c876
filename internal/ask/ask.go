// Package ask is the one way the rest of Warren asks storage and the evaluator
// a question over their channels: a request, a reply channel and one timeout
// rule, with one sentinel error for "no answer".
//
// The timeout rule: every call waits at most Client.Wait (10 s when zero) in
// all, for the request to be taken and for its answer, and less if ctx ends
// first. A reply channel is always buffered, so a coordinator that answers
// late never blocks on a caller that gave up.
package ask

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/warrenlag/warren/protocol"
)

// ErrNoAnswer is returned when storage or the evaluator did not take a request
// or did not answer it in time (or ctx ended first).
var ErrNoAnswer = errors.New("no answer in time")

// DefaultWait is the wait of a Client whose Wait is zero.
const DefaultWait = 10 * time.Second

// Client asks storage and the evaluator. Its zero fields are unusable: a nil
// channel blocks until the wait is over. A Client is safe for concurrent use.
type Client struct {
	// Storage is the storage coordinator's channel.
	Storage chan<- *protocol.StorageRequest
	// Evaluator is the evaluator coordinator's channel; nil when there is none.
	Evaluator chan<- *protocol.EvaluatorRequest
	// Wait bounds every call; DefaultWait when zero.
	Wait time.Duration
}

func (c *Client) wait() time.Duration {
	if c.Wait > 0 {
		return c.Wait
	}
	return DefaultWait
}

// Fetch sends r to storage, with a fresh reply channel, and returns its answer.
// ok is false when storage closed the reply without a value (an unknown
// cluster, group or topic); err is ErrNoAnswer (wrapped) when no answer came.
func (c *Client) Fetch(ctx context.Context, r *protocol.StorageRequest) (v any, ok bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.wait())
	defer cancel()
	r.Reply = make(chan any, 1)
	select {
	case c.Storage <- r:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("storage %s: %w", r.RequestType, ErrNoAnswer)
	}
	select {
	case v, ok = <-r.Reply:
		return v, ok, nil
	case <-ctx.Done():
		return nil, false, fmt.Errorf("storage %s: %w", r.RequestType, ErrNoAnswer)
	}
}

// names fetches a list of names and returns a sorted copy.
func (c *Client) names(ctx context.Context, r *protocol.StorageRequest) ([]string, bool, error) {
	v, ok, err := c.Fetch(ctx, r)
	if err != nil || !ok {
		return nil, ok, err
	}
	names, _ := v.([]string)
	out := slices.Clone(names)
	slices.Sort(out)
	return out, true, nil
}

// Clusters returns the names of the clusters storage knows, sorted.
func (c *Client) Clusters(ctx context.Context) ([]string, error) {
	out, _, err := c.names(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters})
	return out, err
}

// Groups returns the consumer groups of cluster, sorted; ok is false when
// storage does not know the cluster.
func (c *Client) Groups(ctx context.Context, cluster string) (groups []string, ok bool, err error) {
	return c.names(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: cluster})
}

// Status asks the evaluator for a group's status; showAll lists every
// partition. An unknown group is a status of NOTFOUND, not an error.
func (c *Client) Status(ctx context.Context, cluster, group string, showAll bool) (*protocol.ConsumerGroupStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, c.wait())
	defer cancel()
	r := &protocol.EvaluatorRequest{Reply: make(chan *protocol.ConsumerGroupStatus, 1), Cluster: cluster, Group: group, ShowAll: showAll}
	select {
	case c.Evaluator <- r:
	case <-ctx.Done():
		return nil, fmt.Errorf("evaluator: %w", ErrNoAnswer)
	}
	select {
	case st := <-r.Reply:
		if st == nil {
			return nil, fmt.Errorf("evaluator answered nil: %w", ErrNoAnswer)
		}
		return st, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("evaluator: %w", ErrNoAnswer)
	}
}

// EachGroup calls fn for every group of every cluster, in name order. A
// cluster that vanished meanwhile is skipped; the first error, from storage or
// from fn, ends the walk and is returned.
func (c *Client) EachGroup(ctx context.Context, fn func(cluster, group string) error) error {
	clusters, err := c.Clusters(ctx)
	if err != nil {
		return err
	}
	for _, cluster := range clusters {
		groups, _, err := c.Groups(ctx, cluster)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := fn(cluster, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// Send hands a request that needs no answer (a set or a delete) to storage,
// within the wait.
func (c *Client) Send(ctx context.Context, r *protocol.StorageRequest) error {
	ctx, cancel := context.WithTimeout(ctx, c.wait())
	defer cancel()
	select {
	case c.Storage <- r:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("storage %s: %w", r.RequestType, ErrNoAnswer)
	}
}
