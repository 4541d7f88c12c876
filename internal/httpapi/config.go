package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/warrenlag/warren/internal/config"
)

// coordinators are the module sections /v3/config lists.
var coordinators = []string{"storage", "evaluator", "cluster", "consumer", "notifier"}

type tlsView struct {
	Name     string `json:"name"`
	NoVerify bool   `json:"noverify"`
	CertFile string `json:"certfile"`
	KeyFile  string `json:"keyfile"`
	CAFile   string `json:"cafile"`
}

type saslView struct {
	Name           string `json:"name"`
	HandshakeFirst bool   `json:"handshake-first"`
	Username       string `json:"username"`
}

type profileView struct {
	Name         string    `json:"name"`
	ClientID     string    `json:"client-id"`
	KafkaVersion string    `json:"kafka-version"`
	TLS          *tlsView  `json:"tls"`
	SASL         *saslView `json:"sasl"`
}

type clusterView struct {
	ClassName     string      `json:"class-name"`
	Servers       []string    `json:"servers"`
	ClientProfile profileView `json:"client-profile"`
	TopicRefresh  int         `json:"topic-refresh"`
	OffsetRefresh int         `json:"offset-refresh"`
}

type storageView struct {
	ClassName      string `json:"class-name"`
	Intervals      int    `json:"intervals"`
	MinDistance    int    `json:"min-distance"`
	GroupAllowlist string `json:"group-allowlist"`
	ExpireGroup    int    `json:"expire-group"`
}

type evaluatorView struct {
	ClassName   string `json:"class-name"`
	ExpireCache int    `json:"expire-cache"`
}

type consumerView struct {
	ClassName        string      `json:"class-name"`
	Cluster          string      `json:"cluster"`
	Servers          []string    `json:"servers"`
	GroupAllowlist   string      `json:"group-allowlist"`
	ZookeeperPath    string      `json:"zookeeper-path"`
	ZookeeperTimeout int         `json:"zookeeper-timeout"`
	ClientProfile    profileView `json:"client-profile"`
	OffsetsTopic     string      `json:"offsets-topic"`
	StartLatest      bool        `json:"start-latest"`
}

// clusterModule returns the configuration view of a cluster module.
func (s *Server) clusterModule(name string) (any, bool) {
	for _, c := range s.opts.Config.ClusterTables {
		if c.Name == name {
			return clusterView{ClassName: c.ClassName, Servers: nonNil(c.Servers), ClientProfile: profile(c.Profile),
				TopicRefresh: int(c.TopicRefresh / time.Second), OffsetRefresh: int(c.OffsetRefresh / time.Second)}, true
		}
	}
	return nil, false
}

// consumerModule returns the configuration view of a consumer module.
func (s *Server) consumerModule(name string) (any, bool) {
	for _, c := range s.opts.Config.ConsumerTables {
		if c.Name == name {
			return consumerView{ClassName: c.ClassName, Cluster: c.Cluster, Servers: nonNil(c.Servers),
				GroupAllowlist: c.GroupAllowlist, ZookeeperPath: c.ZookeeperPath, ZookeeperTimeout: c.ZookeeperTimeout,
				ClientProfile: profile(c.Profile), OffsetsTopic: c.OffsetsTopic, StartLatest: c.StartLatest}, true
		}
	}
	return nil, false
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// profile is the view of a client profile; a module left out before its
// profile was read shows the default one.
func profile(cp *config.ClientProfile) profileView {
	if cp == nil {
		return profileView{ClientID: "burrow-lagchecker", KafkaVersion: "2.8.0"}
	}
	p := profileView{Name: cp.Name, ClientID: cp.ClientID, KafkaVersion: cp.KafkaVersion}
	if t := cp.TLS; t != nil {
		p.TLS = &tlsView{Name: t.Name, NoVerify: t.NoVerify, CertFile: t.CertFile, KeyFile: t.KeyFile, CAFile: t.CAFile}
	}
	if sa := cp.SASL; sa != nil {
		p.SASL = &saslView{Name: sa.Name, HandshakeFirst: sa.HandshakeFirst, Username: sa.Username}
	}
	return p
}

type moduleListReply struct {
	Error       bool        `json:"error"`
	Message     string      `json:"message"`
	Request     requestInfo `json:"request"`
	Coordinator string      `json:"coordinator"`
	Modules     []string    `json:"modules"`
}

func (s *Server) moduleList(coordinator string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var names []string
		switch coordinator {
		case "storage":
			names = []string{s.opts.Config.Storage.Name}
		case "evaluator":
			names = []string{s.opts.Config.Evaluator.Name}
		case "cluster":
			for _, c := range s.opts.Config.ClusterTables {
				names = append(names, c.Name)
			}
		case "consumer":
			for _, c := range s.opts.Config.ConsumerTables {
				names = append(names, c.Name)
			}
		case "notifier":
			for _, n := range s.opts.Config.Notifiers {
				names = append(names, n.Name)
			}
		}
		if names == nil {
			names = []string{}
		}
		s.reply(w, r, http.StatusOK, moduleListReply{Message: "module list returned", Request: s.info(r),
			Coordinator: coordinator, Modules: names})
	}
}

