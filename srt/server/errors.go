package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/chat"
)

// Errors of the server package, checked with errors.Is.
var (
	// ErrBadRequest marks a request the server refuses (HTTP 400).
	ErrBadRequest = errors.New("server: bad request")
	// ErrNotSupported marks a feature not built yet (HTTP 400).
	ErrNotSupported = errors.New("server: not supported yet")
	// ErrModelNotFound marks a request for another model (HTTP 404).
	ErrModelNotFound = errors.New("server: model not found")
	// ErrNotReady marks a request that arrived before warm-up ended (HTTP 503).
	ErrNotReady = errors.New("server: not ready")
	// ErrOverloaded marks a request refused because too many are pending (HTTP 503).
	ErrOverloaded = errors.New("server: too many pending requests")
)

// badRequest wraps ErrBadRequest with a message.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// statusOf maps an error to its HTTP status.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrModelNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrNotReady), errors.Is(err, ErrOverloaded), errors.Is(err, srt.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrBadRequest), errors.Is(err, ErrNotSupported),
		errors.Is(err, srt.ErrInvalidRequest), errors.Is(err, srt.ErrContextLength),
		errors.Is(err, srt.ErrNoTokenizer), errors.Is(err, srt.ErrBusy),
		errors.Is(err, chat.ErrRender), errors.Is(err, chat.ErrBadInput):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// errType names a status the way SGLang's OpenAI layer does.
func errType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequestError"
	case http.StatusUnauthorized:
		return "AuthenticationError"
	case http.StatusNotFound:
		return "NotFoundError"
	case http.StatusRequestEntityTooLarge:
		return "RequestEntityTooLarge"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableError"
	}
	return "InternalServerError"
}

// ErrorResponse is the OpenAI-style error object SGLang returns, with the
// same fields repeated under "error", where OpenAI's own API and its
// clients (go-openai, the openai npm package) read them.
type ErrorResponse struct {
	Object  string       `json:"object"` // "error"
	Message string       `json:"message"`
	Type    string       `json:"type"`
	Param   *string      `json:"param"`
	Code    int          `json:"code"`
	Error   *ErrorDetail `json:"error,omitempty"`
}

// ErrorDetail is the body of OpenAI's {"error": {...}}.
type ErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    int     `json:"code"`
}

// NewErrorResponse builds the OpenAI error object for status.
func NewErrorResponse(status int, msg string) ErrorResponse {
	t := errType(status)
	return ErrorResponse{Object: "error", Message: msg, Type: t, Code: status,
		Error: &ErrorDetail{Message: msg, Type: t, Code: status}}
}

// nativeError is /generate's error body.
type nativeError struct {
	Error nativeErrorBody `json:"error"`
}

type nativeErrorBody struct {
	Message string `json:"message"`
	Type    string `json:"type,omitempty"`
	Code    int    `json:"code,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"server: cannot encode the response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// writeOpenAIError writes err as an OpenAI error object.
func writeOpenAIError(w http.ResponseWriter, err error) {
	st := statusOf(err)
	writeJSON(w, st, NewErrorResponse(st, err.Error()))
}

// writeNativeError writes err as SGLang's native {"error": {...}} body.
func writeNativeError(w http.ResponseWriter, err error) {
	st := statusOf(err)
	writeJSON(w, st, nativeError{Error: nativeErrorBody{Message: err.Error(), Type: errKind(st), Code: st}})
}

// errKind is the "type" of an error inside a native body or stream.
func errKind(status int) string {
	if status >= 500 {
		return "server_error"
	}
	return "invalid_request_error"
}
