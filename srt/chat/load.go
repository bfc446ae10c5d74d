package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Template file names in a model folder, in the order transformers
// prefers them.
const (
	jinjaFile           = "chat_template.jinja"
	chatTemplateJSON    = "chat_template.json"
	tokenizerConfigJSON = "tokenizer_config.json"
)

// FromModelDir loads a model folder's chat template: chat_template.jinja,
// else chat_template.json, else tokenizer_config.json's chat_template. The
// special tokens of tokenizer_config.json (bos_token, eos_token, unk_token,
// pad_token) become the template's defaults. It returns an error wrapping
// ErrNoTemplate when the folder has no template.
func FromModelDir(dir string) (*Template, error) {
	var tokens map[string]string
	var cfgTemplate json.RawMessage
	if b, err := os.ReadFile(filepath.Join(dir, tokenizerConfigJSON)); err == nil {
		var cfg map[string]json.RawMessage
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, fmt.Errorf("chat: %s: %w", filepath.Join(dir, tokenizerConfigJSON), err)
		}
		tokens = specialTokens(cfg)
		cfgTemplate = cfg["chat_template"]
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("chat: %w", err)
	}
	var t *Template
	var err error
	switch {
	case fileExists(filepath.Join(dir, jinjaFile)):
		t, err = FromFile(filepath.Join(dir, jinjaFile))
	case fileExists(filepath.Join(dir, chatTemplateJSON)):
		var b []byte
		b, err = os.ReadFile(filepath.Join(dir, chatTemplateJSON))
		if err == nil {
			var f struct {
				ChatTemplate json.RawMessage `json:"chat_template"`
			}
			if err = json.Unmarshal(b, &f); err == nil {
				t, err = fromConfigValue(filepath.Join(dir, chatTemplateJSON), f.ChatTemplate)
			}
		}
	default:
		t, err = fromConfigValue(filepath.Join(dir, tokenizerConfigJSON), cfgTemplate)
	}
	if err != nil {
		return nil, err
	}
	t.tokens = tokens
	for _, v := range t.variants {
		v.tokens = tokens
	}
	return t, nil
}

// FromTokenizerConfig parses the chat_template of a tokenizer_config.json
// document (a string, or a list of {name, template}); name labels errors.
func FromTokenizerConfig(name string, config []byte) (*Template, error) {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("chat: %s: %w", name, err)
	}
	t, err := fromConfigValue(name, cfg["chat_template"])
	if err != nil {
		return nil, err
	}
	t.tokens = specialTokens(cfg)
	for _, v := range t.variants {
		v.tokens = t.tokens
	}
	return t, nil
}

// FromFile parses a Jinja template file; a .json file is read as
// chat_template.json / tokenizer_config.json ({"chat_template": ...}).
func FromFile(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return FromTokenizerConfig(path, b)
	}
	return Parse(path, string(b))
}

// fromConfigValue parses a chat_template JSON value: a string, or a list
// of {"name", "template"} where "default" is the plain template and the
// others (e.g. "tool_use") are named variants.
func fromConfigValue(name string, raw json.RawMessage) (*Template, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("%w: %s", ErrNoTemplate, name)
	}
	if raw[0] == '"' {
		var src string
		if err := json.Unmarshal(raw, &src); err != nil {
			return nil, fmt.Errorf("chat: %s: chat_template: %w", name, err)
		}
		return Parse(name, src)
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("chat: %s: chat_template must be a string or a list of {name, template}: %w", name, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: %s: empty chat_template list", ErrNoTemplate, name)
	}
	t := &Template{name: name, variants: map[string]*Template{}}
	for _, e := range list {
		v, err := Parse(name+"#"+e.Name, e.Template)
		if err != nil {
			return nil, err
		}
		if e.Name == "default" {
			t.tmpl, t.env, t.source = v.tmpl, v.env, v.source
		}
		t.variants[e.Name] = v
	}
	return t, nil
}

// Variants lists the named templates of a tokenizer_config.json list
// (e.g. "default", "tool_use"); nil for a single template.
func (t *Template) Variants() []string {
	names := make([]string, 0, len(t.variants))
	for n := range t.variants {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// pick chooses the template to render as transformers does: "tool_use"
// when tools are given and it exists, else the default.
func (t *Template) pick(o *Options) (*Template, error) {
	if o.Tools != nil {
		if v, ok := t.variants["tool_use"]; ok {
			return v, nil
		}
	}
	if t.tmpl == nil {
		return nil, fmt.Errorf("%w: %s has several chat templates (%s) and no default", ErrNoTemplate, t.name, strings.Join(t.Variants(), ", "))
	}
	return t, nil
}

// specialTokens reads the string special tokens of a tokenizer config;
// an AddedToken object ({"content": ...}) counts by its content.
func specialTokens(cfg map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	for _, k := range []string{"bos_token", "eos_token", "unk_token", "pad_token"} {
		raw, ok := cfg[k]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			out[k] = s
			continue
		}
		var obj struct {
			Content *string `json:"content"`
		}
		if err := json.Unmarshal(raw, &obj); err == nil && obj.Content != nil {
			out[k] = *obj.Content
		}
	}
	return out
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
