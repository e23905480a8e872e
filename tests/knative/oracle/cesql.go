package main

import (
	"context"
	"encoding/json"
	"fmt"

	cesql "github.com/cloudevents/sdk-go/sql/v2"
	sqlerrors "github.com/cloudevents/sdk-go/sql/v2/errors"
	"github.com/cloudevents/sdk-go/sql/v2/parser"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"k8s.io/client-go/rest"
	"knative.dev/eventing/pkg/requestreply"
	"knative.dev/pkg/injection"

	// The broker filter's KN_VERIFY_CORRELATION_ID reads Secrets through this informer.
	_ "knative.dev/pkg/injection/clients/namespacedkube/informers/core/v1/secret/fake"
)

// registerBrokerFunctions adds the CESQL functions the broker filter registers at start-up
// (cmd/broker/filter), against an empty fake cluster: the function exists, and finds no keys.
func registerBrokerFunctions() {
	ctx, _ := injection.Fake.SetupInformers(context.Background(), &rest.Config{})
	if err := requestreply.RegisterCESQLVerifyCorrelationIdFilter(ctx); err != nil {
		panic(fmt.Sprintf("registering the broker's CESQL functions: %v", err))
	}
}

type cesqlRequest struct {
	Expression string          `json:"expression"`
	Event      json.RawMessage `json:"event"`
}

// cesqlAnswer is what sdk-go makes of an expression: a value with its CESQL type, an
// error kind as the TCK names them, or both (evaluation goes on with a zero value).
type cesqlAnswer struct {
	Value   any    `json:"value"`
	Type    string `json:"type,omitempty"`
	Error   string `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

func answerCESQL(line []byte) any {
	var request cesqlRequest
	if err := json.Unmarshal(line, &request); err != nil {
		return failure(err)
	}
	expression, err := parse(request.Expression)
	if err != nil {
		return cesqlAnswer{Error: errorKind(err), Message: err.Error()}
	}
	if request.Event == nil {
		return cesqlAnswer{}
	}
	var event cloudevents.Event
	if err := json.Unmarshal(request.Event, &event); err != nil {
		return failure(fmt.Errorf("event: %w", err))
	}
	value, err := expression.Evaluate(event)
	answer := cesqlAnswer{Value: value}
	if value != nil {
		answer.Type = cesql.TypeFromVal(value).String()
	}
	if err != nil {
		answer.Error, answer.Message = errorKind(err), err.Error()
	}
	return answer
}

// parse parses as the Trigger webhook does (ValidateCESQLExpression): a parser panic,
// which some malformed expressions cause, counts as a parse error.
func parse(text string) (expression cesql.Expression, err error) {
	defer func() {
		if recovered := recover(); recovered != nil {
			expression, err = nil, parserPanic{recovered}
		}
	}()
	return parser.Parse(text)
}

type parserPanic struct{ value any }

func (p parserPanic) Error() string { return fmt.Sprintf("the parser panicked: %v", p.value) }

// errorKind names an sdk-go CESQL error the way the TCK's `error` field does.
func errorKind(err error) string {
	switch {
	case sqlerrors.IsParseError(err):
		return "parse"
	case isParserPanic(err):
		return "parse"
	case sqlerrors.IsMathError(err):
		return "math"
	case sqlerrors.IsCastError(err):
		return "cast"
	case sqlerrors.IsMissingAttributeError(err):
		return "missingAttribute"
	case sqlerrors.IsMissingFunctionError(err):
		return "missingFunction"
	case sqlerrors.IsFunctionEvaluationError(err):
		return "functionEvaluation"
	default:
		return "generic"
	}
}

func isParserPanic(err error) bool {
	_, ok := err.(parserPanic)
	return ok
}
