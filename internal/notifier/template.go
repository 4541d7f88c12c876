package notifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/warrenlag/warren/internal/config"
	"github.com/warrenlag/warren/protocol"
)

// Funcs returns the functions notification templates may call, body and URL
// alike (notifier.md §5.3 and §12 item 5). Times are formatted in UTC.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"jsonencoder":     jsonEncoder,
		"topicsbystatus":  topicsByStatus,
		"partitioncounts": partitionCounts,
		"add":             func(a, b int) int { return a + b },
		"minus":           func(a, b int) int { return a - b },
		"multiply":        func(a, b int) int { return a * b },
		"divide":          divide,
		"maxlag":          maxLag,
		"formattimestamp": formatTimestamp,
	}
}

// ParseTemplate parses text as a notification template: a set named
// "notifier" with Funcs. The template returned is always the text's own body,
// even when the text also defines other templates (notifier.md §12 item 5).
func ParseTemplate(text string) (*template.Template, error) {
	return template.New("notifier").Funcs(Funcs()).Parse(text)
}

// Templates are a module's parsed open and close templates.
type Templates struct {
	Open  *template.Template
	Close *template.Template // nil without send-close
}

// parseTemplates parses the module's templates from the text the
// configuration read.
func parseTemplates(cfg config.Notifier) (*Templates, error) {
	var t Templates
	var err error
	if t.Open, err = ParseTemplate(cfg.TemplateOpenText); err != nil {
		return nil, fmt.Errorf("notifier.%s.template-open: Failed to compile TemplateOpen: %w", cfg.Name, err)
	}
	if cfg.SendClose {
		if t.Close, err = ParseTemplate(cfg.TemplateCloseText); err != nil {
			return nil, fmt.Errorf("notifier.%s.template-close: Failed to compile TemplateClose: %w", cfg.Name, err)
		}
	}
	return &t, nil
}

// Render executes the template of kind with n. Its error wraps ErrTemplate.
func (t *Templates) Render(kind Kind, n *Notification) ([]byte, error) {
	tmpl := t.Open
	if kind == Close {
		tmpl = t.Close
	}
	if tmpl == nil {
		return nil, templateError(kind.String(), errors.New("no template"))
	}
	return Execute(tmpl, kind.String(), n)
}

// Execute runs tmpl with n; its error wraps ErrTemplate and names what.
func Execute(tmpl *template.Template, what string, n *Notification) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, n); err != nil {
		return nil, templateError(what, err)
	}
	return b.Bytes(), nil
}

// jsonEncoder returns v's JSON encoding, "" when it has none.
func jsonEncoder(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// topicsByStatus maps each status name to the topics with a partition in that
// status, each topic once, sorted.
func topicsByStatus(partitions []*protocol.PartitionStatus) map[string][]string {
	out := map[string][]string{}
	for _, p := range partitions {
		if p == nil {
			continue
		}
		name := p.Status.String()
		topics := out[name]
		found := false
		for _, t := range topics {
			if t == p.Topic {
				found = true
				break
			}
		}
		if !found {
			out[name] = append(topics, p.Topic)
		}
	}
	for _, topics := range out {
		sort.Strings(topics)
	}
	return out
}

// partitionCounts counts partitions by status; OK ones are not counted, and
// any status other than WARN, STOP, STALL and REWIND counts as unknown.
func partitionCounts(partitions []*protocol.PartitionStatus) map[string]int {
	out := map[string]int{"warn": 0, "stop": 0, "stall": 0, "rewind": 0, "unknown": 0}
	for _, p := range partitions {
		if p == nil {
			continue
		}
		switch p.Status {
		case protocol.StatusOK:
		case protocol.StatusWarning, protocol.StatusStop, protocol.StatusStall, protocol.StatusRewind:
			out[strings.ToLower(p.Status.String())]++
		default:
			out["unknown"]++
		}
	}
	return out
}

func divide(a, b int) (int, error) {
	if b == 0 {
		return 0, errors.New("divide by zero")
	}
	return a / b, nil
}

// maxLag returns the partition's current lag, 0 for none.
func maxLag(p *protocol.PartitionStatus) uint64 {
	if p == nil {
		return 0
	}
	return p.CurrentLag
}

// formatTimestamp formats Unix milliseconds with a Go layout, in UTC.
func formatTimestamp(ms int64, layout string) string {
	return time.UnixMilli(ms).UTC().Format(layout)
}
