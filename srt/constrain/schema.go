package constrain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SchemaOptions configure SchemaToRegex. The zero value uses defaults.
type SchemaOptions struct {
	// WhitespacePattern is the regex allowed between JSON tokens (default
	// DefaultWhitespace, `[ ]?`, like outlines).
	WhitespacePattern string
	// MaxRefDepth bounds how many times $ref may recurse (default 3). A
	// property or array item that would recurse deeper is left out when the
	// schema allows it (optional property, minItems 0), else it is an error.
	MaxRefDepth int
	// AnyDepth bounds the nesting of unconstrained values ({}, true,
	// {"type":"object"} without properties, arrays without items); default 2.
	AnyDepth int
	// Strict makes keywords that constrain values but cannot be enforced by
	// the regex (multipleOf, uniqueItems, not, number bounds, ...) an error
	// instead of being ignored.
	Strict bool
}

func (o SchemaOptions) withDefaults() SchemaOptions {
	if o.WhitespacePattern == "" {
		o.WhitespacePattern = DefaultWhitespace
	}
	if o.MaxRefDepth <= 0 {
		o.MaxRefDepth = 3
	}
	if o.AnyDepth <= 0 {
		o.AnyDepth = 2
	}
	return o
}

// SchemaError reports an invalid or unsupported schema. Pointer is the JSON
// pointer (RFC 6901) of the offending subschema ("" is the root).
type SchemaError struct {
	Pointer string
	Msg     string
	Err     error // optional extra sentinel (ErrTooComplex)
}

func (e *SchemaError) Error() string {
	p := e.Pointer
	if p == "" {
		p = "(root)"
	}
	return fmt.Sprintf("constrain: json schema: at %s: %s", p, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidSchema) true.
func (e *SchemaError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidSchema, e.Err}
	}
	return []error{ErrInvalidSchema}
}

// errRefDepth marks a $ref recursion past MaxRefDepth.
var errRefDepth = errors.New("$ref recursion deeper than MaxRefDepth")

// maxSchemaRegex bounds the generated regex size.
const maxSchemaRegex = 4 << 20

// SchemaToRegex translates a JSON schema into a regex whose matches are JSON
// texts valid against the schema, following outlines' approach: object
// properties appear in schema order (optional ones may be left out), with
// WhitespacePattern between tokens. {"type": "object"} alone gives a generic
// JSON object of bounded depth (response_format json_object).
func SchemaToRegex(schema []byte, o SchemaOptions) (string, error) {
	o = o.withDefaults()
	if _, err := parseRegex(o.WhitespacePattern, 100_000); err != nil {
		return "", &SchemaError{Msg: fmt.Sprintf("bad whitespace pattern: %v", err)}
	}
	root, err := parseJSON(schema)
	if err != nil {
		return "", &SchemaError{Msg: "not valid JSON: " + err.Error()}
	}
	c := &schemaConv{root: root, o: o, ws: "(?:" + o.WhitespacePattern + ")", anyCache: map[int]string{}}
	re, err := c.value(root, "")
	if err != nil {
		var se *SchemaError
		if errors.As(err, &se) {
			return "", se
		}
		return "", &SchemaError{Msg: err.Error()}
	}
	return re, nil
}

type schemaConv struct {
	root     *jval
	o        SchemaOptions
	ws       string
	refDepth int
	anyCache map[int]string
}

func (c *schemaConv) fail(ptr, format string, args ...any) error {
	return &SchemaError{Pointer: ptr, Msg: fmt.Sprintf(format, args...)}
}

func ptrAdd(ptr string, parts ...string) string {
	for _, p := range parts {
		p = strings.ReplaceAll(p, "~", "~0")
		p = strings.ReplaceAll(p, "/", "~1")
		ptr += "/" + p
	}
	return ptr
}

func (c *schemaConv) check(ptr, re string) (string, error) {
	if len(re) > maxSchemaRegex {
		return "", &SchemaError{Pointer: ptr, Msg: fmt.Sprintf("the generated regex exceeds %d bytes", maxSchemaRegex), Err: ErrTooComplex}
	}
	return re, nil
}

