package chat

import (
	"fmt"
	"sort"
	"strings"
)

// Affix is the text written before and after one role's message.
type Affix struct {
	Prefix, Suffix string
}

// RoleFormat is the metadata the sgl frontend needs to build prompts for a
// built-in template itself (System/User/Assistant begin and end), mirroring
// SGLang's frontend chat templates.
type RoleFormat struct {
	System, User, Assistant Affix
	// DefaultSystemPrompt is inserted before the first non-system role
	// when the program gave none; empty when the template has none.
	DefaultSystemPrompt string
	// StopStrings end generation for this template's assistant turns.
	StopStrings []string
	// ImageToken is what image() appends to the prompt.
	ImageToken string
	// Llama2Style merges a leading system message into the first user
	// turn, as Llama-2 chat does.
	Llama2Style bool
}

// Affix returns the role's prefix and suffix. history is the roles of the
// messages already in the prompt and firstHasContent whether the first of
// them had content; they matter only for Llama2Style templates.
func (r *RoleFormat) Affix(role string, history []string, firstHasContent bool) (prefix, suffix string) {
	var a Affix
	switch role {
	case "system":
		a = r.System
	case "user":
		a = r.User
	case "assistant":
		a = r.Assistant
	}
	if r.Llama2Style {
		switch {
		case role == "system" && len(history) == 0:
			return r.User.Prefix + r.System.Prefix, r.System.Suffix
		case role == "user" && len(history) == 1 && firstHasContent:
			return "", a.Suffix
		}
	}
	return a.Prefix, a.Suffix
}

// Roles returns the frontend role metadata of a built-in template; ok is
// false for templates that did not come from Builtin.
func (t *Template) Roles() (RoleFormat, bool) {
	if t == nil || t.roles == nil {
		return RoleFormat{}, false
	}
	rf := *t.roles
	rf.StopStrings = append([]string(nil), rf.StopStrings...)
	return rf, true
}

// builtinDef is one built-in: the server-side prompt format (as Jinja) and
// the frontend metadata.
type builtinDef struct {
	source string
	roles  RoleFormat
}

// BuiltinNames lists the names Builtin accepts, sorted.
func BuiltinNames() []string {
	defs := builtinDefs()
	names := make([]string, 0, len(defs)+len(builtinAliases))
	for n := range defs {
		names = append(names, n)
	}
	for n := range builtinAliases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var builtinAliases = map[string]string{
	"llama-2-chat":     "llama-2",
	"llama-3-instruct": "llama-3",
}

// Builtin returns a built-in template by name (for --chat-template NAME):
// chatml, llama-2 (alias llama-2-chat), llama-3 (alias llama-3-instruct),
// qwen2-vl and vicuna_v1.1. Their renderings follow SGLang's server-side
// conversation templates: the last system message becomes the system
// prompt (or the template's default), user content parts become text with
// image parts replaced by the image token, and an unknown role is an error.
func Builtin(name string) (*Template, error) {
	canon := name
	if a, ok := builtinAliases[name]; ok {
		canon = a
	}
	def, ok := builtinDefs()[canon]
	if !ok {
		return nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownBuiltin, name, strings.Join(BuiltinNames(), ", "))
	}
	t, err := Parse(name, def.source)
	if err != nil {
		return nil, fmt.Errorf("chat: built-in %q: %w", name, err)
	}
	rf := def.roles
	t.roles = &rf
	t.builtin = true
	return t, nil
}

// builtinPrelude defines, for every built-in, the system prompt (ns.system,
// ns.has_system) and the macro that flattens a message's content the way
// SGLang's generate_chat_conv does. IMAGE is replaced per template.
const builtinPrelude = `{%- macro flat(m) -%}
{%- if m.content is string -%}{{ m.content }}
{%- elif m.content is none -%}
{%- elif m.role == 'user' -%}
{%- for p in m.content -%}
{%- if p.type == 'text' -%}{{ p.text }}{%- elif p.type == 'image_url' -%}{{ IMAGE }}{%- endif -%}
{%- endfor -%}
{%- elif m.content | length == 1 and m.content[0].type == 'text' -%}{{ m.content[0].text }}
{%- else -%}{{ raise_exception('The ' ~ m.role ~ ' message should be a single text.') }}
{%- endif -%}
{%- endmacro -%}
{%- set ns = namespace(system=DEFAULT) -%}
{%- for m in messages -%}
{%- if m.role == 'system' -%}{%- set ns.system = flat(m) -%}
{%- elif m.role != 'user' and m.role != 'assistant' -%}{{ raise_exception('Unknown role: ' ~ m.role) }}
{%- endif -%}
{%- endfor -%}
{%- set turns = messages | rejectattr('role', 'equalto', 'system') | list -%}
`

func prelude(defaultSystem, image string) string {
	q := func(s string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
	}
	p := strings.ReplaceAll(builtinPrelude, "IMAGE", q(image))
	return strings.ReplaceAll(p, "DEFAULT", q(defaultSystem))
}

