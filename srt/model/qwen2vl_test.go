package model_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sglang-go/sglang/srt/model"
	"github.com/sglang-go/sglang/srt/model/testmodel"
	"github.com/sglang-go/sglang/srt/tensor"
)

var update = flag.Bool("update", false, "regenerate testdata/vl_golden_*.json with testdata/vl_reference.py (/usr/bin/python3 + numpy)")

var vlArchs = []string{"qwen2_vl", "qwen2_5_vl"}

// Grids of the reference cases: uneven windows (5x7 merged units), two
// frames, and a frame that is a whole number of windows.
var vlGrids = [][3]int{{1, 10, 14}, {2, 4, 6}, {1, 8, 16}}

// writeVL writes the default test model of arch (seed 7) to a temp folder.
func writeVL(t testing.TB, arch string, o testmodel.Options) string {
	t.Helper()
	o.Arch, o.Out, o.Seed = arch, filepath.Join(t.TempDir(), arch), 7
	if err := testmodel.Write(o); err != nil {
		t.Fatal(err)
	}
	return o.Out
}

func loadVL(t testing.TB, dir string) (*model.Qwen2VL, *tensor.CPU) {
	t.Helper()
	cpu := tensor.NewCPU(tensor.Options{})
	t.Cleanup(cpu.Close)
	m, err := model.LoadHF(dir, cpu)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	vl, ok := m.(*model.Qwen2VL)
	if !ok {
		t.Fatalf("LoadHF gave %T, want *model.Qwen2VL", m)
	}
	return vl, cpu
}

// refPixels is the synthetic pixel_values vl_reference.py also builds.
func refPixels(rows, dim int) []float32 {
	px := make([]float32, rows*dim)
	for i := range px {
		x := float64(i)
		px[i] = float32(math.Sin(0.0137*x)*1.5 + math.Cos(0.00071*x))
	}
	return px
}

type vlGolden struct {
	Arch  string `json:"arch"`
	Cases []struct {
		Grid     [3]int    `json:"grid"`
		Features []float64 `json:"features"`
	} `json:"cases"`
}

func TestVisionTowerMatchesReference(t *testing.T) {
	for _, arch := range vlArchs {
		t.Run(arch, func(t *testing.T) {
			dir := writeVL(t, arch, testmodel.Options{})
			golden := filepath.Join("testdata", "vl_golden_"+arch+".json")
			if *update {
				args := []string{filepath.Join("testdata", "vl_reference.py"), dir}
				for _, g := range vlGrids {
					args = append(args, fmt.Sprintf("%d,%d,%d", g[0], g[1], g[2]))
				}
				out, err := exec.Command("/usr/bin/python3", args...).Output()
				if err != nil {
					t.Fatalf("vl_reference.py: %v", err)
				}
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestVisionTowerMatchesReference -update)", err)
			}
			var g vlGolden
			if err := json.Unmarshal(b, &g); err != nil {
				t.Fatal(err)
			}
			if len(g.Cases) != len(vlGrids) {
				t.Fatalf("golden has %d cases, want %d", len(g.Cases), len(vlGrids))
			}
			m, _ := loadVL(t, dir)
			info := m.VisionInfo()
			for _, c := range g.Cases {
				n := c.Grid[0] * c.Grid[1] * c.Grid[2]
				got, err := m.EncodeImage(context.Background(), refPixels(n, info.PatchDim), c.Grid)
				if err != nil {
					t.Fatal(err)
				}
				if want := n / 4 * info.OutHidden; len(got) != want || len(c.Features) != want {
					t.Fatalf("grid %v: %d features, golden %d, want %d", c.Grid, len(got), len(c.Features), want)
				}
				checkClose(t, fmt.Sprint(c.Grid), got, c.Features, 1e-4)
			}
		})
	}
}

// checkClose requires |got-want| <= tol*max(|want|, rms(want)/10) per value:
// relative, except near zero where the scale of the whole output counts.
func checkClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	var ss float64
	for _, w := range want {
		ss += w * w
	}
	floor := math.Sqrt(ss/float64(len(want))) / 10
	worst, at := 0.0, 0
	for i, w := range want {
		e := math.Abs(float64(got[i])-w) / math.Max(math.Abs(w), floor)
		if e > worst {
			worst, at = e, i
		}
	}
	t.Logf("%s: worst relative error %.3g", what, worst)
	if worst > tol {
		t.Errorf("%s: value %d = %v, reference %v (relative error %.3g > %g)", what, at, got[at], want[at], worst, tol)
	}
}
