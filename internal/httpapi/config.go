package httpapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/spf13/viper"
)

// coordinators are the module sections /v3/config lists.
var coordinators = []string{"storage", "evaluator", "cluster", "consumer", "notifier"}

// defaultModules are created when their section is empty.
var defaultModules = map[string]string{"storage": "inmemory", "evaluator": "caching"}

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

type notifierHTTPView struct {
	ClassName      string            `json:"class-name"`
	GroupAllowlist string            `json:"group-allowlist"`
	Interval       int               `json:"interval"`
	Threshold      int               `json:"threshold"`
	Timeout        int               `json:"timeout"`
	Keepalive      int               `json:"keepalive"`
	URLOpen        string            `json:"url-open"`
	URLClose       string            `json:"url-close"`
	MethodOpen     string            `json:"method-open"`
	MethodClose    string            `json:"method-close"`
	TemplateOpen   string            `json:"template-open"`
	TemplateClose  string            `json:"template-close"`
	Extra          map[string]string `json:"extra"`
	SendClose      bool              `json:"send-close"`
	ExtraCA        string            `json:"extra-ca"`
	NoVerify       string            `json:"noverify"`
}

type notifierEmailView struct {
	ClassName      string            `json:"class-name"`
	GroupAllowlist string            `json:"group-allowlist"`
	Interval       int               `json:"interval"`
	Threshold      int               `json:"threshold"`
	TemplateOpen   string            `json:"template-open"`
	TemplateClose  string            `json:"template-close"`
	Extra          map[string]string `json:"extra"`
	SendClose      bool              `json:"send-close"`
	Server         string            `json:"server"`
	Port           int               `json:"port"`
	AuthType       string            `json:"auth-type"`
	Username       string            `json:"username"`
	From           string            `json:"from"`
	To             string            `json:"to"`
	ExtraCA        string            `json:"extra-ca"`
	NoVerify       string            `json:"noverify"`
}

type notifierNullView struct {
	ClassName      string            `json:"class-name"`
	GroupAllowlist string            `json:"group-allowlist"`
	Interval       int               `json:"interval"`
	Threshold      int               `json:"threshold"`
	TemplateOpen   string            `json:"template-open"`
	TemplateClose  string            `json:"template-close"`
	Extra          map[string]string `json:"extra"`
	SendClose      bool              `json:"send-close"`
}

// view reads configuration keys with defaults for display.
type view struct{ v *viper.Viper }

func (c view) str(key, def string) string {
	if c.v.IsSet(key) {
		return c.v.GetString(key)
	}
	return def
}

func (c view) integer(key string, def int) int {
	if c.v.IsSet(key) {
		return c.v.GetInt(key)
	}
	return def
}

func (c view) list(key string) []string {
	l := c.v.GetStringSlice(key)
	if l == nil {
		return []string{}
	}
	return l
}

func (c view) names(section string) []string {
	names := []string{}
	for name := range c.v.GetStringMap(section) {
		names = append(names, name)
	}
	if len(names) == 0 && defaultModules[section] != "" {
		names = append(names, "default")
	}
	sort.Strings(names)
	return names
}

func (c view) has(section, name string) bool {
	for _, n := range c.names(section) {
		if n == name {
			return true
		}
	}
	return false
}

func (c view) profile(name string) profileView {
	p := profileView{Name: name, ClientID: "burrow-lagchecker", KafkaVersion: "2.8.0"}
	if name == "" {
		return p
	}
	root := "client-profile." + name
	p.ClientID = c.str(root+".client-id", p.ClientID)
	p.KafkaVersion = c.str(root+".kafka-version", p.KafkaVersion)
	if t := c.str(root+".tls", ""); t != "" && c.v.IsSet("tls."+t) {
		p.TLS = &tlsView{Name: t, NoVerify: c.v.GetBool("tls." + t + ".noverify"),
			CertFile: c.str("tls."+t+".certfile", ""), KeyFile: c.str("tls."+t+".keyfile", ""),
			CAFile: c.str("tls."+t+".cafile", "")}
	}
	if sa := c.str(root+".sasl", ""); sa != "" && c.v.IsSet("sasl."+sa) {
		p.SASL = &saslView{Name: sa, HandshakeFirst: c.v.GetBool("sasl." + sa + ".handshake-first"),
			Username: c.str("sasl."+sa+".username", "")}
	}
	return p
}

func (s *Server) view() view { return view{s.opts.Config.V} }

// clusterModule returns the configuration view of a cluster module.
func (s *Server) clusterModule(name string) (any, bool) {
	c := s.view()
	if !c.has("cluster", name) {
		return nil, false
	}
	root := "cluster." + name
	return clusterView{
		ClassName:     c.str(root+".class-name", ""),
		Servers:       c.list(root + ".servers"),
		ClientProfile: c.profile(c.str(root+".client-profile", "")),
		TopicRefresh:  c.integer(root+".topic-refresh", 60),
		OffsetRefresh: c.integer(root+".offset-refresh", 10),
	}, true
}

func (c view) extras(root string) map[string]string {
	out := map[string]string{}
	for k, v := range c.v.GetStringMapString(root + ".extras") {
		out[k] = v
	}
	return out
}

