package sgl

import (
	"github.com/sglang-go/sglang/sgl/ir"
)

// Option sets a sampling parameter or a run setting. The same options serve
// Run/RunBatch (run-level defaults) and Gen/Select (call-level, which
// override run-level ones); run settings (Stream, WithBackend, Concurrency,
// ProgressBar) are ignored at call level.
type Option func(*config)

// Dtype constrains a gen to a Python-typed value (SGLang's dtype=).
type Dtype string

// The dtypes SGLang maps to regexes.
const (
	DtypeInt    Dtype = "int"
	DtypeFloat  Dtype = "float"
	DtypeBool   Dtype = "bool"
	DtypeString Dtype = "str"
)

// The regexes and extra stops SGLang uses for each dtype.
const (
	RegexInt    = `[-+]?[0-9]+[ \n]*`
	RegexFloat  = `[-+]?[0-9]*\.?[0-9]+[ \n]*`
	RegexBool   = `(True|False)`
	RegexString = `"[\w\d\s]*"`
)

// Choices methods, re-exported from package ir.
const (
	TokenLengthNormalized             = ir.TokenLengthNormalized
	GreedyTokenSelection              = ir.GreedyTokenSelection
	UnconditionalLikelihoodNormalized = ir.UnconditionalLikelihoodNormalized
)

type config struct {
	maxNew, minNew, topK              *int
	stop                              *[]string
	stopIDs                           *[]int
	stopRegex, regex, jsonSchema      *string
	temperature, topP, minP           *float64
	freqPenalty, presPenalty          *float64
	ignoreEOS                         *bool
	returnLogprob, textInLogprobs     *bool
	logprobStart, topLogprobs         *int
	dtype                             Dtype
	choices                           []string
	method                            ir.Method
	stream                            bool
	backend                           ir.Backend
	concurrency                       int
	progress                          *bool
	skipSpecial, spacesBetweenSpecial *bool
}

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c
}

func p[T any](v T) *T { return &v }

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// applyTo writes the set sampling fields over s.
func (c *config) applyTo(s *ir.Sampling) {
	setIf(&s.MaxNewTokens, c.maxNew)
	setIf(&s.MinNewTokens, c.minNew)
	setIf(&s.TopK, c.topK)
	if c.stop != nil {
		s.Stop = append([]string{}, (*c.stop)...)
	}
	if c.stopIDs != nil {
		s.StopTokenIDs = append([]int{}, (*c.stopIDs)...)
	}
	if c.stopRegex != nil {
		s.StopRegex = c.stopRegex
	}
	if c.regex != nil {
		s.Regex = c.regex
	}
	if c.jsonSchema != nil {
		s.JSONSchema = c.jsonSchema
	}
	setIf(&s.Temperature, c.temperature)
	setIf(&s.TopP, c.topP)
	setIf(&s.MinP, c.minP)
	setIf(&s.FrequencyPenalty, c.freqPenalty)
	setIf(&s.PresencePenalty, c.presPenalty)
	setIf(&s.IgnoreEOS, c.ignoreEOS)
	setIf(&s.SkipSpecialTokens, c.skipSpecial)
	setIf(&s.SpacesBetweenSpecialTokens, c.spacesBetweenSpecial)
	if c.returnLogprob != nil {
		s.ReturnLogprob = c.returnLogprob
	}
	if c.textInLogprobs != nil {
		s.ReturnTextInLogprobs = c.textInLogprobs
	}
	if c.logprobStart != nil {
		s.LogprobStartLen = c.logprobStart
	}
	if c.topLogprobs != nil {
		s.TopLogprobsNum = c.topLogprobs
	}
}

// resolveSampling is SGLang's _resolve_sampling_params plus dtype handling:
// defaults, then run-level, then call-level options; the template's stop
// strings appended; a dtype replaces the regex (int and float add the stops
// " " and "\n").
func resolveSampling(run, call *config, tmpl *ir.ChatTemplate) ir.Sampling {
	s := ir.DefaultSampling()
	run.applyTo(&s)
	call.applyTo(&s)
	if tmpl != nil {
		s.Stop = append(s.Stop, tmpl.StopStrings...)
	}
	dtype := call.dtype
	if dtype == "" {
		dtype = run.dtype
	}
	switch dtype {
	case DtypeInt:
		s.Regex = p(RegexInt)
		s.Stop = append(s.Stop, " ", "\n")
	case DtypeFloat:
		s.Regex = p(RegexFloat)
		s.Stop = append(s.Stop, " ", "\n")
	case DtypeBool:
		s.Regex = p(RegexBool)
	case DtypeString:
		s.Regex = p(RegexString)
	}
	return s
}

