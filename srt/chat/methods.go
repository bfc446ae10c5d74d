package chat

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/nikolalohinski/gonja/v2/builtins/methods"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// errUnsafe mirrors Jinja2's ImmutableSandboxedEnvironment, which refuses
// methods that modify lists and dicts.
var errUnsafe = errors.New("access to a method that modifies a list or dict is unsafe in the immutable sandbox")

var (
	strMethodNames = []string{"capitalize", "capwords", "casefold", "center", "count", "encode",
		"expandtabs", "find", "format", "format_map", "isalnum", "isalpha", "isascii", "isdecimal",
		"isdigit", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join",
		"ljust", "lower", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rjust",
		"rpartition", "rsplit", "splitlines", "swapcase", "title", "upper", "zfill"}
	boolMethodNames  = []string{"as_integer_ratio", "bit_count", "bit_length"}
	intMethodNames   = []string{"as_integer_ratio", "bit_count", "bit_length", "is_integer"}
	floatMethodNames = []string{"as_integer_ratio", "hex", "is_integer"}
	mutatingList     = []string{"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"}
	mutatingDict     = []string{"clear", "pop", "popitem", "setdefault", "update"}
)

func pick[I any](set *exec.MethodSet[I], names []string) map[string]exec.Method[I] {
	out := make(map[string]exec.Method[I], len(names)+8)
	for _, n := range names {
		if m, ok := set.Get(n); ok {
			out[n] = m
		}
	}
	return out
}

func unsafeMethod[I any](I, *exec.Value, *exec.VarArgs) (any, error) { return nil, errUnsafe }

// newMethods assembles the Python methods templates call on values.
func newMethods() exec.Methods {
	str := pick(methods.All.Str, strMethodNames)
	str["strip"] = stripMethod(strings.TrimFunc, strings.Trim)
	str["lstrip"] = stripMethod(strings.TrimLeftFunc, strings.TrimLeft)
	str["rstrip"] = stripMethod(strings.TrimRightFunc, strings.TrimRight)
	str["split"] = strSplit
	str["replace"] = strReplace
	str["startswith"] = affixMethod(strings.HasPrefix)
	str["endswith"] = affixMethod(strings.HasSuffix)

	dict := map[string]exec.Method[map[string]any]{
		"keys": func(_ map[string]any, self *exec.Value, a *exec.VarArgs) (any, error) {
			if err := a.Take(); err != nil {
				return nil, exec.ErrInvalidCall(err)
			}
			keys := dictKeys(self)
			out := make([]any, len(keys))
			for i, k := range keys {
				out[i] = k.Interface()
			}
			return out, nil
		},
		"values": func(_ map[string]any, self *exec.Value, a *exec.VarArgs) (any, error) {
			if err := a.Take(); err != nil {
				return nil, exec.ErrInvalidCall(err)
			}
			keys := dictKeys(self)
			out := make([]any, len(keys))
			for i, k := range keys {
				v, _ := self.GetItem(k.Interface())
				out[i] = v.Interface()
			}
			return out, nil
		},
		"items": func(_ map[string]any, self *exec.Value, a *exec.VarArgs) (any, error) {
			if err := a.Take(); err != nil {
				return nil, exec.ErrInvalidCall(err)
			}
			return dictItems(self), nil
		},
		"get": func(_ map[string]any, self *exec.Value, a *exec.VarArgs) (any, error) {
			if len(a.Args) < 1 || len(a.Args) > 2 || len(a.KwArgs) > 0 {
				return nil, exec.ErrInvalidCall(errors.New("get() takes 1 or 2 positional arguments"))
			}
			if v, ok := self.GetItem(a.Args[0].Interface()); ok {
				return v.Interface(), nil
			}
			if len(a.Args) == 2 {
				return a.Args[1].Interface(), nil
			}
			return pyNone, nil
		},
		"copy": func(_ map[string]any, self *exec.Value, _ *exec.VarArgs) (any, error) {
			d := exec.NewDict()
			for _, kv := range dictItems(self) {
				p := kv.([]any)
				d.Pairs = append(d.Pairs, &exec.Pair{Key: p[0].(*exec.Value), Value: p[1].(*exec.Value)})
			}
			return d, nil
		},
	}
	for _, n := range mutatingDict {
		dict[n] = unsafeMethod[map[string]any]
	}
	list := pick(methods.All.List, []string{"copy"})
	for _, n := range mutatingList {
		list[n] = unsafeMethod[[]any]
	}
	list["index"] = func(self []any, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, exec.ErrInvalidCall(errors.New("index() takes 1 argument"))
		}
		for i, e := range self {
			if exec.ToValue(e).EqualValueTo(a.Args[0]) {
				return i, nil
			}
		}
		return nil, fmt.Errorf("%s is not in list", pyRepr(a.Args[0]))
	}
	list["count"] = func(self []any, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, exec.ErrInvalidCall(errors.New("count() takes 1 argument"))
		}
		n := 0
		for _, e := range self {
			if exec.ToValue(e).EqualValueTo(a.Args[0]) {
				n++
			}
		}
		return n, nil
	}
	return exec.Methods{
		Bool:  exec.NewMethodSet(pick(methods.All.Bool, boolMethodNames)),
		Int:   exec.NewMethodSet(pick(methods.All.Int, intMethodNames)),
		Float: exec.NewMethodSet(pick(methods.All.Float, floatMethodNames)),
		Str:   exec.NewMethodSet(str),
		Dict:  exec.NewMethodSet(dict),
		List:  exec.NewMethodSet(list),
	}
}

