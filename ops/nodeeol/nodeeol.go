// Package nodeeol quiets jsii's Node end-of-life banner for every program that imports
// it, by adding the Node major version the README supports to
// JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION (a comma-separated list, read by
// @jsii/check-node in jsii's Node child) before that child starts.
//
// It has to be a package of its own, initialized before any jsii binding: every binding
// package registers its types in its init, and the first registration starts the Node
// child (jsii-runtime-go runtime.RegisterClass -> kernel.GetClient), which copies the
// environment then. Go initializes packages in import-path order as soon as their
// imports are (https://go.dev/ref/spec#Package_initialization); this package imports only
// os and strings, so it is ready long before jsii-runtime-go and its dependencies are,
// and a Setenv in package main's own init would run after the child has started.
// TestNodeChildPrintsNoEndOfLifeBanner (package main) checks the order holds.
package nodeeol

import (
	"os"
	"strings"
)

// Variable is the list of Node major versions whose banner jsii leaves out.
const Variable = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"

// Supported is the end-of-life Node major version the README lists as supported.
const Supported = "20"

func init() {
	os.Setenv(Variable, WithSilenced(os.Getenv(Variable), Supported))
}

// WithSilenced adds version to the comma-separated list, keeping what the caller had set.
func WithSilenced(list, version string) string {
	var kept []string
	found := false
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v != "" {
			kept = append(kept, v)
			found = found || v == version
		}
	}
	if !found {
		kept = append(kept, version)
	}
	return strings.Join(kept, ",")
}
