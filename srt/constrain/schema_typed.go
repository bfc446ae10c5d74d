package constrain

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
)

func (c *schemaConv) typed(t string, s *jval, ptr string) (string, error) {
	switch t {
	case "":
		return c.anyValue(c.o.AnyDepth), nil
	case "string":
		return c.stringType(s, ptr)
	case "integer":
		return c.integerType(s, ptr)
	case "number":
		if c.o.Strict {
			for _, k := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
				if s.get(k) != nil {
					return "", c.fail(ptrAdd(ptr, k), "bounds on numbers cannot be enforced")
				}
			}
		}
		return reNumber, nil
	case "boolean":
		return reBoolean, nil
	case "null":
		return reNull, nil
	case "object":
		return c.objectType(s, ptr)
	case "array":
		return c.arrayType(s, ptr)
	}
	return "", c.fail(ptrAdd(ptr, "type"), "unknown type %q", t)
}

// anyValue matches any JSON value nested at most depth containers deep.
func (c *schemaConv) anyValue(depth int) string {
	if re, ok := c.anyCache[depth]; ok {
		return re
	}
	alts := []string{reString, reNumber, reBoolean, reNull}
	if depth > 0 {
		inner := c.anyValue(depth - 1)
		alts = append(alts, c.genericObject(inner, 0, -1), c.genericArray(inner, 0, -1))
	}
	re := "(?:" + strings.Join(alts, "|") + ")"
	c.anyCache[depth] = re
	return re
}

func (c *schemaConv) genericObject(value string, minP, maxP int) string {
	ws := c.ws
	if maxP == 0 {
		return `\{` + ws + `\}`
	}
	kv := reString + ws + ":" + ws + value
	lo, hi := minP-1, maxP-1
	if lo < 0 {
		lo = 0
	}
	rest, err := repeatRange(ws+","+ws+kv, lo, hi)
	if err != nil {
		rest = "(?:" + ws + "," + ws + kv + ")*"
	}
	body := "(?:" + kv + rest + ")"
	if minP <= 0 {
		body += "?"
	}
	return `\{` + ws + body + ws + `\}`
}

func (c *schemaConv) genericArray(item string, minI, maxI int) string {
	ws := c.ws
	if maxI == 0 {
		return `\[` + ws + `\]`
	}
	lo, hi := minI-1, maxI-1
	if lo < 0 {
		lo = 0
	}
	rest, err := repeatRange(ws+","+ws+"(?:"+item+")", lo, hi)
	if err != nil {
		rest = "(?:" + ws + "," + ws + "(?:" + item + "))*"
	}
	body := "(?:(?:" + item + ")" + rest + ")"
	if minI <= 0 {
		body += "?"
	}
	return `\[` + ws + body + ws + `\]`
}

// count reads an optional non-negative count keyword; def when absent.
func (c *schemaConv) count(s *jval, key, ptr string, def int) (int, error) {
	v := s.get(key)
	if v == nil {
		return def, nil
	}
	n, ok := v.nonNegInt()
	if !ok {
		return 0, c.fail(ptrAdd(ptr, key), "%s must be a non-negative integer", key)
	}
	return n, nil
}

func (c *schemaConv) bounds(s *jval, ptr, minKey, maxKey string) (int, int, error) {
	lo, err := c.count(s, minKey, ptr, 0)
	if err != nil {
		return 0, 0, err
	}
	hi, err := c.count(s, maxKey, ptr, -1)
	if err != nil {
		return 0, 0, err
	}
	if hi >= 0 && lo > hi {
		return 0, 0, c.fail(ptr, "%s %d is greater than %s %d", minKey, lo, maxKey, hi)
	}
	if lo > maxRepeat {
		return 0, 0, c.fail(ptrAdd(ptr, minKey), "%s above %d is not supported", minKey, maxRepeat)
	}
	return lo, hi, nil
}

