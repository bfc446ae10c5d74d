//go:build !amd64

package constrain

func applyMaskWords(logits []float32, mask []uint64) { applyMaskGo(logits, mask) }
