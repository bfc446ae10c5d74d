package frontend_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/examples/loopback"
	"github.com/sglang-go/sglang/sgl"
	"github.com/sglang-go/sglang/sgl/ir"
)

// onePixelPNG is a valid 1x1 RGB PNG.
var onePixelPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" +
	"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")

// Each section of README.md is one function below; the Example functions
// show how a reader runs them against `sglang serve` on port 30000, and
// TestTutorial runs them all against a loopback server.

// --- Basic usage

var basicQA = sgl.Function(func(s *sgl.State, question string) {
	s.System("You are a helpful assistant than can answer questions.")
	s.User(question)
	s.Assistant(sgl.Gen("answer", sgl.MaxTokens(256)))
})

func basicUsage(ctx context.Context, w io.Writer) error {
	state, err := basicQA.Run(ctx, "List 3 countries and their capitals.")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, state.Get("answer"))
	return nil
}

// --- Multi-turn dialog

var multiTurnQA = sgl.Function(func(s *sgl.State, _ struct{}) {
	s.System("You are a helpful assistant than can answer questions.")
	s.User("Please give me a list of 3 countries and their capitals.")
	s.Assistant(sgl.Gen("first_answer", sgl.MaxTokens(128)))
	s.User("Please give me another list of 3 countries and their capitals.")
	s.Assistant(sgl.Gen("second_answer", sgl.MaxTokens(128)))
})

func multiTurn(ctx context.Context, w io.Writer) error {
	state, err := multiTurnQA.Run(ctx, struct{}{})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "first:", state.Get("first_answer"))
	fmt.Fprintln(w, "second:", state.Get("second_answer"))
	return nil
}

// --- Control flow: read a select's result and branch on it.

var toolUse = sgl.Function(func(s *sgl.State, question string) {
	s.Assistant("To answer this question: ", question, ". I need to use a ",
		sgl.Gen("tool", sgl.Choices("calculator", "search engine")), ". ")
	if s.Get("tool") == "calculator" {
		s.Assistant("The math expression is: ", sgl.Gen("expression"))
	} else {
		s.Assistant("The key word to search is: ", sgl.Gen("word"))
	}
})

func controlFlow(ctx context.Context, w io.Writer) error {
	state, err := toolUse.Run(ctx, "What is 2 * 2?")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "tool:", state.Get("tool"))
	if !slices.Contains([]string{"calculator", "search engine"}, state.Get("tool")) {
		return fmt.Errorf("tool %q is not a choice", state.Get("tool"))
	}
	return nil
}

// --- Parallelism: Fork copies the state; Join gathers the variables.

var tipSuggestion = sgl.Function(func(s *sgl.State, _ struct{}) {
	s.Assistant("Here are two tips for staying healthy: 1. Balanced Diet. 2. Regular Exercise.\n\n")
	forks := s.Fork(2)
	for i, f := range forks {
		f.Assistant(fmt.Sprintf("Now, expand tip %d into a detailed paragraph:", i+1),
			sgl.Gen("detailed_tip", sgl.MaxTokens(64)))
	}
	forks.Join()
	tips := s.Values("detailed_tip")
	s.Assistant("Tip 1: ", tips[0], "\n")
	s.Assistant("Tip 2: ", tips[1], "\n")
	s.Assistant("To summarize the above two tips, I can say:\n", sgl.Gen("summary", sgl.MaxTokens(64)))
})

func parallelism(ctx context.Context, w io.Writer) error {
	state, err := tipSuggestion.Run(ctx, struct{}{})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, state.Get("summary"))
	if n := len(state.Values("detailed_tip")); n != 2 {
		return fmt.Errorf("%d tips", n)
	}
	return nil
}

// --- Constrained decoding: a regular expression.

const ipRegex = `((25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(25[0-5]|2[0-4]\d|[01]?\d\d?)`

var regularExpressionGen = sgl.Function(func(s *sgl.State, _ struct{}) {
	s.User("What is the IP address of the Google DNS servers?")
	s.Assistant(sgl.Gen("answer", sgl.Temperature(0), sgl.Regex(ipRegex)))
})

func constrainedDecoding(ctx context.Context, w io.Writer) error {
	state, err := regularExpressionGen.Run(ctx, struct{}{})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, state.Get("answer"))
	if !regexp.MustCompile(`^(?:` + ipRegex + `)$`).MatchString(state.Get("answer")) {
		return fmt.Errorf("answer %q is no IP address", state.Get("answer"))
	}
	return nil
}

// --- JSON decoding: a regex that spells out the JSON layout.

const characterRegex = `\{\n` +
	`    "name": "[\w\d\s]{1,16}",\n` +
	`    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n` +
	`    "wand": \{\n` +
	`        "wood": "[\w\d\s]{1,16}",\n` +
	`        "length": [0-9]{1,2}\.[0-9]{1,2}\n` +
	`    \},\n` +
	`    "alive": "(Alive|Deceased)"\n` +
	`\}`

var characterGen = sgl.Function(func(s *sgl.State, name string) {
	s.User(name, " is a character in Harry Potter. Please fill in the following information about this character.")
	s.Assistant(sgl.Gen("json_output", sgl.MaxTokens(256), sgl.Regex(characterRegex)))
})

