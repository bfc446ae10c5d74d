package constrain

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// RegexError describes an invalid or unsupported pattern. Pos is the byte
// offset in the pattern as the caller wrote it.
type RegexError struct {
	Pattern string
	Pos     int
	Msg     string
	Err     error // optional extra sentinel (ErrEmptyLanguage)
}

func (e *RegexError) Error() string {
	return fmt.Sprintf("constrain: regex: at position %d: %s", e.Pos, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalidRegex) true.
func (e *RegexError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidRegex, e.Err}
	}
	return []error{ErrInvalidRegex}
}

// translator rewrites Python re syntax into Go regexp/syntax, keeping for each
// output byte the offset of the input byte it came from.
type translator struct {
	src string
	out strings.Builder
	pos []int // pos[i] = source offset of output byte i
}

func (t *translator) emit(s string, at int) {
	t.out.WriteString(s)
	for range len(s) {
		t.pos = append(t.pos, at)
	}
}

func (t *translator) fail(at int, format string, args ...any) error {
	return &RegexError{Pattern: t.src, Pos: at, Msg: fmt.Sprintf(format, args...)}
}

// srcPos maps an offset in the translated pattern back to the source.
func (t *translator) srcPos(i int) int {
	if i < 0 {
		return 0
	}
	if i >= len(t.pos) {
		return len(t.src)
	}
	return t.pos[i]
}

// translatePython converts Python-only syntax and rejects what the automaton
// cannot express.
func translatePython(p string) (*translator, error) {
	t := &translator{src: p}
	inClass := false
	classStart := 0
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\\':
			n, err := t.escape(i, inClass)
			if err != nil {
				return nil, err
			}
			i += n
			continue
		case inClass:
			switch {
			case c == ']' && i > classStart:
				inClass = false
				t.emit("]", i)
			case c == '[':
				t.emit(`\[`, i)
			default:
				_, sz := utf8.DecodeRuneInString(p[i:])
				t.emit(p[i:i+sz], i)
				i += sz
				continue
			}
			i++
			continue
		case c == '[':
			inClass = true
			t.emit("[", i)
			i++
			if i < len(p) && p[i] == '^' {
				t.emit("^", i)
				i++
			}
			classStart = i // a ']' right here is a literal
			if i < len(p) && p[i] == ']' {
				t.emit(`\]`, i)
				i++
			}
			continue
		case c == '(' && strings.HasPrefix(p[i:], "(?"):
			n, err := t.group(i)
			if err != nil {
				return nil, err
			}
			i += n
			continue
		case c == '{' && strings.HasPrefix(p[i:], "{,"):
			// Python {,n} means {0,n}; Go would read it as literal text.
			j := i + 2
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			if j > i+2 && j < len(p) && p[j] == '}' {
				t.emit("{0,"+p[i+2:j+1], i)
				i = j + 1
				continue
			}
		}
		t.emit(p[i:i+1], i)
		i++
	}
	if inClass {
		return nil, t.fail(classStart-1, "missing closing ]")
	}
	return t, nil
}

// escape handles a backslash sequence at p[i] and returns its source length.
func (t *translator) escape(i int, inClass bool) (int, error) {
	p := t.src
	if i+1 >= len(p) {
		return 0, t.fail(i, "trailing backslash")
	}
	c := p[i+1]
	switch {
	case c == 'u' || c == 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if i+2+n > len(p) || !isHex(p[i+2:i+2+n]) {
			return 0, t.fail(i, "\\%c needs %d hex digits", c, n)
		}
		t.emit(`\x{`+p[i+2:i+2+n]+`}`, i)
		return 2 + n, nil
	case c == 'N':
		return 0, t.fail(i, `named Unicode escapes (\N{...}) are not supported`)
	case c >= '1' && c <= '9' && !inClass:
		return 0, t.fail(i, "back-references are not supported")
	case c == 'Z' && !inClass:
		t.emit(`\z`, i)
		return 2, nil
	case c == 'b' && inClass:
		t.emit(`\x08`, i)
		return 2, nil
	case c == 'b' || c == 'B':
		return 0, t.fail(i, "word boundaries (\\%c) are not supported", c)
	}
	_, sz := utf8.DecodeRuneInString(p[i+1:])
	t.emit(p[i:i+1+sz], i)
	return 1 + sz, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// group handles "(?" constructs at p[i] and returns the source length consumed.
func (t *translator) group(i int) (int, error) {
	p := t.src
	rest := p[i+2:]
	switch {
	case strings.HasPrefix(rest, "P<"), strings.HasPrefix(rest, ":"):
		t.emit(p[i:i+3], i)
		return 3, nil
	case strings.HasPrefix(rest, "P="):
		return 0, t.fail(i, "back-references are not supported")
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"),
		strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		return 0, t.fail(i, "look-around assertions are not supported")
	case strings.HasPrefix(rest, "<"):
		t.emit(p[i:i+3], i)
		return 3, nil
	case strings.HasPrefix(rest, ">"):
		return 0, t.fail(i, "atomic groups are not supported")
	case strings.HasPrefix(rest, "#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, t.fail(i, "missing ) after comment")
		}
		return 2 + end + 1, nil
	case strings.HasPrefix(rest, "("):
		return 0, t.fail(i, "conditional groups are not supported")
	}
	// Inline flags: (?flags) or (?flags:...) or (?flags-flags:...).
	var flags strings.Builder
	j := 0
	for ; j < len(rest); j++ {
		c := rest[j]
		switch c {
		case 'i', 'm', 's', '-':
			flags.WriteByte(c)
		case 'a', 'u': // ASCII / Unicode: Go's classes are already ASCII.
		case 'L':
			return 0, t.fail(i+2+j, "the locale flag (?L) is not supported")
		case 'x':
			return 0, t.fail(i+2+j, "the verbose flag (?x) is not supported")
		case ')', ':':
			f := flags.String()
			if f == "" || f == "-" {
				if c == ':' {
					t.emit("(?:", i)
				} else {
					t.emit("(?:)", i)
				}
			} else {
				t.emit("(?"+f+string(c), i)
			}
			return 2 + j + 1, nil
		default:
			return 0, t.fail(i+2+j, "unknown group flag %q", c)
		}
	}
	return 0, t.fail(i, "missing ) after group flags")
}

