package ir

import (
	"fmt"
	"sort"
	"strings"
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
	t, _ := LookupChatTemplate("default")
	return t
}

func imStart(role string) Affix { return Affix{"<|im_start|>" + role + "\n", "<|im_end|>\n"} }

func header(start, end, eot, role string) Affix { return Affix{start + role + end + "\n\n", eot} }

// frontendTemplates mirrors SGLang's python/sglang/lang/chat_template.py
// registry (the frontend's role formats, which differ from the server-side
// Jinja templates of package srt/chat: e.g. llama-2-chat has no stop
// strings here).
func frontendTemplates() map[string]ChatTemplate {
	const qwenSystem = "You are a helpful assistant."
	chatml := ChatTemplate{System: imStart("system"), User: imStart("user"), Assistant: imStart("assistant"),
		StopStrings: []string{"<|im_end|>"}, ImageToken: "<image>"}
	l3 := func(role string) Affix { return header("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", role) }
	l4 := func(role string) Affix { return header("<|header_start|>", "<|header_end|>", "<|eot|>", role) }
	with := func(t ChatTemplate, f func(*ChatTemplate)) ChatTemplate { f(&t); return t }
	return map[string]ChatTemplate{
		"default": {System: Affix{"SYSTEM:", "\n"}, User: Affix{"USER:", "\n"}, Assistant: Affix{"ASSISTANT:", "\n"},
			ImageToken: "<image>"},
		"claude": {User: Affix{"\n\nHuman: ", ""}, Assistant: Affix{"\n\nAssistant:", ""}, ImageToken: "<image>"},
		"chatml": chatml,
		"chatml-llava": with(chatml, func(t *ChatTemplate) {
			t.DefaultSystemPrompt, t.ImageToken = qwenSystem, "<image>\n"
		}),
		"qwen": with(chatml, func(t *ChatTemplate) { t.DefaultSystemPrompt = qwenSystem }),
		"qwen2-vl": with(chatml, func(t *ChatTemplate) {
			t.DefaultSystemPrompt, t.ImageToken = qwenSystem, "<|vision_start|><|image_pad|><|vision_end|>"
		}),
		"vicuna_v1.1": {System: Affix{"", " "}, User: Affix{"USER:", " "}, Assistant: Affix{"ASSISTANT:", "</s>"},
			DefaultSystemPrompt: "A chat between a curious user and an artificial intelligence assistant. " +
				"The assistant gives helpful, detailed, and polite answers to the user's questions.",
			ImageToken: " <image>\n"},
		"llama-2-chat": {System: Affix{"<<SYS>>\n", "\n<</SYS>>\n\n"}, User: Affix{"[INST] ", " [/INST]"},
			Assistant: Affix{"", " </s><s>"}, Llama2Style: true, ImageToken: "<image>"},
		"llama-3-instruct": {System: l3("system"), User: l3("user"), Assistant: l3("assistant"),
			StopStrings: []string{"<|eot_id|>"}, ImageToken: "<|image|>"},
		"llama-3-instruct-llava": {System: l3("system"), User: l3("user"), Assistant: l3("assistant"),
			StopStrings: []string{"<|eot_id|>"}, ImageToken: "<image>\n"},
		"llama-4": {System: l4("system"), User: l4("user"), Assistant: l4("assistant"),
			StopStrings: []string{"<|eot|>"}, ImageToken: "<|image|>"},
		"yi-1.5": {User: Affix{"<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n"},
			Assistant: Affix{"", "<|im_end|>\n"}, StopStrings: []string{"<|im_end|>"}, ImageToken: "<image>"},
		"gemma-it": {User: Affix{"<start_of_turn>user\n", "<end_of_turn>\n"},
			Assistant: Affix{"<start_of_turn>model\n", "<end_of_turn>\n"}, ImageToken: "<image>"},
		"deepseek-v3": {User: Affix{"<｜User｜>", ""}, Assistant: Affix{"<｜Assistant｜>", "<｜end▁of▁sentence｜>"},
			StopStrings: []string{"<｜end▁of▁sentence｜>"}, ImageToken: "<image>"},
		"c4ai-command-r": {System: Affix{"<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>"},
			User:       Affix{"<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>"},
			Assistant:  Affix{"<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>"},
			ImageToken: "<image>"},
		"granite-3-instruct": {System: Affix{"<|start_of_role|>system<|end_of_role|>", "<|end_of_text|>"},
			User:        Affix{"<|start_of_role|>user<|end_of_role|>", "<|end_of_text|>"},
			Assistant:   Affix{"<|start_of_role|>assistant<|end_of_role|>", "<|end_of_text|>"},
			StopStrings: []string{"<|end_of_text|>"}, ImageToken: "<image>"},
	}
}

