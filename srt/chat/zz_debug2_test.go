package chat

import "testing"

func TestZZBuiltins(t *testing.T) {
	for _, n := range BuiltinNames() {
		tm, err := Builtin(n)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tm.Render([]Message{{Role: "system", Content: "SYS"}, {Role: "user", Content: []Part{{Type: "text", Text: "look "}, {Type: "image_url", ImageURL: &ImageURL{URL: "x"}}}}, {Role: "assistant", Content: "A1"}, {Role: "user", Content: "U2"}}, Options{AddGenerationPrompt: true})
		t.Logf("%s: %q %v", n, out, err)
	}
}