func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x1f, 0x85:
		return true
	}
	return r > 0x7f && unicode.IsSpace(r)
}

func stripMethod(ws func(string, func(rune) bool) string, cut func(string, string) string) exec.Method[string] {
	return func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) > 1 || len(a.KwArgs) > 0 {
			return nil, exec.ErrInvalidCall(errors.New("strip() takes at most 1 argument"))
		}
		if len(a.Args) == 0 || a.Args[0].IsNil() {
			return ws(self, isPySpace), nil
		}
		if !a.Args[0].IsString() {
			return nil, errors.New("strip arg must be None or str")
		}
		return cut(self, a.Args[0].String()), nil
	}
}

// strSplit is Python's str.split(sep=None, maxsplit=-1).
func strSplit(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
	var sep *exec.Value
	maxSplit := -1
	if len(a.Args) > 0 {
		sep = a.Args[0]
	}
	if v, ok := a.KwArgs["sep"]; ok {
		sep = v
	}
	if len(a.Args) > 1 {
		maxSplit = a.Args[1].Integer()
	}
	if v, ok := a.KwArgs["maxsplit"]; ok {
		maxSplit = v.Integer()
	}
	var parts []string
	if sep == nil || sep.IsNil() {
		parts = splitWhitespace(self, maxSplit)
	} else {
		s := sep.String()
		if s == "" {
			return nil, errors.New("empty separator")
		}
		parts = strings.SplitN(self, s, maxSplitN(maxSplit))
	}
	out := make(pyList, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func maxSplitN(m int) int {
	if m < 0 {
		return -1
	}
	return m + 1
}

func splitWhitespace(s string, maxSplit int) []string {
	parts := []string{}
	for {
		s = strings.TrimLeftFunc(s, isPySpace)
		if s == "" {
			return parts
		}
		if maxSplit >= 0 && len(parts) == maxSplit {
			return append(parts, strings.TrimRightFunc(s, isPySpace))
		}
		i := strings.IndexFunc(s, isPySpace)
		if i < 0 {
			return append(parts, s)
		}
		parts = append(parts, s[:i])
		s = s[i:]
	}
}

// affixMethod is startswith/endswith, accepting a string or a tuple/list.
func affixMethod(has func(string, string) bool) exec.Method[string] {
	return func(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
		if len(a.Args) != 1 {
			return nil, exec.ErrInvalidCall(errors.New("takes exactly 1 argument"))
		}
		arg := a.Args[0]
		if arg.IsList() {
			for i := 0; i < arg.Len(); i++ {
				if has(self, arg.Index(i).String()) {
					return true, nil
				}
			}
			return false, nil
		}
		if !arg.IsString() {
			return nil, fmt.Errorf("must be str or a tuple of str, not %s", typeName(arg))
		}
		return has(self, arg.String()), nil
	}
}

// pyStr is Python's str() of a template value.
func pyStr(v *exec.Value) string {
	if v.IsString() {
		return v.String()
	}
	return pyRepr(v)
}

// pyRepr is Python's repr() of a template value.
func pyRepr(v *exec.Value) string {
	var sb strings.Builder
	writeRepr(&sb, v, 0)
	return sb.String()
}

func writeRepr(sb *strings.Builder, v *exec.Value, depth int) {
	if depth > maxDepth {
		sb.WriteString("...")
		return
	}
	switch {
	case !v.Val.IsValid():
		// undefined prints as the empty string
	case v.IsNil():
		sb.WriteString("None")
	case v.IsString():
		sb.WriteString(pyQuote(v.String()))
	case v.IsBool():
		if v.Bool() {
			sb.WriteString("True")
		} else {
			sb.WriteString("False")
		}
	case v.IsInteger():
		sb.WriteString(strconv.Itoa(v.Integer()))
	case v.IsFloat():
		sb.WriteString(pyFloat(v.Float()))
	case isGenerator(v):
		sb.WriteString("<generator object>")
	case v.IsList():
		sb.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, v.Index(i), depth+1)
		}
		sb.WriteByte(']')
	case v.IsDict():
		sb.WriteByte('{')
		for i, kv := range dictItems(v) {
			p := kv.([]any)
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, exec.ToValue(p[0]), depth+1)
			sb.WriteString(": ")
			writeRepr(sb, exec.ToValue(p[1]), depth+1)
		}
		sb.WriteByte('}')
	default:
		sb.WriteString(v.String())
	}
}

// pyQuote quotes s the way Python's repr does.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var sb strings.Builder
	sb.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte(q)
	return sb.String()
}

// pyFloat formats f like Python's float repr.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes at least two exponent digits: 1e-05, 1e+16.
		if i := strings.IndexByte(s, 'e'); i >= 0 && len(s)-i == 3 {
			s = s[:i+2] + "0" + s[i+2:]
		}
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// strReplace is Python's str.replace(old, new, count=-1).
func strReplace(self string, _ *exec.Value, a *exec.VarArgs) (any, error) {
	if len(a.Args) < 2 || len(a.Args) > 3 {
		return nil, exec.ErrInvalidCall(errors.New("replace() takes 2 or 3 arguments"))
	}
	n := -1
	if len(a.Args) == 3 {
		n = a.Args[2].Integer()
	}
	if v, ok := a.KwArgs["count"]; ok {
		n = v.Integer()
	}
	return strings.Replace(self, a.Args[0].String(), a.Args[1].String(), n), nil
}
