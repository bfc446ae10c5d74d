package chat

import (
	"fmt"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func tenTurns() []Message {
	msgs := []Message{system("You are a helpful assistant.")}
	for i := range 10 {
		msgs = append(msgs, user(fmt.Sprintf("Question number %d: what is %d + %d?", i, i, i)))
		msgs = append(msgs, assistant(fmt.Sprintf("The answer is %d.", 2*i)))
	}
	return append(msgs, user("Thanks, one more question."))
}

// BenchmarkRenderQwen renders a 10-turn conversation with the Qwen3 chat
// template (parsed once).
func BenchmarkRenderQwen(b *testing.B) {
	dir := shared.Path(b, "tokenizers", "qwen3")
	tm, err := FromModelDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	msgs := tenTurns()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Render(msgs, Options{AddGenerationPrompt: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderChatML(b *testing.B) {
	tm, err := Builtin("chatml")
	if err != nil {
		b.Fatal(err)
	}
	msgs := tenTurns()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Render(msgs, Options{AddGenerationPrompt: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseQwen(b *testing.B) {
	src := shared.Path(b, "chat-templates", "Qwen-Qwen3-0.6B.jinja")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromFile(src); err != nil {
			b.Fatal(err)
		}
	}
}
