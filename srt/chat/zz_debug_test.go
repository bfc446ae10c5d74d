package chat

import "testing"

func TestZZDebug(t *testing.T) {
	src := `{%- set lm = messages[1:] %}{%- set um = lm | selectattr("role", "equalto", "user") | list %}{{ lm | length }}|{{ um | length }}|{{ um[-1].content }}|{% for m in lm %}{{ m == um[-1] }}{{ m.role }},{% endfor %}|{{ messages[1:] }}`
	tm, err := Parse("dbg", src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tm.Render([]Message{system("s"), user("hi"), assistant("a")}, Options{})
	t.Logf("out=%q err=%v", out, err)
}
