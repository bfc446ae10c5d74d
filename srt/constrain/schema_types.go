package constrain

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
)

// Building blocks for JSON values. Strings exclude control characters (C0,
// DEL, C1) and allow the standard escapes; \u escapes exclude surrogates so
// that one regex repetition is one code point (minLength/maxLength count
// code points).
const (
	reStringChar = `(?:[^"\\\x00-\x1F\x7F-\x9F]|\\["\\/bfnrt]|\\u(?:[0-9A-Ca-c][0-9A-Fa-f]{3}|[Dd][0-7][0-9A-Fa-f]{2}|[EFef][0-9A-Fa-f]{3}))`
	reString     = `"` + reStringChar + `*"`
	reInteger    = `-?(?:0|[1-9][0-9]*)`
	reNumber     = `-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`
	reBoolean    = `(?:true|false)`
	reNull       = `null`

	// DefaultWhitespace is outlines' default whitespace pattern.
	DefaultWhitespace = `[ ]?`
)

// Format regexes (the quoted JSON string). They are written to produce only
// values that strict format validators accept (for example, day-of-month is
// checked against the month; February stops at 28).
const (
	reDay     = `(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))`
	reDate    = `[0-9]{4}-` + reDay
	reTime    = `(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])`
	reLabel   = `[A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?`
	reHost    = `(?:` + reLabel + `\.){0,3}[A-Za-z](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?`
	reOctet   = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	reIPv4    = reOctet + `(?:\.` + reOctet + `){3}`
	reURIPath = `[A-Za-z0-9._~!$&'()*+,;=:@-]`
)

var formatRegex = map[string]string{
	"date-time": reDate + `T` + reTime,
	"date":      reDate,
	"time":      reTime,
	"uuid":      `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`,
	"email":     `[A-Za-z0-9_+-]{1,30}(?:\.[A-Za-z0-9_+-]{1,30})?@(?:` + reLabel + `\.){1,3}[A-Za-z]{2,10}`,
	"hostname":  reHost,
	"ipv4":      reIPv4,
	"uri":       `https?://(?:` + reLabel + `\.){0,3}[A-Za-z]{2,10}(?::[0-9]{1,5})?(?:/` + reURIPath + `{0,40}){0,8}(?:\?` + reURIPath + `{0,40})?`,
}

// SchemaFormats lists the string formats SchemaToRegex enforces.
func SchemaFormats() []string {
	out := make([]string, 0, len(formatRegex))
	for k := range formatRegex {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// maxRepeat is Go's limit on a {m,n} count.
const maxRepeat = 1000

// repeatRange renders x{lo,hi}; hi < 0 means unbounded.
func repeatRange(x string, lo, hi int) (string, error) {
	if lo > maxRepeat {
		return "", fmt.Errorf("a minimum count of %d exceeds the supported %d", lo, maxRepeat)
	}
	if hi > maxRepeat {
		hi = -1 // documented: bounds above 1000 are not enforced
	}
	switch {
	case hi < 0:
		return fmt.Sprintf("(?:%s){%d,}", x, lo), nil
	case lo == hi:
		return fmt.Sprintf("(?:%s){%d}", x, lo), nil
	default:
		return fmt.Sprintf("(?:%s){%d,%d}", x, lo, hi), nil
	}
}

// intRangeRegex matches the canonical decimal integers in [lo, hi]; a nil
// bound is open.
func intRangeRegex(lo, hi *big.Int) string {
	var alts []string
	zero := big.NewInt(0)
	// Negative part: -(x) for x in [max(1,-hi), -lo].
	if lo == nil || lo.Sign() < 0 {
		var nlo, nhi *big.Int // bounds on the magnitude
		if hi == nil || hi.Sign() >= 0 {
			nlo = big.NewInt(1)
		} else {
			nlo = new(big.Int).Neg(hi)
		}
		if lo != nil {
			nhi = new(big.Int).Neg(lo)
		}
		if nhi == nil || nlo.Cmp(nhi) <= 0 {
			alts = append(alts, "-(?:"+natRange(nlo, nhi)+")")
		}
	}
	// Non-negative part: [max(0,lo), hi].
	if hi == nil || hi.Sign() >= 0 {
		plo := zero
		if lo != nil && lo.Sign() > 0 {
			plo = lo
		}
		if hi == nil || plo.Cmp(hi) <= 0 {
			alts = append(alts, natRange(plo, hi))
		}
	}
	if len(alts) == 0 {
		return `[^\x00-\x{10FFFF}]` // empty range: matches nothing
	}
	return "(?:" + strings.Join(alts, "|") + ")"
}

// natRange matches decimal naturals in [a, b] (b nil = unbounded), a >= 0.
func natRange(a, b *big.Int) string {
	as := a.String()
	var alts []string
	if b == nil {
		alts = append(alts, sameLenRange(as, strings.Repeat("9", len(as))))
		alts = append(alts, fmt.Sprintf("[1-9][0-9]{%d,}", len(as)))
		return strings.Join(alts, "|")
	}
	bs := b.String()
	for l := len(as); l <= len(bs); l++ {
		lo := strings.Repeat("0", l)
		if l > 1 {
			lo = "1" + strings.Repeat("0", l-1)
		}
		if l == len(as) {
			lo = as
		}
		hi := strings.Repeat("9", l)
		if l == len(bs) {
			hi = bs
		}
		alts = append(alts, sameLenRange(lo, hi))
	}
	return strings.Join(alts, "|")
}

// sameLenRange matches digit strings of len(x) between x and y (x <= y).
func sameLenRange(x, y string) string {
	if x == y {
		return x
	}
	if len(x) == 1 {
		return fmt.Sprintf("[%c-%c]", x[0], y[0])
	}
	if x[0] == y[0] {
		return x[:1] + "(?:" + sameLenRange(x[1:], y[1:]) + ")"
	}
	rest := len(x) - 1
	if strings.Trim(x[1:], "0") == "" && strings.Trim(y[1:], "9") == "" {
		return fmt.Sprintf("[%c-%c][0-9]{%d}", x[0], y[0], rest)
	}
	var alts []string
	alts = append(alts, x[:1]+"(?:"+sameLenRange(x[1:], strings.Repeat("9", rest))+")")
	if x[0]+1 <= y[0]-1 {
		alts = append(alts, fmt.Sprintf("[%c-%c][0-9]{%d}", x[0]+1, y[0]-1, rest))
	}
	alts = append(alts, y[:1]+"(?:"+sameLenRange(strings.Repeat("0", rest), y[1:])+")")
	return strings.Join(alts, "|")
}

// quoteLiteral renders a literal JSON text as a regex.
func quoteLiteral(s string) string { return regexp.QuoteMeta(s) }