// parseRegex parses a Python-syntax pattern into a simplified syntax tree with
// leading ^ and trailing $ removed (full-match semantics makes them no-ops).
// maxNodes bounds the expanded size of the tree (0 = no bound).
func parseRegex(pattern string, maxNodes int) (*syntax.Regexp, error) {
	if !utf8.ValidString(pattern) {
		return nil, &RegexError{Pattern: pattern, Pos: firstInvalidUTF8(pattern), Msg: "pattern is not valid UTF-8"}
	}
	t, err := translatePython(pattern)
	if err != nil {
		return nil, err
	}
	goPat := t.out.String()
	re, err := syntax.Parse(goPat, syntax.Perl)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			at := 0
			if se.Expr != "" && se.Expr != goPat {
				if k := strings.Index(goPat, se.Expr); k >= 0 {
					at = k
				}
			}
			return nil, &RegexError{Pattern: pattern, Pos: t.srcPos(at), Msg: fmt.Sprintf("%s: %q", se.Code, se.Expr)}
		}
		return nil, &RegexError{Pattern: pattern, Msg: err.Error()}
	}
	re = stripAnchors(re, true, true)
	if err := checkAssertions(re); err != nil {
		return nil, &RegexError{Pattern: pattern, Pos: 0, Msg: err.Error()}
	}
	if maxNodes > 0 && expandedSize(re, maxNodes) > maxNodes {
		return nil, fmt.Errorf("constrain: regex: %w: the pattern expands to more than %d automaton nodes", ErrTooComplex, maxNodes)
	}
	return re.Simplify(), nil
}

// expandedSize estimates the NFA size after repeats are expanded, saturating
// just above limit.
func expandedSize(re *syntax.Regexp, limit int) int {
	sat := func(x int) int { return min(x, limit+1) }
	switch re.Op {
	case syntax.OpLiteral:
		return sat(4 * len(re.Rune))
	case syntax.OpCharClass:
		return sat(8 * (len(re.Rune)/2 + 1))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 16
	case syntax.OpRepeat:
		n := re.Max
		if n < 0 {
			n = re.Min + 1
		}
		n = max(n, 1)
		return sat(n * expandedSize(re.Sub[0], limit))
	}
	total := 1
	for _, s := range re.Sub {
		total = sat(total + expandedSize(s, limit))
	}
	return total
}

func firstInvalidUTF8(s string) int {
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && sz == 1 {
			return i
		}
		i += sz
	}
	return 0
}

func isBegin(re *syntax.Regexp) bool {
	return re.Op == syntax.OpBeginText || re.Op == syntax.OpBeginLine
}

func isEnd(re *syntax.Regexp) bool {
	return re.Op == syntax.OpEndText || re.Op == syntax.OpEndLine
}

// stripAnchors replaces anchors that sit at the very start (end) of the
// pattern with empty matches.
func stripAnchors(re *syntax.Regexp, atStart, atEnd bool) *syntax.Regexp {
	empty := &syntax.Regexp{Op: syntax.OpEmptyMatch}
	switch re.Op {
	case syntax.OpBeginText, syntax.OpBeginLine:
		if atStart {
			return empty
		}
	case syntax.OpEndText, syntax.OpEndLine:
		if atEnd {
			return empty
		}
	case syntax.OpCapture:
		re.Sub[0] = stripAnchors(re.Sub[0], atStart, atEnd)
	case syntax.OpAlternate:
		for k, s := range re.Sub {
			re.Sub[k] = stripAnchors(s, atStart, atEnd)
		}
	case syntax.OpConcat:
		subs := re.Sub
		for atStart && len(subs) > 0 && isBegin(subs[0]) {
			subs = subs[1:]
		}
		for atEnd && len(subs) > 0 && isEnd(subs[len(subs)-1]) {
			subs = subs[:len(subs)-1]
		}
		if len(subs) == 0 {
			return empty
		}
		subs[0] = stripAnchors(subs[0], atStart, atEnd && len(subs) == 1)
		if len(subs) > 1 {
			subs[len(subs)-1] = stripAnchors(subs[len(subs)-1], false, atEnd)
		}
		re.Sub = subs
	}
	return re
}

func checkAssertions(re *syntax.Regexp) error {
	switch re.Op {
	case syntax.OpBeginText, syntax.OpBeginLine:
		return errors.New("^ or \\A is only supported at the start of the pattern")
	case syntax.OpEndText, syntax.OpEndLine:
		return errors.New("$ or \\Z is only supported at the end of the pattern")
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return errors.New("word boundaries are not supported")
	}
	for _, s := range re.Sub {
		if err := checkAssertions(s); err != nil {
			return err
		}
	}
	return nil
}
