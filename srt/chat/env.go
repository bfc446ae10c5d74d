package chat

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// jinjaConfig is Jinja2 as transformers configures it.
func jinjaConfig() *config.Config {
	c := config.New()
	c.TrimBlocks = true
	c.LeftStripBlocks = true
	c.KeepTrailingNewline = false
	c.AutoEscape = false
	c.StrictUndefined = false
	return c
}

// newEnvironment builds a fresh environment per template: gonja's built-in
// sets are copied, never modified, and the Python-compatibility pieces
// are layered on top.
func newEnvironment() *exec.Environment {
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	for name, fn := range map[string]exec.FilterFunction{
		"tojson":    filterToJSON,
		"items":     filterItems,
		"string":    filterString,
		"trim":      filterTrim,
		"length":    filterLength,
		"count":     filterLength,
		"safe":      filterSafe,
		"escape":    filterEscape,
		"e":         filterEscape,
		"dictsort":  filterDictsort,
		"list":      filterList,
		printFilter: filterPrint,
		iterFilter:  filterIter,
	} {
		if filters.Exists(name) {
			_ = filters.Replace(name, fn)
		} else {
			_ = filters.Register(name, fn)
		}
	}
	for _, name := range []string{"map", "select", "reject", "selectattr", "rejectattr"} {
		if fn := generatorFilter(name); fn != nil {
			_ = filters.Replace(name, fn)
		}
	}
	tests := exec.NewTestSet(map[string]exec.TestFunction{}).Update(builtins.Tests)
	for name, fn := range map[string]exec.TestFunction{
		"defined":   testDefined,
		"undefined": testUndefined,
		"none":      testNone,
		"mapping":   testMapping,
		"sequence":  testSequence,
		"iterable":  testIterable,
		"string":    testString,
		"true":      testTrue,
		"false":     testFalse,
	} {
		if tests.Exists(name) {
			_ = tests.Replace(name, fn)
		} else {
			_ = tests.Register(name, fn)
		}
	}
	globals := exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables)
	globals.Set("none", pyNone)
	globals.Set("None", pyNone)
	globals.Set(addFunc, pyAdd)
	globals.Set(mulFunc, pyMul)
	globals.Set(concatFunc, pyConcat)
	globals.Set("range", pyRange)
	cs := exec.NewControlStructureSet(map[string]parser.ControlStructureParser{}).Update(builtins.ControlStructures)
	_ = cs.Register("generation", generationParser)
	return &exec.Environment{
		Filters:           filters,
		Tests:             tests,
		ControlStructures: cs,
		Methods:           newMethods(),
		Context:           globals,
	}
}

// ---- tests ----

func testDefined(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return in.Val.IsValid() && !in.IsError(), nil
}

func testUndefined(c *exec.Context, in *exec.Value, p *exec.VarArgs) (bool, error) {
	d, err := testDefined(c, in, p)
	return !d, err
}

func testNone(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return isNone(in), nil
}

// isNone reports Python None (a typed nil); an undefined value is not None.
func isNone(in *exec.Value) bool {
	return in.Val.IsValid() && in.IsNil()
}

func testMapping(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return !in.IsNil() && in.IsDict(), nil
}

func testSequence(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return !in.IsNil() && (in.IsList() || in.IsString() || in.IsDict()), nil
}

func testIterable(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return !in.IsNil() && (in.IsList() || in.IsString() || in.IsDict()), nil
}

func testString(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return !in.IsNil() && in.IsString(), nil
}

func testTrue(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return !in.IsNil() && in.IsBool() && in.Bool(), nil
}

func testFalse(_ *exec.Context, in *exec.Value, _ *exec.VarArgs) (bool, error) {
	return !in.IsNil() && in.IsBool() && !in.Bool(), nil
}

// ---- filters ----

func filterItems(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if err := params.Take(); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	if !in.IsDict() || in.IsNil() {
		return exec.AsValue(fmt.Errorf("items(): %s is not a mapping", typeName(in)))
	}
	return exec.AsValue(dictItems(in))
}

// dictItems lists (key, value) pairs in insertion order.
func dictItems(in *exec.Value) []any {
	keys := dictKeys(in)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		v, _ := in.GetItem(k.Interface())
		out = append(out, []any{k, v})
	}
	return out
}