var templateAliases = map[string]string{"llama-2": "llama-2-chat", "llama-3": "llama-3-instruct", "": "default"}

// TemplateNames lists the names LookupChatTemplate accepts, sorted.
func TemplateNames() []string {
	var names []string
	for n := range frontendTemplates() {
		names = append(names, n)
	}
	for n := range templateAliases {
		if n != "" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// LookupChatTemplate returns a frontend template by SGLang name (aliases:
// llama-2, llama-3).
func LookupChatTemplate(name string) (*ChatTemplate, error) {
	canon := name
	if a, ok := templateAliases[name]; ok {
		canon = a
	}
	t, ok := frontendTemplates()[canon]
	if !ok {
		return nil, fmt.Errorf("%w: chat template %q (known: %s)", ErrInvalid, name, strings.Join(TemplateNames(), ", "))
	}
	t.Name = canon
	return &t, nil
}

// TemplateNameForModel guesses the template from a model path or name with
// the matchers of SGLang's get_chat_template_by_model_path; "default" when
// nothing matches (as for OpenAI model names).
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
	case has("deepseek-v3", "deepseek-r1") && !has("base"):
		return "deepseek-v3"
	case has("vicuna", "llava-v1.5", "llava-next-video-7b"):
		return "vicuna_v1.1"
	case has("llama-2") && has("chat"),
		has("mistral", "mixtral") && has("instruct"),
		has("codellama") && has("instruct"):
		return "llama-2-chat"
	case has("llama-3") && has("instruct"):
		return "llama-3-instruct"
	case has("tinyllama"):
		return "chatml"
	case has("qwen") && has("vl"):
		return "qwen2-vl"
	case has("qwen") && has("chat", "instruct") && !has("llava"):
		return "qwen"
	case has("llava-v1.6-34b", "llava-v1.6-yi-34b", "llava-next-video-34b", "llava-onevision-qwen2"):
		return "chatml-llava"
	case has("yi-1.5") && has("chat"):
		return "yi-1.5"
	case has("gemma") && has("it"):
		return "gemma-it"
	case has("c4ai-command-r"):
		return "c4ai-command-r"
	case has("granite") && has("instruct"):
		return "granite-3-instruct"
	case has("gemma-3") && !has("1b"):
		return "gemma-it"
	}
	return "default"
}

// TemplateNameForJinja guesses the frontend template from a model's Jinja
// chat template (tokenizer_config.json's chat_template) by its role markers;
// "default" when none is recognised.
func TemplateNameForJinja(src string) string {
	switch {
	case strings.Contains(src, "<|vision_start|>") && strings.Contains(src, "<|im_start|>"):
		return "qwen2-vl"
	case strings.Contains(src, "<|im_start|>") && strings.Contains(src, "You are a helpful assistant"):
		return "qwen"
	case strings.Contains(src, "<|im_start|>"):
		return "chatml"
	case strings.Contains(src, "<|start_header_id|>"):
		return "llama-3-instruct"
	case strings.Contains(src, "<|header_start|>"):
		return "llama-4"
	case strings.Contains(src, "[INST]"):
		return "llama-2-chat"
	case strings.Contains(src, "<start_of_turn>"):
		return "gemma-it"
	}
	return "default"
}

// ChatTemplateForModel is LookupChatTemplate(TemplateNameForModel(path)).
func ChatTemplateForModel(path string) *ChatTemplate {
	t, err := LookupChatTemplate(TemplateNameForModel(path))
	if err != nil {
		return DefaultTemplate()
	}
	return t
}