// unenforced lists keywords that constrain values but are not expressed.
var unenforced = []string{"multipleOf", "uniqueItems", "not", "if", "then", "else",
	"patternProperties", "dependentRequired", "dependentSchemas", "dependencies", "contains",
	"minContains", "maxContains", "propertyNames", "unevaluatedProperties", "unevaluatedItems"}

func (c *schemaConv) value(s *jval, ptr string) (string, error) {
	if s.kind == jBool {
		if s.b {
			return c.anyValue(c.o.AnyDepth), nil
		}
		return "", c.fail(ptr, "schema false matches nothing")
	}
	if s.kind != jObject {
		return "", c.fail(ptr, "a schema must be an object or a boolean")
	}
	if c.o.Strict {
		for _, k := range unenforced {
			if s.get(k) != nil {
				return "", c.fail(ptrAdd(ptr, k), "keyword %q cannot be enforced", k)
			}
		}
	}
	if e := s.get("enum"); e != nil {
		if e.kind != jArray || len(e.arr) == 0 {
			return "", c.fail(ptrAdd(ptr, "enum"), "enum must be a non-empty array")
		}
		alts := make([]string, len(e.arr))
		for i, v := range e.arr {
			alts[i] = literal(v)
		}
		return c.check(ptr, "(?:"+strings.Join(alts, "|")+")")
	}
	if v := s.get("const"); v != nil {
		return literal(v), nil
	}
	if r := s.get("$ref"); r != nil {
		return c.ref(r, ptrAdd(ptr, "$ref"))
	}
	if a := s.get("allOf"); a != nil {
		merged, err := c.mergeAllOf(s, a, ptrAdd(ptr, "allOf"))
		if err != nil {
			return "", err
		}
		return c.value(merged, ptr)
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		if a := s.get(key); a != nil {
			return c.alternatives(a, ptrAdd(ptr, key))
		}
	}
	t := s.get("type")
	switch {
	case t == nil:
		return c.typed(inferType(s), s, ptr)
	case t.kind == jString:
		return c.typed(t.str, s, ptr)
	case t.kind == jArray && len(t.arr) > 0:
		alts := make([]string, 0, len(t.arr))
		for i, x := range t.arr {
			if x.kind != jString {
				return "", c.fail(ptrAdd(ptr, "type", strconv.Itoa(i)), "type names must be strings")
			}
			re, err := c.typed(x.str, s, ptr)
			if err != nil {
				return "", err
			}
			alts = append(alts, re)
		}
		return c.check(ptr, "(?:"+strings.Join(alts, "|")+")")
	}
	return "", c.fail(ptrAdd(ptr, "type"), "type must be a string or a non-empty array of strings")
}

