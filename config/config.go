// Package config reads hellogw's YAML configuration file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// Config is the configuration file's schema (SPEC "Config file").
type Config struct {
	// Greeting is the sayHello template; "{firstName}" is replaced by the
	// caller's first name.
	Greeting string `yaml:"greeting"`
	// MaxBodyBytes limits request bodies (1 MiB when zero).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Default is the embedded default configuration: what hellogw runs with
// when no file is given.
func Default() Config {
	return Config{Greeting: "Hello, {firstName}!", MaxBodyBytes: 1 << 20}
}

// Load reads the file at path over the defaults. Unknown keys are errors,
// so that a misspelt setting is not silently ignored.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if cfg.MaxBodyBytes <= 0 {
		return cfg, fmt.Errorf("config %s: max_body_bytes must be positive", path)
	}
	return cfg, nil
}