func (c view) module(coordinator, name string) (any, bool) {
	if !c.has(coordinator, name) {
		return nil, false
	}
	root := coordinator + "." + name
	switch coordinator {
	case "storage":
		return storageView{ClassName: c.str(root+".class-name", "inmemory"), Intervals: c.integer(root+".intervals", 10),
			MinDistance: c.integer(root+".min-distance", 0), GroupAllowlist: c.str(root+".group-allowlist", ""),
			ExpireGroup: c.integer(root+".expire-group", 604800)}, true
	case "evaluator":
		return evaluatorView{ClassName: c.str(root+".class-name", "caching"), ExpireCache: c.integer(root+".expire-cache", 10)}, true
	case "consumer":
		return consumerView{ClassName: c.str(root+".class-name", ""), Cluster: strings.ToLower(c.str(root+".cluster", "")),
			Servers: c.list(root + ".servers"), GroupAllowlist: c.str(root+".group-allowlist", ""),
			ZookeeperPath: c.str(root+".zookeeper-path", ""), ZookeeperTimeout: c.integer(root+".zookeeper-timeout", 0),
			ClientProfile: c.profile(c.str(root+".client-profile", "")),
			OffsetsTopic:  c.str(root+".offsets-topic", "__consumer_offsets"), StartLatest: c.v.GetBool(root + ".start-latest")}, true
	case "notifier":
		interval := c.integer(root+".interval", 60)
		threshold := c.integer(root+".threshold", 2)
		noverify := c.str(root+".noverify", "")
		switch class := c.str(root+".class-name", ""); class {
		case "http":
			return notifierHTTPView{ClassName: class, GroupAllowlist: c.str(root+".group-allowlist", ""),
				Interval: interval, Threshold: threshold, Timeout: c.integer(root+".timeout", 5),
				Keepalive: c.integer(root+".keepalive", 300), URLOpen: c.str(root+".url-open", ""),
				URLClose: c.str(root+".url-close", ""), MethodOpen: c.str(root+".method-open", "POST"),
				MethodClose: c.str(root+".method-close", closeMethod(c.v.GetBool(root+".send-close"))), TemplateOpen: c.str(root+".template-open", ""),
				TemplateClose: c.str(root+".template-close", ""), Extra: c.extras(root),
				SendClose: c.v.GetBool(root + ".send-close"), ExtraCA: c.str(root+".extra-ca", ""), NoVerify: noverify}, true
		case "email":
			return notifierEmailView{ClassName: class, GroupAllowlist: c.str(root+".group-allowlist", ""),
				Interval: interval, Threshold: threshold, TemplateOpen: c.str(root+".template-open", ""),
				TemplateClose: c.str(root+".template-close", ""), Extra: c.extras(root),
				SendClose: c.v.GetBool(root + ".send-close"), Server: c.str(root+".server", ""),
				Port: c.integer(root+".port", 0), AuthType: c.str(root+".auth-type", ""),
				Username: c.str(root+".username", ""), From: c.str(root+".from", ""), To: c.str(root+".to", ""),
				ExtraCA: c.str(root+".extra-ca", ""), NoVerify: noverify}, true
		default:
			return notifierNullView{ClassName: class, GroupAllowlist: c.str(root+".group-allowlist", ""),
				Interval: interval, Threshold: threshold, TemplateOpen: c.str(root+".template-open", ""),
				TemplateClose: c.str(root+".template-close", ""), Extra: c.extras(root),
				SendClose: c.v.GetBool(root + ".send-close")}, true
		}
	}
	return nil, false
}

// closeMethod is the default method-close: POST, but only when closes are sent
// (an http notifier without send-close shows "", as Burrow does).
func closeMethod(sendClose bool) string {
	if sendClose {
		return "POST"
	}
	return ""
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
		s.reply(w, http.StatusOK, moduleListReply{Message: "module list returned", Request: s.info(r),
			Coordinator: coordinator, Modules: s.view().names(coordinator)})
	}
}

func (s *Server) moduleDetail(coordinator string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.ToLower(r.PathValue("name"))
		var m any
		var ok bool
		if coordinator == "cluster" {
			m, ok = s.clusterModule(name)
		} else {
			m, ok = s.view().module(coordinator, name)
		}
		if !ok {
			s.fail(w, r, http.StatusNotFound, coordinator+" module not found")
			return
		}
		s.reply(w, http.StatusOK, moduleReply{Message: coordinator + " module detail returned", Module: m, Request: s.info(r)})
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
	c := s.view()
	out := mainConfigReply{
		Message: "main config returned",
		Request: s.info(r),
		General: generalView{PIDFile: cfg.General.PIDFile, StdoutLogfile: cfg.General.StdoutLogfile,
			ACAO: cfg.General.AccessControlAllowOrigin},
		Logging: loggingView{Filename: cfg.Logging.Filename, MaxSize: cfg.Logging.MaxSize,
			MaxBackups: cfg.Logging.MaxBackups, MaxAge: cfg.Logging.MaxAge, UseLocalTime: cfg.Logging.UseLocalTime,
			UseCompression: cfg.Logging.UseCompression, Level: cfg.Logging.Level},
		Zookeeper: zookeeperView{Servers: c.v.GetStringSlice("zookeeper.servers"),
			Timeout: c.integer("zookeeper.timeout", 0), RootPath: c.str("zookeeper.root-path", "")},
		HTTP: map[string]listenView{},
	}
	for _, l := range cfg.HTTP {
		out.HTTP[l.Name] = listenView{Address: l.Address, TLS: l.TLSName, Timeout: int(l.Timeout.Seconds())}
	}
	s.reply(w, http.StatusOK, out)
}
