package sgl

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sglang-go/sglang/sgl/ir"
)

func TestMultiTurnChatML(t *testing.T) {
	fb := &fakeBackend{tmpl: mustTemplate("chatml"), answer: constant("Paris")}
	prog := Function(func(s *State, topic string) {
		s.System("You are a helpful assistant.")
		s.User("Capital of ", topic, "?")
		s.Assistant(Gen("first", MaxTokens(16)))
	})
	st, err := prog.Run(context.Background(), "France", WithBackend(fb), Temperature(0), MaxTokens(100))
	if err != nil {
		t.Fatal(err)
	}
	want := "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" +
		"<|im_start|>user\nCapital of France?<|im_end|>\n" +
		"<|im_start|>assistant\nParis<|im_end|>\n"
	if got := st.Text(); got != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
	if st.Get("first") != "Paris" {
		t.Errorf("first = %q", st.Get("first"))
	}
	wantMsgs := []ir.Message{{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: "Capital of France?"}, {Role: "assistant", Content: "Paris"}}
	if got := st.Messages(); fmt.Sprint(got) != fmt.Sprint(wantMsgs) {
		t.Errorf("messages = %v, want %v", got, wantMsgs)
	}
	reqs := fb.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Prompt.Text != strings.TrimSuffix(want, "Paris<|im_end|>\n") {
		t.Errorf("prompt %q", r.Prompt.Text)
	}
	if r.Prompt.Role != "assistant" || r.Prompt.RoleText != "" || len(r.Prompt.Messages) != 2 {
		t.Errorf("prompt role state %+v", r.Prompt)
	}
	sp := r.Sampling
	if sp.MaxNewTokens != 16 || sp.Temperature != 0 || !slices.Equal(sp.Stop, []string{"<|im_end|>"}) || sp.TopK != -1 {
		t.Errorf("sampling %+v", sp)
	}
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		tmpl string
		want string
	}{
		{"default", "USER:hi\nASSISTANT:ok\n"},
		{"qwen", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nok<|im_end|>\n"},
		{"llama-2", "[INST] hi [/INST]ok </s><s>"},
	}
	for _, tc := range tests {
		fb := &fakeBackend{tmpl: mustTemplate(tc.tmpl), answer: constant("ok")}
		st, err := Function(func(s *State, _ struct{}) {
			s.User("hi")
			s.Assistant(Gen("a"))
		}).Run(context.Background(), struct{}{}, WithBackend(fb))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Text(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.tmpl, got, tc.want)
		}
	}
	// Llama-2 merges a leading system message into the first [INST].
	fb := &fakeBackend{tmpl: mustTemplate("llama-2"), answer: constant("ok")}
	st, _ := Function(func(s *State, _ int) {
		s.System("sys")
		s.User("hi")
	}).Run(context.Background(), 0, WithBackend(fb))
	if want := "[INST] <<SYS>>\nsys\n<</SYS>>\n\nhi [/INST]"; st.Text() != want {
		t.Errorf("llama-2 system: %q, want %q", st.Text(), want)
	}
}

