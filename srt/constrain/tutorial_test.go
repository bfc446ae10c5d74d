package constrain

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// The patterns of SGLang's frontend tutorial ("Constrained Decoding").
const (
	ipRegex = `((25[0-5]|2[0-4]\d|[01]?\d\d?).){3}(25[0-5]|2[0-4]\d|[01]?\d\d?)`

	characterRegex = `\{\n` +
		`    "name": "[\w\d\s]{1,16}",\n` +
		`    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n` +
		`    "blood status": "(Pure-blood|Half-blood|Muggle-born)",\n` +
		`    "occupation": "(student|teacher|auror|ministry of magic|death eater|order of the phoenix)",\n` +
		`    "wand": \{\n` +
		`        "wood": "[\w\d\s]{1,16}",\n` +
		`        "core": "[\w\d\s]{1,16}",\n` +
		`        "length": [0-9]{1,2}\.[0-9]{0,2}\n` +
		`    \},\n` +
		`    "alive": "(Alive|Deceased)",\n` +
		`    "patronus": "[\w\d\s]{1,16}",\n` +
		`    "bogart": "[\w\d\s]{1,16}"\n` +
		`\}`
)

var jsonSafeCharacter = strings.NewReplacer(`[\w\d\s]`, `[\w\d ]`, `[0-9]{1,2}\.[0-9]{0,2}`, `(0|[1-9][0-9]?)\.[0-9]{1,2}`).Replace(characterRegex)

func vocabs(t *testing.T) map[string]*testVocab {
	return map[string]*testVocab{"qwen3": loadQwen(t), "stories260K": loadStories(t)}
}

func TestTutorialRegexRandomWalks(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	cases := []struct {
		name    string
		pattern string
		json    bool
		budget  int
	}{
		{"ip", ipRegex, false, 20},
		{"character", characterRegex, true, 120},
		// The same shape with JSON-safe strings and numbers: must always parse.
		{"character-json-safe", jsonSafeCharacter, true, 120},
	}
	for vname, tv := range vocabs(t) {
		for _, c := range cases {
			t.Run(vname+"/"+c.name, func(t *testing.T) {
				g, err := CompileRegex(c.pattern, tv.v, Options{})
				if err != nil {
					t.Fatal(err)
				}
				full := regexp.MustCompile(`^(?:` + c.pattern + `)$`)
				forced := 0
				for seed := range seeds {
					rng := rand.New(rand.NewPCG(uint64(seed), 7))
					res := randomWalk(t, g, tv, rng, c.budget)
					if !full.Match(res.out) {
						t.Fatalf("seed %d: output %q does not match", seed, res.out)
					}
					if !utf8.Valid(res.out) {
						t.Fatalf("seed %d: output is not UTF-8: %q", seed, res.out)
					}
					if c.json {
						valid := checkCharacterJSON(t, seed, res.out)
						if c.pattern == jsonSafeCharacter && !valid {
							t.Fatalf("seed %d: JSON-safe output %q is not JSON", seed, res.out)
						}
					}
					if res.forced {
						forced++
					}
				}
				if c.json && forced != seeds {
					// The character JSON ends with a fixed "}": EOS is always forced.
					t.Errorf("Done() forced EOS in %d of %d walks", forced, seeds)
				}
				t.Logf("%d DFA states", g.NumStates())
			})
		}
	}
}

// checkCharacterJSON checks that a character output parses as JSON exactly
// when it should: the tutorial's regex lets [\w\d\s] put raw tabs and
// newlines inside strings and allows a length like "10." (both invalid JSON,
// or "05.1" (all invalid JSON, as with SGLang itself); all other outputs must
// parse.
func checkCharacterJSON(t *testing.T, seed int, out []byte) bool {
	t.Helper()
	lines := bytes.Split(out, []byte("\n"))
	valid := true
	for _, ln := range lines {
		if bytes.ContainsAny(ln, "\t\r\v\f") {
			valid = false
		}
	}
	if badNumber := regexp.MustCompile(`"length": ([0-9]+\.\n|0[0-9])`); badNumber.Match(out) {
		valid = false
	}
	// Raw newlines inside a string show up as lines that do not start with
	// the regex's fixed indentation or closing brace.
	okLine := regexp.MustCompile(`^(\{|\}|    .*)$`)
	for _, ln := range lines {
		if !okLine.Match(ln) {
			valid = false
		}
	}
	var v map[string]any
	err := json.Unmarshal(out, &v)
	if valid && err != nil {
		t.Fatalf("seed %d: output %q is not JSON: %v", seed, out, err)
	}
	if !valid && err == nil {
		t.Fatalf("seed %d: output %q parsed although it has raw control characters", seed, out)
	}
	if err == nil {
		w, ok := v["wand"].(map[string]any)
		if !ok || w["length"] == nil || v["house"] == nil {
			t.Fatalf("seed %d: missing fields in %v", seed, v)
		}
	}
	return err == nil
}

func TestForcedJumpForward(t *testing.T) {
	tv := loadStories(t)
	g, err := CompileRegex(characterRegex, tv.v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := g.NewMatcher()
	if got, want := string(m.Forced()), "{\n    \"name\": \""; got != want {
		t.Fatalf("Forced() at start = %q, want %q", got, want)
	}
	if err := m.AcceptBytes(m.Forced()); err != nil {
		t.Fatal(err)
	}
	if f := m.Forced(); f != nil {
		t.Fatalf("Forced() inside the name = %q, want none", f)
	}
	if err := m.AcceptBytes([]byte("Harry Potter\"")); err != nil {
		t.Fatal(err)
	}
	if got, want := string(m.Forced()), ",\n    \"house\": \""; got != want {
		t.Fatalf("Forced() after the name = %q, want %q", got, want)
	}
	if err := m.AcceptBytes([]byte(",\n    \"house\": \"S")); err != nil {
		t.Fatal(err)
	}
	if got, want := string(m.Forced()), "lytherin\",\n    \"blood status\": \""; got != want {
		t.Fatalf("Forced() after S = %q, want %q", got, want)
	}
	// Rejected bytes leave the matcher where it was.
	before := m.Clone()
	if err := m.AcceptBytes([]byte("x")); err == nil {
		t.Fatal("AcceptBytes accepted a byte outside the grammar")
	}
	if !bytes.Equal(m.Forced(), before.Forced()) {
		t.Fatal("a rejected AcceptBytes moved the matcher")
	}
}

func TestForcedStopsAtPartialRune(t *testing.T) {
	tv := loadStories(t)
	// é is C3 A9 and è is C3 A8: the lead byte is forced, the rune is not.
	g, err := CompileRegex(`ab(é|è)`, tv.v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(g.NewMatcher().Forced()); got != "ab" {
		t.Fatalf("Forced() = %q, want %q", got, "ab")
	}
	g, err = CompileRegex(`x?`, tv.v, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f := g.NewMatcher().Forced(); f != nil {
		t.Fatalf("Forced() in an accepting state = %q, want none", f)
	}
}
