//go:build amd64 && !purego

#include "textflag.h"

// Eight copies of each constant of the Cephes-style float32 exp:
// lo (-87.3), log2(e), ln2 split C1/C2, polynomial P0..P5, 1.0, bias 127.
DATA expk<>+0(SB)/4, $0xc2ae999a
DATA expk<>+4(SB)/4, $0xc2ae999a
DATA expk<>+8(SB)/4, $0xc2ae999a
DATA expk<>+12(SB)/4, $0xc2ae999a
DATA expk<>+16(SB)/4, $0xc2ae999a
DATA expk<>+20(SB)/4, $0xc2ae999a
DATA expk<>+24(SB)/4, $0xc2ae999a
DATA expk<>+28(SB)/4, $0xc2ae999a
DATA expk<>+32(SB)/4, $0x3fb8aa3b
DATA expk<>+36(SB)/4, $0x3fb8aa3b
DATA expk<>+40(SB)/4, $0x3fb8aa3b
DATA expk<>+44(SB)/4, $0x3fb8aa3b
DATA expk<>+48(SB)/4, $0x3fb8aa3b
DATA expk<>+52(SB)/4, $0x3fb8aa3b
DATA expk<>+56(SB)/4, $0x3fb8aa3b
DATA expk<>+60(SB)/4, $0x3fb8aa3b
DATA expk<>+64(SB)/4, $0x3f318000
DATA expk<>+68(SB)/4, $0x3f318000
DATA expk<>+72(SB)/4, $0x3f318000
DATA expk<>+76(SB)/4, $0x3f318000
DATA expk<>+80(SB)/4, $0x3f318000
DATA expk<>+84(SB)/4, $0x3f318000
DATA expk<>+88(SB)/4, $0x3f318000
DATA expk<>+92(SB)/4, $0x3f318000
DATA expk<>+96(SB)/4, $0xb95e8083
DATA expk<>+100(SB)/4, $0xb95e8083
DATA expk<>+104(SB)/4, $0xb95e8083
DATA expk<>+108(SB)/4, $0xb95e8083
DATA expk<>+112(SB)/4, $0xb95e8083
DATA expk<>+116(SB)/4, $0xb95e8083
DATA expk<>+120(SB)/4, $0xb95e8083
DATA expk<>+124(SB)/4, $0xb95e8083
DATA expk<>+128(SB)/4, $0x39506967
DATA expk<>+132(SB)/4, $0x39506967
DATA expk<>+136(SB)/4, $0x39506967
DATA expk<>+140(SB)/4, $0x39506967
DATA expk<>+144(SB)/4, $0x39506967
DATA expk<>+148(SB)/4, $0x39506967
DATA expk<>+152(SB)/4, $0x39506967
DATA expk<>+156(SB)/4, $0x39506967
DATA expk<>+160(SB)/4, $0x3ab743ce
DATA expk<>+164(SB)/4, $0x3ab743ce
DATA expk<>+168(SB)/4, $0x3ab743ce
DATA expk<>+172(SB)/4, $0x3ab743ce
DATA expk<>+176(SB)/4, $0x3ab743ce
DATA expk<>+180(SB)/4, $0x3ab743ce
DATA expk<>+184(SB)/4, $0x3ab743ce
DATA expk<>+188(SB)/4, $0x3ab743ce
DATA expk<>+192(SB)/4, $0x3c088908
DATA expk<>+196(SB)/4, $0x3c088908
DATA expk<>+200(SB)/4, $0x3c088908
DATA expk<>+204(SB)/4, $0x3c088908
DATA expk<>+208(SB)/4, $0x3c088908
DATA expk<>+212(SB)/4, $0x3c088908
DATA expk<>+216(SB)/4, $0x3c088908
DATA expk<>+220(SB)/4, $0x3c088908
DATA expk<>+224(SB)/4, $0x3d2aa9c1
DATA expk<>+228(SB)/4, $0x3d2aa9c1
DATA expk<>+232(SB)/4, $0x3d2aa9c1
DATA expk<>+236(SB)/4, $0x3d2aa9c1
DATA expk<>+240(SB)/4, $0x3d2aa9c1
DATA expk<>+244(SB)/4, $0x3d2aa9c1
DATA expk<>+248(SB)/4, $0x3d2aa9c1
DATA expk<>+252(SB)/4, $0x3d2aa9c1
DATA expk<>+256(SB)/4, $0x3e2aaaaa
DATA expk<>+260(SB)/4, $0x3e2aaaaa
DATA expk<>+264(SB)/4, $0x3e2aaaaa
DATA expk<>+268(SB)/4, $0x3e2aaaaa
DATA expk<>+272(SB)/4, $0x3e2aaaaa
DATA expk<>+276(SB)/4, $0x3e2aaaaa
DATA expk<>+280(SB)/4, $0x3e2aaaaa
DATA expk<>+284(SB)/4, $0x3e2aaaaa
DATA expk<>+288(SB)/4, $0x3f000000
DATA expk<>+292(SB)/4, $0x3f000000
DATA expk<>+296(SB)/4, $0x3f000000
DATA expk<>+300(SB)/4, $0x3f000000
DATA expk<>+304(SB)/4, $0x3f000000
DATA expk<>+308(SB)/4, $0x3f000000
DATA expk<>+312(SB)/4, $0x3f000000
DATA expk<>+316(SB)/4, $0x3f000000
DATA expk<>+320(SB)/4, $0x3f800000
DATA expk<>+324(SB)/4, $0x3f800000
DATA expk<>+328(SB)/4, $0x3f800000
DATA expk<>+332(SB)/4, $0x3f800000
DATA expk<>+336(SB)/4, $0x3f800000
DATA expk<>+340(SB)/4, $0x3f800000
DATA expk<>+344(SB)/4, $0x3f800000
DATA expk<>+348(SB)/4, $0x3f800000
DATA expk<>+352(SB)/4, $0x0000007f
DATA expk<>+356(SB)/4, $0x0000007f
DATA expk<>+360(SB)/4, $0x0000007f
DATA expk<>+364(SB)/4, $0x0000007f
DATA expk<>+368(SB)/4, $0x0000007f
DATA expk<>+372(SB)/4, $0x0000007f
DATA expk<>+376(SB)/4, $0x0000007f
DATA expk<>+380(SB)/4, $0x0000007f
GLOBL expk<>(SB), RODATA|NOPTR, $384

