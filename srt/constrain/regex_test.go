package constrain

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// byteVocab has one token per byte value plus a few multi-byte tokens and EOS.
func byteVocab(t testing.TB, extra ...string) *testVocab {
	t.Helper()
	tokens := make([][]byte, 256, 256+len(extra)+1)
	for b := range 256 {
		tokens[b] = []byte{byte(b)}
	}
	for _, e := range extra {
		tokens = append(tokens, []byte(e))
	}
	tokens = append(tokens, nil) // special token
	tokens = append(tokens, []byte("</s>"))
	tv := &testVocab{}
	tv.init(t, tokens, []int32{int32(len(tokens) - 1)})
	return tv
}

// matches runs s through a fresh matcher byte by byte.
func matches(g *Grammar, s string) bool {
	m := g.NewMatcher()
	return m.AcceptBytes([]byte(s)) == nil && m.CanEnd()
}

func TestRegexAgreesWithGo(t *testing.T) {
	tv := byteVocab(t)
	cases := []struct {
		pattern  string // Go syntax (also valid Python)
		alphabet string
	}{
		{`a*b+c?`, "abc"},
		{`(ab|a)(bc|c)*`, "abc"},
		{`[0-9]{2,4}`, "0189a"},
		{`x{0,3}y{3}`, "xy"},
		{`(?i)hello`, "hHeElLoO"},
		{`[^a]*`, "ab\n"},
		{`.+`, "a\nb"},
		{`(?s).+`, "a\nb"},
		{`[\w\d\s]{1,3}`, "a_1 \t\n-"},
		{`é|ü+|[а-я]{2}`, "éüабвx"},
		{`\p{Greek}+`, "αβx"},
		{`^abc$`, "abc"},
		{`(a|b)*abb`, "ab"},
		{`"([^"\\]|\\.)*"`, `"\a`},
		{`[\x{1F600}-\x{1F64F}]`, "😀🙏a"},
		{`(?:)`, "a"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		g, err := CompileRegex(c.pattern, tv.v, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		goRe := regexp.MustCompile(`^(?:` + c.pattern + `)$`)
		alpha := []rune(c.alphabet)
		for range 3000 {
			var sb strings.Builder
			for range rng.IntN(7) {
				sb.WriteRune(alpha[rng.IntN(len(alpha))])
			}
			s := sb.String()
			if got, want := matches(g, s), goRe.MatchString(s); got != want {
				t.Errorf("%s on %q: matcher %v, Go regexp %v", c.pattern, s, got, want)
			}
		}
	}
}

func TestPythonSyntax(t *testing.T) {
	tv := byteVocab(t)
	cases := []struct {
		pattern string
		yes, no []string
	}{
		{`a{,2}`, []string{"", "a", "aa"}, []string{"aaa", "{,2}"}},
		{`\u00e9\U0001F600`, []string{"é😀"}, []string{"e"}},
		{`abc\Z`, []string{"abc"}, []string{"abc\n"}},
		{`(?P<x>ab)+`, []string{"abab"}, []string{"aba"}},
		{`(?a)\w+`, []string{"abc"}, []string{"é"}},
		{`(?#comment)x`, []string{"x"}, []string{"(?#comment)x"}},
		{`[\b]`, []string{"\b"}, []string{"b"}},
		{`[]a]+`, []string{"]a]"}, []string{"b"}},
		{`[[]`, []string{"["}, []string{"]"}},
		{`(?i:ab)c`, []string{"ABc", "abc"}, []string{"abC"}},
	}
	for _, c := range cases {
		g, err := CompileRegex(c.pattern, tv.v, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		for _, s := range c.yes {
			if !matches(g, s) {
				t.Errorf("%s should match %q", c.pattern, s)
			}
		}
		for _, s := range c.no {
			if matches(g, s) {
				t.Errorf("%s should not match %q", c.pattern, s)
			}
		}
	}
}

func TestRegexErrors(t *testing.T) {
	tv := byteVocab(t)
	cases := []struct {
		pattern string
		pos     int
		msg     string
	}{
		{`ab(?=c)`, 2, "look-around"},
		{`ab(?<!c)`, 2, "look-around"},
		{`(a)\1`, 3, "back-reference"},
		{`(?P<n>a)(?P=n)`, 8, "back-reference"},
		{`x\bx`, 1, "word boundar"},
		{`abc(`, 0, "missing closing )"},
		{`ab**`, 2, "invalid nested repetition"},
		{`a[b`, 1, "missing closing ]"},
		{`a(?x)b`, 3, "verbose"},
		{`a\N{DASH}`, 1, "named Unicode"},
		{`a^b`, 0, "only supported at the start"},
		{`a$b`, 0, "only supported at the end"},
		{`\u12`, 0, "hex digits"},
		{`(?>a)`, 0, "atomic"},
		{"a\xffb", 1, "UTF-8"},
		{`[^\x00-\x{10FFFF}]`, 0, "matches no string"},
	}
	for _, c := range cases {
		_, err := CompileRegex(c.pattern, tv.v, Options{})
		if err == nil {
			t.Errorf("%q: no error", c.pattern)
			continue
		}
		if !errors.Is(err, ErrInvalidRegex) {
			t.Errorf("%q: error %v does not wrap ErrInvalidRegex", c.pattern, err)
		}
		var re *RegexError
		if !errors.As(err, &re) {
			t.Errorf("%q: error %T is not a *RegexError", c.pattern, err)
			continue
		}
		if re.Pos != c.pos || !strings.Contains(re.Msg, c.msg) {
			t.Errorf("%q: got position %d %q, want %d containing %q", c.pattern, re.Pos, re.Msg, c.pos, c.msg)
		}
	}
}

func TestTooComplex(t *testing.T) {
	tv := byteVocab(t)
	// (a|b)*a(a|b){12} needs 2^13 DFA states.
	g, err := CompileRegex(`(a|b)*a(a|b){12}`, tv.v, Options{MaxStates: 500})
	if err != nil {
		t.Fatal(err)
	}
	m := g.NewMatcher()
	rng := rand.New(rand.NewPCG(3, 4))
	var stepErr error
	for range 5000 {
		b := "ab"[rng.IntN(2)]
		if stepErr = m.AcceptBytes([]byte{b}); stepErr != nil {
			break
		}
	}
	if !errors.Is(stepErr, ErrTooComplex) {
		t.Fatalf("error %v, want ErrTooComplex", stepErr)
	}
	if !errors.Is(m.Err(), ErrTooComplex) {
		t.Fatalf("Err() = %v", m.Err())
	}
	ids := allowedIDs(m.Mask(nil), nil)
	if len(ids) != 1 || !tv.v.IsEOS(ids[0]) {
		t.Fatalf("mask after the limit allows %v, want only EOS", ids)
	}
	if g.NumStates() > 500 {
		t.Fatalf("%d states built despite the limit", g.NumStates())
	}
	// A pattern whose NFA is too large fails at compile time.
	_, err = CompileRegex(`(\pL{1000}){1000}`, tv.v, Options{MaxNFANodes: 10000})
	if !errors.Is(err, ErrTooComplex) && !errors.Is(err, ErrInvalidRegex) {
		t.Fatalf("huge pattern: %v", err)
	}
}

// TestMaskAgreesWithAccept checks every token against the mask at random
// states of several grammars.
func TestMaskAgreesWithAccept(t *testing.T) {
	tv := byteVocab(t, "ab", "abc", "bc", "{\"", "\": ", "é", "\xc3", "\xa9x", "12", "1.5")
	patterns := []string{`(ab|c)*d?`, `\{"[a-z]+": [0-9]+(\.[0-9]+)?\}`, `[é]+x?`, `a`}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range patterns {
		g, err := CompileRegex(p, tv.v, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for walk := range 30 {
			m := g.NewMatcher()
			for step := 0; step < 12 && !m.Done(); step++ {
				mask := m.Mask(nil)
				for id := int32(0); int(id) < tv.v.Size(); id++ {
					inMask := mask[id>>6]&(1<<(id&63)) != 0
					c := m.Clone()
					ok := c.Accept(id) == nil
					if inMask != ok || inMask != m.Allowed(id) {
						t.Fatalf("%s walk %d: token %d %q: mask %v, Accept %v, Allowed %v", p, walk, id, tv.v.Token(id), inMask, ok, m.Allowed(id))
					}
				}
				ids := allowedIDs(mask, nil)
				id := ids[rng.IntN(len(ids))]
				if tv.v.IsEOS(id) {
					break
				}
				if err := m.Accept(id); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func TestChoices(t *testing.T) {
	tv := byteVocab(t)
	g, err := CompileChoices([]string{"yes", "no", "a+b"}, tv.v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"yes": true, "no": true, "a+b": true, "aab": false, "ye": false} {
		if matches(g, s) != want {
			t.Errorf("choice %q: got %v", s, !want)
		}
	}
	if _, err := CompileChoices(nil, tv.v, Options{}); err == nil {
		t.Error("no choices: no error")
	}
}

func TestApplyMask(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 200, 1000} {
		for _, off := range []int{0, 1} { // aligned and unaligned logits
			buf := make([]float32, n+off)
			logits := buf[off:]
			mask := make([]uint64, 10) // covers ids < 640 only
			for i := range logits {
				logits[i] = float32(i)
				if (i%3 == 0 || (i >= 128 && i < 192)) && i < 640 && i/64 != 5 {
					mask[i/64] |= 1 << (i % 64)
				}
			}
			ApplyMask(logits, mask)
			for i, x := range logits {
				allowed := (i%3 == 0 || (i >= 128 && i < 192)) && i < 640 && i/64 != 5 // word 5 is all zero
				if allowed && x != float32(i) || !allowed && !math.IsInf(float64(x), -1) {
					t.Fatalf("n=%d off=%d: logits[%d] = %v (allowed %v)", n, off, i, x, allowed)
				}
			}
		}
	}
}

// TestConcurrentMatchers shares one grammar between goroutines that build
// states and masks at the same time (run with -race).
func TestConcurrentMatchers(t *testing.T) {
	tv := byteVocab(t, "ab", "12", "\": ", "{\"")
	re, err := SchemaToRegex([]byte(schemaCases[10].schema), SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := CompileRegex(re, tv.v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	goRe := regexp.MustCompile(`^(?:` + re + `)$`)
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			gt := &goroutineTB{TB: t}
			defer func() { errs <- gt.err }()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for range 20 {
				res := randomWalk(gt, g, tv, rng, 30)
				if !goRe.Match(res.out) {
					gt.err = errors.New("no match: " + string(res.out))
					return
				}
			}
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// goroutineTB lets test helpers fail from a non-test goroutine: Fatalf
// records the error and exits the goroutine.
type goroutineTB struct {
	testing.TB
	err error
}

func (g *goroutineTB) Helper() {}

func (g *goroutineTB) Fatal(args ...any) {
	g.err = errors.New(fmt.Sprint(args...))
	runtime.Goexit()
}

func (g *goroutineTB) Fatalf(format string, args ...any) {
	g.err = fmt.Errorf(format, args...)
	runtime.Goexit()
}

// TestApplyMaskKernelsAgree compares the dispatched kernel (AVX-512 on
// capable amd64) with the portable one on random masks.
func TestApplyMaskKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for trial := range 50 {
		words := 1 + rng.IntN(40)
		mask := make([]uint64, words)
		for i := range mask {
			switch rng.IntN(4) {
			case 0:
				mask[i] = 0
			case 1:
				mask[i] = ^uint64(0)
			default:
				mask[i] = rng.Uint64()
			}
		}
		off := trial % 2 // unaligned logits half of the time
		a := make([]float32, words*64+off)[off:]
		b := make([]float32, words*64+off)[off:]
		for i := range a {
			a[i] = rng.Float32()*20 - 10
			b[i] = a[i]
		}
		applyMaskWords(a, mask)
		applyMaskGo(b, mask)
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("trial %d: logit %d: dispatched %v, portable %v", trial, i, a[i], b[i])
			}
		}
	}
}
