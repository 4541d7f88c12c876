// Command warren watches Kafka consumer groups: it reads a Burrow configuration
// file, records the offsets of the clusters it names, and serves Burrow's HTTP
// API. Without a configuration it runs an embedded demo cluster.
//
// Exit status: 0 after a clean stop, 1 when starting fails, 2 for a usage or
// configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/viper"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/demo"
	"github.com/warrenlag/warren/internal/httpapi"
	"github.com/warrenlag/warren/internal/kafka"
	"github.com/warrenlag/warren/internal/logfile"
	"github.com/warrenlag/warren/internal/metrics"
	"github.com/warrenlag/warren/internal/notifier"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run is the whole program; ready, when not nil, receives the HTTP addresses
// once everything has started (tests use it).
func run(args []string, stdout, stderr io.Writer, ready chan<- map[string]string) int {
	l, code := load(args, stderr)
	if l == nil {
		return code
	}
	defer l.close()
	cfg := l.cfg
	// The PID file first: a second start must not touch the running
	// instance's stdout-logfile or log file.
	if l.demo == nil && cfg.General.PIDFile != "" {
		if err := writePID(cfg.General.PIDFile); err != nil {
			fmt.Fprintln(stdout, err)
			return 1
		}
		defer os.Remove(cfg.General.PIDFile)
	}
	if name := cfg.General.StdoutLogfile; name != "" {
		f, err := redirect(name)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		stdout, stderr = f, f
	}
	level, log, closeLog, err := newLogger(cfg.Logging, stdout)
	if err != nil {
		return configErr(stderr, err)
	}
	defer closeLog()
	// Signals are caught from here on, so that one during start still stops
	// cleanly, once start is over.
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer cancel()
	log.Info("Started Warren")
	if l.demo != nil {
		log.Info("no configuration given: running the embedded demo cluster")
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	fileBudget(cfg, log)
	applyMemory(cfg.General, log)

	w, err := assemble(cfg, log, &level)
	if err != nil {
		return configErr(stderr, err)
	}
	if l.demo == nil {
		w.pidFile = cfg.General.PIDFile
	}
	return serve(ctx, w, l.demo, stderr, ready)
}

// loaded is the configuration found and read, and the demo cluster when there
// was none.
type loaded struct {
	cfg  *config.Config
	demo *demo.Demo
}

func (l *loaded) close() {
	if l.demo != nil {
		l.demo.Stop()
	}
}

// load reads the flags and the configuration, or starts the demo cluster and
// takes its configuration. On failure it returns nil and the exit status.
func load(args []string, stderr io.Writer) (*loaded, int) {
	fs := flag.NewFlagSet("warren", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("config-dir", "", "directory searched for the configuration file burrow.{json,toml,yaml,...}")
	file := fs.String("config", "", "read exactly this configuration file (its extension gives the format)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: warren [--config-dir DIR | --config FILE]\n\n"+
			"Without either flag and without a burrow.* file in the working directory,\n"+
			"warren starts an embedded demo Kafka cluster and watches it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	path, isDemo, err := config.Find(*dir, *file)
	if err != nil {
		return nil, configErr(stderr, err)
	}
	l := &loaded{}
	var v *viper.Viper
	if isDemo {
		opts := demo.Options{}
		// WARREN_DEMO_PORTS moves the demo's brokers, e.g. "0,0" for free ports.
		if ports := os.Getenv("WARREN_DEMO_PORTS"); ports != "" {
			for _, p := range strings.Split(ports, ",") {
				n, perr := strconv.Atoi(strings.TrimSpace(p))
				if perr != nil {
					return nil, configErr(stderr, fmt.Errorf("WARREN_DEMO_PORTS: %q is not a port", p))
				}
				opts.Ports = append(opts.Ports, n)
			}
		}
		if l.demo, err = demo.Start(opts, zap.NewNop()); err != nil {
			fmt.Fprintln(stderr, err)
			return nil, 1
		}
		v = l.demo.Config()
		config.Environment(v, "burrow")
	} else {
		fmt.Fprintf(stderr, "Reading configuration from %s\n", path)
		if v, err = config.Read(path); err != nil {
			return nil, configErr(stderr, err)
		}
	}
	if l.cfg, err = config.Parse(v); err != nil {
		l.close()
		return nil, configErr(stderr, err)
	}
	return l, 0
}

// configErr writes each line of err as a configuration error and returns the
// exit status of one.
func configErr(stderr io.Writer, err error) int {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "configuration error: %s\n", line)
	}
	return 2
}

// component is a part of Warren that is started, in the order of the list it
// is in, and stopped in the reverse order.
type component struct {
	name  string
	start func() error
	stop  func()
}

// warren is everything built from the configuration: the components in start
// order, and what serving needs.
type warren struct {
	pidFile    string // removed by the stop watchdog too
	app        *protocol.ApplicationContext
	components []component
	server     *httpapi.Server
	state      *stateFile
}

// assemble configures every subsystem and lists them as components: storage,
// evaluator, HTTP (answering STARTING until everything has started),
// notifier, clusters, consumers. A configuration error stops here, before anything starts.
func assemble(cfg *config.Config, log *zap.Logger, level *zap.AtomicLevel) (*warren, error) {
	app := &protocol.ApplicationContext{Logger: log, LogLevel: level,
		StorageChannel: make(chan *protocol.StorageRequest), EvaluatorChannel: make(chan *protocol.EvaluatorRequest),
		Viper: cfg.V}
	coordinator := func(name string) *zap.Logger {
		return log.With(zap.String("type", "coordinator"), zap.String("name", name))
	}
	st := &storage.Coordinator{App: app, Log: coordinator("storage")}
	ev := &evaluator.Coordinator{App: app, Log: coordinator("evaluator")}
	for _, configureFn := range []func(){st.Configure, ev.Configure} {
		if err := configure(configureFn); err != nil {
			return nil, err
		}
	}
	mods, err := kafkaModules(cfg, app.StorageChannel, log)
	if err != nil {
		return nil, err
	}
	h, ntOpts, err := newHA(cfg, coordinator("ha"))
	if err != nil {
		return nil, err
	}
	nt, err := notifier.New(cfg.Notifiers, &ask.Client{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel},
		coordinator("notifier"), append(ntOpts, notifier.WithModuleLog(log))...)
	if err != nil {
		return nil, err
	}
	h.setNotifier(nt)
	w := &warren{app: app}
	w.state = keepState(cfg, log.With(zap.String("type", "coordinator"), zap.String("name", "state")), st, nt, mods)
	var scrape http.Handler // /metrics, which also reads the server's own collector
	w.server = httpapi.New(httpapi.Options{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel,
		Metrics: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { scrape.ServeHTTP(rw, r) }),
		Config:  cfg, Level: level, Log: coordinator("httpserver"), Incidents: nt, HA: h.handler()})
	scrape = metrics.Handler(metrics.Options{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel, Log: log,
		Collectors: []prometheus.Collector{st.Collector(), ev.Collector(), kafka.Collector(mods), w.server.Collector(),
			nt.Collector(), w.state.collector(), h.collector()}})
	w.components = []component{
		{"storage", st.Start, func() { st.Stop() }},
		{"evaluator", ev.Start, func() { ev.Stop() }},
		// The state file, restored before anything started (by keepState),
		// is stopped after the Kafka modules, the election, the notifier
		// and the HTTP server and before storage, so that its last snapshot
		// holds everything they changed.
		{"state", w.state.start, w.state.stop},
		{"httpserver", w.server.Start, w.server.Stop},
		{"notifier", nt.Start, func() { nt.Stop() }},
		// The election, once the notifier runs: stopped first, it hands over
		// at once (it leaves the group) while the notifier still stands.
		{"ha", h.start, h.stop},
	}
	for _, m := range mods { // clusters, then consumers
		w.components = append(w.components, component{m.Name, m.Module.Start, m.Module.Stop})
	}
	return w, nil
}

