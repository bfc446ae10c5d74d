package chat

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary template sources to Parse and, when they
// compile, renders a small conversation: neither may panic, and a failure
// must be one of the package's errors.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"{{ messages[0].content }}",
		"{% for m in messages %}{{ m.role ~ ': ' + m.content | trim }}\n{% endfor %}",
		"{% if add_generation_prompt %}{{ (a if b else c) | upper }}{% endif %}",
		"{% set ns = namespace(x=none) %}{{ ns.x is none }}{{ tools | tojson(indent=2) }}",
		"{% macro f(x) %}{{ x * 2 }}{% endmacro %}{{ f(3) }}{{ raise_exception('e') }}",
		"{{ 'a' + [1] }}{{ {'k': 1}.items() | list }}{{ x[::-1] }}",
		"{% generation %}{{ strftime_now('%Y') }}{% endgeneration %}",
		"{{ (x|trim).split(',')[-1].strip() }}{% raw %}{{ raw }}{% endraw %}",
		"{{ \"unterminated",
		"{% for %}",
	} {
		f.Add(seed)
	}
	msgs := []Message{system("s"), user("u"), assistant("a")}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		tm, err := Parse("fuzz", src)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("Parse error %v does not wrap ErrParse", err)
			}
			return
		}
		_, err = tm.Render(msgs, Options{AddGenerationPrompt: true, Tools: []any{map[string]any{"type": "function"}}})
		if err != nil && !errors.Is(err, ErrRender) && !errors.Is(err, ErrBadInput) && !errors.Is(err, ErrNoTemplate) {
			t.Fatalf("Render error %v wraps none of the package errors", err)
		}
	})
}

// FuzzRewrite checks the conditional-expression rewrite never loses or
// invents text outside {{ }} / {% %} tags.
func FuzzRewrite(f *testing.F) {
	f.Add("a{{ (x if y else z) }}b")
	f.Add("{# c #}{% set a = [1 if b else 2] %}")
	f.Add("plain text with if and else")
	f.Fuzz(func(t *testing.T, src string) {
		out := rewriteTernaries(src)
		if !containsTemplateTags(src) && out != src {
			t.Fatalf("rewrote tag-free source %q into %q", src, out)
		}
	})
}

func containsTemplateTags(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && (s[i+1] == '{' || s[i+1] == '%' || s[i+1] == '#') {
			return true
		}
	}
	return false
}
