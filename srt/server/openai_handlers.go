package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/sglang-go/sglang/srt"
	"github.com/sglang-go/sglang/srt/chat"
)

func newID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (s *Server) chatConfig() ChatConfig {
	return ChatConfig{Template: s.opts.ChatTemplate, BOS: s.opts.BOS, EOS: s.opts.EOS, Vision: s.eng.Info().Vision}
}

func (s *Server) renderChat(msgs []chat.Message) (string, error) {
	return RenderChat(s.chatConfig(), msgs, nil, nil, false)
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, ModelList{Object: "list", Data: []ModelCard{s.modelCard()}})
}

func (s *Server) modelCard() ModelCard {
	in := s.eng.Info()
	return ModelCard{ID: s.opts.ServedModelName, Object: "model", Created: s.start.Unix(), OwnedBy: "sglang",
		Root: in.ModelPath, MaxModelLen: in.ContextLength}
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	if name != s.opts.ServedModelName {
		writeOpenAIError(w, fmt.Errorf("%w: the model %q does not exist", ErrModelNotFound, name))
		return
	}
	writeJSON(w, http.StatusOK, s.modelCard())
}

// expand makes n samples of each request (ids suffixed when a rid is set).
func expand(reqs []*srt.GenerateRequest, n int) []*srt.GenerateRequest {
	if n <= 1 {
		return reqs
	}
	out := make([]*srt.GenerateRequest, 0, len(reqs)*n)
	for _, r := range reqs {
		for k := range n {
			c := *r
			if r.RID != "" {
				c.RID = fmt.Sprintf("%s-%d", r.RID, k)
			}
			out = append(out, &c)
		}
	}
	return out
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	var body ChatRequest
	if err := readJSON(r, &body, "chat/completions"); err != nil {
		writeOpenAIError(w, bodyErr(err))
		return
	}
	if err := s.checkModel(body.Model); err != nil {
		writeOpenAIError(w, err)
		return
	}
	req, n, err := FromChatRequest(&body, s.chatConfig())
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	// The template holds the special tokens already.
	ids, err := s.eng.Tokenize(req.Text, false)
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	req.Text, req.InputIDs = "", ids
	release, err := s.admit()
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	defer release()
	reqs := expand([]*srt.GenerateRequest{req}, n)
	id, created, model := newID("chatcmpl-"), time.Now().Unix(), s.opts.ServedModelName
	logprobs := req.ReturnLogprob
	if body.Stream == nil || !*body.Stream {
		outs, err := s.runAll(r.Context(), reqs)
		if err != nil {
			writeOpenAIError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ToChatCompletion(id, model, created, outs, n, logprobs))
		return
	}
	includeUsage := body.StreamOptions != nil && body.StreamOptions.IncludeUsage
	s.streamOpenAI(w, r, reqs, n, includeUsage, func(i int, out *srt.GenerateOutput, st *StreamState) []any {
		var evs []any
		if !st.Started {
			st.Started = true
			evs = append(evs, ToRoleChunk(id, model, created, i))
		}
		c := ToChatChunk(id, model, created, i, out, st, logprobs)
		if *c.Choices[0].Delta.Content != "" || c.Choices[0].FinishReason != nil {
			evs = append(evs, c)
		}
		return evs
	}, func(u *Usage) any {
		return ChatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: []ChatChunkChoice{}, Usage: u}
	})
}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	var body CompletionRequest
	if err := readJSON(r, &body, "completions"); err != nil {
		writeOpenAIError(w, bodyErr(err))
		return
	}
	if err := s.checkModel(body.Model); err != nil {
		writeOpenAIError(w, err)
		return
	}
	base, n, err := FromCompletionRequest(&body)
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	echo := body.Echo != nil && *body.Echo
	var prefixes []string
	if echo {
		for _, req := range base {
			text := req.Text
			if text == "" {
				if text, err = s.eng.Detokenize(req.InputIDs, true); err != nil {
					writeOpenAIError(w, err)
					return
				}
			}
			for range max(n, 1) {
				prefixes = append(prefixes, text)
			}
		}
	}
	release, err := s.admit()
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	defer release()
	reqs := expand(base, n)
	id, created, model := newID("cmpl-"), time.Now().Unix(), s.opts.ServedModelName
	logprobs := base[0].ReturnLogprob
	if body.Stream == nil || !*body.Stream {
		outs, err := s.runAll(r.Context(), reqs)
		if err != nil {
			writeOpenAIError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ToCompletion(id, model, created, outs, n, logprobs, prefixes))
		return
	}
	includeUsage := body.StreamOptions != nil && body.StreamOptions.IncludeUsage
	s.streamOpenAI(w, r, reqs, n, includeUsage, func(i int, out *srt.GenerateOutput, st *StreamState) []any {
		var evs []any
		if !st.Started {
			st.Started = true
			if prefixes != nil {
				evs = append(evs, Completion{ID: id, Object: "text_completion", Created: created, Model: model,
					Choices: []CompletionChoice{{Index: i, Text: prefixes[i]}}})
			}
		}
		c := ToCompletionChunk(id, model, created, i, out, st, logprobs)
		if c.Choices[0].Text != "" || c.Choices[0].FinishReason != nil {
			evs = append(evs, c)
		}
		return evs
	}, func(u *Usage) any {
		return Completion{ID: id, Object: "text_completion", Created: created, Model: model, Choices: []CompletionChoice{}, Usage: u}
	})
}

// streamOpenAI runs reqs and streams the events toEvents makes of each
// output, then the usage event (if asked) and [DONE]. Errors become an
// OpenAI error event.
func (s *Server) streamOpenAI(w http.ResponseWriter, r *http.Request, reqs []*srt.GenerateRequest, n int, includeUsage bool,
	toEvents func(int, *srt.GenerateOutput, *StreamState) []any, usage func(*Usage) any) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	sse := newSSE(w)
	states := make([]StreamState, len(reqs))
	last := make([]*srt.GenerateOutput, len(reqs))
	failed := false
	for ev := range s.fanIn(ctx, reqs) {
		if failed || ctx.Err() != nil {
			continue
		}
		if ev.err != nil {
			failed = true
			st := statusOf(ev.err)
			sse.send(map[string]any{"error": NewErrorResponse(st, ev.err.Error())})
			cancel()
			continue
		}
		last[ev.index] = ev.out
		for _, e := range toEvents(ev.index, ev.out, &states[ev.index]) {
			if err := sse.send(e); err != nil {
				cancel() // the client is gone
				break
			}
		}
	}
	if ctx.Err() != nil && !failed {
		return
	}
	if includeUsage && !failed {
		sse.send(usage(ToUsage(last, n)))
	}
	sse.done()
}
