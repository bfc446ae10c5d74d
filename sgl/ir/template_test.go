package ir

import (
	"errors"
	"testing"
)

func TestTemplateNameForModel(t *testing.T) {
	tests := []struct{ path, want string }{
		{"meta-llama/Llama-2-7b-chat-hf", "llama-2-chat"},
		{"mistralai/Mistral-7B-Instruct-v0.2", "llama-2-chat"},
		{"meta-llama/Meta-Llama-3-8B-Instruct", "llama-3-instruct"},
		{"TinyLlama/TinyLlama-1.1B-Chat-v1.0", "chatml"},
		{"Qwen/Qwen2-VL-7B-Instruct", "qwen2-vl"},
		{"Qwen/Qwen2.5-0.5B-Instruct", "qwen"},
		{"lmsys/vicuna-7b-v1.5", "vicuna_v1.1"},
		{"gpt-4o-mini", "default"},
		{"/models/stories260K", "default"},
	}
	for _, tc := range tests {
		if got := TemplateNameForModel(tc.path); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.path, got, tc.want)
		}
		if _, err := LookupChatTemplate(tc.want); err != nil {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
	if _, err := LookupChatTemplate("nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown template: %v", err)
	}
}

func TestTemplateNameForJinja(t *testing.T) {
	tests := []struct{ src, want string }{
		{"{{ '<|im_start|>' + m.role }}", "chatml"},
		{"{{ '<|im_start|>system\nYou are a helpful assistant.' }}", "qwen"},
		{"<|start_header_id|>{{ role }}", "llama-3-instruct"},
		{"{{ bos_token + '[INST] ' + content }}", "llama-2-chat"},
		{"<start_of_turn>user", "gemma-it"},
		{"{{ messages }}", "default"},
	}
	for _, tc := range tests {
		if got := TemplateNameForJinja(tc.src); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.src, got, tc.want)
		}
	}
}

func TestAffix(t *testing.T) {
	l2, err := LookupChatTemplate("llama-2")
	if err != nil {
		t.Fatal(err)
	}
	sys := []Message{{Role: "system", Content: "s"}}
	tests := []struct {
		tmpl         *ChatTemplate
		role         string
		history      []Message
		prefix, suff string
	}{
		{l2, "system", nil, "[INST] <<SYS>>\n", "\n<</SYS>>\n\n"},
		{l2, "user", sys, "", " [/INST]"},
		{l2, "user", nil, "[INST] ", " [/INST]"},
		{l2, "assistant", sys, "", " </s><s>"},
		{DefaultTemplate(), "user", nil, "USER:", "\n"},
	}
	if len(l2.StopStrings) != 0 || l2.Name != "llama-2-chat" {
		t.Errorf("llama-2 frontend template: %+v", l2)
	}
	for _, tc := range tests {
		p, s := tc.tmpl.Affix(tc.role, tc.history)
		if p != tc.prefix || s != tc.suff {
			t.Errorf("%s %s: %q %q, want %q %q", tc.tmpl.Name, tc.role, p, s, tc.prefix, tc.suff)
		}
	}
}

func BenchmarkDecideGreedy(b *testing.B) {
	input := make([][]TokenLogprob, 8)
	for i := range input {
		for j := range 16 + i {
			input[i] = append(input[i], TokenLogprob{Logprob: -float64((i*7+j*3)%11) / 10})
		}
	}
	choices := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for b.Loop() {
		if _, err := Decide(GreedyTokenSelection, choices, &ChoiceLogprobs{Input: input}); err != nil {
			b.Fatal(err)
		}
	}
}
