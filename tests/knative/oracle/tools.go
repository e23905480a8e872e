//go:build tools

// Pins the module whose files the tests read but the oracle does not link: the
// CloudEvents conformance events (its yaml/ folder), fetched with `go mod download`.
package main

import _ "github.com/cloudevents/conformance/pkg/event"
