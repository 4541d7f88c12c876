package protocol

import (
	"encoding/json"
	"fmt"
)

// EvaluatorRequest asks the evaluator for the status of a consumer group.
type EvaluatorRequest struct {
	// Reply receives exactly one answer per request; it is never closed.
	Reply chan *ConsumerGroupStatus

	// Cluster is the cluster of the group.
	Cluster string

	// Group is the consumer group to evaluate.
	Group string

	// ShowAll lists every partition in the reply when true, and only the partitions
	// worse than OK when false.
	ShowAll bool
}

// StatusConstant is the status of a partition or of a group.
type StatusConstant int

// The statuses. Their numbers and names are part of the protocol.
const (
	// StatusNotFound is given to a group whose cluster or group is unknown.
	StatusNotFound StatusConstant = 0
	// StatusOK is a partition or group that is keeping up.
	StatusOK StatusConstant = 1
	// StatusWarning is a partition or group that is falling behind.
	StatusWarning StatusConstant = 2
	// StatusError is a group with a stopped or stalled partition.
	StatusError StatusConstant = 3
	// StatusStop is a partition whose consumer stopped committing.
	StatusStop StatusConstant = 4
	// StatusStall is a partition whose consumer commits without moving.
	StatusStall StatusConstant = 5
	// StatusRewind is a partition whose committed offset went backwards.
	StatusRewind StatusConstant = 6
)

var statusNames = [...]string{"NOTFOUND", "OK", "WARN", "ERR", "STOP", "STALL", "REWIND"}

// String returns the name of the status, or "UNKNOWN".
func (c StatusConstant) String() string {
	if c >= 0 && int(c) < len(statusNames) {
		return statusNames[c]
	}
	return "UNKNOWN"
}

// MarshalText writes the name of the status.
func (c StatusConstant) MarshalText() ([]byte, error) {
	return []byte(c.String()), nil
}

// MarshalJSON writes the name of the status as a JSON string.
func (c StatusConstant) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.String())
}

// UnmarshalText reads a status from its name; an unknown name is an error.
func (c *StatusConstant) UnmarshalText(text []byte) error {
	for i, name := range statusNames {
		if string(text) == name {
			*c = StatusConstant(i)
			return nil
		}
	}
	return fmt.Errorf("unknown status %q", text)
}

// UnmarshalJSON reads a status from its name as a JSON string, or from its
// number, as a decoder without this method reads it.
func (c *StatusConstant) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		var n int
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*c = StatusConstant(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	return c.UnmarshalText([]byte(name))
}

// PartitionStatus is the evaluation of one partition of a group.
type PartitionStatus struct {
	Topic      string          `json:"topic"`
	Partition  int32           `json:"partition"`
	Owner      string          `json:"owner"`
	ClientID   string          `json:"client_id"`
	Status     StatusConstant  `json:"status"`
	Start      *ConsumerOffset `json:"start"`
	End        *ConsumerOffset `json:"end"`
	CurrentLag uint64          `json:"current_lag"`
	Complete   float32         `json:"complete"`

	// Warren's additions, left out of the JSON when unset so that Burrow's form
	// is unchanged.

	// Why says, for a partition worse than OK, which rule decided it and the
	// facts of the window behind it.
	Why string `json:"why,omitempty"`
	// LagSeconds estimates how far behind the partition is in time: how long ago
	// the log end was at the newest commit. Nil when it cannot be told.
	LagSeconds *float64 `json:"lag_seconds,omitempty"`
	// LagEstimated is set when LagSeconds was extrapolated from the broker's
	// write rate because the commit is older than the broker offset history.
	LagEstimated bool `json:"lag_estimated,omitempty"`
}

// ConsumerGroupStatus is the evaluation of a group: the reply to an
// EvaluatorRequest.
type ConsumerGroupStatus struct {
	Cluster         string             `json:"cluster"`
	Group           string             `json:"group"`
	Status          StatusConstant     `json:"status"`
	Complete        float32            `json:"complete"`
	Partitions      []*PartitionStatus `json:"partitions"`
	TotalPartitions int                `json:"partition_count"`
	Maxlag          *PartitionStatus   `json:"maxlag"`
	TotalLag        uint64             `json:"totallag"`
}
