package benchserve

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is a request rate that encodes +Inf as the JSON string "inf".
type Rate float64

// MarshalJSON implements json.Marshaler.
func (r Rate) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(r), 1) {
		return []byte(`"inf"`), nil
	}
	return json.Marshal(float64(r))
}

func (r Rate) String() string {
	if math.IsInf(float64(r), 1) {
		return "inf"
	}
	s := strconv.FormatFloat(float64(r), 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0" // as Python prints a float
	}
	return s
}

// Result is a run's configuration summary and metrics; its JSON form is
// SGLang's result line (keys of the same meaning keep SGLang's names).
type Result struct {
	Tag              string          `json:"tag,omitempty"`
	Backend          string          `json:"backend"`
	DatasetName      string          `json:"dataset_name"`
	RequestRate      Rate            `json:"request_rate"`
	MaxConcurrency   *int            `json:"max_concurrency"`
	NumPrompts       int             `json:"num_prompts"`
	RandomInputLen   int             `json:"random_input_len"`
	RandomOutputLen  int             `json:"random_output_len"`
	RandomRangeRatio float64         `json:"random_range_ratio"`
	GSPNumGroups     int             `json:"gsp_num_groups"`
	GSPPromptsPerGrp int             `json:"gsp_prompts_per_group"`
	GSPSystemLen     int             `json:"gsp_system_prompt_len"`
	GSPQuestionLen   int             `json:"gsp_question_len"`
	GSPOutputLen     int             `json:"gsp_output_len"`
	Seed             uint64          `json:"seed"`
	VocabSize        int             `json:"vocab_size"`
	ServerInfo       json.RawMessage `json:"server_info"`
	Metrics
	*Details
}

// Details are the per-request lists SGLang adds with --output-details.
type Details struct {
	InputLens      []int       `json:"input_lens"`
	OutputLens     []int       `json:"output_lens"`
	TTFTs          []float64   `json:"ttfts"`
	ITLs           [][]float64 `json:"itls"`
	GeneratedTexts []string    `json:"generated_texts"`
	Errors         []string    `json:"errors"`
}

// Run builds the dataset, warms the server up and runs the benchmark. It
// returns the result and every request's Output (in dataset order);
// withDetails also copies the per-request lists into Result.Details. Failed
// requests are not an error: they are counted in Result.Failed.
func Run(ctx context.Context, cfg Config, withDetails bool) (*Result, []Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	c := newClient(&cfg)
	if !cfg.native() {
		c.model = cfg.Model
		if c.model == "" {
			c.model = c.firstModel(ctx)
		}
	}
	vocab := c.vocabSize(ctx)
	skip := tokenFilter(cfg.Tokenizer)
	pool, err := NewTokenPool(int32(cfg.MinTokenID), int32(vocab), skip)
	if err != nil {
		return nil, nil, err
	}
	reqs, err := cfg.Dataset.Generate(cfg.NumPrompts, pool, cfg.Seed)
	if err != nil {
		return nil, nil, err
	}
	var inTok, outTok int
	for _, r := range reqs {
		inTok += r.PromptLen
		outTok += r.OutputLen
	}
	cfg.logf("#Input tokens: %d\n#Output tokens: %d", inTok, outTok)
	if !cfg.native() {
		if err := c.attachText(ctx, reqs); err != nil {
			return nil, nil, err
		}
	}

	if err := c.warmup(ctx, reqs[0]); err != nil {
		return nil, nil, err
	}
	if cfg.FlushCache {
		if err := c.call(ctx, http.MethodPost, "/flush_cache", nil, nil); err != nil {
			cfg.logf("warning: flush_cache: %v", err)
		}
	}

	start := time.Now()
	outs, err := c.dispatch(ctx, reqs, start)
	if err != nil {
		return nil, nil, err
	}
	dur := time.Since(start).Seconds()

	res := &Result{
		Tag: cfg.Tag, Backend: cfg.Backend, DatasetName: cfg.Dataset.Name,
		RequestRate: Rate(cfg.rate()), NumPrompts: len(reqs),
		RandomInputLen: cfg.Dataset.RandomInputLen, RandomOutputLen: cfg.Dataset.RandomOutputLen,
		RandomRangeRatio: cfg.Dataset.RandomRangeRatio,
		GSPNumGroups:     cfg.Dataset.GSPNumGroups, GSPPromptsPerGrp: cfg.Dataset.GSPPromptsPerGroup,
		GSPSystemLen: cfg.Dataset.GSPSystemPromptLen, GSPQuestionLen: cfg.Dataset.GSPQuestionLen,
		GSPOutputLen: cfg.Dataset.GSPOutputLen, Seed: cfg.Seed, VocabSize: vocab,
		Metrics: ComputeMetrics(outs, dur),
	}
	if cfg.MaxConcurrency > 0 {
		mc := cfg.MaxConcurrency
		res.MaxConcurrency = &mc
	}
	var info json.RawMessage
	if err := c.call(ctx, http.MethodGet, "/get_server_info", nil, &info); err == nil && json.Valid(info) {
		res.ServerInfo = info
	} else {
		res.ServerInfo = json.RawMessage("null")
	}
	if withDetails {
		d := &Details{}
		for _, o := range outs {
			d.InputLens = append(d.InputLens, o.PromptLen)
			ol := 0
			if o.Success {
				ol = o.OutputLen
			}
			d.OutputLens = append(d.OutputLens, ol)
			d.TTFTs = append(d.TTFTs, o.TTFT)
			d.ITLs = append(d.ITLs, append([]float64{}, o.ITL...))
			d.GeneratedTexts = append(d.GeneratedTexts, o.GeneratedText)
			d.Errors = append(d.Errors, o.Error)
		}
		res.Details = d
	}
	return res, outs, nil
}