func (c *schemaConv) stringType(s *jval, ptr string) (string, error) {
	if f := s.get("format"); f != nil && f.kind == jString {
		if re, ok := formatRegex[f.str]; ok {
			return `"` + re + `"`, nil
		}
		if c.o.Strict {
			return "", c.fail(ptrAdd(ptr, "format"), "unsupported format %q (supported: %s)", f.str, strings.Join(SchemaFormats(), ", "))
		}
	}
	if p := s.get("pattern"); p != nil {
		if p.kind != jString {
			return "", c.fail(ptrAdd(ptr, "pattern"), "pattern must be a string")
		}
		pat := strings.TrimPrefix(p.str, "^")
		if strings.HasSuffix(pat, "$") && !strings.HasSuffix(pat, `\$`) {
			pat = pat[:len(pat)-1]
		}
		if c.o.Strict && (s.get("minLength") != nil || s.get("maxLength") != nil) {
			return "", c.fail(ptr, "minLength/maxLength cannot be enforced together with pattern")
		}
		if _, err := parseRegex(pat, 1_000_000); err != nil {
			return "", c.fail(ptrAdd(ptr, "pattern"), "%v", err)
		}
		return `"(?:` + pat + `)"`, nil
	}
	lo, hi, err := c.bounds(s, ptr, "minLength", "maxLength")
	if err != nil {
		return "", err
	}
	if lo == 0 && hi < 0 {
		return reString, nil
	}
	body, err := repeatRange(reStringChar, lo, hi)
	if err != nil {
		return "", c.fail(ptr, "%v", err)
	}
	return `"` + body + `"`, nil
}

// ratBound reads a numeric keyword as a rational.
func (c *schemaConv) ratBound(s *jval, key, ptr string) (*big.Rat, error) {
	v := s.get(key)
	if v == nil || (v.kind == jBool) {
		return nil, nil
	}
	if v.kind != jNumber {
		return nil, c.fail(ptrAdd(ptr, key), "%s must be a number", key)
	}
	r, ok := new(big.Rat).SetString(v.num.String())
	if !ok {
		return nil, c.fail(ptrAdd(ptr, key), "%s is not a number", key)
	}
	return r, nil
}

func (c *schemaConv) integerType(s *jval, ptr string) (string, error) {
	var lo, hi *big.Int
	one := big.NewInt(1)
	for _, k := range []string{"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} {
		r, err := c.ratBound(s, k, ptr)
		if err != nil {
			return "", err
		}
		if r == nil {
			continue
		}
		if len(r.Num().String()) > 40 {
			return "", c.fail(ptrAdd(ptr, k), "bound is too large")
		}
		switch k {
		case "minimum", "exclusiveMinimum":
			b := ceilRat(r)
			if k == "exclusiveMinimum" && r.IsInt() {
				b.Add(b, one)
			}
			if lo == nil || b.Cmp(lo) > 0 {
				lo = b
			}
		default:
			b := floorRat(r)
			if k == "exclusiveMaximum" && r.IsInt() {
				b.Sub(b, one)
			}
			if hi == nil || b.Cmp(hi) < 0 {
				hi = b
			}
		}
	}
	if lo != nil && hi != nil && lo.Cmp(hi) > 0 {
		return "", c.fail(ptr, "no integer lies between the minimum and the maximum")
	}
	if lo == nil && hi == nil {
		return reInteger, nil
	}
	return intRangeRegex(lo, hi), nil
}

func floorRat(r *big.Rat) *big.Int {
	q, _ := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	return q // DivMod is Euclidean: floor for positive denominators
}

