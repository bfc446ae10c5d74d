package chat

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// addFunc is the global every "a + b" of a template is rewritten to call
// (see wrapOutputs): gonja's + turns anything plus a string into string
// concatenation, where Python raises TypeError (str + list, str + dict)
// and Jinja2 raises UndefinedError for an undefined operand. It also
// keeps markupsafe's rule that Markup + str escapes the str.
const addFunc = "__chat_add"

// concatFunc is the global "a ~ b" is rewritten to call: Python's
// str(a) + str(b), where None prints as "None" and undefined as "".
const concatFunc = "__chat_concat"

// binCall turns a binary expression into a call of the global fn.
func binCall(b *nodes.BinaryExpression, fn string) *nodes.Call {
	tok := b.Operator.Token
	return &nodes.Call{
		Location: tok,
		Func:     &nodes.Name{Name: &tokens.Token{Type: tokens.Name, Val: fn, Line: tok.Line, Col: tok.Col, Pos: tok.Pos}},
		Args:     []nodes.Expression{b.Left, b.Right},
		Kwargs:   map[string]nodes.Expression{},
	}
}

func pyConcat(va *exec.VarArgs) (*exec.Value, error) {
	if len(va.Args) != 2 {
		return nil, errors.New("internal concat takes two operands")
	}
	// With autoescape off Jinja2 joins ~ operands with plain str(), so
	// Markup does not escape here (unlike +).
	return exec.AsValue(pyStr(va.Args[0]) + pyStr(va.Args[1])), nil
}

func pyAdd(va *exec.VarArgs) (*exec.Value, error) {
	if len(va.Args) != 2 {
		return nil, errors.New("internal add takes two operands")
	}
	l, r := va.Args[0], va.Args[1]
	if !l.Val.IsValid() || !r.Val.IsValid() {
		return nil, errors.New("UndefinedError: an undefined value was used in '+'")
	}
	switch {
	case l.IsString() && r.IsString():
		if isMarkup(l) || isMarkup(r) {
			return exec.AsSafeValue(markup(markupOf(l) + markupOf(r))), nil
		}
		return exec.AsValue(l.String() + r.String()), nil
	case isNum(l) && isNum(r):
		if l.IsFloat() || r.IsFloat() {
			return exec.AsValue(numFloat(l) + numFloat(r)), nil
		}
		return exec.AsValue(numInt(l) + numInt(r)), nil
	case l.IsList() && r.IsList() && !l.IsNil() && !r.IsNil():
		out := make(pyList, 0, l.Len()+r.Len())
		for i := 0; i < l.Len(); i++ {
			out = append(out, l.Index(i).Interface())
		}
		for i := 0; i < r.Len(); i++ {
			out = append(out, r.Index(i).Interface())
		}
		return exec.AsValue(out), nil
	case l.IsString():
		return nil, fmt.Errorf("TypeError: can only concatenate str (not %q) to str", typeName(r))
	case l.IsList() && !l.IsNil():
		return nil, fmt.Errorf("TypeError: can only concatenate list (not %q) to list", typeName(r))
	}
	return nil, fmt.Errorf("TypeError: unsupported operand type(s) for +: '%s' and '%s'", typeName(l), typeName(r))
}

func isNum(v *exec.Value) bool { return !v.IsNil() && (v.IsNumber() || v.IsBool()) }

func numInt(v *exec.Value) int {
	if v.IsBool() {
		if v.Bool() {
			return 1
		}
		return 0
	}
	return v.Integer()
}

func numFloat(v *exec.Value) float64 {
	if v.IsFloat() {
		return v.Float()
	}
	return float64(numInt(v))
}

// markup is markupsafe's Markup: a string the safe and escape filters
// made. Gonja's own Safe flag is set on more values (macro results, set
// blocks) than Jinja2 marks safe, so it cannot stand in for Markup.
type markup string

func isMarkup(v *exec.Value) bool {
	if !v.Val.IsValid() || !v.Val.CanInterface() {
		return false
	}
	_, ok := v.Val.Interface().(markup)
	return ok
}

func filterSafe(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if err := params.Take(); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	return exec.AsSafeValue(markup(pyStr(in)))
}

func filterEscape(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	if err := params.Take(); err != nil {
		return exec.AsValue(exec.ErrInvalidCall(err))
	}
	if isMarkup(in) {
		return in
	}
	return exec.AsSafeValue(markup(htmlEscaper.Replace(pyStr(in))))
}

// markupOf is a string operand as markupsafe sees it: Markup as it is,
// others HTML-escaped.
func markupOf(v *exec.Value) string {
	if isMarkup(v) {
		return v.String()
	}
	return htmlEscaper.Replace(v.String())
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", `"`, "&#34;")