func builtinDefs() map[string]builtinDef {
	imStart := func(role string) Affix { return Affix{"<|im_start|>" + role + "\n", "<|im_end|>\n"} }
	llama3 := func(role string) Affix {
		return Affix{"<|start_header_id|>" + role + "<|end_header_id|>\n\n", "<|eot_id|>"}
	}
	return map[string]builtinDef{
		// SGLang "chatml": CHATML separator style, default system prompt.
		"chatml": {
			source: prelude("You are a helpful assistant.", "<image>\n") +
				`{{- '<|im_start|>system\n' + ns.system + '<|im_end|>\n' -}}
{%- for m in turns -%}
{%- set c = flat(m) -%}
{%- if c -%}{{ '<|im_start|>' + m.role + '\n' + c + '<|im_end|>\n' }}{%- else -%}{{ '<|im_start|>' + m.role + '\n' }}{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\n' }}{%- endif -%}`,
			roles: RoleFormat{System: imStart("system"), User: imStart("user"), Assistant: imStart("assistant"),
				StopStrings: []string{"<|im_end|>"}, ImageToken: "<image>"},
		},
		// SGLang "llama-2": LLAMA2 separator style; turn tags alternate
		// by position, the first turn goes inside the opening [INST].
		"llama-2": {
			source: prelude("", "<image>\n") +
				`{%- if ns.system -%}{{ '[INST] <<SYS>>\n' + ns.system + '\n<</SYS>>\n\n' }}{%- else -%}{{ '[INST] ' }}{%- endif -%}
{%- for m in turns -%}
{%- set c = flat(m) -%}
{%- set tag = '[INST]' if loop.index0 is even else '[/INST]' -%}
{%- set sep = ' ' if loop.index0 is even else ' </s><s>' -%}
{%- if not c -%}{{ tag }}{%- elif loop.first -%}{{ c + ' ' }}{%- else -%}{{ tag + ' ' + c + sep }}{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ '[INST]' if turns | length is even else '[/INST]' }}{%- endif -%}`,
			roles: RoleFormat{System: Affix{"<<SYS>>\n", "\n<</SYS>>\n\n"}, User: Affix{"[INST] ", " [/INST]"},
				Assistant: Affix{"", " </s><s>"}, Llama2Style: true, ImageToken: "<image>",
				StopStrings: []string{"[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"}},
		},
		// Llama-3 instruct, in SGLang's LLAMA3 separator style (messages
		// stripped, no BOS: the tokenizer adds it).
		"llama-3": {
			source: prelude("", "<|image|>\n") +
				`{%- if ns.system -%}{{ '<|start_header_id|>system<|end_header_id|>\n\n' + ns.system + '<|eot_id|>' }}{%- endif -%}
{%- for m in turns -%}
{%- set c = flat(m) -%}
{{- '<|start_header_id|>' + m.role + '<|end_header_id|>\n\n' -}}
{%- if c -%}{{ c | trim }}{{ '<|eot_id|>' }}{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif -%}`,
			roles: RoleFormat{System: llama3("system"), User: llama3("user"), Assistant: llama3("assistant"),
				StopStrings: []string{"<|eot_id|>"}, ImageToken: "<|image|>"},
		},
		// SGLang "qwen2-vl": ADD_NEW_LINE_SINGLE style, images become the
		// vision placeholder with no newline.
		"qwen2-vl": {
			source: prelude("You are a helpful assistant.", "<|vision_start|><|image_pad|><|vision_end|>") +
				`{{- '<|im_start|>system\n' + ns.system + '<|im_end|>\n' -}}
{%- for m in turns -%}
{%- set c = flat(m) -%}
{{- '<|im_start|>' + m.role + '\n' -}}
{%- if c -%}{{ c + '<|im_end|>\n' }}{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\n' }}{%- endif -%}`,
			roles: RoleFormat{System: imStart("system"), User: imStart("user"), Assistant: imStart("assistant"),
				DefaultSystemPrompt: "You are a helpful assistant.", StopStrings: []string{"<|im_end|>"},
				ImageToken: "<|vision_start|><|image_pad|><|vision_end|>"},
		},
		// SGLang "vicuna_v1.1": ADD_COLON_TWO style.
		"vicuna_v1.1": {
			source: prelude(vicunaSystem, "<image>\n") +
				`{{- ns.system + ' ' -}}
{%- for m in turns -%}
{%- set c = flat(m) -%}
{%- set role = 'USER' if m.role == 'user' else 'ASSISTANT' -%}
{%- if c -%}{{ role + ': ' + c + (' ' if loop.index0 is even else '</s>') }}{%- else -%}{{ role + ':' }}{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ 'ASSISTANT:' }}{%- endif -%}`,
			roles: RoleFormat{System: Affix{"", " "}, User: Affix{"USER:", " "}, Assistant: Affix{"ASSISTANT:", "</s>"},
				DefaultSystemPrompt: vicunaSystem, ImageToken: " <image>\n"},
		},
	}
}

const vicunaSystem = "A chat between a curious user and an artificial intelligence assistant. " +
	"The assistant gives helpful, detailed, and polite answers to the user's questions."
