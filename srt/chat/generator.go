package chat

import (
	"fmt"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/exec"
)

// pyGenerator is what Jinja2's map, select, reject, selectattr and
// rejectattr return: iterable, but json.dumps and len() refuse it until
// |list turns it into a list.
type pyGenerator []any

// generatorFilter wraps a gonja filter so its list result becomes a
// pyGenerator.
func generatorFilter(name string) exec.FilterFunction {
	inner, ok := builtins.Filters.Get(name)
	if !ok {
		return nil
	}
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		out := inner(e, in, params)
		if out.IsError() || !out.IsList() {
			return out
		}
		g := make(pyGenerator, out.Len())
		for i := range g {
			g[i] = out.Index(i).Interface()
		}
		return exec.AsValue(g)
	}
}

func isGenerator(v *exec.Value) bool {
	if !v.Val.IsValid() || !v.Val.CanInterface() {
		return false
	}
	_, ok := v.Val.Interface().(pyGenerator)
	return ok
}

// filterList is Jinja2's list: a list of the items (string characters,
// dict keys).
func filterList(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if err := params.Take(); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	switch {
	case in.IsNil():
		return exec.AsValue(fmt.Errorf("'%s' object is not iterable", typeName(in)))
	case in.IsDict():
		keys := dictKeys(in)
		out := make(pyList, len(keys))
		for i, k := range keys {
			out[i] = k.Interface()
		}
		return exec.AsValue(out)
	case in.IsString():
		out := pyList{}
		for _, r := range in.String() {
			out = append(out, string(r))
		}
		return exec.AsValue(out)
	case in.IsList():
		out := make(pyList, in.Len())
		for i := range out {
			out[i] = in.Index(i).Interface()
		}
		return exec.AsValue(out)
	}
	return exec.AsValue(fmt.Errorf("'%s' object is not iterable", typeName(in)))
}
