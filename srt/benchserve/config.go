package benchserve

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Backends accepted by Config.Backend.
const (
	BackendSGLang       = "sglang"        // native POST /generate
	BackendSGLangNative = "sglang-native" // alias of BackendSGLang
	BackendOAI          = "sglang-oai"    // POST /v1/completions
)

// DefaultVocabSize bounds the prompt token ids when neither Config.VocabSize
// nor the server's /get_model_info gives a vocabulary size.
const DefaultVocabSize = 500

// Sentinel errors.
var (
	// ErrConfig reports an invalid configuration.
	ErrConfig = errors.New("benchserve: bad config")
	// ErrWarmup reports that every warm-up request failed.
	ErrWarmup = errors.New("benchserve: warmup failed")
)

// Detokenizer turns prompt ids into text for the text backend (sglang-oai).
// *tokenizer.Tokenizer implements it. If the value also has
// IsSpecial(int32) bool, special ids are left out of prompts; with
// Piece(int32) string, byte-fallback pieces ("<0x0A>") are too; with
// VocabSize() int, that bounds the ids when Config.VocabSize is 0.
type Detokenizer interface {
	Decode(ids []int32, skipSpecial bool) string
}

// Config is one benchmark run; the fields mirror SGLang's flags.
type Config struct {
	Backend string // BackendSGLang (default) or BackendOAI
	BaseURL string // e.g. http://127.0.0.1:30000
	APIKey  string // sent as "Authorization: Bearer <key>" when set
	Model   string // "model" of OpenAI requests; default: /v1/models' first id

	Dataset    DatasetConfig
	NumPrompts int
	Seed       uint64

	RequestRate    float64 // requests/s; +Inf (or 0) sends all at once
	MaxConcurrency int     // 0: unbounded

	DisableIgnoreEOS bool
	DisableStream    bool
	ReturnLogprob    bool
	ExtraRequestBody map[string]any // merged into every request body
	WarmupRequests   int
	FlushCache       bool          // POST /flush_cache after the warm-up
	Timeout          time.Duration // per request; 0: DefaultTimeout

	VocabSize  int         // prompt ids are drawn from [MinTokenID, VocabSize)
	MinTokenID int         // first id drawn (skips e.g. unk/bos/eos = 0..2)
	Tokenizer  Detokenizer // optional: text for BackendOAI without /v1/detokenize

	Tag        string       // copied to the result
	HTTPClient *http.Client // optional; default: a client tuned for the run
	Log        io.Writer    // progress messages; nil: discarded
}

// DefaultTimeout bounds one request when Config.Timeout is 0.
const DefaultTimeout = 30 * time.Minute

// DefaultConfig returns SGLang's defaults against a local server.
func DefaultConfig() Config {
	return Config{
		Backend:        BackendSGLang,
		BaseURL:        "http://127.0.0.1:30000",
		Dataset:        DefaultDatasetConfig(),
		NumPrompts:     1000,
		Seed:           1,
		RequestRate:    math.Inf(1),
		WarmupRequests: 1,
		MinTokenID:     3,
	}
}

// Validate reports an invalid configuration (wrapping ErrConfig).
func (c *Config) Validate() error {
	switch c.Backend {
	case BackendSGLang, BackendSGLangNative, BackendOAI:
	default:
		return fmt.Errorf("%w: unknown --backend %q (sglang, sglang-native, sglang-oai)", ErrConfig, c.Backend)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --base-url %q is not an http(s) URL", ErrConfig, c.BaseURL)
	}
	if c.NumPrompts < 1 && c.Dataset.Name != DatasetSharedPrefix {
		return fmt.Errorf("%w: --num-prompts must be >= 1 (got %d)", ErrConfig, c.NumPrompts)
	}
	if math.IsNaN(c.RequestRate) || c.RequestRate < 0 {
		return fmt.Errorf("%w: --request-rate must be > 0 or inf (got %g)", ErrConfig, c.RequestRate)
	}
	if c.MaxConcurrency < 0 {
		return fmt.Errorf("%w: --max-concurrency must be >= 1 (got %d)", ErrConfig, c.MaxConcurrency)
	}
	if c.WarmupRequests < 0 {
		return fmt.Errorf("%w: --warmup-requests must be >= 0 (got %d)", ErrConfig, c.WarmupRequests)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: --timeout must be > 0", ErrConfig)
	}
	if c.VocabSize < 0 || c.MinTokenID < 0 || (c.VocabSize > 0 && c.VocabSize <= c.MinTokenID) {
		return fmt.Errorf("%w: token ids [%d, %d) are empty", ErrConfig, c.MinTokenID, c.VocabSize)
	}
	return c.Dataset.Validate()
}

func (c *Config) native() bool { return c.Backend != BackendOAI }

func (c *Config) baseURL() string { return strings.TrimRight(c.BaseURL, "/") }

func (c *Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Config) rate() float64 {
	if c.RequestRate <= 0 {
		return math.Inf(1)
	}
	return c.RequestRate
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}
