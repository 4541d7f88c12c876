package ask_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/protocol"
)

func TestClientAgainstStorageAndEvaluator(t *testing.T) {
	ec, sc := evaluator.StorageAndEvaluatorCoordinatorsWithOffsets()
	t.Cleanup(func() { ec.Stop(); sc.Stop() })
	c := &ask.Client{Storage: sc.App.StorageChannel, Evaluator: sc.App.EvaluatorChannel}
	ctx := context.Background()

	clusters, err := c.Clusters(ctx)
	if err != nil || !reflect.DeepEqual(clusters, []string{"testcluster"}) {
		t.Fatalf("Clusters = %v, %v", clusters, err)
	}
	groups, ok, err := c.Groups(ctx, "testcluster")
	if err != nil || !ok || !reflect.DeepEqual(groups, []string{"testgroup", "testgroup2"}) {
		t.Fatalf("Groups = %v, %v, %v", groups, ok, err)
	}
	if _, ok, err := c.Groups(ctx, "nosuch"); ok || err != nil {
		t.Fatalf("Groups of an unknown cluster: ok %v, err %v; want false, nil", ok, err)
	}
	st, err := c.Status(ctx, "testcluster", "testgroup", true)
	if err != nil || st.Status == protocol.StatusNotFound || len(st.Partitions) != 1 {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	st, err = c.Status(ctx, "testcluster", "nosuch", false)
	if err != nil || st.Status != protocol.StatusNotFound {
		t.Fatalf("Status of an unknown group = %+v, %v; want NOTFOUND", st, err)
	}
	var walked []string
	if err := c.EachGroup(ctx, func(cluster, group string) error {
		walked = append(walked, cluster+"/"+group)
		return nil
	}); err != nil || !reflect.DeepEqual(walked, []string{"testcluster/testgroup", "testcluster/testgroup2"}) {
		t.Fatalf("EachGroup walked %v, %v", walked, err)
	}
	stop := errors.New("stop")
	if err := c.EachGroup(ctx, func(string, string) error { return stop }); err != stop {
		t.Fatalf("EachGroup returned %v, want fn's error", err)
	}
}

func TestClientNoAnswer(t *testing.T) {
	// Nobody reads these channels: every call must give up after Wait.
	c := &ask.Client{Storage: make(chan *protocol.StorageRequest), Evaluator: make(chan *protocol.EvaluatorRequest), Wait: 20 * time.Millisecond}
	ctx := context.Background()
	if _, err := c.Clusters(ctx); !errors.Is(err, ask.ErrNoAnswer) {
		t.Errorf("Clusters: %v, want ask.ErrNoAnswer", err)
	}
	if _, err := c.Status(ctx, "a", "b", false); !errors.Is(err, ask.ErrNoAnswer) {
		t.Errorf("Status: %v, want ask.ErrNoAnswer", err)
	}
	// A storage that takes the request and never answers.
	ch := make(chan *protocol.StorageRequest, 1)
	c.Storage = ch
	if _, _, err := c.Fetch(ctx, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters}); !errors.Is(err, ask.ErrNoAnswer) {
		t.Errorf("Fetch without an answer: %v, want ask.ErrNoAnswer", err)
	}
	// A cancelled context ends the wait at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	c.Wait = time.Hour
	if _, err := c.Clusters(cctx); !errors.Is(err, ask.ErrNoAnswer) {
		t.Errorf("Clusters with a cancelled context: %v, want ask.ErrNoAnswer", err)
	}
}
