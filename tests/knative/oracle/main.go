// Command oracle answers questions about Knative with Knative's own code.
//
// Each subcommand reads one JSON request per line on stdin and writes one JSON
// answer per line on stdout, so a test session drives thousands of cases
// through one process:
//
//	oracle admit  -eventing-config DIR -serving-config DIR   manifests through the webhooks' defaulting and validation
//	oracle filter                                            events through the broker's ingress and a Trigger's filters
//	oracle cesql                                             CESQL expressions through cloudevents sdk-go sql/v2
//
// A request that cannot be read gets {"error": "..."} and the loop goes on.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

// handler answers one decoded request line.
type handler func(line []byte) any

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: oracle admit|filter|cesql [flags] < requests.jsonl")
		os.Exit(2)
	}
	command, args := os.Args[1], os.Args[2:]
	var answer handler
	switch command {
	case "admit":
		flags := flag.NewFlagSet("admit", flag.ExitOnError)
		eventingConfig := flags.String("eventing-config", "", "Eventing's released config/core/configmaps folder")
		servingConfig := flags.String("serving-config", "", "Serving's released config/core/configmaps folder")
		_ = flags.Parse(args)
		admitter, err := newAdmitter(*eventingConfig, *servingConfig)
		if err != nil {
			fmt.Fprintln(os.Stderr, "oracle admit:", err)
			os.Exit(1)
		}
		answer = admitter.answer
	case "filter":
		registerBrokerFunctions()
		answer = answerFilter
	case "cesql":
		registerBrokerFunctions()
		answer = answerCESQL
	default:
		fmt.Fprintf(os.Stderr, "oracle: unknown command %q (admit, filter or cesql)\n", command)
		os.Exit(2)
	}
	serve(answer)
}

func serve(answer handler) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(out)
	encoder.SetEscapeHTML(false)
	for in.Scan() {
		if err := encoder.Encode(answer(in.Bytes())); err != nil {
			_ = encoder.Encode(map[string]string{"error": err.Error()})
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}

func failure(err error) map[string]string {
	return map[string]string{"error": err.Error()}
}
