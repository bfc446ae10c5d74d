package chat

import (
	"fmt"
	"reflect"
	"unsafe"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// printFilter is the internal filter every {{ }} output goes through, so
// values print like Python's str(): None, True, lists and dicts as repr.
const printFilter = "__chat_print"

// iterFilter guards every for loop's iterable: Python refuses to iterate
// None or a number, gonja silently iterates nothing.
const iterFilter = "__chat_iter"

func filterIter(e *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() || !in.Val.IsValid() {
		return in
	}
	if in.IsNil() || !(in.IsString() || in.IsList() || in.IsDict()) {
		return exec.AsValue(fmt.Errorf("'%s' object is not iterable", typeName(in)))
	}
	if g := stateOf(e); g != nil {
		if err := g.countIterations(in.Len()); err != nil {
			return exec.AsValue(err)
		}
	}
	return in
}

// wrapOutputs finds every output node of the parsed template (inside
// control structures and macros too, via reflection since gonja's control
// structures keep their bodies in their own structs) and routes its value
// through printFilter.
func wrapOutputs(root nodes.Node) (contentLoop bool) {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if depth > 200 || !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			if seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if f, ok := v.Interface().(*controlStructures.ForControlStructure); ok && f.ObjectEvaluator != nil {
				if iteratesContent(f.ObjectEvaluator) {
					contentLoop = true
				}
				f.ObjectEvaluator = &nodes.FilteredExpression{
					Expression: f.ObjectEvaluator,
					Filters:    []*nodes.FilterCall{{Token: f.Position(), Name: iterFilter}},
				}
			}
			// gonja loses the receiver of a method called on a
			// parenthesised expression, "(x | trim).upper()"; restore it.
			if c, ok := v.Interface().(*nodes.Call); ok && c.Parent == nil {
				if ga, ok := c.Func.(*nodes.GetAttribute); ok && ga.Attribute != "" {
					c.Parent = ga.Node
				}
			}
			if m, ok := v.Interface().(*nodes.Macro); ok {
				guardMacro(m)
			}
			if out, ok := v.Interface().(*nodes.Output); ok {
				out.Expression = wrapPrint(out.Expression, out)
				if out.Alternative != nil {
					out.Alternative = wrapPrint(out.Alternative, out)
				}
			}
			walk(v.Elem(), depth+1)
		case reflect.Interface:
			// Python's None literal must stay "defined": route it to the
			// global none (pyNone) instead of gonja's invalid value.
			if nn, ok := v.Interface().(*nodes.None); ok && v.CanSet() {
				v.Set(reflect.ValueOf(&nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: "none", Line: nn.Location.Line, Col: nn.Location.Col}}))
				return
			}
			if b, ok := v.Interface().(*nodes.BinaryExpression); ok && v.CanSet() && b.Operator != nil &&
				b.Operator.Token != nil && (b.Operator.Token.Type == tokens.Addition ||
				b.Operator.Token.Type == tokens.Multiply || b.Operator.Token.Type == tokens.Tilde) {
				var call *nodes.Call
				switch b.Operator.Token.Type {
				case tokens.Multiply:
					call = binCall(b, mulFunc)
				case tokens.Tilde:
					call = binCall(b, concatFunc)
				default:
					call = binCall(b, addFunc)
				}
				v.Set(reflect.ValueOf(call))
				walk(reflect.ValueOf(call), depth+1)
				return
			}
			if !v.IsNil() {
				walk(v.Elem(), depth+1)
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Field(i)
				if !v.Type().Field(i).IsExported() {
					// gonja's control structures keep their expressions
					// in unexported fields; the AST is ours (just parsed),
					// so reach them the only way reflection allows.
					if !f.CanAddr() {
						continue
					}
					f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
				}
				walk(f, depth+1)
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), depth+1)
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				walk(it.Value(), depth+1)
			}
		}
	}
	walk(reflect.ValueOf(root), 0)
	return contentLoop
}

func wrapPrint(e nodes.Expression, out *nodes.Output) nodes.Expression {
	if e == nil {
		return nil
	}
	return &nodes.FilteredExpression{
		Expression: e,
		Filters:    []*nodes.FilterCall{{Token: out.Start, Name: printFilter}},
	}
}

func filterPrint(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if in.IsString() {
		return in
	}
	return exec.AsValue(pyStr(in))
}
