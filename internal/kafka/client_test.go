package kafka

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// TestSASL connects the cluster module to kfake with each SASL mechanism a
// client profile can name, with the right and a wrong password.
func TestSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(mech, "warren", "s3cret"),
				kfake.SeedTopics(1, "orders"))
			if err != nil {
				t.Fatal(err)
			}
			defer kf.Close()
			for _, tt := range []struct {
				pass string
				ok   bool
			}{{"s3cret", true}, {"wrong", false}} {
				cfg := config.Cluster{Name: "local", Servers: kf.ListenAddrs(), TopicRefresh: time.Hour, OffsetRefresh: time.Hour,
					Profile: &config.ClientProfile{ClientID: "warren-test", DialTimeout: 2 * time.Second,
						SASL: &config.SASL{Name: "s", Mechanism: mech, Username: "warren", Password: tt.pass}}}
				storage := make(chan *protocol.StorageRequest, 100)
				c, err := NewCluster(cfg, storage, zap.NewNop())
				if err != nil {
					t.Fatal(err)
				}
				err = c.Start()
				if err == nil {
					c.Stop()
				}
				if (err == nil) != tt.ok {
					t.Errorf("password %q: start error %v", tt.pass, err)
				}
			}
		})
	}
}

func TestTLSProfileErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, tt := range []struct {
		tls  config.TLS
		want string
	}{
		{config.TLS{CAFile: filepath.Join(dir, "missing.pem")}, "cannot read TLS CA file"},
		{config.TLS{CAFile: notPEM}, "no PEM certificate found"},
		{config.TLS{CertFile: notPEM, KeyFile: notPEM}, "cannot read TLS certificate or key file"},
	} {
		_, err := ClientOptions([]string{"k:9092"}, &config.ClientProfile{TLS: &tt.tls})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v", tt.tls, err)
		}
	}
	if _, err := ClientOptions([]string{"k:9092"}, &config.ClientProfile{TLS: &config.TLS{NoVerify: true}}); err != nil {
		t.Error(err)
	}
}