// literal renders a JSON value as a regex matching exactly its compact form.
func literal(v *jval) string {
	var sb strings.Builder
	v.compact(&sb)
	return quoteLiteral(sb.String())
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

func inferType(s *jval) string {
	switch {
	case s.get("properties") != nil || s.get("additionalProperties") != nil ||
		s.get("required") != nil || s.get("minProperties") != nil || s.get("maxProperties") != nil:
		return "object"
	case s.get("items") != nil || s.get("prefixItems") != nil || s.get("minItems") != nil || s.get("maxItems") != nil:
		return "array"
	case s.get("pattern") != nil || s.get("format") != nil || s.get("minLength") != nil || s.get("maxLength") != nil:
		return "string"
	}
	return ""
}

func (c *schemaConv) ref(r *jval, ptr string) (string, error) {
	if r.kind != jString {
		return "", c.fail(ptr, "$ref must be a string")
	}
	target, tptr, err := c.resolve(r.str, ptr)
	if err != nil {
		return "", err
	}
	if c.refDepth >= c.o.MaxRefDepth {
		return "", errRefDepth
	}
	c.refDepth++
	defer func() { c.refDepth-- }()
	return c.value(target, tptr)
}

// resolve finds a local reference ("#", "#/$defs/x", "#/definitions/x").
func (c *schemaConv) resolve(ref, ptr string) (*jval, string, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		if id := c.root.get("$id"); id != nil && id.kind == jString && strings.HasPrefix(ref, id.str+"#") {
			frag = ref[len(id.str)+1:]
		} else {
			return nil, "", c.fail(ptr, "only local references (#/...) are supported, got %q", ref)
		}
	}
	cur := c.root
	if frag == "" {
		return cur, "", nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, "", c.fail(ptr, "reference %q is not a JSON pointer", ref)
	}
	for _, part := range strings.Split(frag[1:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		switch cur.kind {
		case jObject:
			cur = cur.get(part)
		case jArray:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(cur.arr) {
				cur = nil
			} else {
				cur = cur.arr[i]
			}
		default:
			cur = nil
		}
		if cur == nil {
			return nil, "", c.fail(ptr, "reference %q does not resolve", ref)
		}
	}
	return cur, frag, nil
}

func (c *schemaConv) alternatives(a *jval, ptr string) (string, error) {
	if a.kind != jArray || len(a.arr) == 0 {
		return "", c.fail(ptr, "must be a non-empty array")
	}
	var alts []string
	var lastErr error
	for i, sub := range a.arr {
		re, err := c.value(sub, ptrAdd(ptr, strconv.Itoa(i)))
		if errors.Is(err, errRefDepth) {
			lastErr = err
			continue
		}
		if err != nil {
			return "", err
		}
		alts = append(alts, re)
	}
	if len(alts) == 0 {
		return "", lastErr
	}
	return c.check(ptr, "(?:"+strings.Join(alts, "|")+")")
}

// mergeAllOf folds the allOf subschemas into one object schema: properties
// are concatenated in order, required lists are united, and other keywords
// keep their first definition.
func (c *schemaConv) mergeAllOf(s, a *jval, ptr string) (*jval, error) {
	if a.kind != jArray || len(a.arr) == 0 {
		return nil, c.fail(ptr, "allOf must be a non-empty array")
	}
	out := &jval{kind: jObject}
	props := &jval{kind: jObject}
	req := &jval{kind: jArray}
	seenReq := map[string]bool{}
	var add func(x *jval, p string, depth int) error
	add = func(x *jval, p string, depth int) error {
		if depth > 32 {
			return c.fail(p, "allOf nests too deeply")
		}
		if x.kind == jBool && x.b {
			return nil
		}
		if x.kind != jObject {
			return c.fail(p, "allOf members must be object schemas")
		}
		if r := x.get("$ref"); r != nil && r.kind == jString {
			t, tp, err := c.resolve(r.str, ptrAdd(p, "$ref"))
			if err != nil {
				return err
			}
			if err := add(t, tp, depth+1); err != nil {
				return err
			}
		}
		for i, k := range x.keys {
			v := x.vals[i]
			switch k {
			case "$ref":
			case "allOf":
				if v.kind != jArray {
					return c.fail(ptrAdd(p, k), "allOf must be an array")
				}
				for j, sub := range v.arr {
					if err := add(sub, ptrAdd(p, k, strconv.Itoa(j)), depth+1); err != nil {
						return err
					}
				}
			case "properties":
				if v.kind != jObject {
					return c.fail(ptrAdd(p, k), "properties must be an object")
				}
				for j, name := range v.keys {
					if props.get(name) == nil {
						props.keys = append(props.keys, name)
						props.vals = append(props.vals, v.vals[j])
					}
				}
			case "required":
				if v.kind != jArray {
					return c.fail(ptrAdd(p, k), "required must be an array")
				}
				for _, r := range v.arr {
					if r.kind == jString && !seenReq[r.str] {
						seenReq[r.str] = true
						req.arr = append(req.arr, r)
					}
				}
			default:
				if out.get(k) == nil {
					out.keys = append(out.keys, k)
					out.vals = append(out.vals, v)
				}
			}
		}
		return nil
	}
	if err := add(s, ptr, 0); err != nil {
		return nil, err
	}
	if len(props.keys) > 0 {
		out.keys = append(out.keys, "properties")
		out.vals = append(out.vals, props)
	}
	if len(req.arr) > 0 {
		out.keys = append(out.keys, "required")
		out.vals = append(out.vals, req)
	}
	return out, nil
}
