package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The SGLang frontend tutorial's IP-address regex.
const ipRegex = `((25[0-5]|2[0-4]\d|[01]?\d\d?).){3}(25[0-5]|2[0-4]\d|[01]?\d\d?)`

// characterJSONSafe is the tutorial's Harry Potter character regex with
// JSON-safe strings and numbers (see srt/constrain's tests).
const characterJSONSafe = `\{\n` +
	`    "name": "[\w\d ]{1,16}",\n` +
	`    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n` +
	`    "blood status": "(Pure-blood|Half-blood|Muggle-born)",\n` +
	`    "occupation": "(student|teacher|auror|ministry of magic|death eater|order of the phoenix)",\n` +
	`    "wand": \{\n` +
	`        "wood": "[\w\d ]{1,16}",\n` +
	`        "core": "[\w\d ]{1,16}",\n` +
	`        "length": (0|[1-9][0-9]?)\.[0-9]{1,2}\n` +
	`    \},\n` +
	`    "alive": "(Alive|Deceased)",\n` +
	`    "patronus": "[\w\d ]{1,16}",\n` +
	`    "bogart": "[\w\d ]{1,16}"\n` +
	`\}`

type genResult struct {
	Text     string `json:"text"`
	MetaInfo struct {
		FinishReason struct {
			Type    string `json:"type"`
			Matched any    `json:"matched"`
		} `json:"finish_reason"`
		CompletionTokens  int `json:"completion_tokens"`
		JumpForwardTokens int `json:"jump_forward_tokens"`
	} `json:"meta_info"`
}

func TestGenerateRegexHTTP(t *testing.T) {
	ts, eng, _ := testServer(t, Options{})
	cases := []struct {
		name, prompt, pattern string
		json                  bool
	}{
		{"ip", "Q: What is the IP address of the Google DNS servers?\nA: ", ipRegex, false},
		{"character", "Harry Potter is a character in Harry Potter. Please fill in the following information about this character.\n", characterJSONSafe, true},
	}
	const seeds = 12
	for _, c := range cases {
		full := regexp.MustCompile(`^(?:` + c.pattern + `)$`)
		var wg sync.WaitGroup
		for seed := range seeds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body, _ := json.Marshal(map[string]any{"text": c.prompt, "sampling_params": map[string]any{
					"temperature": 1.0, "max_new_tokens": 300, "regex": c.pattern, "sampling_seed": seed}})
				code, b := call(t, "POST", ts.URL+"/generate", string(body))
				if code != http.StatusOK {
					t.Errorf("%s seed %d: %d %s", c.name, seed, code, b)
					return
				}
				var r genResult
				if err := json.Unmarshal(b, &r); err != nil {
					t.Error(err)
					return
				}
				if !full.MatchString(r.Text) {
					t.Errorf("%s seed %d: %q does not match", c.name, seed, r.Text)
				}
				if fr := r.MetaInfo.FinishReason; fr.Type != "stop" || fr.Matched != float64(2) {
					t.Errorf("%s seed %d: finish reason %+v, want stop at EOS 2", c.name, seed, fr)
				}
				if c.json {
					var v map[string]any
					if err := json.Unmarshal([]byte(r.Text), &v); err != nil {
						t.Errorf("%s seed %d: not JSON: %v", c.name, seed, err)
					}
					if r.MetaInfo.JumpForwardTokens <= 0 || r.MetaInfo.JumpForwardTokens >= r.MetaInfo.CompletionTokens {
						t.Errorf("%s seed %d: jump_forward_tokens %d of %d", c.name, seed, r.MetaInfo.JumpForwardTokens, r.MetaInfo.CompletionTokens)
					}
				}
			}()
		}
		wg.Wait()
	}
	waitIdle(t, eng)
}

func TestGenerateJSONSchemaAndStopRegexHTTP(t *testing.T) {
	ts, _, _ := testServer(t, Options{})
	schema := `{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"]}`
	for _, form := range []string{schema, fmt.Sprintf("%q", schema)} { // object and string
		code, b := call(t, "POST", ts.URL+"/generate", `{"text":"Once upon a time","sampling_params":{"temperature":0,"max_new_tokens":100,"json_schema":`+form+`}}`)
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, b)
		}
		var r genResult
		json.Unmarshal(b, &r)
		var v struct {
			Name *string `json:"name"`
			Age  *int    `json:"age"`
		}
		if err := json.Unmarshal([]byte(r.Text), &v); err != nil || v.Name == nil || v.Age == nil || *v.Age > 120 || len(*v.Name) > 8 {
			t.Fatalf("output %q (%v) does not fit the schema", r.Text, err)
		}
	}
	code, b := call(t, "POST", ts.URL+"/generate", `{"text":"Once upon a time","sampling_params":{"temperature":0,"max_new_tokens":60,"stop_regex":"[a-z]+ed "}}`)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	var r genResult
	json.Unmarshal(b, &r)
	m, _ := r.MetaInfo.FinishReason.Matched.(string)
	if r.MetaInfo.FinishReason.Type == "stop" && (!regexp.MustCompile(`^[a-z]+ed $`).MatchString(m) || !strings.HasSuffix(r.Text, m)) {
		t.Fatalf("stop_regex: text %q, finish %+v", r.Text, r.MetaInfo.FinishReason)
	}
}

