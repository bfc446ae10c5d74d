package chat

import (
	"os"
	"reflect"
	"testing"

	"github.com/sglang-go/sglang/internal/shared"
)

func TestContentFormat(t *testing.T) {
	tests := []struct {
		name, src string
		want      ContentFormat
	}{
		{"loop over m.content", "{% for m in messages %}{% for p in m.content %}{{ p.text }}{% endfor %}{% endfor %}", ContentOpenAI},
		{"loop over filtered message['content']", "{% for message in messages %}{% for p in message['content'] | selectattr('type', 'equalto', 'text') %}{% endfor %}{% endfor %}", ContentOpenAI},
		{"plain string use", "{% for message in messages %}{{ message['content'] | trim }}{% endfor %}", ContentString},
		{"loop over other content", "{% for x in tool.content %}{% endfor %}", ContentString},
		{"mentions image", "{% if add_generation_prompt %}<image>{% endif %}", ContentOpenAI},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm, err := Parse(tc.name, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := tm.ContentFormat(); got != tc.want {
				t.Errorf("ContentFormat() = %v, want %v", got, tc.want)
			}
		})
	}
	b, _ := Builtin("qwen2-vl")
	if b.ContentFormat() != ContentOpenAI {
		t.Error("built-ins flatten parts themselves and should report openai")
	}
}

func TestNormalizeContent(t *testing.T) {
	in := []Message{
		{Role: "user", Content: []Part{
			{Type: "text", Text: "Describe this:"},
			{Type: "image_url", ImageURL: &ImageURL{URL: "u"}},
			{Type: "text", Text: "a red apple."},
		}},
		assistant("ok"),
	}
	str := NormalizeContent(in, ContentString)
	if str[0].Content != "Describe this: a red apple." || str[1].Content != "ok" {
		t.Errorf("string format: %#v", str)
	}
	oa := NormalizeContent(in, ContentOpenAI)
	want := []Part{{Type: "text", Text: "Describe this:"}, {Type: "image"}, {Type: "text", Text: "a red apple."}}
	if !reflect.DeepEqual(oa[0].Content, want) {
		t.Errorf("openai format: %#v", oa[0].Content)
	}
	if in[0].Content.([]Part)[1].Type != "image_url" {
		t.Error("input modified")
	}
	// A string-format template that raises on list content renders the
	// flattened text (Qwen2.5's template, by hand).
	src, err := os.ReadFile(shared.Path(t, "chat-templates", "Qwen-Qwen2.5-7B-Instruct.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Parse("qwen2.5", string(src))
	if err != nil {
		t.Fatal(err)
	}
	if tm.ContentFormat() != ContentString {
		t.Fatalf("Qwen2.5 template format = %v, want string", tm.ContentFormat())
	}
	got, err := tm.Render(NormalizeContent(in[:1], tm.ContentFormat()), Options{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	wantOut := "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nDescribe this: a red apple.<|im_end|>\n<|im_start|>assistant\n"
	if got != wantOut {
		t.Errorf("got  %q\nwant %q", got, wantOut)
	}
}
