package cache

import (
	"slices"
	"testing"
)

func TestPool(t *testing.T) {
	p := NewPool(4)
	a, ok := p.Alloc(nil, 3)
	if !ok || !slices.Equal(a, []int32{0, 1, 2}) || p.Available() != 1 || p.Used() != 3 {
		t.Fatalf("Alloc(3) = %v, %v; available %d", a, ok, p.Available())
	}
	if b, ok := p.Alloc(nil, 2); ok || len(b) != 0 || p.Available() != 1 {
		t.Fatalf("Alloc(2) with 1 free = %v, %v", b, ok)
	}
	if err := p.Free(a[:2]); err != nil {
		t.Fatal(err)
	}
	if p.Available() != 3 {
		t.Fatalf("available after free = %d, want 3", p.Available())
	}
	got, _ := p.Alloc(nil, 3)
	slices.Sort(got)
	if !slices.Equal(got, []int32{0, 1, 3}) {
		t.Fatalf("re-alloc = %v, want the freed slots and slot 3", got)
	}
	tests := []struct {
		name  string
		slots []int32
	}{
		{"out of range", []int32{9}},
		{"negative", []int32{-1}},
		{"more than used", []int32{0, 1, 2, 3, 0}},
	}
	for _, tc := range tests {
		if err := p.Free(tc.slots); err == nil {
			t.Errorf("%s: Free(%v) succeeded", tc.name, tc.slots)
		}
	}
}
