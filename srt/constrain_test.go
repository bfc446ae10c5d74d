package srt

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

// The patterns of SGLang's frontend tutorial ("Constrained Decoding"), as in
// srt/constrain's tests.
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

	ipPrompt        = "Q: What is the IP address of the Google DNS servers?\nA: "
	characterPrompt = "Harry Potter is a character in Harry Potter. Please fill in the following information about this character.\n"
)

// jsonSafeCharacter is the character regex with strings that cannot hold raw
// control characters and numbers JSON accepts: every output must parse.
var jsonSafeCharacter = strings.NewReplacer(`[\w\d\s]`, `[\w\d ]`, `[0-9]{1,2}\.[0-9]{0,2}`, `(0|[1-9][0-9]?)\.[0-9]{1,2}`).Replace(characterRegex)

// runAll runs reqs concurrently (so they share batches) and returns the
// final outputs in order.
func runAll(t *testing.T, eng *Engine, reqs []*GenerateRequest) []*GenerateOutput {
	t.Helper()
	outs := make([]*GenerateOutput, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := eng.GenerateAll(context.Background(), r)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			outs[i] = out
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return outs
}

func seeded(p SamplingParams, seed uint64) SamplingParams {
	p.Seed = &seed
	return p
}

// checkConstrained checks one constrained output: it fully matches, the
// text is the decode of the ids, and it ended with an EOS exactly when the
// grammar was complete.
func checkConstrained(t *testing.T, eng *Engine, full *regexp.Regexp, out *GenerateOutput, maxNew int) {
	t.Helper()
	if !full.MatchString(out.Text) {
		t.Fatalf("output %q does not match %s", out.Text, full)
	}
	dec, err := eng.Detokenize(out.OutputIDs, true)
	if err != nil {
		t.Fatal(err)
	}
	if dec != out.Text {
		t.Fatalf("text %q is not the decode of the ids (%q)", out.Text, dec)
	}
	fr := out.MetaInfo.FinishReason
	if len(out.OutputIDs) > maxNew || out.MetaInfo.CompletionTokens != len(out.OutputIDs) {
		t.Fatalf("%d output tokens (completion_tokens %d), max %d", len(out.OutputIDs), out.MetaInfo.CompletionTokens, maxNew)
	}
	if fr == nil || fr.Type != "stop" {
		t.Fatalf("finish reason %+v, want stop at EOS (output %q)", fr, out.Text)
	}
	id, ok := fr.Matched.(int32)
	if !ok || !slices.Contains(eng.eosIDs(), id) || out.OutputIDs[len(out.OutputIDs)-1] != id {
		t.Fatalf("finish reason %+v, last id %d: want an EOS id", fr, out.OutputIDs[len(out.OutputIDs)-1])
	}
}

func TestTutorialRegexesThroughEngine(t *testing.T) {
	eng := storiesEngine(t, "")
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	cases := []struct {
		name, pattern, prompt string
		maxNew                int
		json                  bool
	}{
		{"ip", ipRegex, ipPrompt, 32, false},
		{"character", characterRegex, characterPrompt, 300, false},
		// The JSON-validity check runs on the JSON-safe variant (the tutorial's
		// own regex admits raw tabs in strings and "10." numbers).
		{"character-json-safe", jsonSafeCharacter, characterPrompt, 300, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seeds := seeds
			if c.json {
				seeds /= 2 // same automaton shape as "character"; keep the package fast
			}
			full := regexp.MustCompile(`^(?:` + c.pattern + `)$`)
			p := DefaultSamplingParams()
			p.MaxNewTokens, p.Regex = c.maxNew, c.pattern
			reqs := make([]*GenerateRequest, seeds)
			for i := range reqs {
				reqs[i] = &GenerateRequest{Text: c.prompt, Sampling: seeded(p, uint64(i))}
			}
			// In waves that fit the KV pool, so that retraction does not churn.
			var outs []*GenerateOutput
			for i := 0; i < len(reqs); i += 50 {
				outs = append(outs, runAll(t, eng, reqs[i:min(i+50, len(reqs))])...)
			}
			distinct := map[string]bool{}
			jumped := 0
			for _, out := range outs {
				checkConstrained(t, eng, full, out, c.maxNew)
				distinct[out.Text] = true
				jumped += out.MetaInfo.JumpForwardTokens
				if c.json {
					var v map[string]any
					if err := json.Unmarshal([]byte(out.Text), &v); err != nil {
						t.Fatalf("output %q is not JSON: %v", out.Text, err)
					}
					if w, ok := v["wand"].(map[string]any); !ok || w["length"] == nil {
						t.Fatalf("output %q lacks wand.length", out.Text)
					}
				}
			}
			if len(distinct) < seeds/4 {
				t.Errorf("only %d distinct outputs over %d seeds at temperature 1", len(distinct), seeds)
			}
			if strings.HasPrefix(c.name, "character") && jumped == 0 {
				t.Errorf("no jump-forward tokens over %d character outputs", seeds)
			}
			t.Logf("%d seeds, %d distinct outputs, %d jump-forward tokens; e.g. %q", seeds, len(distinct), jumped, outs[0].Text)
		})
	}
	waitIdle(t, eng)
}