// storageModule is the view of the storage module, from its typed section.
func (s *Server) storageModule(name string) (any, bool) {
	st := s.opts.Config.Storage
	if name != st.Name {
		return nil, false
	}
	return storageView{ClassName: st.ClassName, Intervals: st.Intervals, MinDistance: int(st.MinDistance / time.Second),
		GroupAllowlist: st.GroupAllowlist, ExpireGroup: int(st.ExpireGroup / time.Second)}, true
}

// evaluatorModule is the view of the evaluator module, from its typed section.
func (s *Server) evaluatorModule(name string) (any, bool) {
	e := s.opts.Config.Evaluator
	if name != e.Name {
		return nil, false
	}
	return evaluatorView{ClassName: e.ClassName, ExpireCache: int(e.ExpireCache / time.Second)}, true
}

func (s *Server) moduleDetail(coordinator string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.ToLower(r.PathValue("name"))
		var m any
		var ok bool
		switch coordinator {
		case "cluster":
			m, ok = s.clusterModule(name)
		case "storage":
			m, ok = s.storageModule(name)
		case "evaluator":
			m, ok = s.evaluatorModule(name)
		case "consumer":
			m, ok = s.consumerModule(name)
		case "notifier":
			for _, n := range s.opts.Config.Notifiers {
				if n.Name == name {
					m, ok = n.Shown(), true
				}
			}
		}
		if !ok {
			s.fail(w, r, http.StatusNotFound, coordinator+" module not found")
			return
		}
		s.reply(w, r, http.StatusOK, moduleReply{Message: coordinator + " module detail returned", Module: m, Request: s.info(r)})
	}
}

type mainConfigReply struct {
	Error     bool                  `json:"error"`
	Message   string                `json:"message"`
	Request   requestInfo           `json:"request"`
	General   generalView           `json:"general"`
	Logging   loggingView           `json:"logging"`
	Zookeeper zookeeperView         `json:"zookeeper"`
	HTTP      map[string]listenView `json:"httpserver"`
}

type generalView struct {
	PIDFile       string `json:"pidfile"`
	StdoutLogfile string `json:"stdout-logfile"`
	ACAO          string `json:"access-control-allow-origin"`
}

type loggingView struct {
	Filename       string `json:"filename"`
	MaxSize        int    `json:"max-size"`
	MaxBackups     int    `json:"max-backups"`
	MaxAge         int    `json:"max-age"`
	UseLocalTime   bool   `json:"use-local-time"`
	UseCompression bool   `json:"use-compression"`
	Level          string `json:"level"`
}

type zookeeperView struct {
	Servers  []string `json:"servers"`
	Timeout  int      `json:"timeout"`
	RootPath string   `json:"root-path"`
}

type listenView struct {
	Address string `json:"address"`
	TLS     string `json:"tls"`
	Timeout int    `json:"timeout"`
}

func (s *Server) configMain(w http.ResponseWriter, r *http.Request) {
	cfg := s.opts.Config
	out := mainConfigReply{
		Message: "main config returned",
		Request: s.info(r),
		General: generalView{PIDFile: cfg.General.PIDFile, StdoutLogfile: cfg.General.StdoutLogfile,
			ACAO: cfg.General.AccessControlAllowOrigin},
		Logging: loggingView{Filename: cfg.Logging.Filename, MaxSize: cfg.Logging.MaxSize,
			MaxBackups: cfg.Logging.MaxBackups, MaxAge: cfg.Logging.MaxAge, UseLocalTime: cfg.Logging.UseLocalTime,
			UseCompression: cfg.Logging.UseCompression, Level: cfg.Logging.Level},
		Zookeeper: zookeeperView{Servers: cfg.Zookeeper.Servers, Timeout: cfg.Zookeeper.Timeout, RootPath: cfg.Zookeeper.RootPath},
		HTTP:      map[string]listenView{},
	}
	for _, l := range cfg.HTTP {
		out.HTTP[l.Name] = listenView{Address: l.Address, TLS: l.TLSName, Timeout: int(l.Timeout.Seconds())}
	}
	s.reply(w, r, http.StatusOK, out)
}
