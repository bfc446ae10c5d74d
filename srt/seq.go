package srt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"iter"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sglang-go/sglang/srt/cache"
	"github.com/sglang-go/sglang/srt/constrain"
	"github.com/sglang-go/sglang/srt/sample"
	"github.com/sglang-go/sglang/srt/tokenizer"
)

// seq is one request's state. The scheduler goroutine owns every field but
// mu-guarded snap; the caller's goroutine reads snap.
type seq struct {
	e         *Engine
	ctx       context.Context
	req       GenerateRequest
	id        string
	start     time.Time
	ids       []int32 // prompt then output
	promptLen int
	maxNew    int
	slots     []int32     // KV slots of ids[:len(slots)]
	node      *cache.Node // radix node locked for this sequence's cached prefix
	treeLen   int         // leading slots owned by the radix tree
	prio      int         // scheduling priority (lpm: cached prefix length)
	sampler   *sample.Sampler
	dec       *tokenizer.StreamDecoder
	text      strings.Builder // detokenized output, before stop-string truncation
	shown     int             // bytes of text released to the caller
	maxStop   int             // longest stop string, in bytes
	eos       []int32
	finish    *FinishReason
	cached    int
	admitted  bool // the cached prefix was counted (first admission)
	stopAt    int  // where a matched stop string or stop_regex starts in text

	// Constrained decoding (nil matcher: unconstrained).
	matcher     *constrain.Matcher
	stopRe      []*regexp.Regexp
	jump        bool // jump-forward appended tokens that need a prefill
	jumpTokens  int  // output tokens added by jump-forward (net)
	jumpCounted int  // jumpTokens already added to the engine totals

	// Images (nil for text-only requests): the prompt's images, the M-RoPE
	// positions of the prompt, the position offset of later tokens, and the
	// per-token radix extra keys (image hash at pad positions).
	images    []seqImage
	mrope     [][3]int32
	ropeDelta int
	extras    []uint64

	inLP, outLP   []TokenLogprob
	inTop, outTop [][]TokenLogprob

	mu     sync.Mutex
	snap   GenerateOutput
	err    error
	notify chan struct{}
}

