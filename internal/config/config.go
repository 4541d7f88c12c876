package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cast"
	"github.com/spf13/viper"
)

// Config is the checked configuration of every section Warren reads. The raw
// keys stay in V, which the compatible coordinators (storage, evaluator) read
// themselves.
type Config struct {
	V         *viper.Viper
	General   General
	Logging   Logging
	Zookeeper Zookeeper
	HTTP      []HTTPServer
	Clusters  []Cluster
	Consumers []Consumer
	// ClusterTables and ConsumerTables are every [cluster.NAME] and
	// [consumer.NAME] table, in name order, including those left out (an
	// unsupported class or authentication), which /v3/config still shows.
	ClusterTables  []Cluster
	ConsumerTables []Consumer
	Storage        Storage
	Evaluator      Evaluator
	Notifiers      []Notifier
	// HA is [ha]: several instances, one of them sending notifications.
	HA HA

	// Warnings are things Warren ignores or does not support, one line each.
	Warnings []string
}

// General is [general].
type General struct {
	PIDFile                  string
	StdoutLogfile            string
	AccessControlAllowOrigin string

	// StateDir is Warren's state-dir: the folder of the state file, by default
	// warren-state beside the PID file; empty turns the state file off.
	StateDir string
	// StateInterval is Warren's state-interval: how often the state file is
	// written (and once more at stop).
	StateInterval time.Duration
	// GCPercent is the garbage collector's target heap growth over the live
	// heap, in percent (Go's GOGC; key gc-percent, default DefaultGCPercent).
	GCPercent int
	// MemoryLimit is the Go runtime's soft memory limit in bytes (key
	// memory-limit, in MiB): MemoryLimitAuto (the default) for 90 % of the
	// container's memory limit when there is one, 0 for none.
	MemoryLimit int64
}

// DefaultStateDirName is the state folder's name beside the PID file.
const DefaultStateDirName = "warren-state"

// DefaultGCPercent is gc-percent's default. Storage's windows, most of the
// heap, hold no pointers and cost the collector next to nothing to mark, so a
// collection is cheap and a low target keeps resident memory close to the
// live heap: about 1.3 times it after a burst of commits, where Go's default
// of 100 lets it reach twice the live heap and keeps those pages.
const DefaultGCPercent = 25

// MemoryLimitAuto is General.MemoryLimit when memory-limit is "auto".
const MemoryLimitAuto = -1

// Zookeeper is [zookeeper], which Warren does not use: /v3/config shows it.
type Zookeeper struct {
	Servers  []string
	Timeout  int
	RootPath string
}

// Logging is [logging].
type Logging struct {
	Level          string
	Filename       string
	MaxSize        int
	MaxBackups     int
	MaxAge         int
	UseLocalTime   bool
	UseCompression bool
}

// Mutating routes (DELETE, POST loglevel) of an HTTP server: open as in Burrow,
// disabled, or protected by a bearer token.
const (
	MutatingOpen     = "open"
	MutatingDisabled = "disabled"
	MutatingToken    = "token"
)

// HTTPServer is one [httpserver.NAME] listener.
type HTTPServer struct {
	Name    string
	Address string
	Timeout time.Duration
	TLSName string
	TLS     *TLS

	// Mutating is Warren's mutating-routes key: open (default), disabled or
	// token; Token is the bearer token required with "token".
	Mutating string
	Token    string

	// MaxConnections bounds the open connections of the listener (Warren's
	// max-connections); past it, new connections wait in the kernel's queue.
	MaxConnections int
	// ReadHeaderTimeout and IdleTimeout bound a connection that sends no
	// request, or no further one (Warren's read-header-timeout and
	// idle-timeout, never longer than Timeout when that is set).
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// AllowedOrigins are the browser origins (scheme://host[:port]) that may
	// call this listener from another site: CORS pre-flights are answered for
	// them, and only they may use the mutating routes cross-site.
	AllowedOrigins []string
}

// HTTP listener defaults of Warren's own keys.
const (
	DefaultMaxConnections    = 512
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
)