func ceilRat(r *big.Rat) *big.Int {
	q := floorRat(r)
	if !r.IsInt() {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func (c *schemaConv) objectType(s *jval, ptr string) (string, error) {
	props := s.get("properties")
	if props != nil {
		if props.kind != jObject {
			return "", c.fail(ptrAdd(ptr, "properties"), "properties must be an object")
		}
		return c.properties(s, props, ptr)
	}
	lo, hi, err := c.bounds(s, ptr, "minProperties", "maxProperties")
	if err != nil {
		return "", err
	}
	value := c.anyValue(c.o.AnyDepth - 1)
	if ap := s.get("additionalProperties"); ap != nil {
		switch {
		case ap.kind == jBool && !ap.b:
			if lo > 0 {
				return "", c.fail(ptr, "minProperties > 0 with additionalProperties false and no properties")
			}
			return `\{` + c.ws + `\}`, nil
		case ap.kind == jObject:
			value, err = c.value(ap, ptrAdd(ptr, "additionalProperties"))
			if errors.Is(err, errRefDepth) && lo == 0 {
				return `\{` + c.ws + `\}`, nil
			}
			if err != nil {
				return "", err
			}
		}
	}
	return c.check(ptr, c.genericObject(value, lo, hi))
}

// properties renders an object with the listed properties in schema order.
// Required ones always appear; optional ones may be left out.
func (c *schemaConv) properties(s, props *jval, ptr string) (string, error) {
	required := map[string]bool{}
	var undeclared []string // required names without a schema, in order
	if r := s.get("required"); r != nil {
		if r.kind != jArray {
			return "", c.fail(ptrAdd(ptr, "required"), "required must be an array")
		}
		for _, x := range r.arr {
			if x.kind == jString && !required[x.str] {
				required[x.str] = true
				if props.get(x.str) == nil {
					undeclared = append(undeclared, x.str)
				}
			}
		}
	}
	ws := c.ws
	type prop struct {
		re  string
		req bool
	}
	var ps []prop
	seen := map[string]bool{}
	for i, name := range props.keys {
		if seen[name] {
			continue
		}
		seen[name] = true
		vre, err := c.value(props.vals[i], ptrAdd(ptr, "properties", name))
		if errors.Is(err, errRefDepth) && !required[name] {
			continue // too deep: leave the optional property out
		}
		if err != nil {
			return "", err
		}
		ps = append(ps, prop{ws + quoteLiteral(jsonString(name)) + ws + ":" + ws + vre, required[name]})
	}
	// A required property without a schema still has to appear: any value.
	for _, name := range undeclared {
		ps = append(ps, prop{ws + quoteLiteral(jsonString(name)) + ws + ":" + ws + c.anyValue(c.o.AnyDepth-1), true})
	}
	last := -1
	for i, p := range ps {
		if p.req {
			last = i
		}
	}
	var sb strings.Builder
	sb.WriteString(`\{`)
	if last >= 0 {
		// Before the last required property every present property is
		// followed by a comma; after it every present one is preceded by one.
		for i, p := range ps {
			part := p.re
			switch {
			case i < last:
				part = part + ws + ","
			case i > last:
				part = ws + "," + part
			}
			if p.req {
				sb.WriteString(part)
			} else {
				sb.WriteString("(?:" + part + ")?")
			}
		}
	} else {
		res := make([]string, len(ps))
		for i, p := range ps {
			res[i] = p.re
		}
		sb.WriteString(c.optionalProps(res, 0))
	}
	sb.WriteString(ws + `\}`)
	return c.check(ptr, sb.String())
}

// optionalProps renders any in-order subset of all-optional properties:
// B(i) = (p_i A(i+1) | B(i+1)), A(i) = (, p_i)? A(i+1).
func (c *schemaConv) optionalProps(res []string, i int) string {
	if i >= len(res) {
		return ""
	}
	var after strings.Builder
	for _, r := range res[i+1:] {
		after.WriteString("(?:" + c.ws + "," + r + ")?")
	}
	return "(?:" + res[i] + after.String() + "|" + c.optionalProps(res, i+1) + ")"
}

func (c *schemaConv) arrayType(s *jval, ptr string) (string, error) {
	lo, hi, err := c.bounds(s, ptr, "minItems", "maxItems")
	if err != nil {
		return "", err
	}
	ws := c.ws
	if pi := s.get("prefixItems"); pi != nil {
		if pi.kind != jArray {
			return "", c.fail(ptrAdd(ptr, "prefixItems"), "prefixItems must be an array")
		}
		parts := make([]string, len(pi.arr))
		for i, sub := range pi.arr {
			re, err := c.value(sub, ptrAdd(ptr, "prefixItems", strconv.Itoa(i)))
			if err != nil {
				return "", err
			}
			parts[i] = re
		}
		if len(parts) < lo || (hi >= 0 && len(parts) > hi) {
			return "", c.fail(ptr, "prefixItems has %d items, outside minItems/maxItems", len(parts))
		}
		if len(parts) == 0 {
			return `\[` + ws + `\]`, nil
		}
		return c.check(ptr, `\[`+ws+strings.Join(parts, ws+","+ws)+ws+`\]`)
	}
	item := c.anyValue(c.o.AnyDepth - 1)
	if it := s.get("items"); it != nil {
		if it.kind == jBool && !it.b {
			if lo > 0 {
				return "", c.fail(ptr, "minItems > 0 with items false")
			}
			return `\[` + ws + `\]`, nil
		}
		if it.kind == jArray {
			return "", c.fail(ptrAdd(ptr, "items"), "array-form items (draft 4 tuples) is not supported; use prefixItems")
		}
		item, err = c.value(it, ptrAdd(ptr, "items"))
		if errors.Is(err, errRefDepth) && lo == 0 {
			return `\[` + ws + `\]`, nil
		}
		if err != nil {
			return "", err
		}
	}
	if hi > maxRepeat+1 {
		hi = -1
	}
	if lo > maxRepeat {
		return "", c.fail(ptr, "minItems above %d is not supported", maxRepeat)
	}
	return c.check(ptr, c.genericArray(item, lo, hi))
}
