package benchserve

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll collects the payloads until the reader's terminal error.
func readAll(s *sseReader) ([]string, error) {
	var got []string
	for {
		d, err := s.next()
		if err != nil {
			return got, err
		}
		got = append(got, string(d))
	}
}

func TestSSEReader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		wantErr  error
	}{
		{"basic", "data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n", []string{`{"a":1}`, `{"b":2}`}, errSSEDone},
		{"crlf and no space", "data:{\"a\":1}\r\n\r\ndata:[DONE]\r\n", []string{`{"a":1}`}, errSSEDone},
		{"comments and fields", ": ping\nevent: message\nid: 3\nretry: 10\ndata: x\n\ndata: [DONE]", []string{"x"}, errSSEDone},
		{"no done", "data: x\n\n", []string{"x"}, io.ErrUnexpectedEOF},
		{"last line without newline", "data: x", []string{"x"}, io.ErrUnexpectedEOF},
		{"empty", "", nil, io.ErrUnexpectedEOF},
		{"garbage", "data: x\nhello\n", []string{"x"}, errSSEMalformed},
		{"done stops", "data: [DONE]\ndata: after\n", nil, errSSEDone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, small := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tc.in)
				if small {
					r = iotest.OneByteReader(r)
				}
				got, err := readAll(newSSEReader(r))
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
				if strings.Join(got, "|") != strings.Join(tc.want, "|") {
					t.Errorf("payloads %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestSSELongLines(t *testing.T) {
	long := strings.Repeat("y", 200<<10) // longer than the bufio buffer
	got, err := readAll(newSSEReader(strings.NewReader("data: " + long + "\ndata: [DONE]\n")))
	if !errors.Is(err, errSSEDone) || len(got) != 1 || got[0] != long {
		t.Errorf("long line: err %v, %d payloads", err, len(got))
	}
	s := newSSEReader(strings.NewReader("data: " + long + "\n"))
	s.max = 1 << 10
	if _, err := s.next(); !errors.Is(err, errSSEMalformed) {
		t.Errorf("over-long line: err %v", err)
	}
}

func FuzzSSEReader(f *testing.F) {
	f.Add([]byte("data: {\"text\":\"a\"}\n\ndata: [DONE]\n\n"))
	f.Add([]byte(": c\r\nevent: e\ndata:x\n"))
	f.Add([]byte("data: \xff\n\nbogus"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := newSSEReader(bytes.NewReader(in))
		s.max = 1 << 12
		n := 0
		for {
			d, err := s.next()
			if err != nil {
				break
			}
			if bytes.HasPrefix(d, []byte(" ")) || bytes.Equal(d, []byte("[DONE]")) {
				t.Fatalf("payload %q not trimmed or a [DONE]", d)
			}
			if n++; n > len(in)+1 {
				t.Fatal("more payloads than input lines")
			}
		}
		// Feeding the payloads to both trackers must never panic.
		tr := newTracker(true, 1, 1)
		_ = tr.event(in, 0)
		tr = newTracker(false, 1, 1)
		_ = tr.event(in, 0)
	})
}

func BenchmarkSSEReader(b *testing.B) {
	var buf bytes.Buffer
	for i := range 1000 {
		buf.WriteString(`data: {"text":"` + strings.Repeat("w", i%200) + `","meta_info":{"completion_tokens":1}}` + "\n\n")
	}
	buf.WriteString("data: [DONE]\n\n")
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s := newSSEReader(bytes.NewReader(in))
		for {
			if _, err := s.next(); err != nil {
				break
			}
		}
	}
}
