package sgl

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/sglang-go/sglang/sgl/ir"
)

// Expr is something a program adds that runs against the backend: Gen,
// Select or Image.
type Expr interface {
	exec(s *State) error
}

type genExpr struct {
	name string
	cfg  *config
}

// Gen generates text into variable name (name may be empty to keep no
// variable). Options set sampling parameters (overriding run-level ones); a
// Choices option makes it a Select.
func Gen(name string, opts ...Option) Expr {
	c := newConfig(opts)
	if c.choices != nil {
		return &selectExpr{name: name, choices: c.choices, cfg: c}
	}
	return &genExpr{name: name, cfg: c}
}

// GenInt generates an integer (dtype int); read it with State.Int.
func GenInt(name string, opts ...Option) Expr {
	return Gen(name, append(opts, WithDtype(DtypeInt))...)
}

// GenFloat generates a number (dtype float); read it with State.Float.
func GenFloat(name string, opts ...Option) Expr {
	return Gen(name, append(opts, WithDtype(DtypeFloat))...)
}

// GenBool generates True or False (dtype bool); read it with State.Bool.
func GenBool(name string, opts ...Option) Expr {
	return Gen(name, append(opts, WithDtype(DtypeBool))...)
}

// GenString generates a double-quoted string (dtype str).
func GenString(name string, opts ...Option) Expr {
	return Gen(name, append(opts, WithDtype(DtypeString))...)
}

func (g *genExpr) exec(s *State) error {
	t, err := s.template()
	if err != nil {
		return err
	}
	req := &ir.GenRequest{Prompt: *s.prompt(), Sampling: resolveSampling(s.run, g.cfg, t)}
	if st, ok := s.backend.(ir.Streamer); ok && s.run.stream {
		return g.stream(s, st, req)
	}
	res, err := s.backend.Generate(s.ctx, req)
	if err != nil {
		return fmt.Errorf("sgl: gen %q: %w", g.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text += res.Text
	if g.name != "" {
		s.vars[g.name] = res.Text
		s.meta[g.name] = res.Meta
		s.streams[g.name] = &varStream{text: res.Text, done: true}
	}
	s.notifyLocked()
	return nil
}

func (g *genExpr) stream(s *State, st ir.Streamer, req *ir.GenRequest) error {
	vs := &varStream{}
	s.mu.Lock()
	if g.name != "" {
		s.streams[g.name] = vs
	}
	s.mu.Unlock()
	var meta ir.MetaInfo
	var failed error
	for chunk, err := range st.GenerateStream(s.ctx, req) {
		if err != nil {
			failed = fmt.Errorf("sgl: gen %q: %w", g.name, err)
			break
		}
		meta = chunk.Meta
		s.mu.Lock()
		s.text += chunk.Text
		vs.text += chunk.Text
		s.notifyLocked()
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vs.done = true
	if failed == nil && g.name != "" {
		s.vars[g.name] = vs.text
		s.meta[g.name] = meta
	}
	s.notifyLocked()
	return failed
}

type selectExpr struct {
	name    string
	choices []string
	cfg     *config
}

// Select picks one of choices by the model's token logprobs and appends it
// (SGLang's select; temperature must be 0). The Method option picks the
// scoring method; the default is TokenLengthNormalized.
func Select(name string, choices []string, opts ...Option) Expr {
	return &selectExpr{name: name, choices: append([]string{}, choices...), cfg: newConfig(opts)}
}

func (e *selectExpr) exec(s *State) error {
	m := e.cfg.method
	if m == "" {
		m = ir.TokenLengthNormalized
	}
	if !m.Valid() {
		return fmt.Errorf("%w: select %q: unknown method %q", ir.ErrInvalid, e.name, m)
	}
	if len(e.choices) == 0 {
		return fmt.Errorf("%w: select %q has no choices", ir.ErrInvalid, e.name)
	}
	if t := e.cfg.temperature; t != nil && *t > 1e-5 {
		return fmt.Errorf("%w: select %q: only temperature 0 is supported, got %g", ir.ErrInvalid, e.name, *t)
	}
	sc, ok := s.backend.(ir.ChoiceScorer)
	if !ok {
		return fmt.Errorf("%w: select %q: backend %T cannot score choices by token logprobs", ir.ErrUnsupported, e.name, s.backend)
	}
	lp, err := sc.ScoreChoices(s.ctx, s.prompt(), e.choices, m.NeedsUnconditional())
	if err != nil {
		return fmt.Errorf("sgl: select %q: %w", e.name, err)
	}
	d, err := ir.Decide(m, e.choices, lp)
	if err != nil {
		return fmt.Errorf("sgl: select %q: %w", e.name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text += d.Choice
	if e.name != "" {
		s.vars[e.name] = d.Choice
		s.decisions[e.name] = d
		s.streams[e.name] = &varStream{text: d.Choice, done: true}
	}
	s.notifyLocked()
	return nil
}

type imageExpr struct {
	src any
}

// Image adds an image: a file path, an http(s) URL, a data URL, or the
// file's bytes. It appends the chat template's image token and sends the
// image with every later request. A backend that cannot take images fails
// the program.
func Image(src any) Expr { return &imageExpr{src: src} }

func (e *imageExpr) exec(s *State) error {
	if ia, ok := s.backend.(ir.ImageAcceptor); !ok || !ia.AcceptsImages() {
		return fmt.Errorf("%w: backend %T does not take images", ir.ErrUnsupported, s.backend)
	}
	t, err := s.template()
	if err != nil {
		return err
	}
	im, err := loadImage(s.ctx, e.src)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.images = append(s.images, im)
	s.curImages = append(s.curImages, im)
	s.text += t.ImageToken
	s.notifyLocked()
	return nil
}

// loadImage reads an image source into base64.
func loadImage(ctx context.Context, src any) (ir.Image, error) {
	switch v := src.(type) {
	case []byte:
		return ir.Image{Source: "<bytes>", Base64: base64.StdEncoding.EncodeToString(v)}, nil
	case string:
		switch {
		case strings.HasPrefix(v, "data:"):
			_, data, ok := strings.Cut(v, ";base64,")
			if !ok {
				return ir.Image{}, fmt.Errorf("%w: image data URL is not base64", ir.ErrInvalid)
			}
			return ir.Image{Source: "<data url>", Base64: data}, nil
		case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, v, nil)
			if err != nil {
				return ir.Image{}, fmt.Errorf("%w: image URL: %w", ir.ErrInvalid, err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return ir.Image{}, fmt.Errorf("sgl: image %s: %w", v, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return ir.Image{}, fmt.Errorf("sgl: image %s: HTTP %d", v, resp.StatusCode)
			}
			b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			if err != nil {
				return ir.Image{}, fmt.Errorf("sgl: image %s: %w", v, err)
			}
			return ir.Image{Source: v, Base64: base64.StdEncoding.EncodeToString(b)}, nil
		default:
			b, err := os.ReadFile(v)
			if err != nil {
				return ir.Image{}, fmt.Errorf("sgl: image: %w", err)
			}
			return ir.Image{Source: v, Base64: base64.StdEncoding.EncodeToString(b)}, nil
		}
	}
	return ir.Image{}, fmt.Errorf("%w: image source of type %T (want path, URL or []byte)", ir.ErrInvalid, src)
}
