package chat

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// semanticsData are the variables of TestPythonSemantics; JSON keeps the
// dict key order Python sees.
var semanticsData = map[string]any{
	"d":    json.RawMessage(`{"b": 1, "a": [1, "x"], "c": {"z": null}}`),
	"l":    json.RawMessage(`[1, 2, 3]`),
	"s":    "hello",
	"n":    nil,
	"one":  []any{"only"},
	"objs": json.RawMessage(`[{"k": 1, "v": "p"}, {"k": 2, "v": "q"}, {"k": 1, "v": "r"}]`),
	"call": json.RawMessage(`{"function": {"name": "f", "arguments": {"q": "é", "n": 2}}}`),
}

// TestPythonSemantics pins Jinja2-as-transformers behaviour on small
// templates. Each expected output (or error) is what Python Jinja2 3.1
// gives with the environment of testdata/make_golden.py.
func TestPythonSemantics(t *testing.T) {
	tests := []struct {
		name, src, want, wantErr string
	}{
		{"tojson default", "{{ d | tojson }}", "{\"b\": 1, \"a\": [1, \"x\"], \"c\": {\"z\": null}}", ""},
		{"tojson indent", "{{ d | tojson(indent=2) }}", "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    \"x\"\n  ],\n  \"c\": {\n    \"z\": null\n  }\n}", ""},
		{"tojson sort_keys", "{{ d | tojson(sort_keys=true) }}", "{\"a\": [1, \"x\"], \"b\": 1, \"c\": {\"z\": null}}", ""},
		{"tojson separators", "{{ d | tojson(separators=(',', ':')) }}", "{\"b\":1,\"a\":[1,\"x\"],\"c\":{\"z\":null}}", ""},
		{"tojson unicode", "{{ 'é\"\\n' | tojson }}", "\"é\\\"\\n\"", ""},
		{"tojson ensure_ascii", "{{ 'é😀' | tojson(ensure_ascii=true) }}", "\"\\u00e9\\ud83d\\ude00\"", ""},
		{"tojson none bool float", "{{ [none, true, 1.5, 2] | tojson }}", "[null, true, 1.5, 2]", ""},
		{"items order", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "b=1;a=[1, 'x'];c={'z': None};", ""},
		{"keys values", "{{ d.keys() | list }}|{{ d.values() | list }}", "['b', 'a', 'c']|[1, [1, 'x'], {'z': None}]", ""},
		{"get default", "{{ d.get('zz', 'dflt') }}|{{ d.get('zz') is none }}|{{ d.get('b') }}", "dflt|True|1", ""},
		{"dictsort", "{% for k, v in d | dictsort %}{{ k }}{% endfor %}", "abc", ""},
		{"strip family", "[{{ '  a b  '.strip() }}][{{ 'xxaxx'.lstrip('x') }}][{{ 'xxaxx'.rstrip('x') }}]", "[a b][axx][xxa]", ""},
		{"split", "{{ ' a  b '.split() }}{{ 'a,b,,c'.split(',') }}{{ 'a,b,c'.split(',', 1) }}", "['a', 'b']['a', 'b', '', 'c']['a', 'b,c']", ""},
		{"starts ends", "{{ 'hello'.startswith('he') }}{{ 'hello'.endswith(('x', 'lo')) }}", "TrueTrue", ""},
		{"case", "{{ 'hello world'.title() }}{{ 'AbC'.upper() }}{{ 'AbC'.lower() }}", "Hello WorldABCabc", ""},
		{"replace", "{{ 'aaa'.replace('a', 'b') }}{{ 'aaa'.replace('a', 'b', 2) }}", "bbbbba", ""},
		{"slicing", "{{ l[1:] }}{{ l[-1] }}{{ l[::-1] }}{{ l[:-1] }}{{ s[-1] }}", "[2, 3]3[3, 2, 1][1, 2]o", ""},
		{"single element negative index", "{{ one[-1] }}", "only", ""},
		{"loop vars", "{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", "10TrueFalse3;21FalseFalse3;32FalseTrue3;", ""},
		{"namespace", "{% set ns = namespace(n=0) %}{% for x in l %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}", "6", ""},
		{"tests", "{{ d is mapping }}{{ l is mapping }}{{ s is string }}{{ l is sequence }}{{ n is none }}{{ n is defined }}{{ zz is defined }}{{ l is iterable }}", "TrueFalseTrueTrueTrueTrueFalseTrue", ""},
		{"filters", "{{ l | length }}{{ '  x ' | trim }}{{ l | join('-') }}{{ l | first }}{{ l | last }}{{ s | upper }}", "3x1-2-313HELLO", ""},
		{"selectattr map", "{{ objs | selectattr('k', 'equalto', 1) | map(attribute='v') | list }}", "['p', 'r']", ""},
		{"print values", "{{ n }} {{ true }} {{ l }} {{ d }} {{ 1.5 }}", "None True [1, 2, 3] {'b': 1, 'a': [1, 'x'], 'c': {'z': None}} 1.5", ""},
		{"in operator", "{{ 'a' in d }}{{ 2 in l }}{{ 'ell' in s }}", "TrueTrueTrue", ""},
		{"conditional in parens", "{{ 'x' + ('y' if n is none else 'z') }}{{ [1 if l else 2] }}", "xy[1]", ""},
		{"string concat and tilde", "{{ s + '!' }}{{ s ~ 1 }}", "hello!hello1", ""},
		{"raise", "{{ raise_exception('boom') }}", "", "TemplateError: boom"},
		{"str plus list", "{{ s + l }}", "", "TypeError: can only concatenate str (not \"list\") to str"},
		{"undefined plus", "{{ s + zz }}", "", "UndefinedError: 'zz' is undefined"},
		{"iterate none", "{% for x in n %}{% endfor %}", "", "TypeError: 'NoneType' object is not iterable"},
		{"strftime", "{{ strftime_now('%Y-%m-%d %H:%M:%S %a %b %d %j') }}", "2025-03-14 09:26:53 Fri Mar 14 073", ""},
		{"generation block", "a{% generation %}b{% endgeneration %}c", "abc", ""},
		{"list append refused", "{% set x = l.append(4) %}", "", "SecurityError: access to attribute 'append' of 'list' object is unsafe."},
		{"trim_blocks lstrip_blocks", "x\n    {% if true %}\n  y\n    {% endif %}\nz\n", "x\n  y\nz", ""},
		{"safe concat escapes", "{{ '<'|safe + '<' }}", "<&lt;", ""},
		{"generator tojson", "{{ objs | map(attribute='v') | tojson }}", "", "TypeError: Object of type generator is not JSON serializable"},
		{"generator list tojson", "{{ objs | map(attribute='v') | list | tojson }}", "[\"p\", \"q\", \"r\"]", ""},
		{"selectattr list last", "{{ (objs | selectattr('k', 'equalto', 1) | list)[-1].v }}", "r", ""},
		{"selectattr single", "{{ objs | selectattr('k', 'equalto', 2) | list | length }}", "1", ""},
		{"tilde python str", "{{ 'a' ~ none ~ [1, 'b'] ~ zz ~ true }}", "aNone[1, 'b']True", ""},
		{"tilde does not escape", "{{ '<'|safe ~ '<' }}", "<<", ""},
		{"tool call arguments", "{{ call.function.arguments | tojson }}", "{\"q\": \"é\", \"n\": 2}", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := Parse(tc.name, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tm.Render(nil, Options{Extra: semanticsData, Now: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)})
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("want error like %q, got output %q", tc.wantErr, got)
				}
				if !errors.Is(err, ErrRender) {
					t.Errorf("error %v does not wrap ErrRender", err)
				}
				if strings.HasPrefix(tc.wantErr, "TemplateError") && !errors.Is(err, ErrTemplate) {
					t.Errorf("raise_exception error %v does not wrap ErrTemplate", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
