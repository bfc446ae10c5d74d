package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNoTemplate: a model folder or tokenizer config has no chat template.
	ErrNoTemplate = errors.New("chat: no chat template")
	// ErrParse: the template source does not compile.
	ErrParse = errors.New("chat: template parse error")
	// ErrRender: executing the template failed (bad types, undefined
	// methods, exceptions raised by the template, ...).
	ErrRender = errors.New("chat: template render error")
	// ErrTemplate: the template called raise_exception; it also wraps ErrRender.
	ErrTemplate = errors.New("chat: template raised an exception")
	// ErrUnknownBuiltin: Builtin was given a name it does not know.
	ErrUnknownBuiltin = errors.New("chat: unknown built-in template")
	// ErrBadInput: a message or option cannot be converted for the template.
	ErrBadInput = errors.New("chat: bad input")
)

// ImageURL is the image_url member of an OpenAI content part.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// Part is one OpenAI content part: {"type":"text","text":...} or
// {"type":"image_url","image_url":{"url":...}}. Other types pass through
// with only their type.
type Part struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// Message is one chat message as templates see it. Content is a string,
// []Part, or nil. ToolCalls elements may be json.RawMessage (key order is
// kept), map[string]any (keys sorted, Go maps have no order) or any value
// encoding/json can marshal (struct field order is kept). Extra holds any
// further fields (e.g. "reasoning_content"), added after the fixed ones.
type Message struct {
	Role       string
	Content    any
	Name       string
	ToolCalls  []any
	ToolCallID string
	Extra      map[string]any
}

// Options are the variables given to a template besides messages.
type Options struct {
	// AddGenerationPrompt asks the template to end with the assistant
	// header so the model answers.
	AddGenerationPrompt bool
	// Tools are the OpenAI tool definitions (same element rules as
	// Message.ToolCalls); nil passes tools=None as transformers does.
	Tools []any
	// BOS and EOS become bos_token and eos_token.
	BOS, EOS string
	// Extra are chat_template_kwargs (e.g. enable_thinking); they may
	// not override messages, tools or add_generation_prompt.
	Extra map[string]any
	// Now is the time strftime_now formats; zero means time.Now().
	Now time.Time
}

// Template is a compiled chat template.
type Template struct {
	name    string
	source  string
	tmpl    *exec.Template
	env     *exec.Environment
	roles   *RoleFormat
	builtin bool
	// variants are the named templates of a tokenizer_config.json list;
	// tokens are special-token defaults from tokenizer_config.json.
	variants map[string]*Template
	tokens   map[string]string
	// contentLoop: some for loop iterates a message's content.
	contentLoop bool
}

// Name returns the template's name (the Parse name, the built-in name, or
// the file it came from).
func (t *Template) Name() string { return t.name }

// Source returns the Jinja source of the template.
func (t *Template) Source() string { return t.source }

// Parse compiles a Jinja chat template. Syntax errors wrap ErrParse and
// carry the line and column gonja reports.
func Parse(name, source string) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("%w: %s: engine panic: %v", ErrParse, name, r)
		}
	}()
	if err := checkLexHazards(source); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrParse, name, err)
	}
	env := newEnvironment()
	loader, err := loaders.NewMemoryLoader(map[string]string{rootID: rewriteTernaries(source)})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrParse, name, err)
	}
	tmpl, err := exec.NewTemplate(rootID, jinjaConfig(), loader, env)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrParse, name, cleanParseError(err))
	}
	contentLoop := wrapOutputs(tmpl.Root())
	return &Template{name: name, source: source, tmpl: tmpl, env: env, contentLoop: contentLoop}, nil
}

const rootID = "/chat_template"

// cleanParseError drops the template source gonja embeds in its parse
// errors, keeping the position information.
func cleanParseError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "': "); i >= 0 && strings.HasPrefix(msg, "failed to parse template '") {
		return msg[i+3:]
	}
	return msg
}

// Render renders msgs with the template.
func (t *Template) Render(msgs []Message, o Options) (out string, err error) {
	if t == nil {
		return "", fmt.Errorf("%w: nil template", ErrBadInput)
	}
	use, err := t.pick(&o)
	if err != nil {
		return "", err
	}
	data, err := use.variables(msgs, o)
	if err != nil {
		return "", err
	}
	return use.execute(data, o.Now)
}