// func expSumAVX2(dst, x *float32, n int, mx float32) float64
// n is a multiple of 8. dst[i] = e^(x[i]-mx) (0 below -87.3, for NaN and
// -Inf) unless dst is nil; returns the float64 sum.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS mx+24(FP), Y15
	VXORPD Y14, Y14, Y14
	VXORPD Y13, Y13, Y13
	VMOVUPS expk<>+0(SB), Y6
	VMOVUPS expk<>+32(SB), Y7
	VMOVUPS expk<>+64(SB), Y8
	VMOVUPS expk<>+96(SB), Y9
	VMOVUPS expk<>+128(SB), Y10
	VMOVUPS expk<>+160(SB), Y11
	VMOVUPS expk<>+192(SB), Y12
	XORQ BX, BX
loop:
	CMPQ BX, CX
	JGE done
	VMOVUPS (SI)(BX*4), Y0
	VSUBPS Y15, Y0, Y0
	VCMPPS $0x1d, Y6, Y0, Y1
	VMAXPS Y6, Y0, Y0
	VMULPS Y7, Y0, Y2
	VCVTPS2DQ Y2, Y3
	VCVTDQ2PS Y3, Y2
	VFNMADD231PS Y8, Y2, Y0
	VFNMADD231PS Y9, Y2, Y0
	VMOVAPS Y10, Y4
	VFMADD213PS Y11, Y0, Y4
	VFMADD213PS Y12, Y0, Y4
	VFMADD213PS expk<>+224(SB), Y0, Y4
	VFMADD213PS expk<>+256(SB), Y0, Y4
	VFMADD213PS expk<>+288(SB), Y0, Y4
	VMULPS Y0, Y0, Y5
	VFMADD213PS Y0, Y5, Y4
	VADDPS expk<>+320(SB), Y4, Y4
	VPADDD expk<>+352(SB), Y3, Y3
	VPSLLD $23, Y3, Y3
	VMULPS Y3, Y4, Y4
	VANDPS Y1, Y4, Y4
	TESTQ DI, DI
	JZ nostore
	VMOVUPS Y4, (DI)(BX*4)
