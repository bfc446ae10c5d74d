package server

import (
	"encoding/json"
	"net/http"
)

// sseWriter writes server-sent events: "data: {json}\n\n" lines, flushed
// one by one, ending with "data: [DONE]".
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newSSE(w http.ResponseWriter) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w)}
}

func (s *sseWriter) begin() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
}

// send writes one event; an error means the client is gone.
func (s *sseWriter) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.raw(b)
}

func (s *sseWriter) raw(b []byte) error {
	s.begin()
	buf := make([]byte, 0, len(b)+8)
	buf = append(buf, "data: "...)
	buf = append(buf, b...)
	buf = append(buf, "\n\n"...)
	if _, err := s.w.Write(buf); err != nil {
		return err
	}
	return s.rc.Flush()
}

// done writes the closing "data: [DONE]" event.
func (s *sseWriter) done() error { return s.raw([]byte("[DONE]")) }

// sendError writes an error event in SGLang's stream shape.
func (s *sseWriter) sendError(err error) error {
	st := statusOf(err)
	return s.send(nativeError{Error: nativeErrorBody{Message: err.Error(), Type: errKind(st), Code: st}})
}
