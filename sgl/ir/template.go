package ir

import (
	"fmt"
	"strings"

	"github.com/sglang-go/sglang/srt/chat"
)

// Affix is the text written before and after one role's message.
type Affix struct {
	Prefix, Suffix string
}

// ChatTemplate is a frontend role format (SGLang's lang/chat_template.py):
// the prefix and suffix of each role, the default system prompt inserted
// before the first non-system role, the stop strings added to every gen, and
// the image token.
type ChatTemplate struct {
	Name                    string
	System, User, Assistant Affix
	DefaultSystemPrompt     string
	StopStrings             []string
	ImageToken              string
	// Llama2Style merges a leading system message into the first [INST].
	Llama2Style bool
}

// Affix returns the prefix and suffix of role given the messages already in
// the prompt.
func (t *ChatTemplate) Affix(role string, history []Message) (prefix, suffix string) {
	var a Affix
	switch role {
	case "system":
		a = t.System
	case "user":
		a = t.User
	case "assistant":
		a = t.Assistant
	}
	if t.Llama2Style {
		switch {
		case role == "system" && len(history) == 0:
			return t.User.Prefix + t.System.Prefix, t.System.Suffix
		case role == "user" && len(history) == 1 && history[0].Content != nil:
			return "", a.Suffix
		}
	}
	return a.Prefix, a.Suffix
}

// DefaultTemplate is SGLang's "default" frontend template (role tags and
// newlines, no system prompt, no stop strings).
func DefaultTemplate() *ChatTemplate {
	return &ChatTemplate{Name: "default", System: Affix{"SYSTEM:", "\n"}, User: Affix{"USER:", "\n"},
		Assistant: Affix{"ASSISTANT:", "\n"}}
}

// LookupChatTemplate returns a named template: "default", "qwen" (ChatML
// with Qwen's default system prompt) or a built-in of package srt/chat
// (chatml, llama-2, llama-2-chat, llama-3, llama-3-instruct, qwen2-vl,
// vicuna_v1.1).
func LookupChatTemplate(name string) (*ChatTemplate, error) {
	switch name {
	case "default", "":
		return DefaultTemplate(), nil
	case "qwen":
		t, err := LookupChatTemplate("chatml")
		if err != nil {
			return nil, err
		}
		t.Name, t.DefaultSystemPrompt = "qwen", "You are a helpful assistant."
		return t, nil
	}
	b, err := chat.Builtin(name)
	if err != nil {
		return nil, fmt.Errorf("%w: chat template %q: %w", ErrInvalid, name, err)
	}
	rf, ok := b.Roles()
	if !ok {
		return nil, fmt.Errorf("%w: chat template %q has no role format", ErrInvalid, name)
	}
	return &ChatTemplate{
		Name:                name,
		System:              Affix(rf.System),
		User:                Affix(rf.User),
		Assistant:           Affix(rf.Assistant),
		DefaultSystemPrompt: rf.DefaultSystemPrompt,
		StopStrings:         rf.StopStrings,
		ImageToken:          rf.ImageToken,
		Llama2Style:         rf.Llama2Style,
	}, nil
}

// TemplateNameForModel guesses the template from a model path or name the
// way SGLang's get_chat_template_by_model_path does; "default" when nothing
// matches.
func TemplateNameForModel(path string) string {
	p := strings.ToLower(path)
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(p, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("llama-2") && has("chat"):
		return "llama-2"
	case has("llama-3") && has("instruct"):
		return "llama-3"
	case has("qwen") && has("vl"):
		return "qwen2-vl"
	case has("qwen") && has("chat", "instruct"):
		return "qwen"
	case has("vicuna", "llava-v1.5", "llava-llama-2"):
		return "vicuna_v1.1"
	case has("tinyllama", "gpt-3.5", "gpt-4", "gpt-5"):
		return "chatml"
	}
	return "default"
}

// ChatTemplateForModel is LookupChatTemplate(TemplateNameForModel(path)),
// falling back to the default template.
func ChatTemplateForModel(path string) *ChatTemplate {
	t, err := LookupChatTemplate(TemplateNameForModel(path))
	if err != nil {
		return DefaultTemplate()
	}
	return t
}