// kafkaModules builds a module per [cluster.NAME], then per [consumer.NAME].
func kafkaModules(cfg *config.Config, st chan *protocol.StorageRequest, log *zap.Logger) ([]kafka.Named, error) {
	var mods []kafka.Named
	var errs []error
	refresh := map[string]time.Duration{}
	module := func(coordinator, name string) *zap.Logger {
		return log.With(zap.String("type", "module"), zap.String("coordinator", coordinator), zap.String("name", name))
	}
	for _, c := range cfg.Clusters {
		m, err := kafka.NewCluster(c, st, module("cluster", c.Name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		refresh[c.Name] = c.OffsetRefresh
		mods = append(mods, kafka.Named{Name: "cluster." + c.Name, Module: m})
	}
	for _, c := range cfg.Consumers {
		m, err := kafka.NewConsumer(c, refresh[c.Cluster], st, module("consumer", c.Name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		mods = append(mods, kafka.Named{Name: "consumer." + c.Name, Module: m})
	}
	return mods, errors.Join(errs...)
}

// serve starts the components in order, waits for a signal, and stops them in
// reverse order within stopWithin. A component that fails to start stops
// those started before it, and Warren exits 1.
func serve(ctx context.Context, w *warren, dm *demo.Demo, stderr io.Writer, ready chan<- map[string]string) int {
	log := w.app.Logger
	var started []component
	stopAll := func() {
		for i := len(started) - 1; i >= 0; i-- {
			started[i].stop()
		}
	}
	for _, c := range w.components {
		if ctx.Err() != nil { // a signal during start: stop what started, cleanly
			log.Info("Shutdown triggered during start", zap.String("before", c.name))
			stopAll()
			fmt.Fprintf(stderr, "Stopped Warren at %s\n", time.Now().Format(time.RFC3339))
			return 0
		}
		if err := c.start(); err != nil {
			if ctx.Err() != nil { // stopped by a signal while it started
				log.Info("Shutdown triggered during start", zap.String("component", c.name), zap.Error(err))
				stopAll()
				fmt.Fprintf(stderr, "Stopped Warren at %s\n", time.Now().Format(time.RFC3339))
				return 0
			}
			log.Error("start failed", zap.String("component", c.name), zap.Error(err))
			stopAll()
			fmt.Fprintf(stderr, "%v\nWarren failed at %s\n", err, time.Now().Format(time.RFC3339))
			return 1
		}
		started = append(started, c)
	}
	w.server.SetReady()
	addrs := w.server.Addrs()
	if dm != nil {
		fmt.Fprint(stderr, dm.Describe(httpapi.DashboardURL(addrs["default"], false), addrs["default"]))
	}
	if ready != nil {
		ready <- addrs
	}

	<-ctx.Done()
	log.Info("Shutdown triggered")
	// Stopping is bounded: what has not stopped by then is abandoned.
	watchdog := time.AfterFunc(stopWithin, func() {
		fmt.Fprintf(stderr, "Warren did not stop within %s; exiting\n", stopWithin)
		if w.pidFile != "" {
			os.Remove(w.pidFile) // os.Exit runs no deferred removal
		}
		os.Exit(1)
	})
	defer watchdog.Stop()
	stopAll()
	fmt.Fprintf(stderr, "Stopped Warren at %s\n", time.Now().Format(time.RFC3339))
	return 0
}

// fileBudget raises the open-file limit and keeps descriptors for the Kafka
// clients: a flood of HTTP connections must not starve them.
func fileBudget(cfg *config.Config, log *zap.Logger) {
	before, after, err := raiseFileLimit()
	if err != nil {
		log.Warn("open-file limit", zap.Error(err))
	}
	if after == 0 {
		return
	}
	if after > before {
		log.Info("raised the open-file limit", zap.Uint64("from", before), zap.Uint64("to", after))
	}
	reserve := kafkaReserve(cfg)
	if each := fitConnections(cfg.HTTP, after, reserve); each > 0 {
		log.Warn("the open-file limit is low: max-connections of the HTTP listeners lowered so that the Kafka clients keep descriptors; raise the limit (ulimit -n, LimitNOFILE)",
			zap.Uint64("limit", after), zap.Uint64("reserved", reserve), zap.Int("max_connections", each))
	}
}

// stopWithin bounds how long stopping may take after a signal.
const stopWithin = 30 * time.Second

// configure runs a compatible Configure, whose configuration errors are panics.
func configure(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// newLogger builds the JSON logger of [logging]. An unknown level is info, with
// a note on stdout, as Burrow does.
func newLogger(c config.Logging, stdout io.Writer) (zap.AtomicLevel, *zap.Logger, func(), error) {
	level := zap.NewAtomicLevel()
	switch strings.ToLower(c.Level) {
	case "debug", "trace":
		level.SetLevel(zap.DebugLevel)
	case "", "info":
	case "warn", "warning":
		level.SetLevel(zap.WarnLevel)
	case "error":
		level.SetLevel(zap.ErrorLevel)
	case "panic":
		level.SetLevel(zap.PanicLevel)
	case "fatal":
		level.SetLevel(zap.FatalLevel)
	default:
		fmt.Fprintf(stdout, "Invalid log level supplied. Defaulting to info: %s\n", c.Level)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey = "ts"
	enc.EncodeTime = zapcore.EpochTimeEncoder
	out := zapcore.AddSync(stdout)
	closeFn := func() {}
	if c.Filename != "" {
		w, err := logfile.Open(c.Filename, logfile.Options{MaxSizeMB: c.MaxSize, MaxBackups: c.MaxBackups,
			MaxAgeDays: c.MaxAge, LocalTime: c.UseLocalTime, Compress: c.UseCompression})
		if err != nil {
			return level, nil, nil, fmt.Errorf("logging.filename: %w", err)
		}
		out = w
		closeFn = func() { w.Close() }
	}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), out, level)
	return level, zap.New(core), closeFn, nil
}

// redirect starts general.stdout-logfile: an existing file of that name is kept
// as NAME.YYYY-MM-DD_HH:MM:SS, and Warren's output goes to a new one.
func redirect(name string) (*os.File, error) {
	if _, err := os.Stat(name); err == nil {
		if err := os.Rename(name, name+"."+time.Now().Format("2006-01-02_15:04:05")); err != nil {
			return nil, fmt.Errorf("cannot keep the previous stdout-logfile: %w", err)
		}
	}
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open stdout-logfile: %w", err)
	}
	return f, nil
}

// writePID writes our PID to path, refusing when it names another live process.
func writePID(path string) error {
	if b, err := os.ReadFile(path); err == nil {
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("Cannot interpret contents of PID file: %w", err)
		}
		if pid != os.Getpid() {
			if p, err := os.FindProcess(pid); err == nil {
				if err := p.Signal(syscall.Signal(0)); err == nil || errors.Is(err, syscall.EPERM) {
					return fmt.Errorf("Existing process running on PID %d. Exiting (my pid = %d)", pid, os.Getpid())
				}
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("Cannot read PID file: %w", err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("Cannot write PID file: %w", err)
	}
	return nil
}
