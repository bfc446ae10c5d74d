package constrain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaCases go from trivial to nested, recursive and formatted. They live
// in testdata/schemas.json, which the engine's tests (package srt) also run
// end to end. A bad fixture file panics.
var schemaCases = loadSchemaCases("testdata/schemas.json")

// loadSchemaCases reads a JSON array of {name, schema}.
func loadSchemaCases(path string) []struct{ name, schema string } {
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
}

func compileValidator(t *testing.T, schema string) *jsonschema.Schema {
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

func TestSchemaRandomWalksValidate(t *testing.T) {
	tv := loadQwen(t)
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for _, c := range schemaCases {
		t.Run(c.name, func(t *testing.T) {
			val := compileValidator(t, c.schema)
			re, err := SchemaToRegex([]byte(c.schema), SchemaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			g, err := CompileRegex(re, tv.v, Options{})
			if err != nil {
				t.Fatalf("regex %s: %v", re, err)
			}
			goRe := regexp.MustCompile(`^(?:` + re + `)$`)
			for seed := range seeds {
				rng := rand.New(rand.NewPCG(uint64(seed), 11))
				res := randomWalk(t, g, tv, rng, 40)
				if !goRe.Match(res.out) {
					t.Fatalf("seed %d: %q does not match the regex", seed, res.out)
				}
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.out))
				if err != nil {
					t.Fatalf("seed %d: %q is not JSON: %v", seed, res.out, err)
				}
				if err := val.Validate(inst); err != nil {
					t.Fatalf("seed %d: %q fails the schema: %v", seed, res.out, err)
				}
				if seed < 2 {
					t.Logf("seed %d: %s", seed, res.out)
				}
			}
		})
	}
}

// TestSchemaOptionalProperties enumerates which property subsets the regex
// admits.
func TestSchemaOptionalProperties(t *testing.T) {
	cases := []struct {
		schema string
		yes    []string
		no     []string
	}{
		{`{"properties":{"a":{"const":1},"b":{"const":2},"c":{"const":3}},"required":["b"]}`,
			[]string{`{"b":2}`, `{"a":1,"b":2}`, `{"b":2,"c":3}`, `{"a":1,"b":2,"c":3}`, `{ "a": 1, "b": 2 }`},
			[]string{`{}`, `{"a":1}`, `{"b":2,"a":1}`, `{"a":1,,"b":2}`, `{"a":1,"b":2,}`}},
		{`{"properties":{"a":{"const":1},"b":{"const":2},"c":{"const":3}}}`,
			[]string{`{}`, `{"a":1}`, `{"b":2}`, `{"c":3}`, `{"a":1,"c":3}`, `{"a":1,"b":2,"c":3}`},
			[]string{`{,}`, `{"c":3,"a":1}`, `{"a":1,}`, `{,"b":2}`}},
		{`{"type":"array","items":{"const":0},"minItems":1,"maxItems":2}`,
			[]string{`[0]`, `[0,0]`, `[ 0, 0 ]`}, []string{`[]`, `[0,0,0]`, `[0,]`}},
	}
	for _, c := range cases {
		re, err := SchemaToRegex([]byte(c.schema), SchemaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r := regexp.MustCompile(`^(?:` + re + `)$`)
		for _, s := range c.yes {
			if !r.MatchString(s) {
				t.Errorf("%s should accept %s", c.schema, s)
			}
		}
		for _, s := range c.no {
			if r.MatchString(s) {
				t.Errorf("%s should reject %s", c.schema, s)
			}
		}
	}
}

func TestSchemaWhitespacePattern(t *testing.T) {
	re, err := SchemaToRegex([]byte(`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`),
		SchemaOptions{WhitespacePattern: `[\n ]{0,4}`})
	if err != nil {
		t.Fatal(err)
	}
	r := regexp.MustCompile(`^(?:` + re + `)$`)
	if !r.MatchString("{\n  \"a\": 1\n}") || r.MatchString("{\n      \"a\": 1}") {
		t.Fatalf("whitespace pattern not applied: %s", re)
	}
}

func TestSchemaErrors(t *testing.T) {
	cases := []struct {
		schema, opts, ptr, msg string
	}{
		{`{"type":"object","properties":{"a":{"type":"strin"}}}`, "", "/properties/a/type", "unknown type"},
		{`{"properties":{"a":{"$ref":"#/$defs/missing"}}}`, "", "/properties/a/$ref", "does not resolve"},
		{`{"$ref":"http://x.test/s.json"}`, "", "/$ref", "only local references"},
		{`{"type":"string","minLength":5,"maxLength":2}`, "", "", "greater than"},
		{`{"type":"array","items":{"type":"integer"},"minItems":-1}`, "", "/minItems", "non-negative"},
		{`{"enum":[]}`, "", "/enum", "non-empty"},
		{`{"type":"integer","minimum":5,"maximum":4}`, "", "", "no integer"},
		{`{"properties":{"x":{"type":"string","pattern":"(?<=a)b"}}}`, "", "/properties/x/pattern", "look-around"},
		{`{"type":"number","multipleOf":2}`, "strict", "/multipleOf", "cannot be enforced"},
		{`{"type":"string","format":"ipv6"}`, "strict", "/format", "unsupported format"},
		{`[1,2]`, "", "", "object or a boolean"},
		{`{"type":`, "", "", "not valid JSON"},
		{`false`, "", "", "matches nothing"},
		{`{"$defs":{"n":{"type":"object","properties":{"k":{"$ref":"#/$defs/n"}},"required":["k"]}},"$ref":"#/$defs/n"}`, "", "", "recursion"},
	}
	for _, c := range cases {
		_, err := SchemaToRegex([]byte(c.schema), SchemaOptions{Strict: c.opts == "strict"})
		if err == nil {
			t.Errorf("%s: no error", c.schema)
			continue
		}
		if !errors.Is(err, ErrInvalidSchema) {
			t.Errorf("%s: %v does not wrap ErrInvalidSchema", c.schema, err)
		}
		var se *SchemaError
		if !errors.As(err, &se) || se.Pointer != c.ptr || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%s: got %v, want pointer %q and %q", c.schema, err, c.ptr, c.msg)
		}
	}
}

