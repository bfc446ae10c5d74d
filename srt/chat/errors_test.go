package chat

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, wantPos string
	}{
		{"unclosed if", "line one\n{% if x %}never closed", "Line"},
		{"bad expression", "{{ 1 + }}", "Line: 1"},
		{"unknown tag", "ok\n\n{% frobnicate %}", "Line: 3"},
		{"unbalanced parens", "{{ (a + b }}", "Line: 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.name, tc.src)
			if !errors.Is(err, ErrParse) {
				t.Fatalf("err = %v, want ErrParse", err)
			}
			if !strings.Contains(err.Error(), tc.wantPos) {
				t.Errorf("error %q lacks position %q", err, tc.wantPos)
			}
			if strings.Contains(err.Error(), tc.src) && len(tc.src) > 12 {
				t.Errorf("error %q repeats the whole source", err)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, src string
		msgs      []Message
		want      []error
		wantText  string
	}{
		{"raise_exception", "{% if messages | length > 1 %}{{ raise_exception('only one message please') }}{% endif %}",
			[]Message{user("a"), user("b")}, []error{ErrRender, ErrTemplate}, "only one message please"},
		{"recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", nil, []error{ErrRender, ErrLimit}, "nested"},
		{"loop budget", "{% for i in range(1000000) %}{% for j in range(10) %}{% endfor %}{% endfor %}", nil, []error{ErrRender, ErrLimit}, "iterations"},
		{"huge range", "{{ range(10000000000) | length }}", nil, []error{ErrRender}, "range"},
		{"huge repeat", "{{ 'ab' * 100000000000 }}", nil, []error{ErrRender}, "repetition"},
		{"method on none", "{{ messages[0].content.strip() }}", []Message{{Role: "user"}}, []error{ErrRender}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := Parse(tc.name, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tm.Render(tc.msgs, Options{})
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, want it to wrap %v", err, w)
				}
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("err %q lacks %q", err, tc.wantText)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tm, err := Parse("t", "{{ messages | length }}")
	if err != nil {
		t.Fatal(err)
	}
	var nilT *Template
	if _, err := nilT.Render(nil, Options{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("nil template: %v", err)
	}
	bad := []Message{{Role: "user", Content: "x", Extra: map[string]any{"role": "dup"}}}
	if _, err := tm.Render(bad, Options{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("duplicate extra field: %v", err)
	}
	if _, err := tm.Render(nil, Options{Tools: []any{make(chan int)}}); !errors.Is(err, ErrBadInput) {
		t.Errorf("unmarshalable tool: %v", err)
	}
	var m Message
	if err := m.UnmarshalJSON([]byte(`{"role": "user", "content": 5}`)); err == nil {
		t.Error("numeric content accepted")
	}
}

func TestMessageJSON(t *testing.T) {
	var m Message
	err := m.UnmarshalJSON([]byte(`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":{"z":1,"a":2}}}],"reasoning_content":"hmm"}`))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Parse("t", "{{ messages[0].content is none }}|{{ messages[0].tool_calls[0].function.arguments | tojson }}|{{ messages[0].reasoning_content }}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tm.Render([]Message{m}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `True|{"z": 1, "a": 2}|hmm`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