// firstModel asks /v1/models for the served model's id ("default" if none).
func (c *client) firstModel(ctx context.Context) string {
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, "/v1/models", nil, &list); err != nil || len(list.Data) == 0 || list.Data[0].ID == "" {
		return "default"
	}
	return list.Data[0].ID
}

// vocabSize picks the id range: Config.VocabSize, the tokenizer's size, the
// server's /get_model_info vocab_size, or DefaultVocabSize.
func (c *client) vocabSize(ctx context.Context) int {
	if c.cfg.VocabSize > 0 {
		return c.cfg.VocabSize
	}
	if vs, ok := c.cfg.Tokenizer.(interface{ VocabSize() int }); ok && vs.VocabSize() > c.cfg.MinTokenID {
		return vs.VocabSize()
	}
	var info struct {
		VocabSize int `json:"vocab_size"`
	}
	if err := c.call(ctx, http.MethodGet, "/get_model_info", nil, &info); err == nil && info.VocabSize > c.cfg.MinTokenID {
		return info.VocabSize
	}
	return max(DefaultVocabSize, c.cfg.MinTokenID+1)
}

// attachText sets Request.Text from the ids for the text backend. Shared
// prefixes are decoded once per group and joined to the question with a
// blank line (as SGLang builds them) so the prefix text is identical.
func (c *client) attachText(ctx context.Context, reqs []Request) error {
	prefixes := map[int]string{}
	for i := range reqs {
		r := &reqs[i]
		if r.PrefixLen == 0 {
			t, err := c.decode(ctx, r.IDs)
			if err != nil {
				return err
			}
			r.Text = t
			continue
		}
		p, ok := prefixes[r.Group]
		if !ok {
			var err error
			if p, err = c.decode(ctx, r.IDs[:r.PrefixLen]); err != nil {
				return err
			}
			prefixes[r.Group] = p
		}
		q, err := c.decode(ctx, r.IDs[r.PrefixLen:])
		if err != nil {
			return err
		}
		r.Text = p + "\n\n" + q
	}
	return nil
}

func (c *client) decode(ctx context.Context, ids []int32) (string, error) {
	if c.cfg.Tokenizer != nil {
		return c.cfg.Tokenizer.Decode(ids, false), nil
	}
	var resp struct {
		Text *string `json:"text"`
	}
	body := map[string]any{"model": c.model, "tokens": ids, "skip_special_tokens": false}
	if err := c.call(ctx, http.MethodPost, "/v1/detokenize", body, &resp); err != nil {
		return "", fmt.Errorf("benchserve: prompt text needs /v1/detokenize or --tokenizer: %w", err)
	}
	if resp.Text == nil {
		return "", fmt.Errorf("%w: /v1/detokenize answer has no \"text\"", errServer)
	}
	return *resp.Text, nil
}

