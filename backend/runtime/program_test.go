package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/sglang-go/sglang/backend/runtime"
	"github.com/sglang-go/sglang/sgl"
)

// TestProgramOverHTTP runs a program through the interpreter against a fake
// server and checks the sequence of requests SGLang's frontend would send.
func TestProgramOverHTTP(t *testing.T) {
	var mu sync.Mutex
	var kinds []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/get_model_info" {
			fmt.Fprint(w, `{"model_path":"Qwen/Qwen2.5-0.5B-Instruct"}`)
			return
		}
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		sp := b["sampling_params"].(map[string]any)
		kind := "gen"
		switch {
		case b["input_ids"] != nil:
			kind = "uncond"
		case b["return_logprob"] == true && sp["max_new_tokens"] == 0.0:
			kind = "score"
		case len(sp) == 1 && sp["max_new_tokens"] == 0.0:
			kind = "prefill"
		}
		mu.Lock()
		kinds = append(kinds, kind)
		mu.Unlock()
		switch kind {
		case "score":
			fmt.Fprint(w, `[{"text":"","meta_info":{"input_token_logprobs":[[-1,1,"x"],[-0.1,2," a"]]}},
				{"text":"","meta_info":{"input_token_logprobs":[[-1,1,"x"],[-3,3," b"]]}}]`)
		case "gen":
			if sp["stop"].([]any)[0] != "<|im_end|>" {
				t.Errorf("gen without the template stop: %v", sp["stop"])
			}
			fmt.Fprint(w, `{"text":"ok","meta_info":{"prompt_tokens":3}}`)
		default:
			fmt.Fprint(w, `{"text":"","meta_info":{"prompt_tokens":4}}`)
		}
	}))
	defer srv.Close()
	prog := sgl.Function(func(s *sgl.State, _ int) {
		s.User("Pick:", sgl.Select("c", []string{" a", " b"}))
		forks := s.Fork(2)
		for _, f := range forks {
			f.Assistant(sgl.Gen("g", sgl.MaxTokens(4)))
		}
		forks.Join()
	})
	st, err := prog.Run(context.Background(), 0, sgl.WithBackend(runtime.Endpoint(srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"prefill", "score", "prefill", "gen", "gen"}
	if !slices.Equal(kinds, want) {
		t.Errorf("requests %v, want %v", kinds, want)
	}
	if st.Get("c") != " a" || !slices.Equal(st.Values("g"), []string{"ok", "ok"}) {
		t.Errorf("c=%q g=%q", st.Get("c"), st.Values("g"))
	}
	// qwen template: the default system prompt comes first.
	if msgs := st.Messages(); len(msgs) != 2 || msgs[0].Role != "system" || msgs[1].Text() != "Pick: a" {
		t.Errorf("messages %v", msgs)
	}
}
