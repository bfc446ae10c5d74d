package benchserve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxSSELine bounds one SSE line (a cumulative-text event can be long).
const maxSSELine = 64 << 20

var (
	errSSEDone      = errors.New("benchserve: [DONE]")
	errSSEMalformed = errors.New("benchserve: malformed SSE")
)

// sseReader yields the payloads of "data:" lines. Blank lines, comments
// (":...") and the event/id/retry fields are skipped; any other line is
// malformed. "data: [DONE]" yields errSSEDone; the end of the body before it
// yields io.ErrUnexpectedEOF.
type sseReader struct {
	br  *bufio.Reader
	max int
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 64<<10), max: maxSSELine}
}

// next returns the next data payload (trimmed).
func (s *sseReader) next() ([]byte, error) {
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		line = bytes.TrimSpace(line)
		switch {
		case len(line) == 0, line[0] == ':':
			continue
		case bytes.HasPrefix(line, []byte("data:")):
			data := bytes.TrimSpace(line[len("data:"):])
			if bytes.Equal(data, []byte("[DONE]")) {
				return nil, errSSEDone
			}
			return data, nil
		case bytes.HasPrefix(line, []byte("event:")), bytes.HasPrefix(line, []byte("id:")), bytes.HasPrefix(line, []byte("retry:")):
			continue
		default:
			return nil, fmt.Errorf("%w: unexpected line %q", errSSEMalformed, truncate(string(line), 120))
		}
	}
}

// readLine reads one line without its terminator; io.EOF only when nothing
// is left.
func (s *sseReader) readLine() ([]byte, error) {
	var buf []byte
	for {
		frag, err := s.br.ReadSlice('\n')
		if len(buf)+len(frag) > s.max {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errSSEMalformed, s.max)
		}
		switch {
		case err == nil:
			if buf == nil {
				return frag, nil
			}
			return append(buf, frag...), nil
		case errors.Is(err, bufio.ErrBufferFull):
			buf = append(buf, frag...)
		case err == io.EOF && len(buf)+len(frag) > 0:
			return append(buf, frag...), nil
		default:
			return nil, err
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