func TestInvalidConstraints(t *testing.T) {
	eng := storiesEngine(t, "")
	cases := []struct {
		name string
		p    func(*SamplingParams)
		want string
	}{
		{"unclosed group", func(p *SamplingParams) { p.Regex = `(ab` }, "position"},
		{"look-ahead", func(p *SamplingParams) { p.Regex = `a(?=b)` }, "position 1"},
		{"schema not JSON", func(p *SamplingParams) { p.JSONSchema = `{"type":` }, "json_schema"},
		{"schema bad type", func(p *SamplingParams) { p.JSONSchema = `{"type":"object","properties":{"a":{"type":"wat"}}}` }, "/properties/a"},
		{"two kinds", func(p *SamplingParams) { p.Regex, p.JSONSchema = "a", `{"type":"string"}` }, "only one"},
		{"empty choice", func(p *SamplingParams) { p.Choices = []string{"a", ""} }, "empty choice"},
		{"bad stop_regex", func(p *SamplingParams) { p.StopRegex = []string{"a("} }, "stop_regex[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := greedyParams(8)
			c.p(&p)
			_, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: "Hi", Sampling: p})
			if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrInvalidRequest mentioning %q", err, c.want)
			}
		})
	}
	st, err := eng.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 0 {
		t.Errorf("%d invalid requests reached the scheduler", st.Requests)
	}
}

// TestMixedBatchMatchesAlone runs constrained and unconstrained greedy
// requests together and one at a time: the outputs must not change.
func TestMixedBatchMatchesAlone(t *testing.T) {
	for _, jf := range []bool{true, false} {
		eng := storiesEngineOpts(t, Options{Threads: 2, DisableJumpForward: !jf})
		mk := func() []*GenerateRequest {
			var reqs []*GenerateRequest
			for i, pr := range []string{"Once upon a time", "Lily and Tom"} {
				free := greedyParams(40 + i)
				ip := greedyParams(32)
				ip.Regex = ipRegex
				ch := greedyParams(300)
				ch.Regex = characterRegex
				choice := greedyParams(16)
				choice.Choices = []string{"cat", "dog", "bird house"}
				reqs = append(reqs, &GenerateRequest{Text: pr, Sampling: free},
					&GenerateRequest{Text: pr, Sampling: ip},
					&GenerateRequest{Text: characterPrompt + pr, Sampling: ch},
					&GenerateRequest{Text: pr, Sampling: choice})
			}
			return reqs
		}
		var alone []*GenerateOutput
		for _, r := range mk() {
			out, err := eng.GenerateAll(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			alone = append(alone, out)
		}
		if err := eng.FlushCache(context.Background()); err != nil {
			t.Fatal(err)
		}
		batched := runAll(t, eng, mk())
		for i := range alone {
			if batched[i].Text != alone[i].Text || !slices.Equal(batched[i].OutputIDs, alone[i].OutputIDs) {
				t.Errorf("jf=%v request %d: batched %q, alone %q", jf, i, batched[i].Text, alone[i].Text)
			}
		}
		for i := 3; i < len(alone); i += 4 {
			if !slices.Contains([]string{"cat", "dog", "bird house"}, alone[i].Text) {
				t.Errorf("choice output %q", alone[i].Text)
			}
		}
		waitIdle(t, eng)
	}
}

func TestStopRegex(t *testing.T) {
	eng := storiesEngine(t, "")
	p := greedyParams(60)
	free, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: "Once upon a time", Sampling: p})
	if err != nil {
		t.Fatal(err)
	}
	// Stop at the first word of 3+ letters followed by a space that the free
	// run produces after its first few characters.
	words := regexp.MustCompile(`[a-z]{3,} `).FindAllStringIndex(free.Text, -1)
	if len(words) < 2 {
		t.Skipf("free output %q has too few words", free.Text)
	}
	p.StopRegex = []string{`[a-z]{3,} `}
	out, err := eng.GenerateAll(context.Background(), &GenerateRequest{Text: "Once upon a time", Sampling: p})
	if err != nil {
		t.Fatal(err)
	}
	fr := out.MetaInfo.FinishReason
	want := free.Text[words[0][0]:words[0][1]]
	if fr == nil || fr.Type != "stop" || fr.Matched != want {
		t.Fatalf("finish %+v, want stop matched %q", fr, want)
	}
	if want := free.Text[:words[0][1]]; out.Text != want {
		t.Fatalf("text %q, want %q (the free output through the match)", out.Text, want)
	}
}

func storiesEngineOpts(t testing.TB, o Options) *Engine {
	t.Helper()
	o.ModelPath = shared.Path(t, "models", "stories260K")
	return engineAt(t, o)
}
