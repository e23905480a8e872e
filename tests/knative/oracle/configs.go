package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	eventingconfig "knative.dev/eventing/pkg/apis/config"
	"knative.dev/eventing/pkg/apis/feature"
	channelconfig "knative.dev/eventing/pkg/apis/messaging/config"
	pingconfig "knative.dev/eventing/pkg/apis/sources/config"
	servingconfig "knative.dev/serving/pkg/apis/config"
	autoscalerconfig "knative.dev/serving/pkg/autoscaler/config"
	"sigs.k8s.io/yaml"
)

// store is a configmap.UntypedStore with the names it knows.
type store struct {
	names   []string
	changed func(*corev1.ConfigMap)
}

// eventingContext loads Eventing's released config maps into the stores its webhook
// uses, and returns the webhook's context decorator (feature flags included: without
// feature.ToContext every flag reads as disabled).
func eventingContext(dir string) (func(context.Context) context.Context, error) {
	log := zap.NewNop().Sugar()
	defaults := eventingconfig.NewStore(log)
	channels := channelconfig.NewStore(log)
	pings := pingconfig.NewStore(log)
	features := feature.NewStore(log)
	err := load(dir, []store{
		{[]string{eventingconfig.DefaultsConfigName}, defaults.OnConfigChanged},
		{[]string{channelconfig.ChannelDefaultsConfigName}, channels.OnConfigChanged},
		{[]string{pingconfig.PingDefaultsConfigName}, pings.OnConfigChanged},
		{[]string{feature.FlagsConfigName}, features.OnConfigChanged},
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) context.Context {
		return features.ToContext(channels.ToContext(pings.ToContext(defaults.ToContext(ctx))))
	}, nil
}

// servingContext does the same for Serving (config-defaults, -features, -autoscaler).
func servingContext(dir string) (func(context.Context) context.Context, error) {
	apis := servingconfig.NewStore(zap.NewNop().Sugar())
	err := load(dir, []store{{
		[]string{servingconfig.DefaultsConfigName, servingconfig.FeaturesConfigName, autoscalerconfig.ConfigName},
		apis.OnConfigChanged,
	}})
	if err != nil {
		return nil, err
	}
	return apis.ToContext, nil
}

// load feeds every ConfigMap in dir's YAML files to the store that knows its name, and
// fails when a store misses one: a webhook never runs without its config maps.
func load(dir string, stores []store) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	loaded := map[string]bool{}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		for _, document := range strings.Split(string(text), "\n---") {
			var cm corev1.ConfigMap
			if err := yaml.Unmarshal([]byte(document), &cm); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if cm.Kind != "ConfigMap" {
				continue
			}
			for _, s := range stores {
				for _, name := range s.names {
					if name == cm.Name {
						s.changed(&cm)
						loaded[name] = true
					}
				}
			}
		}
	}
	for _, s := range stores {
		for _, name := range s.names {
			if !loaded[name] {
				return fmt.Errorf("config map %s not found in %s", name, dir)
			}
		}
	}
	return nil
}