func TestConstraintErrorsHTTP(t *testing.T) {
	ts, eng, _ := testServer(t, Options{})
	cases := []struct{ name, body, want string }{
		{"regex", `{"text":"a","sampling_params":{"regex":"(ab"}}`, "position"},
		{"look-ahead", `{"text":"a","sampling_params":{"regex":"a(?=b)"}}`, "position 1"},
		{"schema", `{"text":"a","sampling_params":{"json_schema":{"type":"object","properties":{"a":{"type":"wat"}}}}}`, "/properties/a"},
		{"schema string", `{"text":"a","sampling_params":{"json_schema":"{\"type\":"}}`, "json_schema"},
		{"schema type", `{"text":"a","sampling_params":{"json_schema":12}}`, "json_schema"},
		{"stop_regex", `{"text":"a","sampling_params":{"stop_regex":["x","("]}}`, "stop_regex[1]"},
		{"ebnf", `{"text":"a","sampling_params":{"ebnf":"root ::= \"a\""}}`, "not supported"},
		{"chat ebnf", `{"model":"stories","messages":[{"role":"user","content":"hi"}],"ebnf":"root ::= x"}`, "not supported"},
		{"chat regex", `{"model":"stories","messages":[{"role":"user","content":"hi"}],"regex":"[a"}`, "position"},
		{"chat schema", `{"model":"stories","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"type":"wat"}}}}}}`, "/properties/a"},
		{"chat schema missing", `{"model":"stories","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}`, "schema is required"},
		{"chat format", `{"model":"stories","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"structural_tag"}}`, "not supported"},
	}
	for _, c := range cases {
		url := ts.URL + "/generate"
		if strings.HasPrefix(c.name, "chat") {
			url = ts.URL + "/v1/chat/completions"
		}
		code, b := call(t, "POST", url, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d %s, want 400 mentioning %q", c.name, code, b, c.want)
		}
	}
	st := waitIdle(t, eng)
	if st.Requests != 1 { // the warm-up request only
		t.Errorf("%d requests reached the scheduler", st.Requests)
	}
}

func TestOpenAIResponseFormat(t *testing.T) {
	ts, _, _ := testServer(t, Options{})
	schema := `{"type":"object","properties":{"pet":{"enum":["cat","dog"]},"n":{"type":"integer","minimum":1,"maximum":9}},"required":["pet","n"]}`
	cases := []struct{ name, extra string }{
		{"json_schema", `"response_format":{"type":"json_schema","json_schema":{"name":"pet","schema":` + schema + `,"strict":true}}`},
		{"json_object", `"response_format":{"type":"json_object"}`},
		{"regex", `"regex":"(yes|no)"`},
	}
	for _, c := range cases {
		body := `{"model":"stories","messages":[{"role":"user","content":"Tell me"}],"temperature":0,"max_tokens":120,` + c.extra + `}`
		code, b := call(t, "POST", ts.URL+"/v1/chat/completions", body)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.name, code, b)
		}
		var r struct {
			Choices []struct {
				Message struct {
					Content string `json:"content"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) != 1 {
			t.Fatalf("%s: %s", c.name, b)
		}
		out := r.Choices[0].Message.Content
		switch c.name {
		case "json_schema":
			var v struct {
				Pet string `json:"pet"`
				N   int    `json:"n"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil || (v.Pet != "cat" && v.Pet != "dog") || v.N < 1 || v.N > 9 {
				t.Errorf("json_schema: %q (%v)", out, err)
			}
		case "json_object":
			var v map[string]any
			if r.Choices[0].FinishReason == "stop" && json.Unmarshal([]byte(out), &v) != nil {
				t.Errorf("json_object: %q is not an object", out)
			}
		case "regex":
			if out != "yes" && out != "no" {
				t.Errorf("regex: %q", out)
			}
		}
	}
}

func TestParseConstraintParams(t *testing.T) {
	cases := []struct {
		body                 string
		regex, schema, stopR string
	}{
		{`{"text":"a","sampling_params":{"regex":"a+"}}`, "a+", "", ""},
		{`{"text":"a","sampling_params":{"json_schema":{"type": "integer"}}}`, "", `{"type":"integer"}`, ""},
		{`{"text":"a","sampling_params":{"json_schema":"{\"type\": \"integer\"}"}}`, "", `{"type": "integer"}`, ""},
		{`{"text":"a","sampling_params":{"json_schema":null,"regex":null,"stop_regex":"x+"}}`, "", "", "x+"},
		{`{"text":"a","sampling_params":{"stop_regex":["x+"]}}`, "", "", "x+"},
	}
	for _, c := range cases {
		r, err := ParseGenerate(strings.NewReader(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		p := r.Reqs[0].Sampling
		if p.Regex != c.regex || p.JSONSchema != c.schema || strings.Join(p.StopRegex, ",") != c.stopR {
			t.Errorf("%s: regex %q schema %q stop_regex %q", c.body, p.Regex, p.JSONSchema, p.StopRegex)
		}
	}
}
