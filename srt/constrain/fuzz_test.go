package constrain

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func FuzzCompileRegex(f *testing.F) {
	for _, s := range []string{ipRegex, `a{,3}b`, `[^"\\]*`, `(?i)x|y+`, `\u00e9+`, `(a|b)*a(a|b){9}`, `[\d\w]{2}?`, `((`, `\p{Han}{1,3}`} {
		f.Add(s)
	}
	tv := byteVocab(f, "ab", "12", "\xc3\xa9", "{\"")
	f.Fuzz(func(t *testing.T, pattern string) {
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("slow input %q", pattern)) })
		defer tm.Stop()
		g, err := CompileRegex(pattern, tv.v, Options{MaxStates: 2000, MaxNFANodes: 20000})
		if err != nil {
			if !errors.Is(err, ErrInvalidRegex) && !errors.Is(err, ErrTooComplex) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		rng := rand.New(rand.NewPCG(uint64(len(pattern)), 1))
		m := g.NewMatcher()
		for range 16 {
			if f := m.Forced(); f != nil {
				c := m.Clone()
				if err := c.AcceptBytes(f); err != nil && !errors.Is(err, ErrTooComplex) {
					t.Fatalf("forced bytes %q rejected: %v", f, err)
				}
			}
			ids := allowedIDs(m.Mask(nil), nil)
			if m.Err() != nil {
				return
			}
			if len(ids) == 0 {
				t.Fatal("empty mask: the matcher reached a dead end")
			}
			id := ids[rng.IntN(len(ids))]
			if err := m.Accept(id); err != nil {
				if errors.Is(err, ErrTooComplex) {
					return
				}
				t.Fatalf("allowed token %d rejected: %v", id, err)
			}
			if m.Finished() {
				return
			}
		}
	})
}

func FuzzSchemaToRegex(f *testing.F) {
	for _, c := range schemaCases[:8] {
		f.Add(c.schema)
	}
	f.Add(`{"type":"object","properties":{"a":{"$ref":"#"}}}`)
	f.Add(`{"anyOf":[{"type":"integer","minimum":3},{"enum":[1,"x"]}]}`)
	tv := byteVocab(f)
	f.Fuzz(func(t *testing.T, schema string) {
		tm := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("slow input %q", schema)) })
		defer tm.Stop()
		re, err := SchemaToRegex([]byte(schema), SchemaOptions{})
		if err != nil {
			if !errors.Is(err, ErrInvalidSchema) {
				t.Fatalf("error does not wrap ErrInvalidSchema: %v", err)
			}
			return
		}
		g, err := CompileRegex(re, tv.v, Options{MaxStates: 2000, MaxNFANodes: 200000})
		if err != nil {
			if errors.Is(err, ErrTooComplex) || errors.Is(err, ErrEmptyLanguage) {
				return
			}
			t.Fatalf("schema %s gave an uncompilable regex %q: %v", schema, re, err)
		}
		m := g.NewMatcher()
		if ids := allowedIDs(m.Mask(nil), nil); len(ids) == 0 && m.Err() == nil {
			t.Fatalf("schema %s: nothing allowed at the start", schema)
		}
	})
}