// Generate runs req and yields its progress: each output holds the text and
// ids so far (Delta is what is new), the last one has Finished set. An error
// ends the sequence. Stopping the iteration or cancelling ctx aborts the
// request and frees its KV slots.
func (e *Engine) Generate(ctx context.Context, req *GenerateRequest) iter.Seq2[*GenerateOutput, error] {
	return func(yield func(*GenerateOutput, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s, err := e.newSeq(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		select {
		case e.submit <- s:
		case <-ctx.Done():
			yield(nil, ctx.Err())
			return
		case <-e.stop:
			yield(nil, ErrClosed)
			return
		}
		shown := 0
		for {
			select {
			case <-s.notify:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
			out, err := s.snapshot()
			if err != nil {
				yield(nil, err)
				return
			}
			out.Delta = out.Text[shown:]
			shown = len(out.Text)
			if !yield(out, nil) || out.Finished {
				return
			}
		}
	}
}

// GenerateAll runs req to the end and returns the final output.
func (e *Engine) GenerateAll(ctx context.Context, req *GenerateRequest) (*GenerateOutput, error) {
	var last *GenerateOutput
	for out, err := range e.Generate(ctx, req) {
		if err != nil {
			return nil, err
		}
		last = out
	}
	if last == nil {
		return nil, fmt.Errorf("srt: request ended without output")
	}
	return last, nil
}

func (e *Engine) newSeq(ctx context.Context, req *GenerateRequest) (*seq, error) {
	s := &seq{e: e, ctx: ctx, req: *req, start: time.Now(), notify: make(chan struct{}, 1)}
	p := &s.req.Sampling
	switch {
	case req.Text != "" && len(req.InputIDs) > 0:
		return nil, fmt.Errorf("%w: give either text or input_ids, not both", ErrInvalidRequest)
	case len(req.InputIDs) > 0:
		s.ids = slices.Clone(req.InputIDs)
	case e.tok == nil:
		return nil, fmt.Errorf("%w: text prompts need a tokenizer; send input_ids", ErrNoTokenizer)
	default:
		s.ids = e.tok.Encode(req.Text, true)
	}
	if err := e.prepareImages(ctx, s); err != nil {
		return nil, err
	}
	vocab := e.cfg.Vocab
	if len(s.ids) == 0 {
		return nil, fmt.Errorf("%w: the prompt is empty", ErrInvalidRequest)
	}
	for _, id := range s.ids {
		if id < 0 || int(id) >= vocab {
			return nil, fmt.Errorf("%w: token id %d outside the vocabulary of %d", ErrInvalidRequest, id, vocab)
		}
	}
	s.promptLen = len(s.ids)
	ctxLen := e.info.ContextLength
	if s.promptLen >= ctxLen {
		return nil, fmt.Errorf("%w: the prompt has %d tokens; the context length is %d", ErrContextLength, s.promptLen, ctxLen)
	}
	if s.promptLen+1 > e.info.KVTokens {
		return nil, fmt.Errorf("%w: the prompt has %d tokens; the KV pool holds %d", ErrContextLength, s.promptLen, e.info.KVTokens)
	}
	if p.MaxNewTokens < 0 || p.MinNewTokens < 0 {
		return nil, fmt.Errorf("%w: max_new_tokens and min_new_tokens must not be negative", ErrInvalidRequest)
	}
	if req.TopLogprobsNum < 0 {
		return nil, fmt.Errorf("%w: top_logprobs_num must not be negative", ErrInvalidRequest)
	}
	s.maxNew = min(p.MaxNewTokens, ctxLen-s.promptLen)
	if e.tok != nil && e.tok.EOS() >= 0 && !slices.Contains(e.cfg.EOS, e.tok.EOS()) {
		s.eos = append(slices.Clone(e.cfg.EOS), e.tok.EOS())
	} else {
		s.eos = e.cfg.EOS
	}
	sp := sample.Params{
		Temperature: p.Temperature, TopP: p.TopP, TopK: p.TopK, MinP: p.MinP,
		RepetitionPenalty: p.RepetitionPenalty, FrequencyPenalty: p.FrequencyPenalty,
		PresencePenalty: p.PresencePenalty, Seed: p.Seed, MinNewTokens: p.MinNewTokens,
		StopTokenIDs: p.StopTokenIDs, EOSTokenIDs: s.eos, IgnoreEOS: p.IgnoreEOS,
	}
	err := sp.Validate(vocab)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	for _, st := range p.Stop {
		if st == "" {
			return nil, fmt.Errorf("%w: empty stop string", ErrInvalidRequest)
		}
		s.maxStop = max(s.maxStop, len(st))
	}
	if s.stopRe, err = compileStopRegex(p.StopRegex); err != nil {
		return nil, err
	}
	if s.matcher, err = e.compileConstraint(p); err != nil {
		return nil, err
	}
	s.sampler = sample.New(sp, vocab, s.ids)
	if e.tok != nil {
		s.dec = e.tok.NewDecoder(s.ids, p.SkipSpecialTokens)
	}
	// Text the grammar forces at the start joins the prompt's prefill.
	s.jumpForward(s.promptLen)
	s.id = req.RID
	if s.id == "" {
		var b [16]byte
		rand.Read(b[:])
		s.id = hex.EncodeToString(b[:])
	}
	if req.ReturnLogprob && req.LogprobStartLen >= 0 {
		s.inLP = make([]TokenLogprob, 0, max(s.promptLen-req.LogprobStartLen, 0))
	}
	return s, nil
}

// wantsInputLogprobs reports whether prompt position p (predicted by row p-1)
// needs a logprob.
func (s *seq) inputLogprobFrom() int {
	if !s.req.ReturnLogprob || s.req.LogprobStartLen < 0 {
		return s.promptLen // none
	}
	return s.req.LogprobStartLen
}

func (s *seq) outputs() int { return len(s.ids) - s.promptLen }

// tokenText is the text of one token in a logprob entry, when asked for.
func (s *seq) tokenText(id int32) *string {
	if !s.req.ReturnTextInLogprobs || s.e.tok == nil {
		return nil
	}
	// The token's own bytes, so that consecutive entries join into the
	// text (a lone decode would drop SentencePiece's leading space).
	t := string(s.e.tok.TokenBytes(id))
	if t == "" {
		t = s.e.tok.Decode([]int32{id}, false)
	}
	return &t
}

func (s *seq) topLogprobs(row []float32) []TokenLogprob {
	k := s.req.TopLogprobsNum
	if k == 0 {
		return nil
	}
	top := sample.TopLogprobs(row, k, nil)
	out := make([]TokenLogprob, len(top))
	for i, t := range top {
		out[i] = TokenLogprob{Logprob: t.Logprob, ID: t.ID, Text: s.tokenText(t.ID)}
	}
	return out
}

// addInputLogprob records the logprob of prompt token at position p, scored
// by row (the logits after position p-1); row is nil for position 0.
func (s *seq) addInputLogprob(p int, row []float32) {
	id := s.ids[p]
	lp := TokenLogprob{Logprob: float32(math.NaN()), ID: id, Text: s.tokenText(id)}
	var top []TokenLogprob
	if row != nil {
		lp.Logprob = sample.Logprob(row, id)
		top = s.topLogprobs(row)
	}
	s.inLP = append(s.inLP, lp)
	if s.req.TopLogprobsNum > 0 {
		s.inTop = append(s.inTop, top)
	}
}

// accept appends a sampled token (row holds its raw logits) and checks the
// stop conditions.
func (s *seq) accept(id int32, row []float32) {
	if s.req.ReturnLogprob {
		s.outLP = append(s.outLP, TokenLogprob{Logprob: sample.Logprob(row, id), ID: id, Text: s.tokenText(id)})
		if s.req.TopLogprobsNum > 0 {
			s.outTop = append(s.outTop, s.topLogprobs(row))
		}
	}
	s.sampler.Accept(id)
	s.ids = append(s.ids, id)
	p := &s.req.Sampling
	switch {
	case !p.IgnoreEOS && slices.Contains(s.eos, id):
		s.finish = &FinishReason{Type: "stop", Matched: id}
	case slices.Contains(p.StopTokenIDs, id):
		s.finish = &FinishReason{Type: "stop", Matched: id}
	}
	if s.dec != nil && s.finish == nil {
		s.text.WriteString(s.dec.Add(id))
		s.checkStopRegex()
		s.checkStopStrings()
	}
	s.acceptConstrained(id)
	s.settle()
}

// settle applies the length limit and, once s is finished, flushes the
// decoder and fixes the text released to the caller.
func (s *seq) settle() {
	if s.finish == nil && s.outputs() >= s.maxNew {
		s.finish = &FinishReason{Type: "length", Length: s.outputs()}
	}
	if s.finish == nil {
		return
	}
	_, byString := s.finish.Matched.(string)
	if !byString && s.dec != nil {
		s.text.WriteString(s.dec.Flush())
	}
	if byString {
		s.shown = max(s.shown, s.stopAt)
	} else {
		s.shown = len(s.text.String())
	}
}

// checkStopStrings ends the sequence at the first stop string in the text,
// and otherwise releases all text that cannot be the start of one.
func (s *seq) checkStopStrings() {
	if s.finish != nil {
		return
	}
	text := s.text.String()
	stops := s.req.Sampling.Stop
	if len(stops) == 0 {
		s.shown = len(text)
		return
	}
	from := max(0, s.shown-s.maxStop)
	best := -1
	for _, st := range stops {
		if i := strings.Index(text[from:], st); i >= 0 && (best < 0 || from+i < best) {
			best = from + i
			s.finish = &FinishReason{Type: "stop", Matched: st}
		}
	}
	if best >= 0 {
		s.stopAt = best
		return
	}
	// Hold back the longest suffix that is a prefix of a stop string.
	hold := 0
	for _, st := range stops {
		for k := min(len(st)-1, len(text)); k > hold; k-- {
			if strings.HasSuffix(text, st[:k]) {
				hold = k
				break
			}
		}
	}
	s.shown = max(s.shown, len(text)-hold)
}

// publish makes the current state visible to the caller.
func (s *seq) publish(err error) {
	s.mu.Lock()
	if err != nil {
		s.err = err
	} else {
		s.snap = GenerateOutput{
			Text:      s.text.String()[:s.shown],
			OutputIDs: s.ids[s.promptLen:len(s.ids):len(s.ids)],
			Finished:  s.finish != nil,
			MetaInfo: MetaInfo{
				ID: s.id, FinishReason: s.finish, PromptTokens: s.promptLen, CompletionTokens: s.outputs(),
				CachedTokens: s.cached, JumpForwardTokens: s.jumpTokens, E2ELatency: time.Since(s.start).Seconds(),
				InputTokenLogprobs: s.inLP, OutputTokenLogprobs: s.outLP,
				InputTopLogprobs: s.inTop, OutputTopLogprobs: s.outTop,
			},
		}
	}
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *seq) snapshot() (*GenerateOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	out := s.snap
	return &out, nil
}