nostore:
	VCVTPS2PD X4, Y5
	VADDPD Y5, Y14, Y14
	VEXTRACTF128 $1, Y4, X4
	VCVTPS2PD X4, Y5
	VADDPD Y5, Y13, Y13
	ADDQ $8, BX
	JMP loop
done:
	VADDPD Y13, Y14, Y14
	VEXTRACTF128 $1, Y14, X13
	VADDPD X13, X14, X14
	VPERMILPD $1, X14, X13
	VADDSD X13, X14, X14
	MOVSD X14, ret+32(FP)
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int) (mx float32, nan bool)
// n is a multiple of 8. NaN entries are skipped and reported.
TEXT ·maxAVX2(SB), NOSPLIT, $0-21
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0xff800000, AX
	VMOVD AX, X0
	VBROADCASTSS X0, Y0
	VMOVAPS Y0, Y1
	VXORPS Y2, Y2, Y2
	XORQ BX, BX
	MOVQ CX, DX
	ANDQ $-16, DX
loop16:
	CMPQ BX, DX
	JGE tail
	VMOVUPS (SI)(BX*4), Y3
	VMOVUPS 32(SI)(BX*4), Y4
	VCMPPS $3, Y3, Y3, Y5
	VCMPPS $3, Y4, Y4, Y6
	VORPS Y5, Y2, Y2
	VORPS Y6, Y2, Y2
	VMAXPS Y0, Y3, Y0
	VMAXPS Y1, Y4, Y1
	ADDQ $16, BX
	JMP loop16
tail:
	CMPQ BX, CX
	JGE reduce
	VMOVUPS (SI)(BX*4), Y3
	VCMPPS $3, Y3, Y3, Y5
	VORPS Y5, Y2, Y2
	VMAXPS Y0, Y3, Y0
	ADDQ $8, BX
	JMP tail
reduce:
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	MOVSS X0, mx+16(FP)
	VPTEST Y2, Y2
	SETNE nan+20(FP)
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, s float32)
// n is a multiple of 8: x[i] *= s.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1
	XORQ BX, BX
loop:
	CMPQ BX, CX
	JGE done
	VMULPS (SI)(BX*4), Y1, Y0
	VMOVUPS Y0, (SI)(BX*4)
	ADDQ $8, BX
	JMP loop
done:
	VZEROUPPER
	RET

// func firstGTAVX2(x *float32, n int, thr float32) int
// n is a multiple of 8: the first i with x[i] > thr, or n.
TEXT ·firstGTAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS thr+16(FP), Y1
	XORQ BX, BX
loop:
	CMPQ BX, CX
	JGE none
	VCMPPS $0x11, (SI)(BX*4), Y1, Y2
	VMOVMSKPS Y2, AX
	TESTL AX, AX
	JNZ found
	ADDQ $8, BX
	JMP loop
found:
	BSFL AX, AX
	ADDQ AX, BX
	MOVQ BX, ret+24(FP)
	VZEROUPPER
	RET
none:
	MOVQ CX, ret+24(FP)
	VZEROUPPER
	RET

// func countGTAVX2(x *float32, n int, thr float32) int
// n is a multiple of 8: how many x[i] > thr.
TEXT ·countGTAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS thr+16(FP), Y1
	XORQ BX, BX
	XORQ DX, DX
loop:
	CMPQ BX, CX
	JGE done
	VCMPPS $0x11, (SI)(BX*4), Y1, Y2
	VMOVMSKPS Y2, AX
	POPCNTL AX, AX
	ADDQ AX, DX
	ADDQ $8, BX
	JMP loop
done:
	MOVQ DX, ret+24(FP)
	VZEROUPPER
	RET

// func firstInAVX2(x *float32, n int, lo, hi float32) int
// n is a multiple of 8: the first i with lo < x[i] < hi, or n.
TEXT ·firstInAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS lo+16(FP), Y1
	VBROADCASTSS hi+20(FP), Y3
	XORQ BX, BX
loop:
	CMPQ BX, CX
	JGE none
	VMOVUPS (SI)(BX*4), Y0
	VCMPPS $0x1e, Y1, Y0, Y2
	VCMPPS $0x11, Y3, Y0, Y4
	VANDPS Y4, Y2, Y2
	VMOVMSKPS Y2, AX
	TESTL AX, AX
	JNZ found
	ADDQ $8, BX
	JMP loop
