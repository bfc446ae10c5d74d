package chat

import (
	"errors"
	"strings"
	"testing"
)

func user(s string) Message      { return Message{Role: "user", Content: s} }
func assistant(s string) Message { return Message{Role: "assistant", Content: s} }
func system(s string) Message    { return Message{Role: "system", Content: s} }

// Expected strings are written by hand from SGLang's conversation.py
// separator styles (CHATML, LLAMA2, LLAMA3, ADD_NEW_LINE_SINGLE,
// ADD_COLON_TWO), not produced by this package.
func TestBuiltinRender(t *testing.T) {
	img := Message{Role: "user", Content: []Part{
		{Type: "image_url", ImageURL: &ImageURL{URL: "data:image/png;base64,AAAA"}},
		{Type: "text", Text: "What is this?"},
	}}
	multi := []Message{user("u1"), assistant("a1"), user("u2")}
	tests := []struct {
		name string
		tmpl string
		msgs []Message
		gen  bool
		want string
	}{
		{"chatml default system", "chatml", []Message{user("Hi")}, true,
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
		{"chatml system and turns", "chatml", append([]Message{system("S")}, multi...), true,
			"<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nu1<|im_end|>\n<|im_start|>assistant\na1<|im_end|>\n<|im_start|>user\nu2<|im_end|>\n<|im_start|>assistant\n"},
		{"chatml no generation prompt", "chatml", []Message{user("Hi"), assistant("Yo")}, false,
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n"},
		{"llama-2 no system", "llama-2", []Message{user("Hi")}, true, "[INST] Hi [/INST]"},
		{"llama-2 system", "llama-2", []Message{system("S"), user("Hi")}, true,
			"[INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST]"},
		{"llama-2 multi turn", "llama-2-chat", multi, true, "[INST] u1 [/INST] a1 </s><s>[INST] u2 [/INST]"},
		{"llama-3 strips and no default system", "llama-3", []Message{user("  Hi \n")}, true,
			"<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"llama-3 system", "llama-3-instruct", []Message{system("S"), user("Hi"), assistant("Yo")}, false,
			"<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nYo<|eot_id|>"},
		{"qwen2-vl image", "qwen2-vl", []Message{img}, true,
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What is this?<|im_end|>\n<|im_start|>assistant\n"},
		{"chatml image gets newline", "chatml", []Message{img}, false,
			"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n"},
		{"vicuna default system", "vicuna_v1.1", []Message{user("Hi")}, true, vicunaSystem + " USER: Hi ASSISTANT:"},
		{"vicuna multi turn", "vicuna_v1.1", append([]Message{system("S")}, multi...), true,
			"S USER: u1 ASSISTANT: a1</s>USER: u2 ASSISTANT:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := Builtin(tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if tm.Name() != tc.tmpl {
				t.Errorf("Name() = %q, want %q", tm.Name(), tc.tmpl)
			}
			got, err := tm.Render(tc.msgs, Options{AddGenerationPrompt: tc.gen})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBuiltinErrors(t *testing.T) {
	if _, err := Builtin("no-such-template"); !errors.Is(err, ErrUnknownBuiltin) {
		t.Errorf("unknown name: err = %v, want ErrUnknownBuiltin", err)
	}
	tm, err := Builtin("chatml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Render([]Message{user("Hi"), {Role: "tool", Content: "x"}}, Options{})
	if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "Unknown role: tool") {
		t.Errorf("tool role: err = %v, want ErrTemplate naming the role", err)
	}
	_, err = tm.Render([]Message{{Role: "assistant", Content: []Part{{Type: "text", Text: "a"}, {Type: "text", Text: "b"}}}}, Options{})
	if !errors.Is(err, ErrTemplate) {
		t.Errorf("multi-part assistant: err = %v, want ErrTemplate", err)
	}
}

func TestBuiltinRoles(t *testing.T) {
	tests := []struct {
		name, image, system, stop string
		user                      Affix
	}{
		{"chatml", "<image>", "", "<|im_end|>", Affix{"<|im_start|>user\n", "<|im_end|>\n"}},
		{"qwen2-vl", "<|vision_start|><|image_pad|><|vision_end|>", "You are a helpful assistant.", "<|im_end|>", Affix{"<|im_start|>user\n", "<|im_end|>\n"}},
		{"llama-3", "<|image|>", "", "<|eot_id|>", Affix{"<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>"}},
		{"vicuna_v1.1", " <image>\n", vicunaSystem, "", Affix{"USER:", " "}},
		{"llama-2", "<image>", "", "[INST]", Affix{"[INST] ", " [/INST]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := Builtin(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			rf, ok := tm.Roles()
			if !ok {
				t.Fatal("Roles() not ok for a built-in")
			}
			if rf.ImageToken != tc.image || rf.DefaultSystemPrompt != tc.system || rf.User != tc.user {
				t.Errorf("got image %q system %q user %+v", rf.ImageToken, rf.DefaultSystemPrompt, rf.User)
			}
			if tc.stop == "" && len(rf.StopStrings) != 0 || tc.stop != "" && (len(rf.StopStrings) == 0 || rf.StopStrings[0] != tc.stop) {
				t.Errorf("stop strings %q, want first %q", rf.StopStrings, tc.stop)
			}
		})
	}
	// Llama-2 style merges the leading system message into the first user turn.
	tm, _ := Builtin("llama-2")
	rf, _ := tm.Roles()
	if p, s := rf.Affix("system", nil, false); p != "[INST] <<SYS>>\n" || s != "\n<</SYS>>\n\n" {
		t.Errorf("llama-2 first system affix = %q, %q", p, s)
	}
	if p, s := rf.Affix("user", []string{"system"}, true); p != "" || s != " [/INST]" {
		t.Errorf("llama-2 user after system affix = %q, %q", p, s)
	}
	if p, _ := rf.Affix("user", []string{"system", "user", "assistant"}, true); p != "[INST] " {
		t.Errorf("llama-2 later user prefix = %q", p)
	}
	parsed, err := Parse("x", "{{ 1 }}")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parsed.Roles(); ok {
		t.Error("Roles() ok for a parsed template")
	}
}
