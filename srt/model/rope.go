package model

import "math"

// ropeFreqs returns the HeadDim/2 inverse frequencies theta^(-2i/d), with
// rope_scaling applied (Llama 3's smooth low/high-frequency blend, or linear).
func ropeFreqs(c *Config) []float64 {
	half := c.HeadDim / 2
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(c.HeadDim))
	}
	for i, f := range c.RopeFactors {
		inv[i] /= float64(f)
	}
	s := c.RopeScaling
	if s == nil || c.RopeFactors != nil {
		return inv
	}
	switch s.kind() {
	case "linear":
		for i := range inv {
			inv[i] /= s.Factor
		}
	case "llama3":
		old := s.OriginalMaxPositionEmbeddings
		if old == 0 {
			old = 8192
		}
		low, high := s.LowFreqFactor, s.HighFreqFactor
		if low == 0 {
			low = 1
		}
		if high == 0 {
			high = 4
		}
		lowWavelen, highWavelen := old/low, old/high
		for i, f := range inv {
			wavelen := 2 * math.Pi / f
			switch {
			case wavelen < highWavelen:
			case wavelen > lowWavelen:
				inv[i] = f / s.Factor
			default:
				smooth := (old/wavelen - low) / (high - low)
				inv[i] = (1-smooth)*f/s.Factor + smooth*f
			}
		}
	}
	return inv
}

// fillRope writes cos and sin tables [len(pos)][len(inv)] for the positions.
func fillRope(cos, sin []float32, pos []int32, inv []float64) {
	half := len(inv)
	for r, p := range pos {
		for i, f := range inv {
			s, c := math.Sincos(float64(p) * f)
			cos[r*half+i] = float32(c)
			sin[r*half+i] = float32(s)
		}
	}
}
