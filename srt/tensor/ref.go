package tensor

import "math"

// Reference twins: straightforward, allocation-happy, float64-accumulating
// implementations that the tests hold the fast kernels to.

// RefMatMul is the reference for MatMul over the dequantized weights
// (all DTypes; for Q8_0 and Q4_0 with n <= 8 see RefMatMulQ8).
func RefMatMul(out, x []float32, n int, w *Matrix) {
	row := make([]float32, w.Cols)
	for r := 0; r < w.Rows; r++ {
		w.Row(r, row)
		for i := 0; i < n; i++ {
			var s float64
			for k, v := range row {
				s += float64(x[i*w.Cols+k]) * float64(v)
			}
			out[i*w.Rows+r] = float32(s)
		}
	}
}

// RefMatMulQ8 is the reference for MatMul's int8 path over Q8_0 and Q4_0
// weights: each activation row is quantized per 32-block (d = amax/127 as
// float32, q = round(x/d)) and multiplied with the weights' integer blocks.
func RefMatMulQ8(out, x []float32, n int, w *Matrix) {
	K := w.Cols
	nb := K / 32
	xq, xd := quantizeActs(nil, nil, x[:n*K], quantActsGo)
	rb := w.DType.RowBytes(K)
	bb := w.DType.BlockBytes()
	wq := func(blk []byte, t int) int64 {
		if w.DType == Q4_0 {
			if t < 16 {
				return int64(blk[2+t]&15) - 8
			}
			return int64(blk[2+t-16]>>4) - 8
		}
		return int64(int8(blk[2+t]))
	}
	for r := 0; r < w.Rows; r++ {
		wr := w.Data[r*rb : (r+1)*rb]
		for i := 0; i < n; i++ {
			var s float64
			for b := 0; b < nb; b++ {
				blk := wr[bb*b : bb*(b+1)]
				var is int64
				for t := 0; t < 32; t++ {
					is += int64(xq[i*K+32*b+t]) * wq(blk, t)
				}
				dw := F16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
				s += float64(is) * float64(dw) * float64(xd[i*nb+b])
			}
			out[i*w.Rows+r] = float32(s)
		}
	}
}

// RefAttention is the reference for Attention.
func RefAttention(out, q, k, v []float32, slots [][]int32, p AttnParams) {
	hd := p.HeadDim
	kd := p.NKVHeads * hd
	group := p.NHeads / p.NKVHeads
	for i, row := range slots {
		for h := 0; h < p.NHeads; h++ {
			qh := q[(i*p.NHeads+h)*hd:][:hd]
			kvh := h / group
			sc := make([]float64, len(row))
			m := math.Inf(-1)
			for j, s := range row {
				kr := k[int(s)*kd+kvh*hd:][:hd]
				var d float64
				for t := range qh {
					d += float64(qh[t]) * float64(kr[t])
				}
				sc[j] = float64(p.Scale) * d
				m = math.Max(m, sc[j])
			}
			var sum float64
			for j := range sc {
				sc[j] = math.Exp(sc[j] - m)
				sum += sc[j]
			}
			o := out[(i*p.NHeads+h)*hd:][:hd]
			for t := range o {
				var a float64
				for j, s := range row {
					a += sc[j] * float64(v[int(s)*kd+kvh*hd+t])
				}
				o[t] = float32(a / sum)
			}
		}
	}
}

// RefSoftmax is the reference for Softmax.
func RefSoftmax(x []float32) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var sum float64
	e := make([]float64, len(x))
	for i, v := range x {
		e[i] = math.Exp(float64(v) - m)
		sum += e[i]
	}
	for i := range x {
		x[i] = float32(e[i] / sum)
	}
}

// RefSiLUMul is the reference for SiLUMul.
func RefSiLUMul(gate, up []float32) {
	for i, g := range gate {
		gf := float64(g)
		gate[i] = float32(gf / (1 + math.Exp(-gf)) * float64(up[i]))
	}
}

// RefRMSNorm is the reference for RMSNorm.
func RefRMSNorm(out, x, weight []float32, n int, eps float32) {
	d := len(weight)
	for i := 0; i < n; i++ {
		var ss float64
		for _, v := range x[i*d : (i+1)*d] {
			ss += float64(v) * float64(v)
		}
		s := 1 / math.Sqrt(ss/float64(d)+float64(eps))
		for j, w := range weight {
			out[i*d+j] = float32(float64(x[i*d+j]) * s * float64(w))
		}
	}
}
