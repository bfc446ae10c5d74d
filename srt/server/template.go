package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/sglang-go/sglang/srt/chat"
)

// LoadChatConfig finds the chat template for a model. spec is SGLang's
// --chat-template: a built-in name (chatml, llama-2, llama-3, qwen2-vl,
// vicuna_v1.1) or a Jinja file. Without it, the model folder's own template
// (chat_template.jinja, chat_template.json or tokenizer_config.json) is
// used, or, for a GGUF model, ggufTemplate (its tokenizer.chat_template).
// bos_token and eos_token come from tokenizer_config.json. A model with no
// template yields a config with a nil Template and no error; chat requests
// then fail with 400.
func LoadChatConfig(modelDir, spec, ggufTemplate string) (ChatConfig, error) {
	var cfg ChatConfig
	tc, err := readTokenizerConfig(modelDir)
	if err != nil {
		return cfg, err
	}
	cfg.BOS, cfg.EOS = tokenString(tc["bos_token"]), tokenString(tc["eos_token"])
	switch {
	case spec != "" && slices.Contains(chat.BuiltinNames(), spec):
		cfg.Template, err = chat.Builtin(spec)
	case spec != "":
		cfg.Template, err = chat.FromFile(spec)
		if err != nil {
			err = fmt.Errorf("server: --chat-template %q is neither a built-in (%v) nor a readable Jinja file: %w", spec, chat.BuiltinNames(), err)
		}
	case isDir(modelDir):
		cfg.Template, err = chat.FromModelDir(modelDir)
		if errors.Is(err, chat.ErrNoTemplate) {
			cfg.Template, err = nil, nil
		}
	case ggufTemplate != "":
		cfg.Template, err = chat.Parse(filepath.Base(modelDir), ggufTemplate)
	}
	return cfg, err
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
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
