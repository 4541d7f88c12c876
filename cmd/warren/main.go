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
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/warrenlag/warren/evaluator"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/internal/demo"
	"github.com/warrenlag/warren/internal/httpapi"
	"github.com/warrenlag/warren/internal/kafka"
	"github.com/warrenlag/warren/internal/logfile"
	"github.com/warrenlag/warren/internal/metrics"
	"github.com/warrenlag/warren/protocol"
	"github.com/warrenlag/warren/storage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// stopper is anything started that must be stopped.
type stopper struct {
	name string
	stop func()
}

// run is the whole program; ready, when not nil, receives the HTTP addresses
// once everything has started (tests use it).
func run(args []string, stdout, stderr io.Writer, ready chan<- map[string]string) int {
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
			return 0
		}
		return 2
	}
	configErr := func(err error) int {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "configuration error: %s\n", line)
		}
		return 2
	}

	path, isDemo, err := config.Find(*dir, *file)
	if err != nil {
		return configErr(err)
	}
	var dm *demo.Demo
	var cfg *config.Config
	if isDemo {
		opts := demo.Options{}
		// WARREN_DEMO_PORTS moves the demo's brokers, e.g. "0,0" for free ports.
		if ports := os.Getenv("WARREN_DEMO_PORTS"); ports != "" {
			for _, p := range strings.Split(ports, ",") {
				n, perr := strconv.Atoi(strings.TrimSpace(p))
				if perr != nil {
					return configErr(fmt.Errorf("WARREN_DEMO_PORTS: %q is not a port", p))
				}
				opts.Ports = append(opts.Ports, n)
			}
		}
		dm, err = demo.Start(opts, zap.NewNop())
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer dm.Stop()
		v := dm.Config()
		config.Environment(v, "burrow")
		cfg, err = config.Parse(v)
	} else {
		fmt.Fprintf(stderr, "Reading configuration from %s\n", path)
		v, rerr := config.Read(path)
		if rerr != nil {
			return configErr(rerr)
		}
		cfg, err = config.Parse(v)
	}
	if err != nil {
		return configErr(err)
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
		return configErr(err)
	}
	defer closeLog()
	// Signals are caught from here on, so that one during start still stops
	// cleanly, once start is over.
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer cancel()
	log.Info("Started Warren")
	if isDemo {
		log.Info("no configuration given: running the embedded demo cluster")
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}

	if !isDemo && cfg.General.PIDFile != "" {
		if err := writePID(cfg.General.PIDFile); err != nil {
			fmt.Fprintln(stdout, err)
			return 1
		}
		defer os.Remove(cfg.General.PIDFile)
	}

	// Configure everything first; a configuration error stops here.
	app := &protocol.ApplicationContext{Logger: log, LogLevel: &level,
		StorageChannel: make(chan *protocol.StorageRequest), EvaluatorChannel: make(chan *protocol.EvaluatorRequest),
		Viper: cfg.V}
	st := &storage.Coordinator{App: app, Log: log.With(zap.String("type", "coordinator"), zap.String("name", "storage"))}
	ev := &evaluator.Coordinator{App: app, Log: log.With(zap.String("type", "coordinator"), zap.String("name", "evaluator"))}
	for _, configureFn := range []func(){st.Configure, ev.Configure} {
		if err := configure(configureFn); err != nil {
			return configErr(err)
		}
	}
	var kafkaModules []namedModule
	floats := func(m map[string]uint64) map[string]float64 {
		out := make(map[string]float64, len(m))
		for k, v := range m {
			out[k] = float64(v)
		}
		return out
	}
	metricsHandler := metrics.Handler(metrics.Options{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel,
		Log: log, Counters: append([]metrics.Counter{
			{Name: "warren_storage_requests_total", Help: "Requests storage took, by type.", Label: "type",
				Read: func() map[string]float64 { r, _ := st.Stats(); return floats(r) }},
			{Name: "warren_storage_drops_total", Help: "Requests storage dropped, by reason.", Label: "reason",
				Read: func() map[string]float64 { _, d := st.Stats(); return floats(d) }},
			{Name: "warren_evaluations_total", Help: "Group evaluations done (cache misses).",
				Read: func() map[string]float64 { e, _ := ev.Stats(); return map[string]float64{"": float64(e)} }},
			{Name: "warren_evaluator_dropped_total", Help: "Evaluator requests that could not be answered.",
				Read: func() map[string]float64 { _, d := ev.Stats(); return map[string]float64{"": float64(d)} }},
		}, kafkaCounters(&kafkaModules)...)})
	server := httpapi.New(httpapi.Options{Storage: app.StorageChannel, Evaluator: app.EvaluatorChannel, Metrics: metricsHandler, Config: cfg, Level: &level,
		Log: log.With(zap.String("type", "coordinator"), zap.String("name", "httpserver"))})
	var errs []error
	refresh := map[string]time.Duration{}
	for _, c := range cfg.Clusters {
		m, err := kafka.NewCluster(c, app.StorageChannel, log.With(zap.String("type", "module"),
			zap.String("coordinator", "cluster"), zap.String("name", c.Name)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		refresh[c.Name] = c.OffsetRefresh
		kafkaModules = append(kafkaModules, namedModule{"cluster." + c.Name, m})
	}
	for _, c := range cfg.Consumers {
		mlog := log.With(zap.String("type", "module"), zap.String("coordinator", "consumer"), zap.String("name", c.Name))
		m, err := kafka.NewConsumer(c, refresh[c.Cluster], app.StorageChannel, mlog)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		kafkaModules = append(kafkaModules, namedModule{"consumer." + c.Name, m})
	}
	if len(errs) > 0 {
		return configErr(errors.Join(errs...))
	}

	// Start in order: storage, evaluator, HTTP (answering STARTING), clusters,
	// consumers.
	var started []stopper
	fail := func(err error) int {
		log.Error("start failed", zap.Error(err))
		for i := len(started) - 1; i >= 0; i-- {
			started[i].stop()
		}
		fmt.Fprintf(stderr, "%v\nWarren failed at %s\n", err, time.Now().Format(time.RFC3339))
		return 1
	}
	if err := st.Start(); err != nil {
		return fail(err)
	}
	started = append(started, stopper{"storage", func() { st.Stop() }})
	if err := ev.Start(); err != nil {
		return fail(err)
	}
	started = append(started, stopper{"evaluator", func() { ev.Stop() }})
	if err := server.Start(); err != nil {
		return fail(err)
	}
	started = append(started, stopper{"httpserver", server.Stop})
	for _, k := range kafkaModules { // clusters, then consumers
		if err := k.m.Start(); err != nil {
			return fail(err)
		}
		started = append(started, stopper{k.name, k.m.Stop})
	}
	server.SetReady()
	addrs := server.Addrs()
	if isDemo {
		fmt.Fprint(stderr, dm.Describe(addrs["default"]))
		every := time.Minute
		if d, err := time.ParseDuration(os.Getenv("WARREN_DEMO_SUMMARY")); err == nil && d > 0 {
			every = d
		}
		go summarize(ctx, app, stderr, every)
	}
	if ready != nil {
		ready <- addrs
	}

	<-ctx.Done()
	log.Info("Shutdown triggered")
	// Stopping is bounded: what has not stopped by then is abandoned.
	watchdog := time.AfterFunc(stopWithin, func() {
		fmt.Fprintf(stderr, "Warren did not stop within %s; exiting\n", stopWithin)
		os.Exit(1)
	})
	defer watchdog.Stop()
	for i := len(started) - 1; i >= 0; i-- {
		started[i].stop()
	}
	fmt.Fprintf(stderr, "Stopped Warren at %s\n", time.Now().Format(time.RFC3339))
	return 0
}

// namedModule is a Kafka module and the name its metrics carry.
type namedModule struct {
	name string
	m    kafka.Module
}

// summarize prints, every period until ctx ends, one line per group of the
// demo's cluster with its status and total lag.
func summarize(ctx context.Context, app *protocol.ApplicationContext, out io.Writer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reply := make(chan any, 1)
		select {
		case app.StorageChannel <- &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers, Cluster: "local", Reply: reply}:
		case <-ctx.Done():
			return
		}
		v := <-reply
		groups, _ := v.([]string)
		sort.Strings(groups)
		var parts []string
		for _, g := range groups {
			r := make(chan *protocol.ConsumerGroupStatus, 1)
			select {
			case app.EvaluatorChannel <- &protocol.EvaluatorRequest{Reply: r, Cluster: "local", Group: g}:
			case <-ctx.Done():
				return
			}
			st := <-r
			parts = append(parts, fmt.Sprintf("%s %s (lag %d)", g, st.Status, st.TotalLag))
		}
		fmt.Fprintf(out, "%s  %s\n", time.Now().Format("15:04:05"), strings.Join(parts, " | "))
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
