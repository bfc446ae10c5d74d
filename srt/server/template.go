package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sglang-go/sglang/srt/chat"
)

// LoadChatConfig finds the chat template for a model: spec (SGLang's
// --chat-template) names a Jinja file when set; otherwise the model
// folder's tokenizer_config.json "chat_template" (a string, or a list of
// {name, template} where "default" wins) is used. bos_token and eos_token
// come from tokenizer_config.json. A model with no template yields a config
// with a nil Template and no error; chat requests then fail with 400.
func LoadChatConfig(modelDir, spec string) (ChatConfig, error) {
	var cfg ChatConfig
	tc, err := readTokenizerConfig(modelDir)
	if err != nil {
		return cfg, err
	}
	cfg.BOS, cfg.EOS = tokenString(tc["bos_token"]), tokenString(tc["eos_token"])
	if spec != "" {
		src, err := os.ReadFile(spec)
		if err != nil {
			return cfg, fmt.Errorf("server: --chat-template %q is not a readable Jinja file (built-in names are not supported yet): %w", spec, err)
		}
		cfg.Template, err = chat.Parse(filepath.Base(spec), string(src))
		return cfg, err
	}
	src := templateSource(tc["chat_template"])
	if src == "" {
		if b, err := os.ReadFile(filepath.Join(modelDir, "chat_template.jinja")); err == nil {
			src = string(b)
		}
	}
	if src == "" {
		return cfg, nil
	}
	cfg.Template, err = chat.Parse(filepath.Base(modelDir), src)
	return cfg, err
}

func readTokenizerConfig(dir string) (map[string]json.RawMessage, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, nil // a .gguf file or a hub id: no tokenizer_config.json to read
	}
	b, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("server: tokenizer_config.json: %w", err)
	}
	return m, nil
}

// tokenString reads "<s>" or {"content": "<s>", ...}.
func tokenString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

func templateSource(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if json.Unmarshal(raw, &list) != nil {
		return ""
	}
	for _, t := range list {
		if t.Name == "default" {
			return t.Template
		}
	}
	if len(list) > 0 {
		return list[0].Template
	}
	return ""
}
