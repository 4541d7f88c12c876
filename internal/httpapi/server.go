// Package httpapi serves Burrow's HTTP API (/v3/kafka, /v3/config, /v3/admin,
// /burrow/admin) from storage and the configuration, with Burrow's routes, status
// codes and JSON bodies.
package httpapi

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/internal/ask"
	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// Options are what the server needs from the rest of Warren.
type Options struct {
	// Storage is the storage channel the data routes ask.
	Storage chan *protocol.StorageRequest
	// Evaluator is the evaluator channel /status and /lag ask; without it those
	// routes answer 503.
	Evaluator chan *protocol.EvaluatorRequest
	// Config is the checked configuration, shown by /v3/config and /v3/kafka/{cluster}.
	Config *config.Config
	// Level is the log level that /v3/admin/loglevel reads and changes; may be nil.
	Level *zap.AtomicLevel
	// Log is the server's logger.
	Log *zap.Logger
	// Wait bounds how long a route waits for storage (default 10 s); past it the
	// route answers 503.
	Wait time.Duration
	// Host is the host name shown in every reply (default: the OS host name).
	Host string
	// Metrics serves /metrics; without it the route is not found.
	Metrics http.Handler
	// HA serves GET /v3/admin/ha (which instance leads, with [ha]); without
	// it the route is not found.
	HA http.Handler
	// GzipMin is the size from which a JSON body is sent compressed to a
	// client that accepts gzip (default 1400, about one TCP segment, below
	// which compressing saves no round trip); negative never compresses.
	GzipMin int
	// Incidents lists the notifier's open incidents for the dashboard; without
	// it the dashboard shows none and says there is no notifier.
	Incidents IncidentLister
}

// Server is every configured listener serving the same routes.
type Server struct {
	opts  Options
	asker *ask.Client
	ready atomic.Bool
	// acao is the Access-Control-Allow-Origin of general, shared by every
	// reply as jsonType is; nil when not configured.
	acao      []string
	listeners []*listener
	wg        sync.WaitGroup
	ui        uiState
}

type listener struct {
	cfg   config.HTTPServer
	srv   *http.Server
	ln    net.Listener
	addr  string
	stats ConnStats
}

// New builds the server. It binds nothing until Start.
func New(opts Options) *Server {
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Wait <= 0 {
		opts.Wait = 10 * time.Second
	}
	if opts.GzipMin == 0 {
		opts.GzipMin = defaultGzipMin
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	s := &Server{opts: opts, asker: &ask.Client{Storage: opts.Storage, Evaluator: opts.Evaluator, Wait: opts.Wait},
		ui: uiState{fresh: uiFresh, build: make(chan struct{}, 1)}}
	if o := opts.Config.General.AccessControlAllowOrigin; o != "" {
		s.acao = []string{o}
	}
	for _, hs := range opts.Config.HTTP {
		s.listeners = append(s.listeners, &listener{cfg: hs})
	}
	return s
}

// SetReady makes /burrow/admin/ready answer READY.
func (s *Server) SetReady() { s.ready.Store(true) }

// Handler returns the routes of listener cfg.
func (s *Server) Handler(cfg config.HTTPServer) http.Handler {
	return s.routes(cfg)
}

// Start binds every listener and serves. If one cannot bind, those already bound
// are closed and the error is returned.
func (s *Server) Start() error {
	for _, l := range s.listeners {
		ln, err := net.Listen("tcp", l.cfg.Address)
		if err != nil {
			s.closeAll()
			return fmt.Errorf("httpserver.%s: failed to listen on %s: %w", l.cfg.Name, l.cfg.Address, err)
		}
		t := l.cfg.Timeout
		if t > 0 {
			ln = keepAlive{ln.(*net.TCPListener), t}
		}
		if n := l.cfg.MaxConnections; n > 0 {
			ln = newLimitListener(ln, n, &l.stats)
		}
		if l.cfg.TLS != nil {
			cert, err := tls.LoadX509KeyPair(l.cfg.TLS.CertFile, l.cfg.TLS.KeyFile)
			if err != nil {
				ln.Close()
				s.closeAll()
				return fmt.Errorf("httpserver.%s: cannot read TLS certificate or key file: %w", l.cfg.Name, err)
			}
			ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		}
		l.ln = ln
		l.addr = ln.Addr().String()
		l.srv = &http.Server{Handler: s.routes(l.cfg), ReadTimeout: t, ReadHeaderTimeout: l.cfg.ReadHeaderTimeout,
			WriteTimeout: t, IdleTimeout: l.cfg.IdleTimeout, ErrorLog: zap.NewStdLog(s.opts.Log)}
		s.opts.Log.Info("started listener", zap.String("name", l.cfg.Name), zap.String("address", l.addr),
			zap.String("dashboard", DashboardURL(l.addr, l.cfg.TLS != nil)), zap.Int("max_connections", l.cfg.MaxConnections))
		if l.cfg.Mutating == config.MutatingOpen {
			s.opts.Log.Warn("the mutating routes (DELETE consumer, POST loglevel) are open to anyone who can reach this listener; set mutating-routes to \"token\" or \"disabled\" to protect them",
				zap.String("listener", l.cfg.Name))
		}
	}
	for _, l := range s.listeners {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.opts.Log.Error("listener failed", zap.String("name", l.cfg.Name), zap.Error(err))
			}
		}()
	}
	return nil
}