found:
	BSFL AX, AX
	ADDQ AX, BX
	MOVQ BX, ret+24(FP)
	VZEROUPPER
	RET
none:
	MOVQ CX, ret+24(FP)
	VZEROUPPER
	RET

// func sumGEAVX2(e, x *float32, n int, thr float32) float64
// n is a multiple of 8: the float64 sum of e[i] over x[i] >= thr.
TEXT ·sumGEAVX2(SB), NOSPLIT, $0-40
	MOVQ e+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS thr+24(FP), Y1
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ BX, BX
loop:
	CMPQ BX, CX
	JGE done
	VCMPPS $0x12, (SI)(BX*4), Y1, Y2
	VANDPS (DI)(BX*4), Y2, Y2
	VCVTPS2PD X2, Y3
	VADDPD Y3, Y6, Y6
	VEXTRACTF128 $1, Y2, X2
	VCVTPS2PD X2, Y3
	VADDPD Y3, Y7, Y7
	ADDQ $8, BX
	JMP loop
done:
	VADDPD Y7, Y6, Y6
	VEXTRACTF128 $1, Y6, X7
	VADDPD X7, X6, X6
	VPERMILPD $1, X6, X7
	VADDSD X7, X6, X6
	MOVSD X6, ret+32(FP)
	VZEROUPPER
	RET

// func expSumAVX512(dst, x *float32, n int, mx float32) float64
// expSumAVX2 sixteen lanes at a time (AVX-512F only); n is a multiple of 16.
TEXT ·expSumAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS mx+24(FP), Z15
	VBROADCASTSS expk<>+0(SB), Z16
	VBROADCASTSS expk<>+32(SB), Z17
	VBROADCASTSS expk<>+64(SB), Z18
	VBROADCASTSS expk<>+96(SB), Z19
	VBROADCASTSS expk<>+128(SB), Z20
	VBROADCASTSS expk<>+160(SB), Z21
	VBROADCASTSS expk<>+192(SB), Z22
	VBROADCASTSS expk<>+224(SB), Z23
	VBROADCASTSS expk<>+256(SB), Z24
	VBROADCASTSS expk<>+288(SB), Z25
	VBROADCASTSS expk<>+320(SB), Z26
	VBROADCASTSS expk<>+352(SB), Z27
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	XORQ BX, BX
loop:
	CMPQ BX, CX
	JGE done
	VMOVUPS (SI)(BX*4), Z0
	VSUBPS Z15, Z0, Z0
	VCMPPS $0x1d, Z16, Z0, K1
	VMAXPS Z16, Z0, Z0
	VMULPS Z17, Z0, Z2
	VCVTPS2DQ Z2, Z3
	VCVTDQ2PS Z3, Z2
	VFNMADD231PS Z18, Z2, Z0
	VFNMADD231PS Z19, Z2, Z0
	VMOVAPS Z20, Z4
	VFMADD213PS Z21, Z0, Z4
	VFMADD213PS Z22, Z0, Z4
	VFMADD213PS Z23, Z0, Z4
	VFMADD213PS Z24, Z0, Z4
	VFMADD213PS Z25, Z0, Z4
	VMULPS Z0, Z0, Z5
	VFMADD213PS Z0, Z5, Z4
	VADDPS Z26, Z4, Z4
	VPADDD Z27, Z3, Z3
	VPSLLD $23, Z3, Z3
	VMULPS.Z Z3, Z4, K1, Z4
	TESTQ DI, DI
	JZ nostore
	VMOVUPS Z4, (DI)(BX*4)
nostore:
	VCVTPS2PD Y4, Z5
	VADDPD Z5, Z13, Z13
	VEXTRACTF64X4 $1, Z4, Y4
	VCVTPS2PD Y4, Z5
	VADDPD Z5, Z14, Z14
	ADDQ $16, BX
	JMP loop
done:
	VADDPD Z14, Z13, Z13
	VEXTRACTF64X4 $1, Z13, Y14
	VADDPD Y14, Y13, Y13
	VEXTRACTF128 $1, Y13, X14
	VADDPD X14, X13, X13
	VPERMILPD $1, X13, X14
	VADDSD X14, X13, X13
	MOVSD X13, ret+32(FP)
	VZEROUPPER
	RET
