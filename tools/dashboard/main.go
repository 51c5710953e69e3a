// Command dashboard writes gomaint's Grafana dashboard, built with Grafana's
// own typed builders (grafana-foundation-sdk), as JSON that Grafana 10 or
// newer imports as it is. It lives in a module of its own so that the
// product's go.mod lists only what the binary uses; its tests check the
// committed JSON, every query of it and of the alert rules against the
// metrics gomaint writes, and the whole path through node_exporter and
// Prometheus.
//
//	go generate ./...   (in tools/dashboard) refreshes packaging/grafana/gomaint.json
package main

//go:generate go run . -o ../../packaging/grafana/gomaint.json

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "", "write the dashboard to this file instead of standard output")
	flag.Parse()
	b, err := render()
	if err == nil && *out != "" {
		err = os.WriteFile(*out, b, 0o644)
	} else if err == nil {
		_, err = os.Stdout.Write(b)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "dashboard: %v\n", err)
		os.Exit(1)
	}
}

// render is the dashboard as the committed file holds it.
func render() ([]byte, error) {
	d, err := build()
	if err != nil {
		return nil, fmt.Errorf("building the dashboard: %w", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep PromQL's > and & readable
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encoding the dashboard: %w", err)
	}
	return b.Bytes(), nil
}
