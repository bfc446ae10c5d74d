package chat

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Resource limits of one Render, so a hostile or broken template (user
// supplied via --chat-template or chat_template_kwargs) fails with an error
// instead of exhausting the stack, memory or time.
const (
	maxMacroDepth  = 500       // Python's own limit is about 1000 frames
	maxIterations  = 1_000_000 // total for-loop iterations
	maxRangeLen    = 1_000_000 // one range()
	maxStringBytes = 64 << 20  // one string built by * (repetition)
)

// ErrLimit: a render exceeded a resource limit (see the constants above).
var ErrLimit = errors.New("chat: template exceeded a resource limit")

const (
	stateVar   = "__chat_state"
	enterMacro = "__chat_enter"
	leaveMacro = "__chat_leave"
	mulFunc    = "__chat_mul"
)

// guardState is per-render accounting, reachable from filters through the
// render context.
type guardState struct {
	depth      int
	iterations int
	err        error
}

func (g *guardState) fail(err error) error {
	if g.err == nil {
		g.err = err
	}
	return err
}

func stateOf(e *exec.Evaluator) *guardState {
	if e == nil || e.Environment == nil || e.Environment.Context == nil {
		return nil
	}
	v, ok := e.Environment.Context.Get(stateVar)
	if !ok {
		return nil
	}
	if g, ok := v.(*guardState); ok {
		return g
	}
	if val, ok := v.(*exec.Value); ok {
		g, _ := val.Interface().(*guardState)
		return g
	}
	return nil
}

// guardMacro makes a macro body count its nesting depth.
func guardMacro(m *nodes.Macro) {
	if m.Wrapper == nil {
		return
	}
	call := func(name string) nodes.Node {
		tok := &tokens.Token{Type: tokens.Name, Val: name, Line: m.Location.Line, Col: m.Location.Col}
		return &nodes.Output{Start: tok, End: tok, Expression: &nodes.Call{
			Location: tok, Func: &nodes.Name{Name: tok}, Args: []nodes.Expression{}, Kwargs: map[string]nodes.Expression{},
		}}
	}
	body := make([]nodes.Node, 0, len(m.Wrapper.Nodes)+2)
	body = append(body, call(enterMacro))
	body = append(body, m.Wrapper.Nodes...)
	body = append(body, call(leaveMacro))
	m.Wrapper.Nodes = body
}

func (g *guardState) enter(*exec.VarArgs) (any, error) {
	g.depth++
	if g.depth > maxMacroDepth {
		return nil, g.fail(fmt.Errorf("%w: macros nested deeper than %d (RecursionError)", ErrLimit, maxMacroDepth))
	}
	return "", nil
}

func (g *guardState) leave(*exec.VarArgs) (any, error) {
	g.depth--
	return "", nil
}

// countIterations charges a for loop over in to the render's budget.
func (g *guardState) countIterations(n int) error {
	g.iterations += n
	if g.iterations > maxIterations {
		return g.fail(fmt.Errorf("%w: more than %d loop iterations", ErrLimit, maxIterations))
	}
	return nil
}

// pyRange is Python's range() as a list, bounded.
func pyRange(va *exec.VarArgs) (any, error) {
	var a [3]int
	n := len(va.Args)
	if n < 1 || n > 3 || len(va.KwArgs) > 0 {
		return nil, errors.New("range expected 1 to 3 integer arguments")
	}
	for i, v := range va.Args {
		if v.IsNil() || !(v.IsInteger() || v.IsBool()) {
			return nil, fmt.Errorf("TypeError: '%s' object cannot be interpreted as an integer", typeName(v))
		}
		a[i] = numInt(v)
	}
	start, stop, step := 0, a[0], 1
	if n >= 2 {
		start, stop = a[0], a[1]
	}
	if n == 3 {
		step = a[2]
	}
	if step == 0 {
		return nil, errors.New("ValueError: range() arg 3 must not be zero")
	}
	count := 0
	if step > 0 && stop > start {
		count = (stop - start + step - 1) / step
	} else if step < 0 && start > stop {
		count = (start - stop - step - 1) / -step
	}
	if count > maxRangeLen {
		return nil, fmt.Errorf("%w: range of %d items", ErrLimit, count)
	}
	out := make(pyList, count)
	for i := range out {
		out[i] = start + i*step
	}
	return out, nil
}

// pyMul is Python's * for numbers, str * int and list * int, bounded.
func pyMul(va *exec.VarArgs) (*exec.Value, error) {
	if len(va.Args) != 2 {
		return nil, errors.New("internal mul takes two operands")
	}
	l, r := va.Args[0], va.Args[1]
	if !l.Val.IsValid() || !r.Val.IsValid() {
		return nil, errors.New("UndefinedError: an undefined value was used in '*'")
	}
	switch {
	case isNum(l) && isNum(r):
		if l.IsFloat() || r.IsFloat() {
			return exec.AsValue(numFloat(l) * numFloat(r)), nil
		}
		return exec.AsValue(numInt(l) * numInt(r)), nil
	case l.IsString() && isNum(r) && !r.IsFloat(), r.IsString() && isNum(l) && !l.IsFloat():
		s, n := l.String(), numInt(r)
		if r.IsString() {
			s, n = r.String(), numInt(l)
		}
		if n <= 0 {
			return exec.AsValue(""), nil
		}
		if len(s) > 0 && n > maxStringBytes/len(s) {
			return nil, fmt.Errorf("%w: string repetition of %d bytes", ErrLimit, n*len(s))
		}
		return exec.AsValue(strings.Repeat(s, n)), nil
	case l.IsList() && !l.IsNil() && isNum(r) && !r.IsFloat():
		n := numInt(r)
		if n <= 0 || l.Len() == 0 {
			return exec.AsValue(pyList{}), nil
		}
		if n > maxRangeLen/l.Len() {
			return nil, fmt.Errorf("%w: list repetition of %d items", ErrLimit, n*l.Len())
		}
		out := make(pyList, 0, n*l.Len())
		for range n {
			for i := 0; i < l.Len(); i++ {
				out = append(out, l.Index(i).Interface())
			}
		}
		return exec.AsValue(out), nil
	}
	return nil, fmt.Errorf("TypeError: unsupported operand type(s) for *: '%s' and '%s'", typeName(l), typeName(r))
}
