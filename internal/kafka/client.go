// Package kafka is Warren's Kafka side: the cluster module, which records the
// topics and newest offsets of a cluster, and the consumer module, which records
// the committed offsets and owners of its consumer groups. Both talk to Kafka
// with franz-go and to storage with protocol.StorageRequest values.
package kafka

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/tlsconf"
	"github.com/warrenlag/warren/protocol"
)

// ClientOptions maps a client profile to franz-go options. The Kafka version is
// only checked by the configuration: franz-go negotiates versions with the broker.
func ClientOptions(servers []string, p *config.ClientProfile) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(servers...)}
	if p == nil {
		p = &config.ClientProfile{ClientID: "burrow-lagchecker"}
	}
	if p.ClientID != "" {
		opts = append(opts, kgo.ClientID(p.ClientID))
	}
	dialTimeout := p.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = 10 * time.Second
	}
	dialer := &net.Dialer{Timeout: dialTimeout}
	if p.ReadTimeout > 0 {
		opts = append(opts, kgo.RequestTimeoutOverhead(p.ReadTimeout))
	}
	if p.TLS != nil {
		tc, err := tlsconf.Files(p.TLS.CAFile, p.TLS.CertFile, p.TLS.KeyFile, p.TLS.NoVerify)
		if err != nil {
			return nil, err
		}
		td := &tls.Dialer{NetDialer: dialer, Config: tc}
		opts = append(opts, kgo.Dialer(td.DialContext))
	} else {
		opts = append(opts, kgo.Dialer(dialer.DialContext))
	}
	if s := p.SASL; s != nil {
		switch s.Mechanism {
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()))
		default:
			opts = append(opts, kgo.SASL(plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()))
		}
	}
	return opts, nil
}

// connect creates a client and checks that the cluster answers, within
// connectTimeout. what names the module in errors.
func connect(what string, servers []string, opts []kgo.Opt) (*kgo.Client, *kadm.Client, error) {
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	adm := kadm.NewClient(client)
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if _, err := adm.ListBrokers(ctx); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("%s: cannot reach Kafka at %v: %w", what, servers, err)
	}
	return client, adm, nil
}

// background runs a module's loop on its own goroutine until stopped.
type background struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (b *background) start(loop func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan struct{})
	go func() {
		defer close(b.done)
		loop(ctx)
	}()
}

// stop ends the loop and waits for it; it reports whether it was running.
func (b *background) stop() bool {
	if b.cancel == nil {
		return false
	}
	b.cancel()
	<-b.done
	b.cancel = nil
	return true
}

// sender sends requests to storage. It waits for storage rather than dropping,
// and gives up only when ctx ends (shutdown).
type sender struct {
	ch chan *protocol.StorageRequest
	// orders, when set, raises the Order of commits (offsets-source auto).
	orders *orders
}

func (s sender) send(ctx context.Context, r *protocol.StorageRequest) bool {
	if s.orders != nil {
		switch r.RequestType {
		case protocol.StorageSetConsumerOffset:
			s.orders.place(r)
		case protocol.StorageSetConsumerRepeat:
			// Offset holds the previous poll's Order, raised as it was.
			r.Offset += s.orders.base.Load()
			s.orders.place(r)
		}
	}
	select {
	case s.ch <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// ask sends a fetch and waits for its answer, within limit.
func (s sender) ask(ctx context.Context, r *protocol.StorageRequest, limit time.Duration) (any, bool, error) {
	c := ask.Client{Storage: s.ch, Wait: limit}
	return c.Fetch(ctx, r)
}
