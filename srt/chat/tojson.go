package chat

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// jsonOpts are the json.dumps arguments transformers' tojson accepts.
type jsonOpts struct {
	indent      string // "" with hasIndent false: compact
	hasIndent   bool
	itemSep     string
	keySep      string
	sortKeys    bool
	ensureASCII bool
}

// filterToJSON is transformers' tojson: json.dumps(x, ensure_ascii=False,
// indent=None, separators=None, sort_keys=False), keys in insertion order.
func filterToJSON(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	o := jsonOpts{itemSep: ", ", keySep: ": "}
	argNames := []string{"ensure_ascii", "indent", "separators", "sort_keys"}
	if len(params.Args) > len(argNames) {
		return exec.AsValue(errors.New("tojson: too many arguments"))
	}
	args := map[string]*exec.Value{}
	for i, a := range params.Args {
		args[argNames[i]] = a
	}
	for k, v := range params.KwArgs {
		if _, dup := args[k]; dup {
			return exec.AsValue(fmt.Errorf("tojson: argument %q given twice", k))
		}
		args[k] = v
	}
	for k, v := range args {
		switch k {
		case "ensure_ascii":
			o.ensureASCII = v.IsTrue()
		case "sort_keys":
			o.sortKeys = v.IsTrue()
		case "indent":
			switch {
			case v.IsNil():
			case v.IsInteger():
				o.hasIndent, o.indent = true, strings.Repeat(" ", max(0, v.Integer()))
			case v.IsString():
				o.hasIndent, o.indent = true, v.String()
			default:
				return exec.AsValue(fmt.Errorf("tojson: bad indent %s", pyRepr(v)))
			}
		case "separators":
			if v.IsNil() {
				continue
			}
			if !v.IsList() || v.Len() != 2 {
				return exec.AsValue(errors.New("tojson: separators must be a pair of strings"))
			}
			o.itemSep, o.keySep = v.Index(0).String(), v.Index(1).String()
			args["separators_set"] = v
		default:
			if k != "separators_set" {
				return exec.AsValue(fmt.Errorf("tojson: unexpected argument %q", k))
			}
		}
	}
	if o.hasIndent && args["separators_set"] == nil {
		o.itemSep = ","
	}
	var sb strings.Builder
	if err := writeJSON(&sb, in, &o, 0); err != nil {
		return exec.AsValue(fmt.Errorf("tojson: %w", err))
	}
	return exec.AsValue(sb.String())
}

func writeJSON(sb *strings.Builder, v *exec.Value, o *jsonOpts, depth int) error {
	if depth > maxDepth {
		return errors.New("value nested too deeply")
	}
	switch {
	case !v.Val.IsValid():
		return errors.New("Object of type Undefined is not JSON serializable")
	case v.IsNil():
		sb.WriteString("null")
	case v.IsString():
		writeJSONString(sb, v.String(), o.ensureASCII)
	case v.IsBool():
		if v.Bool() {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case v.IsInteger():
		sb.WriteString(strconv.Itoa(v.Integer()))
	case v.IsFloat():
		f := v.Float()
		switch s := pyFloat(f); s {
		case "inf":
			sb.WriteString("Infinity")
		case "-inf":
			sb.WriteString("-Infinity")
		case "nan":
			sb.WriteString("NaN")
		default:
			sb.WriteString(s)
		}
	case isGenerator(v):
		return errors.New("Object of type generator is not JSON serializable")
	case v.IsList():
		n := v.Len()
		if n == 0 {
			sb.WriteString("[]")
			return nil
		}
		sb.WriteByte('[')
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(o.itemSep)
			}
			newline(sb, o, depth+1)
			if err := writeJSON(sb, v.Index(i), o, depth+1); err != nil {
				return err
			}
		}
		newline(sb, o, depth)
		sb.WriteByte(']')
	case v.IsDict():
		items := dictItems(v)
		if len(items) == 0 {
			sb.WriteString("{}")
			return nil
		}
		if o.sortKeys {
			sort.SliceStable(items, func(i, j int) bool {
				return items[i].([]any)[0].(*exec.Value).String() < items[j].([]any)[0].(*exec.Value).String()
			})
		}
		sb.WriteByte('{')
		for i, kv := range items {
			p := kv.([]any)
			if i > 0 {
				sb.WriteString(o.itemSep)
			}
			newline(sb, o, depth+1)
			k := p[0].(*exec.Value)
			switch {
			case k.IsString():
				writeJSONString(sb, k.String(), o.ensureASCII)
			case k.IsNil():
				sb.WriteString(`"null"`)
			default:
				var ks strings.Builder
				if err := writeJSON(&ks, k, o, depth+1); err != nil {
					return err
				}
				writeJSONString(sb, ks.String(), o.ensureASCII)
			}
			sb.WriteString(o.keySep)
			if err := writeJSON(sb, exec.ToValue(p[1]), o, depth+1); err != nil {
				return err
			}
		}
		newline(sb, o, depth)
		sb.WriteByte('}')
	default:
		return fmt.Errorf("Object of type %s is not JSON serializable", typeName(v))
	}
	return nil
}

func newline(sb *strings.Builder, o *jsonOpts, depth int) {
	if !o.hasIndent {
		return
	}
	sb.WriteByte('\n')
	for range depth {
		sb.WriteString(o.indent)
	}
}

const hexDigits = "0123456789abcdef"

// writeJSONString escapes like Python's json.dumps.
func writeJSONString(sb *strings.Builder, s string, ascii bool) {
	sb.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == '\b':
			sb.WriteString(`\b`)
		case r == '\f':
			sb.WriteString(`\f`)
		case r < 0x20 || (ascii && r > 0x7e):
			if r > 0xffff {
				r -= 0x10000
				writeU(sb, 0xd800+(r>>10))
				writeU(sb, 0xdc00+(r&0x3ff))
			} else {
				writeU(sb, r)
			}
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
}

func writeU(sb *strings.Builder, r rune) {
	sb.WriteString(`\u`)
	sb.WriteByte(hexDigits[r>>12&0xf])
	sb.WriteByte(hexDigits[r>>8&0xf])
	sb.WriteByte(hexDigits[r>>4&0xf])
	sb.WriteByte(hexDigits[r&0xf])
}
