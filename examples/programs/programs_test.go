package programs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/examples/programs"
	"github.com/sglang-go/sglang/sgl"
	"github.com/sglang-go/sglang/sgl/ir"
)

// example runs one tutorial program on b and checks its constraints (not
// its content: stories260K is a toy).
type example struct {
	name  string
	regex bool // skip when the backend rejects regex
	// chatOnly: the OpenAI backend needs a chat model for it; completion
	// otherwise. select and regex examples are left out of the OpenAI run.
	openai string // "chat", "completion" or "" (not run on OpenAI)
	run    func(ctx context.Context, t *testing.T, b sgl.Backend) error
}

func roles(s *sgl.State) []string {
	var out []string
	for _, m := range s.Messages() {
		out = append(out, m.Role)
	}
	return out
}

func has(s *sgl.State, name string) bool {
	_, ok := s.Vars()[name]
	return ok
}

var examples = []example{
	{name: "basic_qa", openai: "chat", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		s, err := programs.BasicQA.Run(ctx, "What is the capital of the United States?", sgl.WithBackend(b), sgl.Temperature(0))
		if err != nil {
			return err
		}
		if got := roles(s); !slices.Equal(got[len(got)-2:], []string{"user", "assistant"}) || !has(s, "answer") {
			t.Errorf("roles %v vars %v", got, s.Vars())
		}
		if last := s.Messages()[len(s.Messages())-1]; last.Text() != strings.TrimSpace(s.Get("answer")) {
			t.Errorf("assistant message %q != answer %q", last.Text(), s.Get("answer"))
		}
		return nil
	}},
	{name: "multi_turn_qa", openai: "chat", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		s, err := programs.MultiTurnQA.Run(ctx, programs.TwoQuestions{Q1: "Who are you?", Q2: "Where do you live?", MaxTokens: 24},
			sgl.WithBackend(b), sgl.Temperature(0))
		if err != nil {
			return err
		}
		want := []string{"system", "user", "assistant", "user", "assistant"}
		if got := roles(s); !slices.Equal(got, want) || !has(s, "answer_1") || !has(s, "answer_2") {
			t.Errorf("roles %v (want %v), vars %v", got, want, s.Vars())
		}
		for _, v := range []string{"answer_1", "answer_2"} {
			if m, ok := s.MetaInfo(v); !ok || m.CompletionTokens > 24 {
				t.Errorf("%s meta %+v ok=%v (max 24 tokens)", v, m, ok)
			}
		}
		return nil
	}},
	{name: "tool_use", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		s, err := programs.ToolUse.Run(ctx, "What is 2 * 2?", sgl.WithBackend(b))
		if err != nil {
			return err
		}
		tool := s.Get("tool")
		if !slices.Contains(programs.Tools, tool) {
			t.Fatalf("tool %q not one of %q", tool, programs.Tools)
		}
		follow := map[string]string{"calculator": "expression", "search engine": "word"}[tool]
		if !has(s, follow) || !strings.Contains(s.Text(), "I need to use a "+tool+". ") {
			t.Errorf("tool %q: vars %v text %q", tool, s.Vars(), s.Text())
		}
		return nil
	}},
	{name: "tip_suggestion", openai: "completion", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		s, err := programs.TipSuggestion.Run(ctx, programs.TipArgs{Tips: 3, MaxTokens: 24}, sgl.WithBackend(b), sgl.Temperature(0))
		if err != nil {
			return err
		}
		tips := s.Values("detailed_tip")
		if len(tips) != 3 {
			t.Fatalf("%d tips, want 3", len(tips))
		}
		for i, tip := range tips {
			if !strings.Contains(s.Text(), fmt.Sprintf("Tip %d:%s\n", i+1, tip)) {
				t.Errorf("tip %d %q not in the summary text", i+1, tip)
			}
		}
		if !has(s, "summary") {
			t.Errorf("no summary: %v", s.Vars())
		}
		return nil
	}},
	{name: "regular_expression_gen", regex: true, run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		s, err := programs.RegularExpressionGen.Run(ctx, "What is the IP address of the Google DNS servers?", sgl.WithBackend(b))
		if err != nil {
			return err
		}
		re := regexp.MustCompile(`^(?:` + programs.IPRegex + `)$`)
		if a := s.Get("answer"); !re.MatchString(a) {
			t.Errorf("answer %q does not match the IP regex", a)
		}
		return nil
	}},
	{name: "character_gen", regex: true, run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		s, err := programs.CharacterGen.Run(ctx, "Hermione Granger", sgl.WithBackend(b), sgl.Temperature(0))
		if err != nil {
			return err
		}
		out := s.Get("json_output")
		if !regexp.MustCompile(`^(?:` + programs.CharacterRegex + `)$`).MatchString(out) {
			t.Fatalf("output does not match the character regex:\n%s", out)
		}
		var c programs.Character
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if !slices.Contains([]string{"Gryffindor", "Slytherin", "Ravenclaw", "Hufflepuff"}, c.House) || c.Wand.Length < 0 || c.Wand.Length >= 100 {
			t.Errorf("character %+v", c)
		}
		return nil
	}},
	{name: "text_qa", openai: "completion", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		qs := []string{"What is the capital of France?", "What is the capital of Japan?", "What is 1+1?", "Who wrote Hamlet?",
			"What color is the sky?", "How many legs has a cat?"}
		states, err := programs.TextQA.RunBatch(ctx, qs, sgl.WithBackend(b), sgl.Temperature(0), sgl.ProgressBar(false))
		if err != nil {
			return err
		}
		for i, s := range states {
			a := s.Get("answer")
			if !has(s, "answer") || strings.Contains(a, "\n") || !strings.HasPrefix(s.Text(), "Q: "+qs[i]+"\nA:") {
				t.Errorf("item %d: answer %q text %q", i, a, s.Text())
			}
		}
		return nil
	}},
	{name: "streaming", openai: "chat", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		sc := &streamCounter{Backend: b}
		s, err := programs.MultiTurnQA.Run(ctx, programs.TwoQuestions{Q1: "Hi!", Q2: "Tell me a story.", MaxTokens: 32},
			sgl.WithBackend(sc), sgl.Stream(), sgl.IgnoreEOS())
		if err != nil {
			return err
		}
		var pieces []string
		for p := range s.TextIter(ctx) {
			pieces = append(pieces, p)
		}
		if err := s.Wait(ctx); err != nil {
			return err
		}
		if got := strings.Join(pieces, ""); got != s.Text() {
			t.Errorf("%d pieces joining to %q, text %q", len(pieces), got, s.Text())
		}
		// Both gens went through the streaming path. (How many chunks a
		// 32-token gen arrives in depends on timing: a fast engine
		// coalesces the output a slow reader has not taken yet.)
		if n, c := sc.streams.Load(), sc.chunks.Load(); n != 2 || c < 2 {
			t.Errorf("%d streamed gens, %d chunks (want 2 gens, >= 2 chunks)", n, c)
		}
		var ans []string
		for p := range s.TextIter(ctx, "answer_2") {
			ans = append(ans, p)
		}
		if strings.Join(ans, "") != s.Get("answer_2") {
			t.Errorf("answer_2 iter %q != %q", ans, s.Get("answer_2"))
		}
		return nil
	}},
	{name: "chat_example", openai: "chat", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		s, err := programs.ChatExample.Run(ctx, "What is the capital of France?", sgl.WithBackend(b), sgl.Temperature(0))
		if err != nil {
			return err
		}
		msgs := s.Messages()
		if got := roles(s); !slices.Equal(got, []string{"system", "user", "assistant"}) ||
			msgs[1].Text() != "What is the capital of France?" || msgs[2].Text() != strings.TrimSpace(s.Get("answer")) {
			t.Errorf("messages %v", msgs)
		}
		return nil
	}},
	{name: "image_qa", run: func(ctx context.Context, t *testing.T, b sgl.Backend) error {
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" +
			"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")
		s, err := programs.ImageQA.Run(ctx, programs.ImageQuestion{Image: png, Question: "What is this?"}, sgl.WithBackend(b))
		if err != nil {
			// stories260K has no vision tower: the engine and the server
			// must refuse the image with an error, never drop it.
			if errors.Is(err, ir.ErrUnsupported) || errors.Is(err, ir.ErrBackend) {
				t.Skipf("text-only model refuses images (as it must): %v", err)
			}
			return err
		}
		if !has(s, "answer") {
			t.Errorf("vars %v", s.Vars())
		}
		return nil
	}},
}

// TestExamples runs every tutorial program against the in-process engine
// and against a live loopback server through runtime.Endpoint.
func TestExamples(t *testing.T) {
	e := newEnv(t)
	backends := []struct {
		name string
		b    sgl.Backend
	}{{"engine", e.engine}, {"server", e.client}}
	for _, bk := range backends {
		for _, ex := range examples {
			t.Run(bk.name+"/"+ex.name, func(t *testing.T) {
				err := ex.run(context.Background(), t, bk.b)
				if ex.regex {
					skipIfNoRegex(t, err)
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestExamplesOpenAI runs the examples without select or regex through the
// OpenAI backend on our own server's /v1 API.
func TestExamplesOpenAI(t *testing.T) {
	e := newEnv(t)
	n := 0
	for _, ex := range examples {
		if ex.openai == "" {
			continue
		}
		n++
		b := e.openAIChat()
		if ex.openai == "completion" {
			b = e.openAICompletion()
		}
		t.Run(ex.name, func(t *testing.T) {
			if err := ex.run(context.Background(), t, b); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n < 6 {
		t.Errorf("only %d examples ran on OpenAI", n)
	}
}
