package model

import (
	"fmt"

	"github.com/sglang-go/sglang/srt/tensor"
)

// loader reads weights by name, checks their shapes, and keeps the first
// error so a builder reads like a list of weights.
type loader struct {
	w   Weights
	err error
}

func (l *loader) tensor(name string) *tensor.Tensor {
	if l.err != nil {
		return nil
	}
	t, err := l.w.Tensor(name)
	if err != nil {
		l.err = fmt.Errorf("%w: %w", ErrWeights, err)
		return nil
	}
	return t
}

// matrix loads a [rows, cols] weight in place (no copy).
func (l *loader) matrix(name string, rows, cols int) *tensor.Matrix {
	t := l.tensor(name)
	if t == nil {
		return nil
	}
	if len(t.Shape) != 2 || t.Shape[0] != rows || t.Shape[1] != cols {
		l.err = fmt.Errorf("%w: %s has shape %v, want [%d %d]", ErrWeights, name, t.Shape, rows, cols)
		return nil
	}
	m, err := t.Matrix()
	if err != nil {
		l.err = fmt.Errorf("%w: %s: %w", ErrWeights, name, err)
		return nil
	}
	return m
}

// vector loads a [n] weight (norm scale, bias) as float32, converting from
// the stored type.
func (l *loader) vector(name string, n int) []float32 {
	t := l.tensor(name)
	if t == nil {
		return nil
	}
	if len(t.Shape) != 1 || t.Shape[0] != n {
		l.err = fmt.Errorf("%w: %s has shape %v, want [%d]", ErrWeights, name, t.Shape, n)
		return nil
	}
	m, err := t.Matrix()
	if err != nil {
		l.err = fmt.Errorf("%w: %s: %w", ErrWeights, name, err)
		return nil
	}
	v := make([]float32, n)
	m.Row(0, v)
	return v
}
