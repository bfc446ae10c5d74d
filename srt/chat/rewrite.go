package chat

import (
	"fmt"
	"strings"
)

// gonja only accepts a conditional expression (A if B else C) at the top
// level of {{ }} and {% set %}; Jinja2 accepts it anywhere. rewriteTernaries
// turns each nested one into ((B) and [A] or [C])[0], which keeps Jinja's
// laziness (only the chosen branch is evaluated) because gonja's and/or
// short-circuit and a one-element list is always true. Top-level ones are
// left to gonja. A missing else becomes [none].

type tok struct {
	s    string
	kind byte // 'w' word, 's' string, '(' ')' etc. for brackets, ' ' space, 'o' other
}

// rewriteTernaries rewrites every {{ }} and {% %} tag of src.
func rewriteTernaries(src string) string {
	if !strings.Contains(src, " if ") {
		return src
	}
	var out strings.Builder
	out.Grow(len(src) + len(src)/16)
	i := 0
	for i < len(src) {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			out.WriteString(src[i:])
			break
		}
		j += i
		out.WriteString(src[i:j])
		var end string
		switch src[j+1] {
		case '{':
			end = "}}"
		case '%':
			end = "%}"
		case '#':
			k := strings.Index(src[j+2:], "#}")
			if k < 0 {
				out.WriteString(src[j:])
				return out.String()
			}
			out.WriteString(src[j : j+2+k+2])
			i = j + 2 + k + 2
			continue
		default:
			out.WriteByte('{')
			i = j + 1
			continue
		}
		k := tagEnd(src, j+2, end)
		if k < 0 {
			out.WriteString(src[j:])
			return out.String()
		}
		body := src[j+2 : k]
		if isRawStart(body) {
			// copy {% raw %} ... {% endraw %} verbatim
			r := strings.Index(src[k:], "endraw")
			if r < 0 {
				out.WriteString(src[j:])
				return out.String()
			}
			e := strings.Index(src[k+r:], "%}")
			if e < 0 {
				out.WriteString(src[j:])
				return out.String()
			}
			out.WriteString(src[j : k+r+e+2])
			i = k + r + e + 2
			continue
		}
		out.WriteString(src[j : j+2])
		out.WriteString(rewriteExpr(body))
		out.WriteString(end)
		i = k + 2
	}
	return out.String()
}

func isRawStart(body string) bool {
	b := strings.Trim(body, " \t\r\n-+")
	return b == "raw"
}

// tagEnd finds the closing delimiter, skipping string literals.
func tagEnd(src string, i int, end string) int {
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\'' || c == '"':
			i = skipString(src, i)
		case strings.HasPrefix(src[i:], end):
			return i
		default:
			i++
		}
	}
	return -1
}

func skipString(src string, i int) int {
	q := src[i]
	i++
	for i < len(src) {
		switch src[i] {
		case '\\':
			i += 2
			continue
		case q:
			return i + 1
		}
		i++
	}
	return len(src)
}

func lexExpr(s string) []tok {
	var ts []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := skipString(s, i)
			ts = append(ts, tok{s[i:j], 's'})
			i = j
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r') {
				j++
			}
			ts = append(ts, tok{s[i:j], ' '})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			ts = append(ts, tok{s[i:j], 'w'})
			i = j
		case strings.IndexByte("()[]{},:", c) >= 0:
			ts = append(ts, tok{s[i : i+1], c})
			i++
		default:
			ts = append(ts, tok{s[i : i+1], 'o'})
			i++
		}
	}
	return ts
}

func rewriteExpr(body string) string {
	if !strings.Contains(body, "if") {
		return body
	}
	ts := lexExpr(body)
	var out strings.Builder
	pos := 0
	writeSeq(&out, ts, &pos, 0, false)
	return out.String()
}

