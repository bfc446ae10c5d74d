// Package frontend holds the Go version of SGLang's "Frontend Language"
// tutorial (README.md). The code of every section lives in
// frontend_test.go, so `go test ./tutorials/frontend` compiles it and runs
// it against a loopback server on the tiny stories260K model.
package frontend
