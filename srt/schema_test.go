package srt

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// engineSchemaCases are srt/constrain's schema cases: trivial to nested,
// recursive and formatted.
var engineSchemaCases = []struct {
	name, schema string
}{
	{"boolean", `{"type":"boolean"}`},
	{"integer", `{"type":"integer"}`},
	{"int-range", `{"type":"integer","minimum":-37,"maximum":1234}`},
	{"int-exclusive", `{"type":"integer","exclusiveMinimum":9,"exclusiveMaximum":101}`},
	{"string-length", `{"type":"string","minLength":2,"maxLength":5}`},
	{"enum", `{"enum":["red","green",3,null,true,"a\"b"]}`},
	{"flat-object", `{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},"ok":{"type":"boolean"}},"required":["name","age","ok"]}`},
	{"optional-fields", `{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":3},"c":{"type":"null"},"d":{"type":"number"}},"required":["b"]}`},
	{"all-optional", `{"properties":{"x":{"type":"integer"},"y":{"type":"integer"},"z":{"const":"zz"}}}`},
	{"array-bounds", `{"type":"array","items":{"type":"integer","minimum":0,"maximum":9},"minItems":2,"maxItems":4}`},
	{"nested", `{"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":3}},"required":["id","tags"]},"score":{"type":"number"}},"required":["user"]}`},
	{"anyof", `{"type":"object","properties":{"v":{"anyOf":[{"type":"string","maxLength":4},{"type":"integer"},{"type":"array","items":{"type":"boolean"},"maxItems":2}]}},"required":["v"]}`},
	{"oneof-types", `{"type":["string","null"],"maxLength":6}`},
	{"defs-ref", `{"$defs":{"pt":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},"required":["x","y"]}},"type":"object","properties":{"from":{"$ref":"#/$defs/pt"},"to":{"$ref":"#/$defs/pt"}},"required":["from","to"]}`},
	{"definitions-enum", `{"definitions":{"color":{"type":"string","enum":["r","g","b"]}},"type":"array","items":{"$ref":"#/definitions/color"},"minItems":1}`},
	{"formats", `{"type":"object","properties":{"d":{"type":"string","format":"date"},"t":{"type":"string","format":"time"},"dt":{"type":"string","format":"date-time"},"u":{"type":"string","format":"uuid"}},"required":["d","t","dt","u"]}`},
	{"formats-net", `{"type":"object","properties":{"email":{"type":"string","format":"email"},"uri":{"type":"string","format":"uri"},"ip":{"type":"string","format":"ipv4"},"host":{"type":"string","format":"hostname"}},"required":["email","uri","ip","host"]}`},
	{"pattern", `{"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2,4}$"},"phone":{"type":"string","pattern":"\\d{3}-\\d{4}"}},"required":["code","phone"]}`},
	{"recursive-tree", `{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v"]}},"$ref":"#/$defs/node"}`},
	{"json-object", `{"type":"object"}`},
	{"required-undeclared", `{"type":"object","properties":{"a":{"type":"integer"}},"required":["b","a"]}`},
	{"allof-pydantic", `{"$defs":{"Base":{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]}},"allOf":[{"$ref":"#/$defs/Base"},{"properties":{"name":{"type":"string","maxLength":10}},"required":["name"]}]}`},
}

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
