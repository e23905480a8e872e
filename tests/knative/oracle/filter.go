package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.uber.org/zap"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/eventing/pkg/broker"
	"knative.dev/eventing/pkg/eventfilter"
	"knative.dev/eventing/pkg/eventfilter/attributes"
	"knative.dev/eventing/pkg/eventfilter/subscriptionsapi"
	"knative.dev/pkg/logging"
)

// ingressMaxTTL is the broker ingress's MAX_TTL default (cmd/broker/ingress).
const ingressMaxTTL = 255

type filterRequest struct {
	// Trigger is a Trigger's spec (only `filter` and `filters` matter here).
	Trigger eventingv1.TriggerSpec `json:"trigger"`
	// Event is a structured-mode CloudEvent, as a producer POSTs it to the broker.
	Event json.RawMessage `json:"event"`
	// Arrival fixes the arrival time the ingress stamps (default: now).
	Arrival *time.Time `json:"arrival,omitempty"`
}

type filterAnswer struct {
	// Verdict: "delivered", "filtered" (the Trigger's filter failed), "refused" (the ingress
	// answers 400: not a valid event), "dropped" (the TTL ran out) or "panic".
	Verdict string `json:"verdict"`
	// Result is the filter's own FilterResult (PassFilter, FailFilter, NoFilter).
	Result string `json:"result,omitempty"`
	// Event is the event as the Trigger's filter saw it.
	Event  json.RawMessage `json:"event,omitempty"`
	Reason string          `json:"reason,omitempty"`
}

var logger = zap.NewNop()

func answerFilter(line []byte) any {
	var request filterRequest
	if err := json.Unmarshal(line, &request); err != nil {
		return failure(err)
	}
	ctx := logging.WithLogger(context.Background(), logger.Sugar())
	event, err := ingress(ctx, request)
	if err != nil {
		return filterAnswer{Verdict: "refused", Reason: err.Error()}
	}
	if ttl, err := broker.GetTTL(event.Context); err != nil || ttl <= 0 {
		return filterAnswer{Verdict: "dropped", Reason: fmt.Sprintf("TTL %d", ttl)}
	}
	// ingress -> channel -> broker filter: two HTTP hops as the dispatcher sends them.
	for hop := 0; hop < 2; hop++ {
		if event, err = overHTTP(ctx, event); err != nil {
			return failure(fmt.Errorf("dispatch: %w", err))
		}
	}
	if _, err := broker.GetTTL(event.Context); err != nil {
		return filterAnswer{Verdict: "dropped", Reason: "no TTL at the filter"}
	}
	if err := broker.DeleteTTL(event.Context); err != nil {
		return failure(err)
	}
	seen, err := json.Marshal(event)
	if err != nil {
		return failure(err)
	}
	result, panicked := applyTriggerFilter(ctx, request.Trigger, *event)
	answer := filterAnswer{Verdict: "delivered", Result: result.String(), Event: seen}
	switch {
	case panicked != nil:
		answer = filterAnswer{Verdict: "panic", Reason: fmt.Sprint(panicked), Event: seen}
	case result == eventfilter.FailFilter:
		answer.Verdict = "filtered"
	}
	return answer
}

// ingress decodes the event as the broker ingress does and applies what it changes:
// the arrival time extension and the TTL defaulter.
func ingress(ctx context.Context, request filterRequest) (*cloudevents.Event, error) {
	httpRequest, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://broker-ingress/ns/default", bytes.NewReader(request.Event))
	if err != nil {
		return nil, err
	}
	httpRequest.Header.Set("Content-Type", cloudevents.ApplicationCloudEventsJSON)
	message := cehttp.NewMessageFromHttpRequest(httpRequest)
	defer message.Finish(nil)
	event, err := binding.ToEvent(ctx, message)
	if err != nil {
		return nil, err
	}
	if err := event.Validate(); err != nil {
		return nil, err
	}
	arrival := time.Now()
	if request.Arrival != nil {
		arrival = *request.Arrival
	}
	event.SetExtension(broker.EventArrivalTime, cloudevents.Timestamp{Time: arrival})
	defaulted := broker.TTLDefaulter(logger, ingressMaxTTL)(ctx, *event)
	return &defaulted, nil
}

// overHTTP sends the event through an HTTP request in binary mode and reads it back.
func overHTTP(ctx context.Context, event *cloudevents.Event) (*cloudevents.Event, error) {
	httpRequest, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://next-hop/", nil)
	if err != nil {
		return nil, err
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(event), httpRequest); err != nil {
		return nil, err
	}
	message := cehttp.NewMessageFromHttpRequest(httpRequest)
	defer message.Finish(nil)
	return binding.ToEvent(ctx, message)
}

// applyTriggerFilter chooses the filter as the broker filter's handler does: the
// SubscriptionsAPI `filters` when present, else the legacy attributes `filter`.
func applyTriggerFilter(ctx context.Context, spec eventingv1.TriggerSpec, event cloudevents.Event) (result eventfilter.FilterResult, panicked any) {
	defer func() { panicked = recover() }()
	switch {
	case len(spec.Filters) > 0:
		return subscriptionsapi.CreateSubscriptionsAPIFilters(logger, spec.Filters).Filter(ctx, event), nil
	case spec.Filter != nil:
		return attributes.NewAttributesFilter(spec.Filter.Attributes).Filter(ctx, event), nil
	default:
		return eventfilter.NoFilter, nil
	}
}
