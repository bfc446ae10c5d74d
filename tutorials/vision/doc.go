// Package vision holds the Go version of SGLang's "OpenAI APIs - Vision"
// tutorial (README.md): chat completion requests with images, sent with
// curl, net/http and the go-openai client. The requests live in
// vision_test.go, so `go test ./tutorials/vision` compiles them and sends
// them to a loopback server; on a text-only model they must be refused.
package vision