// ClientProfile is a [client-profile.NAME], as a cluster or consumer uses it.
type ClientProfile struct {
	Name         string
	ClientID     string
	KafkaVersion string
	TLS          *TLS
	SASL         *SASL
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	// IAM names an [iam.NAME] profile, which Warren does not support.
	IAM string
}

// TLS is a [tls.NAME] profile.
type TLS struct {
	Name     string
	CertFile string
	KeyFile  string
	CAFile   string
	NoVerify bool
}

// SASL is a [sasl.NAME] profile.
type SASL struct {
	Name           string
	Username       string
	Password       string
	Mechanism      string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	HandshakeFirst bool
}

// Cluster is a [cluster.NAME] module.
type Cluster struct {
	Name                string
	ClassName           string
	Servers             []string
	Profile             *ClientProfile
	TopicRefresh        time.Duration
	OffsetRefresh       time.Duration
	GroupsReaperRefresh time.Duration

	// ProgressGroups are the groups burrow-<consumer name> of the consumer
	// modules that feed this cluster; the groups reaper leaves them alone.
	ProgressGroups []string
}

// Where a consumer module reads committed offsets from.
const (
	SourceAuto  = "auto"
	SourceTopic = "topic"
	SourceAdmin = "admin"
)

// Consumer is a [consumer.NAME] module of class kafka.
type Consumer struct {
	Name             string
	ClassName        string
	Cluster          string
	Servers          []string
	Profile          *ClientProfile
	OffsetsTopic     string
	StartLatest      bool
	BackfillEarliest bool
	GroupAllowlist   string
	GroupDenylist    string
	OffsetsSource    string
	// Shown by /v3/config only.
	ZookeeperPath    string
	ZookeeperTimeout int
}

// parser reads keys leniently and collects every error, naming the key.
type parser struct {
	v        *viper.Viper
	errs     []error
	warnings []string
}