// warmup sends WarmupRequests copies of the first request (at most 32 output
// tokens) at once and fails if none succeeds.
func (c *client) warmup(ctx context.Context, r Request) error {
	n := c.cfg.WarmupRequests
	if n == 0 {
		return nil
	}
	c.cfg.logf("Starting warmup with %d sequences...", n)
	outs := make([]Output, n)
	var wg sync.WaitGroup
	now := time.Now()
	for i := range outs {
		wg.Go(func() { outs[i] = c.send(ctx, r, min(r.OutputLen, 32), now) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("benchserve: %w", err)
	}
	for _, o := range outs {
		if o.Success {
			c.cfg.logf("Warmup completed with %d sequences. Starting main benchmark run...", n)
			return nil
		}
	}
	return fmt.Errorf("%w (check --base-url/--backend): %s", ErrWarmup, outs[0].Error)
}

// dispatch releases the requests (all at once or with Poisson arrivals),
// keeps at most MaxConcurrency in flight, and waits for all of them.
func (c *client) dispatch(ctx context.Context, reqs []Request, start time.Time) ([]Output, error) {
	outs := make([]Output, len(reqs))
	var sem chan struct{}
	if c.cfg.MaxConcurrency > 0 {
		sem = make(chan struct{}, c.cfg.MaxConcurrency)
	}
	rate := c.cfg.rate()
	arrivals := rand.New(rand.NewPCG(c.cfg.Seed, 0xa771_7a15))
	prog := &progress{cfg: c.cfg, total: len(reqs), start: start}
	var wg sync.WaitGroup
	canceled := false
	// turn makes waiting requests take the semaphore in arrival order.
	turn := make(chan struct{})
	close(turn)
	for i, r := range reqs {
		if i > 0 && !math.IsInf(rate, 1) {
			t := time.NewTimer(time.Duration(arrivals.ExpFloat64() / rate * float64(time.Second)))
			select {
			case <-ctx.Done():
				t.Stop()
				canceled = true
			case <-t.C:
			}
		}
		if canceled {
			break
		}
		prev, mine := turn, make(chan struct{})
		turn = mine
		wg.Go(func() {
			if sem != nil {
				acquired := false
				select {
				case <-prev:
					select {
					case sem <- struct{}{}:
						acquired = true
					case <-ctx.Done():
					}
				case <-ctx.Done():
				}
				close(mine)
				if !acquired {
					outs[i] = Output{PromptLen: r.PromptLen, Error: "canceled: " + ctx.Err().Error()}
					return
				}
				defer func() { <-sem }()
			}
			outs[i] = c.send(ctx, r, r.OutputLen, start)
			prog.done(outs[i].Success)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("benchserve: %w", err)
	}
	return outs, nil
}

// tokenFilter returns the ids to leave out of prompts for a tokenizer:
// special tokens, and byte-fallback pieces ("<0x0A>") whose raw bytes would
// not survive the round trip through text.
func tokenFilter(d Detokenizer) func(int32) bool {
	sp, hasSpecial := d.(interface{ IsSpecial(int32) bool })
	pc, hasPiece := d.(interface{ Piece(int32) string })
	if !hasSpecial && !hasPiece {
		return nil
	}
	return func(id int32) bool {
		if hasSpecial && sp.IsSpecial(id) {
			return true
		}
		if hasPiece {
			p := pc.Piece(id)
			return len(p) == 6 && strings.HasPrefix(p, "<0x") && p[5] == '>'
		}
		return false
	}
}

// progress logs the completed count at every tenth of the run.
type progress struct {
	cfg             *Config
	total           int
	start           time.Time
	mu              sync.Mutex
	finished, fails int
}

func (p *progress) done(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
	if !ok {
		p.fails++
	}
	if p.finished*10/p.total != (p.finished-1)*10/p.total {
		p.cfg.logf("%d/%d requests done (%d failed) in %.1fs", p.finished, p.total, p.fails, time.Since(p.start).Seconds())
	}
}
