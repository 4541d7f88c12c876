package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/warrenlag/warren/protocol"
)

type clusterListReply struct {
	Error    bool        `json:"error"`
	Message  string      `json:"message"`
	Clusters []string    `json:"clusters"`
	Request  requestInfo `json:"request"`
}

func (s *Server) clusterList(w http.ResponseWriter, r *http.Request) {
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchClusters}, "cluster not found")
	if !ok {
		return
	}
	s.reply(w, r, http.StatusOK, clusterListReply{Message: "cluster list returned", Clusters: sorted(v), Request: s.info(r)})
}

type moduleReply struct {
	Error   bool        `json:"error"`
	Message string      `json:"message"`
	Module  any         `json:"module"`
	Request requestInfo `json:"request"`
}

func (s *Server) clusterDetail(w http.ResponseWriter, r *http.Request) {
	m, ok := s.clusterModule(strings.ToLower(r.PathValue("cluster")))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "cluster module not found")
		return
	}
	s.reply(w, r, http.StatusOK, moduleReply{Message: "cluster module detail returned", Module: m, Request: s.info(r)})
}

type topicListReply struct {
	Error   bool        `json:"error"`
	Message string      `json:"message"`
	Topics  []string    `json:"topics"`
	Request requestInfo `json:"request"`
}

func (s *Server) topicList(w http.ResponseWriter, r *http.Request) {
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopics,
		Cluster: r.PathValue("cluster")}, "cluster not found")
	if !ok {
		return
	}
	s.reply(w, r, http.StatusOK, topicListReply{Message: "topic list returned", Topics: sorted(v), Request: s.info(r)})
}

type topicDetailReply struct {
	Error   bool        `json:"error"`
	Message string      `json:"message"`
	Offsets []int64     `json:"offsets"`
	Request requestInfo `json:"request"`
}

func (s *Server) topicDetail(w http.ResponseWriter, r *http.Request) {
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchTopic,
		Cluster: r.PathValue("cluster"), Topic: r.PathValue("topic")}, "cluster or topic not found")
	if !ok {
		return
	}
	offsets, _ := v.([]int64)
	if offsets == nil {
		offsets = []int64{}
	}
	s.reply(w, r, http.StatusOK, topicDetailReply{Message: "topic offsets returned", Offsets: offsets, Request: s.info(r)})
}

type consumersReply struct {
	Error     bool        `json:"error"`
	Message   string      `json:"message"`
	Consumers []string    `json:"consumers"`
	Request   requestInfo `json:"request"`
}

func (s *Server) topicConsumers(w http.ResponseWriter, r *http.Request) {
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumersForTopic,
		Cluster: r.PathValue("cluster"), Topic: r.PathValue("topic")}, "cluster not found")
	if !ok {
		return
	}
	s.reply(w, r, http.StatusOK, consumersReply{Message: "consumers of topic returned", Consumers: sorted(v), Request: s.info(r)})
}

func (s *Server) consumerList(w http.ResponseWriter, r *http.Request) {
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumers,
		Cluster: r.PathValue("cluster")}, "cluster not found")
	if !ok {
		return
	}
	s.reply(w, r, http.StatusOK, consumersReply{Message: "consumer list returned", Consumers: sorted(v), Request: s.info(r)})
}

type consumerDetailReply struct {
	Error   bool                    `json:"error"`
	Message string                  `json:"message"`
	Topics  protocol.ConsumerTopics `json:"topics"`
	Request requestInfo             `json:"request"`
}

func (s *Server) consumerDetail(w http.ResponseWriter, r *http.Request) {
	v, ok := s.fetch(w, r, &protocol.StorageRequest{RequestType: protocol.StorageFetchConsumer,
		Cluster: r.PathValue("cluster"), Group: r.PathValue("consumer")}, "cluster or consumer not found")
	if !ok {
		return
	}
	s.reply(w, r, http.StatusOK, consumerDetailReply{Message: "consumer detail returned",
		Topics: v.(protocol.ConsumerTopics), Request: s.info(r)})
}

// consumerDelete removes a group, or one topic of it. Storage applies it before
// any request sent after it, so a client that reads after the 200 sees it gone.
func (s *Server) consumerDelete(w http.ResponseWriter, r *http.Request) {
	req := &protocol.StorageRequest{RequestType: protocol.StorageSetDeleteGroup, Cluster: r.PathValue("cluster"),
		Group: r.PathValue("consumer"), Topic: r.PathValue("topic")}
	if err := s.asker.Send(r.Context(), req); err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "storage did not answer in time")
		return
	}
	s.opts.Log.Info("consumer group removed by HTTP request", zap.String("cluster", req.Cluster),
		zap.String("consumer", req.Group), zap.String("topic", req.Topic), zap.String("remote", r.RemoteAddr))
	s.reply(w, r, http.StatusOK, errorReply{Message: "consumer group removed", Request: s.info(r)})
}

type levelReply struct {
	Error   bool        `json:"error"`
	Message string      `json:"message"`
	Level   string      `json:"level"`
	Request requestInfo `json:"request"`
}

func (s *Server) getLevel(w http.ResponseWriter, r *http.Request) {
	level := "info"
	if s.opts.Level != nil {
		level = s.opts.Level.Level().String()
	}
	s.reply(w, r, http.StatusOK, levelReply{Message: "log level returned", Level: level, Request: s.info(r)})
}

func (s *Server) setLevel(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Level string `json:"level"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		s.fail(w, r, http.StatusBadRequest, "could not decode message body")
		return
	}
	var level zap.AtomicLevel
	switch strings.ToLower(body.Level) {
	case "debug", "trace":
		level = zap.NewAtomicLevelAt(zap.DebugLevel)
	case "info":
		level = zap.NewAtomicLevelAt(zap.InfoLevel)
	case "warn", "warning":
		level = zap.NewAtomicLevelAt(zap.WarnLevel)
	case "error":
		level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	case "fatal":
		level = zap.NewAtomicLevelAt(zap.FatalLevel)
	default:
		s.fail(w, r, http.StatusNotFound, "unknown log level")
		return
	}
	if s.opts.Level != nil {
		s.opts.Level.SetLevel(level.Level())
	}
	s.opts.Log.Info("log level set by HTTP request", zap.Stringer("level", level.Level()), zap.String("remote", r.RemoteAddr))
	s.reply(w, r, http.StatusOK, errorReply{Message: "set log level", Request: s.info(r)})
}

type statusReply struct {
	Error   bool                          `json:"error"`
	Message string                        `json:"message"`
	Status  *protocol.ConsumerGroupStatus `json:"status"`
	Request requestInfo                   `json:"request"`
}

// consumerStatus answers /status (partitions worse than OK) and /lag (every
// partition) from the evaluator: 200, or 404 with error false for NOTFOUND.
func (s *Server) consumerStatus(showAll bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Evaluator == nil {
			s.fail(w, r, http.StatusServiceUnavailable, "no evaluator is running")
			return
		}
		st, err := s.asker.Status(r.Context(), r.PathValue("cluster"), r.PathValue("consumer"), showAll)
		if err != nil {
			if r.Context().Err() == nil {
				s.fail(w, r, http.StatusServiceUnavailable, "evaluator did not answer in time")
			}
			return
		}
		status := http.StatusOK
		if st.Status == protocol.StatusNotFound {
			status = http.StatusNotFound
		}
		s.reply(w, r, status, statusReply{Message: "consumer status returned", Status: st, Request: s.info(r)})
	}
}
