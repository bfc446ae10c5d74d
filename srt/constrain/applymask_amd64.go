package constrain

import "golang.org/x/sys/cpu"

// applyMaskAVX512 writes -Inf into the lanes of logits[0:64*words] whose
// mask bit is clear, 16 lanes per masked store.
//
//go:noescape
func applyMaskAVX512(logits *float32, mask *uint64, words int)

var useAVX512 = cpu.X86.HasAVX512F

func applyMaskWords(logits []float32, mask []uint64) {
	if useAVX512 {
		applyMaskAVX512(&logits[0], &mask[0], len(mask))
		return
	}
	applyMaskGo(logits, mask)
}
