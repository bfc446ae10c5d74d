package srt

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// engineSchemaCases are srt/constrain's schema cases (trivial to nested,
// recursive and formatted), read from its testdata. A bad fixture panics.
var engineSchemaCases = func(path string) []struct{ name, schema string } {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	var raw []struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		panic(err)
	}
	out := make([]struct{ name, schema string }, len(raw))
	for i, r := range raw {
		out[i].name, out[i].schema = r.Name, string(r.Schema)
	}
	return out
}(filepath.Join("constrain", "testdata", "schemas.json"))

func schemaValidator(t *testing.T, schema string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJSONSchemasThroughEngine samples every schema at temperature 1: each
// output that ends (EOS, forced or sampled) must be JSON valid under the
// schema; outputs cut by max_new_tokens must be rare.
func TestJSONSchemasThroughEngine(t *testing.T) {
	eng := storiesEngine(t, "")
	seeds := 8
	if testing.Short() {
		seeds = 3
	}
	const maxNew = 200
	var reqs []*GenerateRequest
	for _, c := range engineSchemaCases {
		p := DefaultSamplingParams()
		p.MaxNewTokens, p.JSONSchema = maxNew, c.schema
		for i := range seeds {
			reqs = append(reqs, &GenerateRequest{Text: "Once upon a time", Sampling: seeded(p, uint64(i))})
		}
	}
	outs := runAll(t, eng, reqs)
	cut := 0
	for ci, c := range engineSchemaCases {
		val := schemaValidator(t, c.schema)
		for i := range seeds {
			out := outs[ci*seeds+i]
			if fr := out.MetaInfo.FinishReason; fr.Type == "length" {
				cut++
				continue
			} else if fr.Type != "stop" {
				t.Fatalf("%s: finish reason %+v", c.name, fr)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(out.Text)))
			if err != nil {
				t.Fatalf("%s seed %d: %q is not JSON: %v", c.name, i, out.Text, err)
			}
			if err := val.Validate(inst); err != nil {
				t.Fatalf("%s seed %d: %q fails the schema: %v", c.name, i, out.Text, err)
			}
			if i == 0 {
				t.Logf("%s: %s", c.name, out.Text)
			}
		}
	}
	if cut*5 > len(outs) {
		t.Errorf("%d of %d outputs hit max_new_tokens", cut, len(outs))
	}
	t.Logf("%d schemas x %d seeds, %d cut by max_new_tokens", len(engineSchemaCases), seeds, cut)
}
