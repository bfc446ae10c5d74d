#include "textflag.h"

// func applyMaskAVX512(logits *float32, mask *uint64, words int)
TEXT ·applyMaskAVX512(SB), NOSPLIT, $0-24
	MOVQ logits+0(FP), DI
	MOVQ mask+8(FP), SI
	MOVQ words+16(FP), CX
	MOVL $0xFF800000, AX
	VPBROADCASTD AX, Z0

loop:
	TESTQ CX, CX
	JZ    done
	KMOVW 0(SI), K1
	KNOTW K1, K1
	VMOVUPS Z0, K1, 0(DI)
	KMOVW 2(SI), K2
	KNOTW K2, K2
	VMOVUPS Z0, K2, 64(DI)
	KMOVW 4(SI), K3
	KNOTW K3, K3
	VMOVUPS Z0, K3, 128(DI)
	KMOVW 6(SI), K4
	KNOTW K4, K4
	VMOVUPS Z0, K4, 192(DI)
	ADDQ  $8, SI
	ADDQ  $256, DI
	DECQ  CX
	JMP   loop

done:
	VZEROUPPER
	RET