// MaxTokens caps the new tokens (max_new_tokens; default 128).
func MaxTokens(n int) Option { return func(c *config) { c.maxNew = p(n) } }

// MinTokens sets min_new_tokens.
func MinTokens(n int) Option { return func(c *config) { c.minNew = p(n) } }

// Stop sets the stop strings (replacing run-level ones).
func Stop(s ...string) Option { return func(c *config) { c.stop = p(append([]string{}, s...)) } }

// StopTokenIDs sets stop_token_ids.
func StopTokenIDs(ids ...int) Option {
	return func(c *config) { c.stopIDs = p(append([]int{}, ids...)) }
}

// StopRegex sets stop_regex.
func StopRegex(re string) Option { return func(c *config) { c.stopRegex = p(re) } }

// Temperature sets the sampling temperature (0 is greedy).
func Temperature(t float64) Option { return func(c *config) { c.temperature = p(t) } }

// TopP sets nucleus sampling's top_p.
func TopP(v float64) Option { return func(c *config) { c.topP = p(v) } }

// TopK sets top_k (-1 disables).
func TopK(k int) Option { return func(c *config) { c.topK = p(k) } }

// MinP sets min_p.
func MinP(v float64) Option { return func(c *config) { c.minP = p(v) } }

// FrequencyPenalty sets frequency_penalty.
func FrequencyPenalty(v float64) Option { return func(c *config) { c.freqPenalty = p(v) } }

// PresencePenalty sets presence_penalty.
func PresencePenalty(v float64) Option { return func(c *config) { c.presPenalty = p(v) } }

// IgnoreEOS keeps generating past the end-of-sequence token.
func IgnoreEOS() Option { return func(c *config) { c.ignoreEOS = p(true) } }

// SkipSpecialTokens sets skip_special_tokens (default true).
func SkipSpecialTokens(v bool) Option { return func(c *config) { c.skipSpecial = p(v) } }

// Logprobs asks for token logprobs (return_logprob) with top alternatives
// per position (top_logprobs_num; 0 for none) and their texts.
func Logprobs(top int) Option {
	return func(c *config) {
		c.returnLogprob, c.textInLogprobs = p(true), p(true)
		if top > 0 {
			c.topLogprobs = p(top)
		}
	}
}

// ReturnLogprob sets return_logprob alone (as SGLang's return_logprob=).
func ReturnLogprob(v bool) Option { return func(c *config) { c.returnLogprob = p(v) } }

// TopLogprobsNum sets top_logprobs_num.
func TopLogprobsNum(n int) Option { return func(c *config) { c.topLogprobs = p(n) } }

// ReturnTextInLogprobs sets return_text_in_logprobs.
func ReturnTextInLogprobs(v bool) Option { return func(c *config) { c.textInLogprobs = p(v) } }

// LogprobStartLen sets logprob_start_len (-1: output tokens only).
func LogprobStartLen(n int) Option { return func(c *config) { c.logprobStart = p(n) } }

// Regex constrains the output to a regular expression.
func Regex(re string) Option { return func(c *config) { c.regex = p(re) } }

// JSONSchema constrains the output to a JSON schema (given as JSON text).
func JSONSchema(schema string) Option { return func(c *config) { c.jsonSchema = p(schema) } }

// WithDtype constrains the output to a typed value (see Dtype).
func WithDtype(d Dtype) Option { return func(c *config) { c.dtype = d } }

// Choices turns a Gen into a Select among the given strings.
func Choices(choices ...string) Option {
	return func(c *config) { c.choices = append([]string{}, choices...) }
}

// Method picks select's scoring method (default TokenLengthNormalized).
func Method(m ir.Method) Option { return func(c *config) { c.method = m } }

// Stream makes Run return at once; read the output with State.TextIter.
func Stream() Option { return func(c *config) { c.stream = true } }

// WithBackend runs the program on b instead of the default backend.
func WithBackend(b ir.Backend) Option { return func(c *config) { c.backend = b } }

// Concurrency caps RunBatch's parallel programs (default max(96, 16*CPUs),
// at most the batch size).
func Concurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// ProgressBar turns RunBatch's progress bar on or off (default: on when
// stderr is a terminal).
func ProgressBar(on bool) Option { return func(c *config) { c.progress = p(on) } }