func jsonDecoding(ctx context.Context, w io.Writer) error {
	state, err := characterGen.Run(ctx, "Hermione Granger", sgl.Temperature(0))
	if err != nil {
		return err
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(state.Get("json_output")), &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	fmt.Fprintln(w, v["house"])
	return nil
}

// --- Batching: RunBatch runs the program over many arguments at once.

var textQA = sgl.Function(func(s *sgl.State, question string) {
	s.User(question)
	s.Assistant(sgl.Gen("answer", sgl.Stop("\n"), sgl.MaxTokens(64)))
})

func batching(ctx context.Context, w io.Writer) error {
	states, err := textQA.RunBatch(ctx, []string{
		"What is the capital of the United Kingdom?",
		"What is the capital of France?",
		"What is the capital of Japan?",
	}, sgl.ProgressBar(true))
	if err != nil {
		return err
	}
	for _, s := range states {
		fmt.Fprintln(w, s.Get("answer"))
	}
	return nil
}

// --- Streaming: Stream returns at once; TextIter yields the text.

func streaming(ctx context.Context, w io.Writer) error {
	state, err := textQA.Run(ctx, "What is the capital of France?", sgl.Stream())
	if err != nil {
		return err
	}
	for piece := range state.TextIter(ctx, "answer") {
		fmt.Fprint(w, piece)
	}
	fmt.Fprintln(w)
	return state.Wait(ctx)
}

// --- Complex prompts: open and close roles explicitly.

var chatExample = sgl.Function(func(s *sgl.State, _ struct{}) {
	s.SystemBegin()
	s.Add("You are a helpful assistant.")
	s.Add("Be concise.")
	s.SystemEnd()
	s.UserBegin()
	s.Add("What is the capital of France?")
	s.UserEnd()
	s.AssistantBegin()
	s.Add(sgl.Gen("answer", sgl.MaxTokens(64)))
	s.AssistantEnd()
})

func complexPrompts(ctx context.Context, w io.Writer) error {
	state, err := chatExample.Run(ctx, struct{}{})
	if err != nil {
		return err
	}
	for _, m := range state.Messages() {
		fmt.Fprintf(w, "%s: %s\n", m.Role, m.Text())
	}
	return nil
}

// --- Select methods: how select scores its choices.

var selectMethods = sgl.Function(func(s *sgl.State, _ struct{}) {
	s.User("What is the capital of France?")
	s.Assistant(sgl.Gen("answer", sgl.Choices("Paris", "London", "Berlin"),
		sgl.Method(sgl.GreedyTokenSelection)))
})

func choicesMethods(ctx context.Context, w io.Writer) error {
	state, err := selectMethods.Run(ctx, struct{}{})
	if err != nil {
		return err
	}
	d := state.Decision("answer")
	fmt.Fprintln(w, state.Get("answer"), d.NormalizedPromptLogprobs)
	return nil
}

// --- Multi-modal generation: an image in a user turn (vision models only).

var imageQA = sgl.Function(func(s *sgl.State, q struct{ Image, Question string }) {
	s.User(sgl.Image(q.Image), q.Question)
	s.Assistant(sgl.Gen("answer", sgl.MaxTokens(256)))
})

// exampleImage is the picture the multi-modal section asks about (a path
// or URL).
var exampleImage = "https://raw.githubusercontent.com/sgl-project/sglang/main/examples/assets/example_image.png"

func multiModal(ctx context.Context, w io.Writer) error {
	state, err := imageQA.Run(ctx, struct{ Image, Question string }{
		Image:    exampleImage,
		Question: "Describe this image in a very short sentence.",
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, state.Get("answer"))
	return nil
}

// ExampleFunction shows the setup of every section: point the default
// backend at a running server, then run a program.
func ExampleFunction() {
	sgl.SetDefaultBackend(sgl.RuntimeEndpoint("http://localhost:30000"))
	if err := basicUsage(context.Background(), os.Stdout); err != nil {
		fmt.Println("error:", err)
	}
}

// TestTutorial runs every section against a loopback server on
// stories260K. The constraints are checked; the content is not (the model
// is a toy). Regex sections skip when the server rejects regex; the image
// section must be refused by this text-only model.
func TestTutorial(t *testing.T) {
	eng, dir := loopback.Stories(t)
	url := loopback.Serve(t, eng, dir)
	sgl.SetDefaultBackend(sgl.RuntimeEndpoint(url))
	t.Cleanup(func() { sgl.SetDefaultBackend(nil) })
	// No network in CI: a local 1x1 PNG instead of the URL.
	img := filepath.Join(t.TempDir(), "pixel.png")
	if err := os.WriteFile(img, onePixelPNG, 0o600); err != nil {
		t.Fatal(err)
	}
	exampleImage = img
	sections := []struct {
		name   string
		run    func(context.Context, io.Writer) error
		regex  bool
		refuse bool // must fail on a text-only model
	}{
		{"basic usage", basicUsage, false, false},
		{"multi-turn dialog", multiTurn, false, false},
		{"control flow", controlFlow, false, false},
		{"parallelism", parallelism, false, false},
		{"constrained decoding", constrainedDecoding, true, false},
		{"json decoding", jsonDecoding, true, false},
		{"batching", batching, false, false},
		{"streaming", streaming, false, false},
		{"complex prompts", complexPrompts, false, false},
		{"choices methods", choicesMethods, false, false},
		{"multi-modal", multiModal, false, true},
	}
	for _, sec := range sections {
		t.Run(sec.name, func(t *testing.T) {
			var out strings.Builder
			err := sec.run(context.Background(), &out)
			switch {
			case sec.refuse:
				if !errors.Is(err, ir.ErrBackend) || !strings.Contains(err.Error(), "image") {
					t.Errorf("a text-only model did not refuse the image: err=%v out=%q", err, out.String())
				}
				t.Logf("refused as expected: %v", err)
				return
			case sec.regex && err != nil && strings.Contains(strings.ToLower(err.Error()), "regex"):
				t.Skipf("the server rejects regex constraints: %v", err)
			case err != nil:
				t.Fatal(err)
			}
			if out.Len() == 0 {
				t.Error("no output")
			}
		})
	}
}