func closer(open byte) byte {
	switch open {
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return '}'
}

// writeSeq copies tokens until the closing bracket of the group (or the
// end), rewriting bracket contents. Top level (depth 0) is left alone.
func writeSeq(out *strings.Builder, ts []tok, pos *int, depth int, _ bool) {
	for *pos < len(ts) {
		t := ts[*pos]
		switch t.kind {
		case '(', '[', '{':
			*pos++
			out.WriteString(t.s)
			writeGroup(out, ts, pos, t.kind)
		case ')', ']', '}':
			if depth > 0 {
				return
			}
			out.WriteString(t.s)
			*pos++
		default:
			out.WriteString(t.s)
			*pos++
		}
	}
}

// writeGroup handles the inside of a bracket group: items separated by
// commas (and dict values after ':'), each rewritten if it holds a
// conditional expression. It consumes the closing bracket.
func writeGroup(out *strings.Builder, ts []tok, pos *int, open byte) {
	cl := closer(open)
	for {
		// collect one item as rewritten text, noting top-level if/else
		var item strings.Builder
		var top []tok // top-level tokens of the item, nested groups flattened into one 'g' token
		for *pos < len(ts) {
			t := ts[*pos]
			if t.kind == cl || t.kind == ',' || (open == '{' && t.kind == ':') {
				break
			}
			if t.kind == '(' || t.kind == '[' || t.kind == '{' {
				*pos++
				var sub strings.Builder
				sub.WriteString(t.s)
				writeGroup(&sub, ts, pos, t.kind)
				top = append(top, tok{sub.String(), 'g'})
				item.WriteString(sub.String())
				continue
			}
			if t.kind == ')' || t.kind == ']' || t.kind == '}' { // mismatched; let gonja report it
				break
			}
			top = append(top, t)
			item.WriteString(t.s)
			*pos++
		}
		out.WriteString(ternary(top, item.String()))
		if *pos >= len(ts) {
			return
		}
		t := ts[*pos]
		*pos++
		out.WriteString(t.s)
		if t.kind != ',' && t.kind != ':' {
			return // closing bracket (or a mismatched one)
		}
	}
}

// ternary rewrites an item "A if B else C" (an optional leading "name="
// keyword is kept); other items come back as plain.
func ternary(top []tok, plain string) string {
	ifAt := -1
	for i, t := range top {
		if t.kind == 'w' && t.s == "if" && i > 0 {
			ifAt = i
			break
		}
	}
	if ifAt < 0 {
		return plain
	}
	prefix := ""
	start := 0
	// keyword argument: name = A if B else C
	k := skipSpace(top, 0)
	if k < len(top) && top[k].kind == 'w' {
		e := skipSpace(top, k+1)
		if e < len(top) && top[e].s == "=" && (e+1 >= len(top) || top[e+1].s != "=") {
			prefix = join(top[:e+1])
			start = e + 1
		}
	}
	if start >= ifAt {
		return plain
	}
	elseAt := -1
	for i := ifAt + 1; i < len(top); i++ {
		if top[i].kind == 'w' && top[i].s == "else" {
			elseAt = i
			break
		}
	}
	a := join(top[start:ifAt])
	var b, c string
	if elseAt < 0 {
		b, c = join(top[ifAt+1:]), "none"
	} else {
		b = join(top[ifAt+1 : elseAt])
		c = ternary(top[elseAt+1:], join(top[elseAt+1:]))
	}
	if strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" || strings.TrimSpace(c) == "" {
		return plain
	}
	return prefix + "(((" + b + ") and [" + a + "]) or [" + c + "])[0]"
}

func skipSpace(ts []tok, i int) int {
	for i < len(ts) && ts[i].kind == ' ' {
		i++
	}
	return i
}

func join(ts []tok) string {
	var sb strings.Builder
	for _, t := range ts {
		sb.WriteString(t.s)
	}
	return sb.String()
}

// checkLexHazards rejects a numeric literal running straight into a
// non-ASCII character inside a tag ("{{ 0.é"): never valid Jinja, and
// gonja's lexer loops forever on it (it backs up over a multi-byte rune
// twice).
func checkLexHazards(src string) error {
	i := 0
	for i < len(src) {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			return nil
		}
		j += i
		var end string
		switch src[j+1] {
		case '{':
			end = "}}"
		case '%':
			end = "%}"
		default:
			i = j + 1
			continue
		}
		k := tagEnd(src, j+2, end)
		if k < 0 {
			k = len(src)
		}
		if pos := numberIntoNonASCII(src[j+2 : k]); pos >= 0 {
			line := 1 + strings.Count(src[:j+2+pos], "\n")
			return fmt.Errorf("invalid number literal before a non-ASCII character (Line: %d)", line)
		}
		i = k + 2
	}
	return nil
}

func numberIntoNonASCII(body string) int {
	for i := 0; i < len(body); {
		c := body[i]
		switch {
		case c == '\'' || c == '"':
			i = skipString(body, i)
		case c >= '0' && c <= '9' && (i == 0 || !isWordByte(body[i-1])):
			j := i
			for j < len(body) && (isWordByte(body[j]) || body[j] == '.') {
				j++
			}
			if j < len(body) && body[j] >= 0x80 {
				return j
			}
			i = j
		default:
			i++
		}
	}
	return -1
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
