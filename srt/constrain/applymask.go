package constrain

import (
	"math"
	"unsafe"
)

const (
	negInfBits = 0xFF800000
	negInfPair = negInfBits<<32 | negInfBits
)

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// pairKeep[b] keeps the low float32 of a pair if bit 0 of b is set and the
// high one if bit 1 is (little-endian layout).
var pairKeep = [4]uint64{0, 0x00000000FFFFFFFF, 0xFFFFFFFF00000000, ^uint64(0)}

// ApplyMask sets logits[i] to -Inf for every id i whose bit is clear in
// mask; ids beyond the mask are disallowed too. It does not allocate. On
// amd64 with AVX-512 it uses masked vector stores.
func ApplyMask(logits []float32, mask []uint64) {
	n := len(logits)
	full := min(n/64, len(mask))
	if full > 0 {
		applyMaskWords(logits[:full*64], mask[:full])
	}
	ninf := float32(math.Inf(-1))
	for i := full * 64; i < n; i++ {
		w := i >> 6
		if w >= len(mask) || mask[w]&(1<<uint(i&63)) == 0 {
			logits[i] = ninf
		}
	}
}

// applyMaskGo is the portable kernel: len(logits) == 64*len(mask).
func applyMaskGo(logits []float32, mask []uint64) {
	ninf := float32(math.Inf(-1))
	for w, bits := range mask {
		if bits == ^uint64(0) {
			continue
		}
		row := logits[w*64 : w*64+64 : w*64+64]
		if bits == 0 {
			for i := range row {
				row[i] = ninf
			}
			continue
		}
		if littleEndian && uintptr(unsafe.Pointer(&row[0]))%8 == 0 {
			// Two logits per uint64: pick a keep mask for each bit pair.
			pairs := unsafe.Slice((*uint64)(unsafe.Pointer(&row[0])), 32)
			for j := range pairs {
				keep := pairKeep[(bits>>(2*uint(j)))&3]
				pairs[j] = pairs[j]&keep | negInfPair&^keep
			}
			continue
		}
		// Branch-free select: keep the logit's bits where the mask bit is
		// set, else write -Inf.
		for i := range row {
			keep := -uint32((bits >> uint(i)) & 1)
			row[i] = math.Float32frombits(math.Float32bits(row[i])&keep | negInfBits&^keep)
		}
	}
}