// variables builds the render context the way transformers does.
func (t *Template) variables(msgs []Message, o Options) (map[string]any, error) {
	ms := make(pyList, len(msgs))
	for i := range msgs {
		d, err := messageValue(&msgs[i])
		if err != nil {
			return nil, fmt.Errorf("%w: message %d: %w", ErrBadInput, i, err)
		}
		ms[i] = d
	}
	data := make(map[string]any, 8+len(o.Extra)+len(t.tokens))
	for k, v := range t.tokens {
		data[k] = v
	}
	for k, v := range o.Extra {
		cv, err := toTemplateValue(v, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: chat_template_kwargs %q: %w", ErrBadInput, k, err)
		}
		data[k] = cv
	}
	var tools any = pyNone
	if o.Tools != nil {
		tl := make(pyList, len(o.Tools))
		for i, tool := range o.Tools {
			cv, err := toTemplateValue(tool, 0)
			if err != nil {
				return nil, fmt.Errorf("%w: tool %d: %w", ErrBadInput, i, err)
			}
			tl[i] = cv
		}
		tools = tl
	}
	data["messages"] = ms
	data["tools"] = tools
	data["documents"] = pyNone
	data["add_generation_prompt"] = o.AddGenerationPrompt
	if o.BOS != "" {
		data["bos_token"] = o.BOS
	} else if _, ok := data["bos_token"]; !ok {
		data["bos_token"] = ""
	}
	if o.EOS != "" {
		data["eos_token"] = o.EOS
	} else if _, ok := data["eos_token"]; !ok {
		data["eos_token"] = ""
	}
	return data, nil
}

func (t *Template) execute(data map[string]any, now time.Time) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("%w: %s: engine panic: %v", ErrRender, t.name, r)
		}
	}()
	if now.IsZero() {
		now = time.Now()
	}
	st := &renderState{now: now}
	g := &guardState{}
	ctx := exec.NewContext(data)
	ctx.Set("strftime_now", st.strftimeNow)
	ctx.Set("raise_exception", st.raiseException)
	ctx.Set(stateVar, g)
	ctx.Set(enterMacro, g.enter)
	ctx.Set(leaveMacro, g.leave)
	var sb strings.Builder
	sb.Grow(len(t.source))
	r := exec.NewRenderer(&exec.Environment{
		Filters:           t.env.Filters,
		Tests:             t.env.Tests,
		ControlStructures: t.env.ControlStructures,
		Methods:           t.env.Methods,
		Context:           t.env.Context.Inherit().Update(ctx),
	}, &sb, jinjaConfig(), nil, t.tmpl)
	if err := r.Execute(); err != nil {
		if g.err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrRender, t.name, g.err)
		}
		if st.raised != nil {
			return "", fmt.Errorf("%w: %w: %s: %s", ErrRender, ErrTemplate, t.name, *st.raised)
		}
		return "", fmt.Errorf("%w: %s: %w", ErrRender, t.name, err)
	}
	if st.raised != nil {
		return "", fmt.Errorf("%w: %w: %s: %s", ErrRender, ErrTemplate, t.name, *st.raised)
	}
	out = sb.String()
	if strings.Contains(out, listConcatMarker) {
		return "", fmt.Errorf("%w: %s: TypeError: can only concatenate str (not \"list\") to str", ErrRender, t.name)
	}
	return out, nil
}

// renderState is the per-render mutable state of the global functions.
type renderState struct {
	now    time.Time
	raised *string
}

func (s *renderState) strftimeNow(va *exec.VarArgs) (any, error) {
	if len(va.Args) != 1 || !va.Args[0].IsString() {
		return nil, errors.New("strftime_now() takes one string argument")
	}
	return strftime(s.now, va.Args[0].String()), nil
}

func (s *renderState) raiseException(va *exec.VarArgs) (any, error) {
	m := ""
	if len(va.Args) > 0 {
		m = va.Args[0].String()
	}
	s.raised = &m
	return nil, fmt.Errorf("%w: %s", ErrTemplate, m)
}