func TestOptionsAndDtype(t *testing.T) {
	fb := &fakeBackend{answer: func(r *ir.GenRequest) (string, error) {
		if r.Sampling.Regex != nil && *r.Sampling.Regex == RegexInt {
			return " 42", nil
		}
		if r.Sampling.Regex != nil && *r.Sampling.Regex == RegexBool {
			return "True", nil
		}
		return "text", nil
	}}
	st, err := Function(func(s *State, _ int) {
		s.Add("n=", GenInt("n", Stop("x")), " b=", GenBool("b"), " ", Gen("t", Temperature(0.5), TopP(0.9), TopK(5), MinP(0.1),
			FrequencyPenalty(0.2), PresencePenalty(0.3), IgnoreEOS(), StopTokenIDs(7), Logprobs(3), LogprobStartLen(2), MinTokens(1)))
	}).Run(context.Background(), 0, WithBackend(fb), Temperature(0), Stop("run"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := st.Int("n"); err != nil || n != 42 {
		t.Errorf("Int = %d, %v", n, err)
	}
	if b, err := st.Bool("b"); err != nil || !b {
		t.Errorf("Bool = %v, %v", b, err)
	}
	if _, err := st.Int("t"); err == nil {
		t.Error("Int of text: no error")
	}
	if _, err := st.Int("missing"); !errors.Is(err, ErrNoVariable) {
		t.Errorf("missing: %v", err)
	}
	reqs := fb.requests()
	if got := reqs[0].Sampling.Stop; !slices.Equal(got, []string{"x", " ", "\n"}) {
		t.Errorf("int stops %q", got)
	}
	if got := reqs[1].Sampling; !slices.Equal(got.Stop, []string{"run"}) || *got.Regex != RegexBool || got.Temperature != 0 {
		t.Errorf("bool sampling %+v", got)
	}
	sp := reqs[2].Sampling
	if sp.Temperature != 0.5 || sp.TopP != 0.9 || sp.TopK != 5 || sp.MinP != 0.1 || sp.FrequencyPenalty != 0.2 ||
		sp.PresencePenalty != 0.3 || !sp.IgnoreEOS || !slices.Equal(sp.StopTokenIDs, []int{7}) || sp.Regex != nil ||
		!*sp.ReturnLogprob || *sp.TopLogprobsNum != 3 || *sp.LogprobStartLen != 2 || sp.MinNewTokens != 1 || sp.MaxNewTokens != 128 {
		t.Errorf("call-level sampling %+v", sp)
	}
	st2, err := Function(func(s *State, _ int) {
		s.Add(Gen("x", ReturnLogprob(true), TopLogprobsNum(2), ReturnTextInLogprobs(false), StopRegex("a+"), JSONSchema(`{}`), SkipSpecialTokens(false)))
	}).Run(context.Background(), 0, WithBackend(fb))
	if err != nil {
		t.Fatal(err)
	}
	sp = fb.requests()[3].Sampling
	if !*sp.ReturnLogprob || *sp.TopLogprobsNum != 2 || *sp.ReturnTextInLogprobs || *sp.StopRegex != "a+" || *sp.JSONSchema != "{}" ||
		sp.SkipSpecialTokens || sp.LogprobStartLen != nil || st2.Get("x") != "text" {
		t.Errorf("logprob options %+v", sp)
	}
	if want := "n= 42 b=True text"; st.Text() != want {
		t.Errorf("text %q, want %q", st.Text(), want)
	}
}

func TestSelect(t *testing.T) {
	for _, m := range []ir.Method{TokenLengthNormalized, GreedyTokenSelection, UnconditionalLikelihoodNormalized} {
		fb := &fakeBackend{answer: constant(""), scores: map[string]float64{"cat": -2, "dog": -0.5, "bird": -1}}
		st, err := Function(func(s *State, _ int) {
			s.Add("Pet: ", Select("pet", []string{"cat", "dog", "bird"}, Method(m)))
			s.Add(" / ", Gen("again", Choices("cat", "bird")))
		}).Run(context.Background(), 0, WithBackend(fb))
		if err != nil {
			t.Fatal(err)
		}
		if st.Get("pet") != "dog" || st.Get("again") != "bird" || st.Text() != "Pet: dog / bird" {
			t.Errorf("%s: pet=%q again=%q text=%q", m, st.Get("pet"), st.Get("again"), st.Text())
		}
		if d := st.Decision("pet"); d == nil || d.Index != 1 {
			t.Errorf("%s: decision %+v", m, d)
		}
		if !slices.Equal(fb.selects, []string{"Pet: ", "Pet: dog / "}) || fb.uncond[0] != m.NeedsUnconditional() {
			t.Errorf("%s: scored %q uncond %v", m, fb.selects, fb.uncond)
		}
	}
	// Errors: no scorer, non-zero temperature.
	fb := &fakeBackend{answer: constant("")}
	_, err := Function(func(s *State, _ int) { s.Add(Select("x", []string{"a"})) }).Run(context.Background(), 0, WithBackend(&plainBackend{fb}))
	if !errors.Is(err, ir.ErrUnsupported) {
		t.Errorf("plain backend select: %v", err)
	}
	_, err = Function(func(s *State, _ int) { s.Add(Select("x", []string{"a"}, Temperature(1))) }).Run(context.Background(), 0, WithBackend(fb))
	if !errors.Is(err, ir.ErrInvalid) {
		t.Errorf("temperature 1 select: %v", err)
	}
}

func TestForkJoin(t *testing.T) {
	fb := &fakeBackend{answer: func(r *ir.GenRequest) (string, error) {
		return fmt.Sprintf("[%d]", strings.Count(r.Prompt.Text, "tip")), nil
	}}
	st, err := Function(func(s *State, _ int) {
		s.Add("Tips:", Gen("intro"))
		forks := s.Fork(2)
		for i, f := range forks {
			f.Add(fmt.Sprintf(" tip %d", i+1), strings.Repeat(" tip", i), Gen("detail"))
		}
		forks.Join()
		s.Add(" done:", forks[0].Get("detail"), forks[1].Get("detail"))
	}).Run(context.Background(), 0, WithBackend(fb))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Tips:[0] done:[1][2]"; st.Text() != want {
		t.Errorf("text %q, want %q", st.Text(), want)
	}
	if got := st.Values("detail"); !slices.Equal(got, []string{"[1]", "[2]"}) {
		t.Errorf("joined detail %q", got)
	}
	if _, ok := st.Vars()["intro"].(string); !ok {
		t.Error("intro not kept as a string")
	}
	if !slices.Equal(fb.prefills, []string{"Tips:[0]"}) {
		t.Errorf("fork prefills %q", fb.prefills)
	}
}

func TestErrorsStopTheProgram(t *testing.T) {
	boom := errors.New("server down")
	fb := &fakeBackend{answer: func(*ir.GenRequest) (string, error) { return "", boom }}
	st, err := Function(func(s *State, _ int) {
		s.Add(Gen("a"), Gen("b"))
		s.Add(42)
	}).Run(context.Background(), 0, WithBackend(fb))
	if !errors.Is(err, boom) || !errors.Is(st.Err(), boom) {
		t.Fatalf("err = %v", err)
	}
	if n := len(fb.requests()); n != 1 {
		t.Errorf("%d requests after the failure, want 1", n)
	}
	_, err = Function(func(s *State, _ int) { s.Add(3.5) }).Run(context.Background(), 0, WithBackend(fb))
	if !errors.Is(err, ir.ErrInvalid) {
		t.Errorf("bad item: %v", err)
	}
	_, err = Function(func(s *State, _ int) { panic("bug") }).Run(context.Background(), 0, WithBackend(fb))
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("panic: %v", err)
	}
	_, err = Function(func(s *State, _ int) { s.UserBegin().AssistantBegin() }).Run(context.Background(), 0, WithBackend(fb))
	if !errors.Is(err, ir.ErrInvalid) {
		t.Errorf("nested roles: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Function(func(s *State, _ int) { s.Add(Gen("a")) }).Run(ctx, 0, WithBackend(&fakeBackend{answer: constant("x")}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Function(func(s *State, _ int) {}).Run(context.Background(), 0); !errors.Is(err, ErrNoBackend) && DefaultBackend() == nil {
		t.Errorf("no backend: %v", err)
	}
}

func TestImage(t *testing.T) {
	fb := &fakeBackend{tmpl: mustTemplate("chatml"), answer: constant("a cat")}
	st, err := Function(func(s *State, _ int) {
		s.User(Image([]byte("img1")), Image("data:image/png;base64,aW1nMg=="), "What is it?")
		s.Assistant(Gen("a"))
	}).Run(context.Background(), 0, WithBackend(fb))
	if err != nil {
		t.Fatal(err)
	}
	r := fb.requests()[0]
	if len(r.Prompt.Images) != 2 || r.Prompt.Images[0].Base64 != "aW1nMQ==" || r.Prompt.Images[1].Base64 != "aW1nMg==" {
		t.Errorf("images %+v", r.Prompt.Images)
	}
	if !strings.Contains(st.Text(), "<image><image>What is it?") {
		t.Errorf("text %q", st.Text())
	}
	parts, ok := st.Messages()[0].Content.([]ir.Part)
	// As in SGLang, the message text is the role's text, image tokens included.
	if !ok || len(parts) != 3 || parts[0].Text != "<image><image>What is it?" || parts[2].ImageURL.URL != "data:image/jpeg;base64,aW1nMg==" {
		t.Errorf("message %+v", st.Messages()[0])
	}
	_, err = Function(func(s *State, _ int) { s.Add(Image([]byte("x"))) }).Run(context.Background(), 0, WithBackend(&plainBackend{fb}))
	if !errors.Is(err, ir.ErrUnsupported) {
		t.Errorf("image on plain backend: %v", err)
	}
	_, err = Function(func(s *State, _ int) { s.Add(Image("/no/such/file.png")) }).Run(context.Background(), 0, WithBackend(fb))
	if err == nil {
		t.Error("missing image file: no error")
	}
}

func TestStream(t *testing.T) {
	sf := &streamingFake{fakeBackend: &fakeBackend{answer: constant("hello")}, gate: make(chan struct{})}
	st, err := Function(func(s *State, _ int) { s.Add("Say: ", Gen("x"), "!") }).Run(context.Background(), 0, WithBackend(sf), Stream())
	if err != nil {
		t.Fatal(err)
	}
	next, stop := iter.Pull(st.TextIter(context.Background(), "x"))
	defer stop()
	for i := range 5 {
		sf.gate <- struct{}{}
		p, ok := next()
		if !ok || p != "hello"[i:i+1] {
			t.Fatalf("piece %d = %q, %v", i, p, ok)
		}
	}
	done := make(chan bool)
	go func() { _, ok := next(); done <- ok }()
	select {
	case ok := <-done:
		if ok {
			t.Error("TextIter yielded past the end")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("TextIter did not end")
	}
	if err := st.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for p := range st.TextIter(context.Background()) {
		all.WriteString(p)
	}
	if all.String() != "Say: hello!" || st.Get("x") != "hello" {
		t.Errorf("whole text %q, x=%q", all.String(), st.Get("x"))
	}
}

func TestRunBatch(t *testing.T) {
	long := strings.Repeat("You are a careful assistant. ", 4)
	fb := &fakeBackend{answer: func(r *ir.GenRequest) (string, error) {
		if strings.HasSuffix(r.Prompt.Text, "Q7 A:") {
			return "", errors.New("item failure")
		}
		return "ok", nil
	}}
	qs := make([]int, 20)
	for i := range qs {
		qs[i] = i
	}
	states, err := Function(func(s *State, q int) {
		s.Add(long, fmt.Sprintf("Q%d A:", q), Gen("a"))
	}).RunBatch(context.Background(), qs, WithBackend(fb), Concurrency(4), ProgressBar(false))
	var be *BatchError
	if !errors.As(err, &be) || len(be.Errs) != 1 || be.Errs[7] == nil {
		t.Fatalf("err = %v", err)
	}
	for i, s := range states {
		if i == 7 {
			if s.Err() == nil {
				t.Error("item 7 has no error")
			}
			continue
		}
		if s.Get("a") != "ok" || s.Text() != long+fmt.Sprintf("Q%d A:ok", i) {
			t.Errorf("item %d: %q", i, s.Text())
		}
	}
	// The shared prefix is cut where the items differ ("Q0" vs "Q1").
	if want := long + "Q"; !slices.Equal(fb.prefills, []string{want}) {
		t.Errorf("prefills %q, want one %q", fb.prefills, want)
	}
	fb.prefills = nil
	_, _ = Function(func(s *State, q int) { s.Add("short", Gen("a")) }).RunBatch(context.Background(), qs[:3], WithBackend(fb), ProgressBar(false))
	if len(fb.prefills) != 0 {
		t.Errorf("short prefix cached: %q", fb.prefills)
	}
}

func TestCommonPrefix(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"abc", "abd", "ab"}, {"", "x", ""}, {"same", "same", "same"}, {"héllo", "hèllo", "h"},
	}
	for _, tc := range tests {
		if got := commonPrefix(tc.a, tc.b); got != tc.want {
			t.Errorf("commonPrefix(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}

func BenchmarkRunGen(b *testing.B) {
	fb := &fakeBackend{tmpl: mustTemplate("chatml"), answer: constant("ok")}
	prog := Function(func(s *State, q string) {
		s.System("sys")
		s.User(q)
		s.Assistant(Gen("a", MaxTokens(8)))
	})
	for b.Loop() {
		if _, err := prog.Run(context.Background(), "q", WithBackend(fb)); err != nil {
			b.Fatal(err)
		}
		fb.gens = fb.gens[:0]
	}
}