// dictKeys returns the keys of a dict value: insertion order for
// *exec.Dict, sorted for Go maps.
func dictKeys(in *exec.Value) []*exec.Value {
	if d, ok := asDict(in); ok {
		keys := make([]*exec.Value, len(d.Pairs))
		for i, p := range d.Pairs {
			keys[i] = p.Key
		}
		return keys
	}
	return in.Keys()
}

func asDict(in *exec.Value) (*exec.Dict, bool) {
	if !in.Val.IsValid() || !in.Val.CanInterface() {
		return nil, false
	}
	switch d := in.Val.Interface().(type) {
	case *exec.Dict:
		return d, d != nil
	case exec.Dict:
		return &d, true
	}
	return nil, false
}

func filterString(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if err := params.Take(); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	return exec.AsValue(pyStr(in))
}

func filterTrim(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	var chars *exec.Value
	if err := params.Take(exec.PositionalArgument("chars", exec.AsValue(nil), func(v *exec.Value) error { chars = v; return nil })); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	s := pyStr(in)
	if chars == nil || chars.IsNil() {
		return exec.AsValue(strings.TrimFunc(s, isPySpace))
	}
	return exec.AsValue(strings.Trim(s, chars.String()))
}

func filterLength(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if err := params.Take(); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	if in.IsNil() || isGenerator(in) || !(in.IsString() || in.IsList() || in.IsDict()) {
		return exec.AsValue(fmt.Errorf("object of type '%s' has no len()", typeName(in)))
	}
	return exec.AsValue(in.Len())
}

// typeName is the Python type name of a value, for error messages.
func typeName(in *exec.Value) string {
	switch {
	case !in.Val.IsValid():
		return "Undefined"
	case in.IsNil():
		return "NoneType"
	case in.IsString():
		return "str"
	case in.IsBool():
		return "bool"
	case in.IsInteger():
		return "int"
	case in.IsFloat():
		return "float"
	case in.IsList():
		return "list"
	case in.IsDict():
		return "dict"
	}
	return fmt.Sprintf("%T", in.Interface())
}

// ---- {% generation %} ----

type generationBlock struct {
	wrapper *nodes.Wrapper
}

func (g *generationBlock) Position() *tokens.Token { return g.wrapper.Position() }

func (g *generationBlock) String() string {
	t := g.Position()
	return fmt.Sprintf("GenerationControlStructure(Line=%d Col=%d)", t.Line, t.Col)
}

func (g *generationBlock) Execute(r *exec.Renderer, _ *nodes.ControlStructureBlock) error {
	return r.Inherit().ExecuteWrapper(g.wrapper)
}

func generationParser(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	wrapper, _, err := p.WrapUntil("endgeneration")
	if err != nil {
		return nil, err
	}
	if !args.Stream().End() {
		return nil, errors.New("generation takes no arguments")
	}
	return &generationBlock{wrapper: wrapper}, nil
}

// filterDictsort is Jinja2's dictsort(case_sensitive=False, by="key",
// reverse=False), working on ordered dicts too.
func filterDictsort(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	var caseSensitive, reverse bool
	by := "key"
	if err := params.Take(
		exec.KeywordArgument("case_sensitive", exec.AsValue(false), exec.BoolArgument(&caseSensitive)),
		exec.KeywordArgument("by", exec.AsValue("key"), exec.StringEnumArgument(&by, []string{"key", "value"})),
		exec.KeywordArgument("reverse", exec.AsValue(false), exec.BoolArgument(&reverse)),
	); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	if in.IsNil() || !in.IsDict() {
		return exec.AsValue(fmt.Errorf("dictsort(): %s is not a mapping", typeName(in)))
	}
	items := dictItems(in)
	idx := 0
	if by == "value" {
		idx = 1
	}
	keyOf := func(i int) *exec.Value { return exec.ToValue(items[i].([]any)[idx]) }
	less := func(a, b *exec.Value) bool {
		if isNum(a) && isNum(b) {
			return numFloat(a) < numFloat(b)
		}
		as, bs := pyStr(a), pyStr(b)
		if !caseSensitive {
			as, bs = strings.ToLower(as), strings.ToLower(bs)
		}
		return as < bs
	}
	sort.SliceStable(items, func(i, j int) bool {
		if reverse {
			return less(keyOf(j), keyOf(i))
		}
		return less(keyOf(i), keyOf(j))
	})
	out := make(pyList, len(items))
	for i, it := range items {
		out[i] = pyList(it.([]any))
	}
	return exec.AsValue(out)
}
