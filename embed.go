// Package retentiond holds the files from the repository root that the
// binary ships: the example policy, which `retentiond demo` runs with.
package retentiond

import _ "embed"

// ExamplePolicy is policies.example.yaml, byte for byte.
//
//go:embed policies.example.yaml
var ExamplePolicy []byte
