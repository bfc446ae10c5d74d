package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sglang-go/sglang/backend/runtime"
	"github.com/sglang-go/sglang/internal/shared"
	"github.com/sglang-go/sglang/sgl"
	"github.com/sglang-go/sglang/sgl/ir"
	"github.com/sglang-go/sglang/srt"
)

var (
	engOnce sync.Once
	eng     *srt.Engine
	engErr  error
)

// stories returns one shared engine on the stories260K model.
func stories(t *testing.T) *runtime.Engine {
	t.Helper()
	path := shared.Path(t, "models", "stories260K")
	engOnce.Do(func() {
		eng, engErr = srt.NewEngine(context.Background(), srt.Options{ModelPath: path, Threads: 2,
			Logger: slog.New(slog.DiscardHandler)})
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	return runtime.NewEngine(eng)
}

func TestEngineProgram(t *testing.T) {
	b := stories(t)
	ctx := context.Background()
	prog := sgl.Function(func(s *sgl.State, topic string) {
		s.Add("Once upon a time, there was a little ", topic, ".")
		s.Add(sgl.Gen("story", sgl.MaxTokens(12)))
		s.Add(" The ", topic, " was ", sgl.Select("mood", []string{"happy", "sad", "very big"}))
		forks := s.Fork(2)
		for i, f := range forks {
			f.Add(fmt.Sprintf(" Then %d", i), sgl.Gen("next", sgl.MaxTokens(6)))
		}
		forks.Join()
	})
	st, err := prog.Run(ctx, "dog", sgl.WithBackend(b), sgl.Temperature(0))
	if err != nil {
		t.Fatal(err)
	}
	if st.Get("story") == "" {
		t.Error("empty generation")
	}
	if m, _ := st.MetaInfo("story"); m.CompletionTokens == 0 || m.CompletionTokens > 12 {
		t.Errorf("meta %+v", m)
	}
	if !slices.Contains([]string{"happy", "sad", "very big"}, st.Get("mood")) {
		t.Errorf("mood %q", st.Get("mood"))
	}
	if len(st.Values("next")) != 2 {
		t.Errorf("next %q", st.Values("next"))
	}
	// Greedy generation is deterministic: the same program gives the same text.
	st2, err := prog.Run(ctx, "dog", sgl.WithBackend(b), sgl.Temperature(0))
	if err != nil || st2.Text() != st.Text() {
		t.Errorf("rerun differs: %v\n%q\n%q", err, st2.Text(), st.Text())
	}
}

func TestEngineChatTemplate(t *testing.T) {
	b := stories(t)
	// stories260K's tokenizer_config.json carries Llama-2's chat template.
	tmpl, err := b.ChatTemplate(context.Background())
	if err != nil || tmpl.Name != "llama-2-chat" {
		t.Fatalf("template %+v, %v", tmpl, err)
	}
	if tmpl, _ := runtime.NewEngine(eng, runtime.WithChatTemplate("chatml")).ChatTemplate(context.Background()); tmpl.Name != "chatml" {
		t.Errorf("named template %s", tmpl.Name)
	}
	if _, err := runtime.NewEngine(eng, runtime.WithChatTemplate("nope")).ChatTemplate(context.Background()); !errors.Is(err, ir.ErrInvalid) {
		t.Errorf("unknown template: %v", err)
	}
	st, err := sgl.Function(func(s *sgl.State, _ int) {
		s.User("Tell me a story.")
		s.Assistant(sgl.Gen("a", sgl.MaxTokens(8)))
	}).Run(context.Background(), 0, sgl.WithBackend(b), sgl.Temperature(0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.Text(), "[INST] Tell me a story. [/INST]") || len(st.Messages()) != 2 {
		t.Errorf("text %q messages %v", st.Text(), st.Messages())
	}
}

func TestEngineSelectMethods(t *testing.T) {
	b := stories(t)
	choices := []string{" cat", " dog", " big red ball"}
	for _, m := range []ir.Method{sgl.TokenLengthNormalized, sgl.GreedyTokenSelection, sgl.UnconditionalLikelihoodNormalized} {
		st, err := sgl.Function(func(s *sgl.State, _ int) {
			s.Add("Lily had a pet. It was a", sgl.Select("pet", choices, sgl.Method(m)))
		}).Run(context.Background(), 0, sgl.WithBackend(b))
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		d := st.Decision("pet")
		if d == nil || !slices.Contains(choices, st.Get("pet")) || len(d.Logprobs.Input) != 3 {
			t.Fatalf("%s: pet %q decision %+v", m, st.Get("pet"), d)
		}
		for i, in := range d.Logprobs.Input {
			if len(in) == 0 {
				t.Errorf("%s: choice %d has no token logprobs", m, i)
			}
		}
		if m.NeedsUnconditional() && len(d.NormalizedUnconditional) != 3 {
			t.Errorf("%s: no unconditional scores", m)
		}
	}
}

func TestEngineStreamAndBatch(t *testing.T) {
	b := stories(t)
	ctx := context.Background()
	st, err := sgl.Function(func(s *sgl.State, _ int) {
		s.Add("Once upon a time", sgl.Gen("x", sgl.MaxTokens(16)))
	}).Run(ctx, 0, sgl.WithBackend(b), sgl.Temperature(0), sgl.Stream())
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	n := 0
	for p := range st.TextIter(ctx, "x") {
		sb.WriteString(p)
		n++
	}
	if err := st.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if sb.String() != st.Get("x") || n < 1 || sb.String() == "" {
		t.Errorf("streamed %q in %d pieces, var %q", sb.String(), n, st.Get("x"))
	}

	// The backend's stream, straight: greedy pieces add up to Generate's text.
	req := &ir.GenRequest{Prompt: ir.Prompt{Text: "Once upon a time"}, Sampling: ir.DefaultSampling()}
	req.Sampling.Temperature, req.Sampling.MaxNewTokens = 0, 16
	full, err := b.Generate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var streamed strings.Builder
	var last ir.MetaInfo
	for ch, err := range b.GenerateStream(ctx, req) {
		if err != nil {
			t.Fatal(err)
		}
		streamed.WriteString(ch.Text)
		last = ch.Meta
	}
	if streamed.String() != full.Text || last.CompletionTokens != full.Meta.CompletionTokens || last.FinishReason == nil {
		t.Errorf("stream %q (meta %+v), generate %q", streamed.String(), last, full.Text)
	}

	items := make([]string, 20)
	for i := range items {
		items[i] = fmt.Sprintf("%d", i)
	}
	states, err := sgl.Function(func(s *sgl.State, q string) {
		s.Add("Once upon a time there was a girl named Lily who liked to play outside. Day ", q, ":")
		s.Add(sgl.Gen("a", sgl.MaxTokens(4)))
	}).RunBatch(ctx, items, sgl.WithBackend(b), sgl.Temperature(0), sgl.ProgressBar(false))
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 20 {
		t.Fatalf("%d states", len(states))
	}
	for i, s := range states {
		if !strings.Contains(s.Text(), "Day "+items[i]+":") {
			t.Errorf("item %d: %q", i, s.Text())
		}
	}
}

func TestEngineUnsupported(t *testing.T) {
	b := stories(t)
	_, err := sgl.Function(func(s *sgl.State, _ int) {
		s.Add("Count: ", sgl.Gen("n", sgl.Regex("[0-9]+")))
	}).Run(context.Background(), 0, sgl.WithBackend(b))
	if errors.Is(err, ir.ErrUnsupported) {
		t.Skipf("the engine does not support regex constraints yet: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestEngineImagesAndCancel(t *testing.T) {
	b := stories(t)
	_, err := sgl.Function(func(s *sgl.State, _ int) {
		s.Add(sgl.Image([]byte{1, 2, 3}), "What is this?", sgl.Gen("a"))
	}).Run(context.Background(), 0, sgl.WithBackend(b))
	if !errors.Is(err, ir.ErrUnsupported) {
		t.Errorf("image on the engine: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sgl.Function(func(s *sgl.State, _ int) {
		s.Add("Once", sgl.Gen("a", sgl.MaxTokens(64)))
	}).Run(ctx, 0, sgl.WithBackend(b))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := runtime.NewEngine(nil).Generate(context.Background(), &ir.GenRequest{}); !errors.Is(err, ir.ErrInvalid) {
		t.Errorf("nil engine: %v", err)
	}
}