func (p *parser) fail(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (p *parser) str(key, def string) string {
	raw := p.v.Get(key)
	if raw == nil {
		return def
	}
	s, err := cast.ToStringE(raw)
	if err != nil {
		p.fail(key, "not a string: %v", raw)
		return def
	}
	return s
}

// lenient reads a number as the original does: of any numeric type, or a
// string holding one, spaces around it ignored. It is the one number
// conversion of every section.
func lenient[T int | int64 | float64](raw any, conv func(any) (T, error)) (T, error) {
	if s, ok := raw.(string); ok {
		raw = strings.TrimSpace(s)
	}
	return conv(raw)
}

func (p *parser) integer(key string, def int) int {
	raw := p.v.Get(key)
	if raw == nil {
		return def
	}
	n, err := lenient(raw, cast.ToIntE)
	if err != nil {
		p.fail(key, "not an integer: %v", raw)
		return def
	}
	return n
}

// memoryLimit reads a memory limit: "auto" (MemoryLimitAuto, the default),
// "off" (0), or a whole number of MiB, at least 1.
func (p *parser) memoryLimit(key string) int64 {
	raw := p.v.Get(key)
	if s, ok := raw.(string); raw == nil || ok && strings.EqualFold(strings.TrimSpace(s), "auto") {
		return MemoryLimitAuto
	} else if ok && strings.EqualFold(strings.TrimSpace(s), "off") {
		return 0
	}
	n, err := lenient(raw, cast.ToInt64E)
	if err != nil || n < 1 || n > 1<<40 {
		p.fail(key, `not "auto", "off" or a number of MiB from 1: %v`, raw)
		return MemoryLimitAuto
	}
	return n << 20
}

// positive is integer for a key that must be at least 1.
func (p *parser) positive(key string, def int) int {
	n := p.integer(key, def)
	if n < 1 {
		p.fail(key, "must be positive, got %d", n)
		return def
	}
	return n
}

// number is integer for keys that take fractions.
func (p *parser) number(key string, def float64) float64 {
	raw := p.v.Get(key)
	if raw == nil {
		return def
	}
	f, err := lenient(raw, cast.ToFloat64E)
	if err != nil {
		p.fail(key, "not a number: %v", raw)
		return def
	}
	return f
}

func (p *parser) seconds(key string, def int) time.Duration {
	n := p.integer(key, def)
	if n > 100*365*24*3600 || n < -100*365*24*3600 {
		p.fail(key, "%d seconds is out of range", n)
		return time.Duration(def) * time.Second
	}
	return time.Duration(n) * time.Second
}

func (p *parser) boolean(key string, def bool) bool {
	raw := p.v.Get(key)
	if raw == nil {
		return def
	}
	b, err := cast.ToBoolE(raw)
	if err != nil {
		p.fail(key, "not a boolean: %v", raw)
		return def
	}
	return b
}

func (p *parser) list(key string) []string {
	raw := p.v.Get(key)
	if raw == nil {
		return nil
	}
	if s, ok := raw.(string); ok {
		return strings.Fields(s)
	}
	l, err := cast.ToStringSliceE(raw)
	if err != nil {
		p.fail(key, "not a list of strings: %v", raw)
	}
	return l
}

func (p *parser) regexp(key string) string {
	s := p.str(key, "")
	if _, err := regexp.Compile(s); err != nil {
		p.fail(key, "failed to compile: %v", err)
	}
	return s
}

// names returns the module names of a section, sorted.
func (p *parser) names(section string) []string {
	var out []string
	for name := range p.v.GetStringMap(section) {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// known are the keys of each section Warren reads; others get a warning.
var known = map[string][]string{
	"general": {"pidfile", "stdout-logfile", "access-control-allow-origin", "env-var-prefix", "state-dir",
		"state-interval", "gc-percent", "memory-limit"},
	"logging":   {"level", "filename", "maxsize", "maxbackups", "maxage", "use-localtime", "use-compression"},
	"zookeeper": {"servers", "timeout", "root-path", "tls"},
	"httpserver": {"address", "timeout", "tls", "mutating-routes", "mutating-token", "max-connections",
		"read-header-timeout", "idle-timeout", "allowed-origins"},
	"client-profile": {"client-id", "kafka-version", "tls", "sasl", "iam", "dial-timeout", "read-timeout"},
	"tls":            {"certfile", "keyfile", "cafile", "noverify"},
	"sasl":           {"username", "password", "mechanism", "handshake-first"},
	"iam":            {"region", "role-arn", "profile"},
	"cluster":        {"class-name", "servers", "client-profile", "topic-refresh", "offset-refresh", "groups-reaper-refresh"},
	"consumer": {"class-name", "cluster", "servers", "client-profile", "offsets-topic", "start-latest",
		"backfill-earliest", "group-allowlist", "group-denylist", "group-whitelist", "group-blacklist",
		"zookeeper-path", "zookeeper-timeout", "offsets-source"},
	"storage": {"class-name", "intervals", "expire-group", "workers", "queue-depth", "min-distance",
		"group-allowlist", "group-denylist", "group-whitelist", "group-blacklist", "max-partitions"},
	"evaluator": {"class-name", "expire-cache", "minimum-complete", "allowed-lag"},
	"notifier": {"class-name", "group-allowlist", "group-denylist", "group-whitelist", "group-blacklist",
		"interval", "send-interval", "threshold", "send-once", "send-close", "extras", "template-open",
		"template-close", "url-open", "url-close", "method-open", "method-close", "timeout", "keepalive",
		"extra-ca", "noverify", "disable-http-keepalive", "username", "password", "headers", "server",
		"port", "from", "to", "auth-type"},
	"ha": {"cluster", "group-id", "coordination-topic", "state-topic", "create-topics", "replication-factor",
		"session-timeout", "heartbeat-interval", "rebalance-timeout"},
}

// singletons are sections without module names.
var singletons = map[string]bool{"general": true, "logging": true, "zookeeper": true, "ha": true}

// Parse checks v and returns the typed configuration, or every error found.
func Parse(v *viper.Viper) (*Config, error) {
	p := &parser{v: v}
	c := &Config{V: v}
	p.unknownKeys()

	c.General = General{
		PIDFile:                  p.str("general.pidfile", "burrow.pid"),
		StdoutLogfile:            p.str("general.stdout-logfile", ""),
		AccessControlAllowOrigin: p.str("general.access-control-allow-origin", ""),
		StateInterval:            p.seconds("general.state-interval", 60),
		GCPercent:                p.positive("general.gc-percent", DefaultGCPercent),
		MemoryLimit:              p.memoryLimit("general.memory-limit"),
	}
	c.General.StateDir = p.str("general.state-dir", filepath.Join(filepath.Dir(c.General.PIDFile), DefaultStateDirName))
	if c.General.StateInterval <= 0 {
		p.fail("general.state-interval", "must be positive")
	}
	c.Logging = Logging{
		Level:          p.str("logging.level", "info"),
		Filename:       p.str("logging.filename", ""),
		MaxSize:        p.integer("logging.maxsize", 100),
		MaxBackups:     p.integer("logging.maxbackups", 10),
		MaxAge:         p.integer("logging.maxage", 30),
		UseLocalTime:   p.boolean("logging.use-localtime", false),
		UseCompression: p.boolean("logging.use-compression", false),
	}
	if v.IsSet("zookeeper.servers") {
		c.Zookeeper.Servers = p.list("zookeeper.servers")
	}
	c.Zookeeper.Timeout = p.integer("zookeeper.timeout", 0)
	c.Zookeeper.RootPath = p.str("zookeeper.root-path", "")
	if v.IsSet("zookeeper") {
		p.warnings = append(p.warnings, "zookeeper: Warren does not use ZooKeeper; the section is ignored (for several instances with one sending notifications, see [ha])")
	}
	c.HTTP = p.httpServers()
	clusters := map[string]bool{}
	for _, name := range p.names("cluster") {
		cl, ok := p.cluster(name)
		c.ClusterTables = append(c.ClusterTables, cl)
		if ok {
			c.Clusters = append(c.Clusters, cl)
			clusters[name] = true
		}
	}
	for _, name := range p.names("consumer") {
		cs, ok := p.consumer(name, clusters)
		c.ConsumerTables = append(c.ConsumerTables, cs)
		if ok {
			c.Consumers = append(c.Consumers, cs)
			for i := range c.Clusters {
				if c.Clusters[i].Name == cs.Cluster {
					c.Clusters[i].ProgressGroups = append(c.Clusters[i].ProgressGroups, "burrow-"+name)
				}
			}
		}
	}
	var err error
	if c.Storage, err = StorageSection(v); err != nil {
		p.errs = append(p.errs, err)
	}
	if c.Evaluator, err = EvaluatorSection(v); err != nil {
		p.errs = append(p.errs, err)
	}
	if len(c.Clusters) == 0 {
		p.warnings = append(p.warnings, "cluster: no cluster is configured: Warren watches nothing (add a [cluster.NAME] table with class-name and servers)")
	}
	c.Notifiers = p.notifiers()
	p.notifierWarnings(c.Notifiers)
	c.HA = p.ha(c.Clusters)
	c.Warnings = p.warnings
	return c, errors.Join(p.errs...)
}

// unknownKeys warns once per key that Warren does not read.
func (p *parser) unknownKeys() {
	for _, key := range p.v.AllKeys() {
		parts := strings.Split(key, ".")
		section := parts[0]
		keys, ok := known[section]
		if !ok {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: unknown section, ignored", key))
			continue
		}
		var leaf string
		switch {
		case singletons[section] && len(parts) >= 2:
			leaf = parts[1]
		case !singletons[section] && len(parts) >= 3:
			leaf = parts[2]
		default:
			continue
		}
		if section == "notifier" && leaf == "extras" || section == "notifier" && leaf == "headers" {
			continue
		}
		found := false
		for _, k := range keys {
			if k == leaf {
				found = true
				break
			}
		}
		if !found {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: unknown key, ignored", key))
		}
	}
}

// notifierWarnings says, once per [notifier.NAME] table of class null, that
// it sends nothing, so that an operator never takes it for an alert path.
func (p *parser) notifierWarnings(ns []Notifier) {
	for _, n := range ns {
		if n.ClassName == NotifierNull {
			p.warnings = append(p.warnings, fmt.Sprintf("notifier.%s: class null sends nothing (use class log to see its notifications in the log)", n.Name))
		}
	}
}

func (p *parser) httpServers() []HTTPServer {
	names := p.names("httpserver")
	if len(names) == 0 {
		return []HTTPServer{{Name: "default", Address: ":0", Timeout: 300 * time.Second, Mutating: MutatingOpen,
			MaxConnections: DefaultMaxConnections, ReadHeaderTimeout: DefaultReadHeaderTimeout, IdleTimeout: DefaultIdleTimeout}}
	}
	var out []HTTPServer
	for _, name := range names {
		root := "httpserver." + name
		s := HTTPServer{
			Name:     name,
			Address:  p.str(root+".address", ""),
			Timeout:  p.seconds(root+".timeout", 300),
			TLSName:  p.str(root+".tls", ""),
			Mutating: p.str(root+".mutating-routes", MutatingOpen),
			Token:    p.str(root+".mutating-token", ""),

			MaxConnections:    p.integer(root+".max-connections", DefaultMaxConnections),
			ReadHeaderTimeout: p.seconds(root+".read-header-timeout", int(DefaultReadHeaderTimeout/time.Second)),
			IdleTimeout:       p.seconds(root+".idle-timeout", int(DefaultIdleTimeout/time.Second)),
			AllowedOrigins:    p.list(root + ".allowed-origins"),
		}
		if s.MaxConnections < 1 {
			p.fail(root+".max-connections", "must be at least 1, got %d", s.MaxConnections)
		}
		if s.ReadHeaderTimeout <= 0 {
			p.fail(root+".read-header-timeout", "must be positive")
		}
		if s.IdleTimeout <= 0 {
			p.fail(root+".idle-timeout", "must be positive")
		}
		if s.Timeout > 0 {
			s.ReadHeaderTimeout = min(s.ReadHeaderTimeout, s.Timeout)
			s.IdleTimeout = min(s.IdleTimeout, s.Timeout)
		}
		for _, o := range s.AllowedOrigins {
			if err := checkOrigin(o); err != nil {
				p.fail(root+".allowed-origins", "%q: %v", o, err)
			}
		}
		if err := checkHostPort(s.Address, true); err != nil {
			p.fail(root+".address", "invalid HTTP server listener address %q: %v", s.Address, err)
		}
		if s.Timeout < 0 {
			p.fail(root+".timeout", "must not be negative")
		}
		switch s.Mutating {
		case MutatingOpen, MutatingDisabled:
		case MutatingToken:
			if s.Token == "" {
				p.fail(root+".mutating-token", "required when mutating-routes is %q", MutatingToken)
			}
		default:
			p.fail(root+".mutating-routes", "must be %q, %q or %q, got %q", MutatingOpen, MutatingDisabled, MutatingToken, s.Mutating)
		}
		if s.TLSName != "" {
			s.TLS = p.tls(s.TLSName, root+".tls")
			if s.TLS != nil && (s.TLS.CertFile == "" || s.TLS.KeyFile == "") {
				p.fail(root+".tls", "TLS HTTP server specified with missing certificate or key")
			} else if s.TLS != nil {
				if _, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile); err != nil {
					p.fail(root+".tls", "cannot load the certificate and key of tls.%s: %v", s.TLSName, err)
				}
			}
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) tls(name, ref string) *TLS {
	root := "tls." + name
	if !p.v.IsSet(root) {
		p.fail(ref, "unknown tls profile %q", name)
		return nil
	}
	t := &TLS{
		Name:     name,
		CertFile: p.str(root+".certfile", ""),
		KeyFile:  p.str(root+".keyfile", ""),
		CAFile:   p.str(root+".cafile", ""),
		NoVerify: p.boolean(root+".noverify", false),
	}
	for key, file := range map[string]string{"certfile": t.CertFile, "keyfile": t.KeyFile, "cafile": t.CAFile} {
		if file == "" {
			continue
		}
		if _, err := os.ReadFile(file); err != nil {
			p.fail(root+"."+key, "cannot read TLS file: %v", err)
		}
	}
	return t
}

// profile reads a client profile; an empty name is the anonymous default.
func (p *parser) profile(name, ref string) *ClientProfile {
	cp := &ClientProfile{Name: name, ClientID: "burrow-lagchecker", KafkaVersion: "2.8.0"}
	if name == "" {
		return cp
	}
	root := "client-profile." + name
	if !p.v.IsSet(root) {
		p.fail(ref, "unknown client-profile '%s'", name)
		return cp
	}
	cp.ClientID = p.str(root+".client-id", cp.ClientID)
	cp.KafkaVersion = p.str(root+".kafka-version", cp.KafkaVersion)
	if p.v.IsSet(root + ".kafka-version") {
		if err := checkKafkaVersion(cp.KafkaVersion); err != nil {
			p.fail(root+".kafka-version", "%v", err)
		}
	}
	cp.DialTimeout = p.seconds(root+".dial-timeout", 0)
	cp.ReadTimeout = p.seconds(root+".read-timeout", 0)
	if p.v.IsSet(root + ".tls") {
		cp.TLS = p.tls(p.str(root+".tls", ""), root+".tls")
	}
	if p.v.IsSet(root + ".sasl") {
		cp.SASL = p.sasl(p.str(root+".sasl", ""), root+".sasl")
	}
	if p.v.IsSet(root + ".iam") {
		cp.IAM = p.str(root+".iam", "")
	}
	return cp
}

// unsupported says whether a module's profile asks for something Warren cannot
// do (AWS MSK IAM): the module is then left out, with a warning.
func (p *parser) unsupported(module string, cp *ClientProfile) bool {
	if cp.IAM == "" {
		return false
	}
	p.warnings = append(p.warnings, fmt.Sprintf("%s: client-profile %s uses iam.%s: IAM authentication is not supported; the module is left out",
		module, cp.Name, cp.IAM))
	return true
}

func (p *parser) sasl(name, ref string) *SASL {
	root := "sasl." + name
	if !p.v.IsSet(root) {
		p.fail(ref, "unknown sasl profile %q", name)
		return nil
	}
	s := &SASL{
		Name:           name,
		Username:       p.str(root+".username", ""),
		Password:       p.str(root+".password", ""),
		Mechanism:      p.str(root+".mechanism", "PLAIN"),
		HandshakeFirst: p.boolean(root+".handshake-first", false),
	}
	switch {
	case s.Mechanism == "" || strings.EqualFold(s.Mechanism, "PLAIN"):
		s.Mechanism = "PLAIN"
	case s.Mechanism == "SCRAM-SHA-256" || s.Mechanism == "SCRAM-SHA-512":
	default:
		p.fail(root+".mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", s.Mechanism)
	}
	return s
}

func (p *parser) servers(key, what string) []string {
	servers := p.list(key)
	if len(servers) == 0 {
		p.fail(key, "no Kafka brokers specified for %s", what)
	}
	for _, s := range servers {
		if err := checkHostPort(s, false); err != nil {
			p.fail(key, "%s has one or more improperly formatted servers (must be host:port): %q: %v", what, s, err)
			break
		}
	}
	return servers
}

func (p *parser) cluster(name string) (Cluster, bool) {
	root := "cluster." + name
	c := Cluster{
		Name:                name,
		ClassName:           p.str(root+".class-name", ""),
		TopicRefresh:        p.seconds(root+".topic-refresh", 60),
		OffsetRefresh:       p.seconds(root+".offset-refresh", 10),
		GroupsReaperRefresh: p.seconds(root+".groups-reaper-refresh", 0),
	}
	if c.ClassName != "kafka" {
		p.fail(root+".class-name", "unknown cluster className provided: %q", c.ClassName)
		return c, false
	}
	c.Servers = p.servers(root+".servers", "cluster "+name)
	c.Profile = p.profile(p.str(root+".client-profile", ""), root+".client-profile")
	if p.unsupported(root, c.Profile) {
		return c, false
	}
	if c.TopicRefresh <= 0 {
		p.fail(root+".topic-refresh", "must be positive")
	}
	if c.OffsetRefresh <= 0 {
		p.fail(root+".offset-refresh", "must be positive")
	}
	if c.GroupsReaperRefresh < 0 {
		p.fail(root+".groups-reaper-refresh", "must not be negative")
	}
	return c, true
}

func (p *parser) consumer(name string, clusters map[string]bool) (Consumer, bool) {
	root := "consumer." + name
	c := Consumer{
		Name:             name,
		ClassName:        p.str(root+".class-name", ""),
		Cluster:          strings.ToLower(p.str(root+".cluster", "")),
		OffsetsTopic:     p.str(root+".offsets-topic", "__consumer_offsets"),
		StartLatest:      p.boolean(root+".start-latest", false),
		BackfillEarliest: p.boolean(root+".backfill-earliest", false),
		ZookeeperPath:    p.str(root+".zookeeper-path", ""),
		ZookeeperTimeout: p.integer(root+".zookeeper-timeout", 0),
		OffsetsSource:    p.str(root+".offsets-source", SourceAuto),
	}
	for _, old := range []string{"group-whitelist", "group-blacklist"} {
		if p.v.IsSet(root + "." + old) {
			p.fail(root+"."+old, "please change configurations to allowlist and denylist")
		}
	}
	c.GroupAllowlist = p.regexp(root + ".group-allowlist")
	c.GroupDenylist = p.regexp(root + ".group-denylist")
	switch c.ClassName {
	case "kafka":
	case "kafka_zk":
		p.warnings = append(p.warnings, fmt.Sprintf("%s: class kafka_zk (offsets in ZooKeeper) is not supported; the module is skipped", root))
		c.Servers = p.list(root + ".servers") // shown by /v3/config only
		c.Profile = p.profile("", "")
		return c, false
	default:
		p.fail(root+".class-name", "unknown consumer className provided: %q", c.ClassName)
		return c, false
	}
	if !clusters[c.Cluster] {
		p.fail(root+".cluster", "Consumer '%s' references an unknown cluster '%s'", name, c.Cluster)
	}
	c.Servers = p.servers(root+".servers", "consumer "+name)
	c.Profile = p.profile(p.str(root+".client-profile", ""), root+".client-profile")
	if p.unsupported(root, c.Profile) {
		return c, false
	}
	switch c.OffsetsSource {
	case SourceAuto, SourceTopic, SourceAdmin:
	default:
		p.fail(root+".offsets-source", "must be %q, %q or %q, got %q", SourceAuto, SourceTopic, SourceAdmin, c.OffsetsSource)
	}
	return c, true
}

// checkOrigin accepts an origin as browsers send it: scheme://host[:port],
// without path, query or trailing slash.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must start with http:// or https://")
	case u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("must be scheme://host[:port] and nothing else")
	}
	return nil
}

var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// checkHostPort validates host:port as Burrow does: a numeric port, and a host
// name, IPv4 address or bracketed IPv6 address (empty only for listeners).
func checkHostPort(hp string, emptyHost bool) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host == "" {
		if emptyHost {
			return nil
		}
		return errors.New("empty host")
	}
	if ip := net.ParseIP(host); ip != nil {
		return nil
	}
	labels := strings.Split(host, ".")
	if len(labels) == 1 && strings.Count(host, "_") == 1 {
		labels = strings.Split(host, "_") // a Docker Swarm service name
	}
	for _, l := range labels {
		if !hostLabel.MatchString(l) {
			return fmt.Errorf("bad host name %q", host)
		}
	}
	return nil
}

var kafkaVersion = regexp.MustCompile(`^(([1-9][0-9]*)\.[0-9]+\.[0-9]+|0\.[0-9]+\.[0-9]+\.[0-9]+)$`)

var legacyVersions = map[string]bool{"": true, "0.8": true, "0.8.0": true, "0.8.1": true, "0.8.2": true,
	"0.9": true, "0.9.0": true, "0.10": true, "0.10.0": true, "0.10.1": true, "0.10.2": true,
	"0.11": true, "0.11.0": true}

func checkKafkaVersion(s string) error {
	if legacyVersions[s] || kafkaVersion.MatchString(s) {
		return nil
	}
	return fmt.Errorf("Unknown Kafka Version: %s", s)
}
