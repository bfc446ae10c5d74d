package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchText builds about n bytes of mixed English prose, Go code, CJK and
// the recorded case strings, deterministically.
func benchText(tb testing.TB, n int) string {
	var parts []string
	for _, c := range loadCases(tb, "tokenizers", "qwen3", "tokenizer_cases.json") {
		parts = append(parts, c.Text)
	}
	for _, c := range loadCases(tb, "models", "stories260K", "tokenizer_cases.json") {
		parts = append(parts, c.Text)
	}
	words := strings.Fields("the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no more out up into do than about time them some could said its what other only new people very may also like our over such after first two well way even many because these most")
	cjk := []rune("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴")
	code := []string{
		"func (s *Server) handle(ctx context.Context, req *Request) (*Response, error) {\n",
		"\tif err := s.validate(req); err != nil {\n\t\treturn nil, fmt.Errorf(\"server: %w\", err)\n\t}\n",
		"\tfor i := 0; i < len(req.Items); i++ {\n\t\ttotal += req.Items[i].Price * 1.0825\n\t}\n",
		"    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        return self.proj(F.silu(x) * 0.5)\n",
		"const config = { \"model\": \"qwen3\", \"max_tokens\": 2048, \"temperature\": 0.7 };\n",
		"SELECT id, name FROM users WHERE created_at >= '2024-01-01' ORDER BY id DESC LIMIT 100;\n",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for sb.Len() < n {
		switch rng.IntN(10) {
		case 0, 1, 2, 3, 4:
			k := 5 + rng.IntN(30)
			for i := 0; i < k; i++ {
				w := words[rng.IntN(len(words))]
				if i == 0 {
					w = strings.ToUpper(w[:1]) + w[1:]
				}
				sb.WriteString(w)
				if i+1 < k {
					sb.WriteByte(' ')
				}
			}
			fmt.Fprintf(&sb, ". In %d, %d%% of them said \"it's fine\".\n", 1900+rng.IntN(125), rng.IntN(100))
		case 5, 6:
			sb.WriteString(code[rng.IntN(len(code))])
		case 7:
			k := 10 + rng.IntN(40)
			for i := 0; i < k; i++ {
				sb.WriteRune(cjk[rng.IntN(len(cjk))])
			}
			sb.WriteString("。\n")
		default:
			sb.WriteString(parts[rng.IntN(len(parts))])
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func BenchmarkEncodeQwen(b *testing.B) {
	tk := loadTok(b, "tokenizers", "qwen3", "tokenizer.json")
	text := benchText(b, 1<<20)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tk.Encode(text, true)
	}
}

// BenchmarkEncodeQwenCold empties the word cache before every pass.
func BenchmarkEncodeQwenCold(b *testing.B) {
	tk := loadTok(b, "tokenizers", "qwen3", "tokenizer.json")
	text := benchText(b, 1<<20)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		tk.cache.mu.Lock()
		clear(tk.cache.m)
		tk.cache.mu.Unlock()
		b.StartTimer()
		tk.Encode(text, true)
	}
}

func BenchmarkEncodeStoriesGGUF(b *testing.B) {
	tk := loadGGUFTok(b, "models", "stories260K", "stories260K-f32.gguf")
	text := benchText(b, 1<<18)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tk.Encode(text, true)
	}
}

func BenchmarkDecodeQwen(b *testing.B) {
	tk := loadTok(b, "tokenizers", "qwen3", "tokenizer.json")
	text := benchText(b, 1<<20)
	ids := tk.Encode(text, false)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		tk.Decode(ids, true)
	}
}

func BenchmarkStreamQwen(b *testing.B) {
	tk := loadTok(b, "tokenizers", "qwen3", "tokenizer.json")
	text := benchText(b, 1<<16)
	ids := tk.Encode(text, false)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		d := tk.NewDecoder(nil, true)
		for _, id := range ids {
			d.Add(id)
		}
		d.Flush()
	}
}

func BenchmarkLoadQwen(b *testing.B) {
	p := sharedPath(b, "tokenizers", "qwen3", "tokenizer.json")
	for b.Loop() {
		if _, err := FromFile(p); err != nil {
			b.Fatal(err)
		}
	}
}