// DashboardURL is the address of the dashboard on a listener bound to addr:
// its root, with "localhost" for an address that listens on every interface.
func DashboardURL(addr string, tls bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// Connections returns the connection counts of every listener, by name.
func (s *Server) Connections() map[string]*ConnStats {
	out := map[string]*ConnStats{}
	for _, l := range s.listeners {
		out[l.cfg.Name] = &l.stats
	}
	return out
}

// Addrs returns the bound address of every listener, by name.
func (s *Server) Addrs() map[string]string {
	out := map[string]string{}
	for _, l := range s.listeners {
		out[l.cfg.Name] = l.addr
	}
	return out
}

func (s *Server) closeAll() {
	for _, l := range s.listeners {
		if l.ln != nil {
			l.ln.Close()
			l.ln = nil
		}
	}
}

// Stop lets requests in flight finish for up to 5 seconds, then closes.
func (s *Server) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, l := range s.listeners {
		if l.srv != nil {
			if err := l.srv.Shutdown(ctx); err != nil {
				l.srv.Close()
			}
		}
	}
	s.wg.Wait()
}

// keepAlive sets the TCP keep-alive period of accepted connections.
type keepAlive struct {
	*net.TCPListener
	period time.Duration
}

func (k keepAlive) Accept() (net.Conn, error) {
	c, err := k.AcceptTCP()
	if err != nil {
		return nil, err
	}
	c.SetKeepAlive(true)
	c.SetKeepAlivePeriod(k.period)
	return c, nil
}

// route is a path with a handler per method; other methods get 405, OPTIONS the
// list of allowed methods.
type route map[string]http.HandlerFunc

func (rt route) allow() string {
	methods := []string{"OPTIONS"}
	for m := range rt {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	return strings.Join(methods, ", ")
}

func (rt route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{"cluster", "consumer", "topic", "name", "coordinator"} {
		if strings.Contains(r.PathValue(name), "/") { // an encoded %2F: not addressable
			notFound(w)
			return
		}
	}
	if h, ok := rt[r.Method]; ok {
		h(w, r)
		return
	}
	w.Header().Set("Allow", rt.allow())
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `{"error":true,"message":"invalid request type","result":{}}`+"\n")
}

func (s *Server) routes(cfg config.HTTPServer) http.Handler {
	guard := s.mutating(cfg)
	table := []routeEntry{
		{"/burrow/admin", route{"GET": s.admin}},
		{"/burrow/admin/ready", route{"GET": s.readyz}},
		{"/v3/kafka", route{"GET": s.clusterList}},
		{"/v3/kafka/{cluster}", route{"GET": s.clusterDetail}},
		{"/v3/kafka/{cluster}/topic", route{"GET": s.topicList}},
		{"/v3/kafka/{cluster}/topic/{topic}", route{"GET": s.topicDetail}},
		{"/v3/kafka/{cluster}/topic/{topic}/consumers", route{"GET": s.topicConsumers}},
		{"/v3/kafka/{cluster}/consumer", route{"GET": s.consumerList}},
		{"/v3/kafka/{cluster}/consumer/{consumer}", route{"GET": s.consumerDetail, "DELETE": guard(s.consumerDelete)}},
		{"/v3/kafka/{cluster}/consumer/{consumer}/topic/{topic}", route{"DELETE": guard(s.consumerDelete)}},
		{"/v3/kafka/{cluster}/consumer/{consumer}/status", route{"GET": s.consumerStatus(false)}},
		{"/v3/kafka/{cluster}/consumer/{consumer}/lag", route{"GET": s.consumerStatus(true)}},
		{"/v3/admin/loglevel", route{"GET": s.getLevel, "POST": guard(s.setLevel)}},
		{"/v3/config", route{"GET": s.configMain}},
	}
	if s.opts.Metrics != nil {
		table = append(table, routeEntry{"/metrics", route{"GET": s.opts.Metrics.ServeHTTP}})
	}
	if s.opts.HA != nil {
		table = append(table, routeEntry{"/v3/admin/ha", route{"GET": s.opts.HA.ServeHTTP}})
	}
	for _, c := range coordinators {
		table = append(table, routeEntry{"/v3/config/" + c, route{"GET": s.moduleList(c)}},
			routeEntry{"/v3/config/" + c + "/{name}", route{"GET": s.moduleDetail(c)}})
	}
	table = append(table, s.uiRoutes()...)
	return newRouter(table, newOrigins(cfg.AllowedOrigins))
}

