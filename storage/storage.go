// Package storage is Warren's storage subsystem. It receives broker and consumer
// offsets from the cluster and consumer subsystems over the application's storage
// channel and serves them to the other subsystems (evaluator, HTTP API, notifiers)
// on request.
//
// Its API is that of LinkedIn Burrow's storage package: a Coordinator that runs
// one Module, by default the in-memory module InMemoryStorage, and the test
// fixture CoordinatorWithOffsets. Requests are protocol.StorageRequest values; see
// the protocol package for their types and replies.
//
// Guarantees beyond the original: when one goroutine sends request A and then
// request B, B observes A's effect; no request, however malformed, crashes or
// blocks the subsystem; every request accepted before Stop is applied or
// answered; fetched values share no memory with storage.
package storage

import (
	"github.com/warrenlag/warren/protocol"
)

// Module is a storage module: a protocol.Module that also gives the channel on
// which it takes protocol.StorageRequest values.
type Module interface {
	protocol.Module
	GetCommunicationChannel() chan *protocol.StorageRequest
}

// handler is implemented by modules that can take requests by a direct call,
// which saves the coordinator's forwarder a hand-off through the module channel.
// handle must be safe to call from one goroutine while the module's own channel
// is served by another.
type handler interface {
	handle(r *protocol.StorageRequest)
}
