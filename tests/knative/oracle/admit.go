package main

import (
	"context"
	"encoding/json"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	eventingv1beta2 "knative.dev/eventing/pkg/apis/eventing/v1beta2"
	eventingv1beta3 "knative.dev/eventing/pkg/apis/eventing/v1beta3"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	webhookjson "knative.dev/pkg/webhook/json"
	"knative.dev/pkg/webhook/resourcesemantics"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// kind is one resource type as a webhook admits it.
type kind struct {
	object resourcesemantics.GenericCRD
	// webhook names the admission webhook that handles the kind ("" when none does:
	// the API server then checks only the CRD schema, and the type's own validation
	// is reported as advice).
	webhook string
	// strict: the webhook decodes with unknown fields disallowed (Eventing does,
	// Serving leaves that to its CRD schemas).
	strict bool
}

// kinds holds the types kfn generates (and Broker), from cmd/webhook's type maps.
var kinds = map[schema.GroupVersionKind]kind{
	eventingv1.SchemeGroupVersion.WithKind("Trigger"):        {&eventingv1.Trigger{}, "eventing", true},
	eventingv1.SchemeGroupVersion.WithKind("Broker"):         {&eventingv1.Broker{}, "eventing", true},
	eventingv1beta2.SchemeGroupVersion.WithKind("EventType"): {&eventingv1beta2.EventType{}, "eventing", true},
	eventingv1beta3.SchemeGroupVersion.WithKind("EventType"): {&eventingv1beta3.EventType{}, "", true},
	sourcesv1.SchemeGroupVersion.WithKind("PingSource"):      {&sourcesv1.PingSource{}, "eventing", true},
	sourcesv1.SchemeGroupVersion.WithKind("SinkBinding"):     {&sourcesv1.SinkBinding{}, "eventing", true},
	servingv1.SchemeGroupVersion.WithKind("Service"):         {&servingv1.Service{}, "serving", false},
	servingv1.SchemeGroupVersion.WithKind("Configuration"):   {&servingv1.Configuration{}, "serving", false},
	servingv1.SchemeGroupVersion.WithKind("Route"):           {&servingv1.Route{}, "serving", false},
}

type admitRequest struct {
	Manifest json.RawMessage `json:"manifest"`
}

type diagnostic struct {
	Message string   `json:"message"`
	Paths   []string `json:"paths"`
	Details string   `json:"details,omitempty"`
}

type admitAnswer struct {
	Allowed bool   `json:"allowed"`
	Webhook string `json:"webhook"`
	// Stage says where a refusal came from: "decode" or "validate".
	Stage     string          `json:"stage,omitempty"`
	Errors    []diagnostic    `json:"errors"`
	Warnings  []diagnostic    `json:"warnings"`
	Defaulted json.RawMessage `json:"defaulted,omitempty"`
}

type admitter struct {
	withContext map[string]func(context.Context) context.Context
}

func newAdmitter(eventingConfig, servingConfig string) (*admitter, error) {
	if eventingConfig == "" || servingConfig == "" {
		return nil, fmt.Errorf("-eventing-config and -serving-config are required")
	}
	eventing, err := eventingContext(eventingConfig)
	if err != nil {
		return nil, err
	}
	serving, err := servingContext(servingConfig)
	if err != nil {
		return nil, err
	}
	return &admitter{withContext: map[string]func(context.Context) context.Context{
		"eventing": eventing, "serving": serving, "": eventing,
	}}, nil
}

// answer runs a manifest through the defaulting webhook then the validating one, as
// the API server does on create.
func (a *admitter) answer(line []byte) any {
	var request admitRequest
	if err := json.Unmarshal(line, &request); err != nil {
		return failure(err)
	}
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(request.Manifest, &meta); err != nil {
		return failure(err)
	}
	gvk := schema.FromAPIVersionAndKind(meta.APIVersion, meta.Kind)
	known, ok := kinds[gvk]
	if !ok {
		return failure(fmt.Errorf("no webhook type for %s", gvk))
	}
	answer := admitAnswer{Webhook: known.webhook, Errors: []diagnostic{}, Warnings: []diagnostic{}}
	ctx := a.withContext[known.webhook](context.Background())
	ctx = apis.WithUserInfo(ctx, &authenticationv1.UserInfo{Username: "kfn-tests"})
	ctx = apis.WithinCreate(ctx)

	// Defaulting webhook: decode, SetDefaults; the API server stores the patched object.
	object := known.object.DeepCopyObject().(resourcesemantics.GenericCRD)
	if err := webhookjson.Decode(request.Manifest, object, known.strict); err != nil {
		answer.Stage = "decode"
		answer.Errors = append(answer.Errors, diagnostic{Message: err.Error(), Paths: []string{}})
		return answer
	}
	object.SetDefaults(ctx)
	defaulted, err := json.Marshal(object)
	if err != nil {
		return failure(err)
	}
	answer.Defaulted = defaulted

	// Validating webhook: decode the defaulted object again, Validate.
	validated := known.object.DeepCopyObject().(resourcesemantics.GenericCRD)
	if err := webhookjson.Decode(defaulted, validated, known.strict); err != nil {
		answer.Stage = "decode"
		answer.Errors = append(answer.Errors, diagnostic{Message: err.Error(), Paths: []string{}})
		return answer
	}
	if result := validated.Validate(ctx); result != nil {
		answer.Errors = diagnostics(result.Filter(apis.ErrorLevel))
		answer.Warnings = diagnostics(result.Filter(apis.WarningLevel))
	}
	answer.Allowed = len(answer.Errors) == 0
	if !answer.Allowed {
		answer.Stage = "validate"
	}
	return answer
}

func diagnostics(errs *apis.FieldError) []diagnostic {
	found := []diagnostic{}
	if errs == nil {
		return found
	}
	for _, e := range errs.WrappedErrors() {
		paths := e.Paths
		if paths == nil {
			paths = []string{}
		}
		found = append(found, diagnostic{Message: e.Message, Paths: paths, Details: e.Details})
	}
	return found
}