// mutating applies the listener's protection of the routes that change state.
func (s *Server) mutating(cfg config.HTTPServer) func(http.HandlerFunc) http.HandlerFunc {
	o := newOrigins(cfg.AllowedOrigins)
	return func(h http.HandlerFunc) http.HandlerFunc {
		return s.sameSite(o, s.byMode(cfg, h))
	}
}

// sameSite refuses, in every mode, requests to a mutating route from pages of
// sites that allowed-origins does not list, and bodies of the content types a
// page may send anywhere without a pre-flight.
func (s *Server) sameSite(o origins, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if why := o.crossSite(r); why != "" {
			s.opts.Log.Warn("refused a cross-site request to a mutating route", zap.String("method", r.Method),
				zap.String("path", r.URL.Path), zap.String("reason", why))
			s.fail(w, r, http.StatusForbidden, "cross-site request refused: "+why)
			return
		}
		if simpleBody(r) {
			s.fail(w, r, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return
		}
		h(w, r)
	}
}

// byMode applies the listener's mutating-routes mode.
func (s *Server) byMode(cfg config.HTTPServer, h http.HandlerFunc) http.HandlerFunc {
	switch cfg.Mutating {
	case config.MutatingDisabled:
		return func(w http.ResponseWriter, r *http.Request) {
			s.fail(w, r, http.StatusForbidden, "mutating routes are disabled on this listener")
		}
	case config.MutatingToken:
		want := []byte("Bearer " + cfg.Token)
		return func(w http.ResponseWriter, r *http.Request) {
			got := []byte(r.Header.Get("Authorization"))
			if subtle.ConstantTimeCompare(got, want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="warren"`)
				s.fail(w, r, http.StatusUnauthorized, "a valid bearer token is required")
				return
			}
			h(w, r)
		}
	}
	return h
}

// envelope is the request member of every JSON reply.
type requestInfo struct {
	URL  string `json:"url"`
	Host string `json:"host"`
}

func (s *Server) info(r *http.Request) requestInfo {
	return requestInfo{URL: r.URL.Path, Host: s.opts.Host}
}

// bufs holds the buffers that replies are written into. A buffer that grew
// past maxPooled (a reply of thousands of partitions) is left to the GC
// rather than kept for every later small reply.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooled = 1 << 20

// jsonType is the Content-Type of every JSON reply, shared by all of them so
// that setting it allocates nothing. net/http and the router only read it.
var jsonType = []string{"application/json"}

// reply writes v as compact JSON with Burrow's headers, in one Write. Replies
// that append their own JSON (the /v3/kafka ones) are written into a pooled
// buffer; the others go through encoding/json. A body of GzipMin bytes or
// more is sent compressed to a client that accepts gzip, with Vary:
// Accept-Encoding either way.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, status int, v any) {
	bp := bufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooled {
			bufs.Put(bp)
		}
	}()
	var b []byte
	var err error
	if a, ok := v.(appender); ok {
		b, err = a.appendJSON((*bp)[:0])
		*bp = b[:0]
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":true,"message":"could not encode JSON","result":{}}`)
	}
	h := w.Header()
	h["Content-Type"] = jsonType
	if least := s.opts.GzipMin; least >= 0 && len(b) >= least {
		vary(h)
		if acceptsGzip(r) {
			g := gzippers.Get().(*gzipper)
			defer g.release()
			b = g.compress(b)
			h["Content-Encoding"] = gzipEncoding
		}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	s.cors(w)
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) cors(w http.ResponseWriter) {
	if s.acao == nil {
		return
	}
	h := w.Header()
	if len(h["Access-Control-Allow-Origin"]) > 0 {
		return // an allowed origin, set by the router
	}
	h["Access-Control-Allow-Origin"] = s.acao
}

type errorReply struct {
	Error   bool        `json:"error"`
	Message string      `json:"message"`
	Request requestInfo `json:"request"`
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	s.reply(w, r, status, errorReply{Error: true, Message: message, Request: s.info(r)})
}

func (s *Server) text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	s.cors(w)
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func (s *Server) admin(w http.ResponseWriter, r *http.Request) { s.text(w, http.StatusOK, "GOOD") }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready.Load() {
		s.text(w, http.StatusOK, "READY")
		return
	}
	s.text(w, http.StatusServiceUnavailable, "STARTING")
}

// fetch asks storage and writes the 503 or 404 reply itself when there is no
// value; ok says whether the caller should write the answer.
func (s *Server) fetch(w http.ResponseWriter, r *http.Request, req *protocol.StorageRequest, notFound string) (any, bool) {
	v, ok, err := s.asker.Fetch(r.Context(), req)
	if err != nil {
		if r.Context().Err() == nil {
			s.fail(w, r, http.StatusServiceUnavailable, "storage did not answer in time")
		}
		return nil, false
	}
	if !ok {
		s.fail(w, r, http.StatusNotFound, notFound)
		return nil, false
	}
	return v, true
}

func sorted(v any) []string {
	names, _ := v.([]string)
	out := append([]string{}, names...)
	sort.Strings(out)
	return out
}