func TestIntRangeRegexBruteForce(t *testing.T) {
	bound := func(p *int64) *big.Int {
		if p == nil {
			return nil
		}
		return big.NewInt(*p)
	}
	vals := []int64{-1001, -120, -100, -99, -10, -9, -1, 0, 1, 7, 9, 10, 19, 99, 100, 101, 255, 999, 1000, 1234}
	var ptrs []*int64
	ptrs = append(ptrs, nil)
	for i := range vals {
		ptrs = append(ptrs, &vals[i])
	}
	for _, lo := range ptrs {
		for _, hi := range ptrs {
			if lo != nil && hi != nil && *lo > *hi {
				continue
			}
			re := regexp.MustCompile(`^(?:` + intRangeRegex(bound(lo), bound(hi)) + `)$`)
			for x := int64(-1300); x <= 1300; x++ {
				want := (lo == nil || x >= *lo) && (hi == nil || x <= *hi)
				if got := re.MatchString(fmt.Sprint(x)); got != want {
					t.Fatalf("range [%v,%v] on %d: %v", show(lo), show(hi), x, got)
				}
			}
			for _, bad := range []string{"-0", "01", "+1", ""} {
				if re.MatchString(bad) {
					t.Fatalf("range [%v,%v] accepts %q", show(lo), show(hi), bad)
				}
			}
		}
	}
}

func show(p *int64) string {
	if p == nil {
		return "open"
	}
	return fmt.Sprint(*p)
}

func TestEnumConstLiterals(t *testing.T) {
	re, err := SchemaToRegex([]byte(`{"enum":["a<b", {"k":[1,2]}, 1.50]}`), SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := regexp.MustCompile(`^(?:` + re + `)$`)
	for _, s := range []string{`"a<b"`, `{"k":[1,2]}`, `1.50`} {
		if !r.MatchString(s) {
			t.Errorf("enum regex %s rejects %s", re, s)
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompileJSONSchemaAndCache(t *testing.T) {
	tv := byteVocab(t)
	schema := `{"type":"object","properties":{"a":{"type":"boolean"}},"required":["a"]}`
	c := NewCache(tv.v, 2)
	g1, err := c.Get(KindJSONSchema, schema, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !matches(g1, `{"a":true}`) || matches(g1, `{"a":1}`) {
		t.Fatal("compiled schema grammar is wrong")
	}
	g2, _ := c.Get(KindJSONSchema, schema, Options{})
	if g1 != g2 {
		t.Fatal("cache miss on the same key")
	}
	if _, err := c.Get(KindRegex, "(", Options{}); !errors.Is(err, ErrInvalidRegex) {
		t.Fatalf("bad regex through the cache: %v", err)
	}
	c.Get(KindRegex, "a", Options{})
	c.Get(KindRegex, "b", Options{})
	if c.Len() != 2 {
		t.Fatalf("cache holds %d, want 2", c.Len())
	}
	g3, _ := c.Get(KindJSONSchema, schema, Options{})
	if g3 == g1 {
		t.Fatal("evicted grammar came back from the cache")
	}
	_, err = CompileJSONSchema([]byte(`{"type":"string","pattern":"[^\\x00-\\x{10FFFF}]"}`), tv.v, Options{})
	if !errors.Is(err, ErrInvalidSchema) || !errors.Is(err, ErrEmptyLanguage) {
		t.Fatalf("empty schema language: %v", err)
	}
	hits, misses := c.Stats()
	if hits != 1 || misses != 5 {
		t.Fatalf("stats %d hits %d misses, want 1/5", hits, misses)
	}
}
