// Package programs holds the sgl programs of SGLang's frontend tutorial,
// written in Go, so that the runnable examples (examples/<name>/main.go)
// and the acceptance tests share one definition of each.
//
// Every program is an *sgl.Program of a small argument type; none has side
// effects besides its state, so each can be used with Run and RunBatch on
// any backend. Programs that use Select or a regex need a backend that
// supports them (the SGLang runtime or the in-process engine); on others
// they fail with an error wrapping ir.ErrUnsupported.
package programs

import (
	"fmt"

	"github.com/sglang-go/sglang/sgl"
)

// TwoQuestions is the argument of MultiTurnQA.
type TwoQuestions struct {
	Q1, Q2 string
	// MaxTokens caps each answer (0 means 256, the tutorial's value).
	MaxTokens int
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// BasicQA answers one question in a single user/assistant turn; the
// answer is variable "answer".
var BasicQA = sgl.Function(func(s *sgl.State, question string) {
	s.User(question)
	s.Assistant(sgl.Gen("answer", sgl.MaxTokens(64)))
})

// MultiTurnQA asks two questions in two chat turns after a system prompt;
// the answers are "answer_1" and "answer_2".
var MultiTurnQA = sgl.Function(func(s *sgl.State, q TwoQuestions) {
	n := orDefault(q.MaxTokens, 256)
	s.System("You are a helpful assistant.")
	s.User(q.Q1)
	s.Assistant(sgl.Gen("answer_1", sgl.MaxTokens(n)))
	s.User(q.Q2)
	s.Assistant(sgl.Gen("answer_2", sgl.MaxTokens(n)))
})

// Tools are the choices of ToolUse.
var Tools = []string{"calculator", "search engine"}

// ToolUse picks a tool with a select ("tool"), then branches on the
// decision: the calculator path generates "expression", the search path
// "word". It shows that program control flow can read a variable (which
// waits for the select).
var ToolUse = sgl.Function(func(s *sgl.State, question string) {
	s.Add("To answer this question: ", question, ". I need to use a ",
		sgl.Gen("tool", sgl.Choices(Tools...)), ". ")
	switch s.Get("tool") {
	case "calculator":
		s.Add("The math expression is", sgl.Gen("expression", sgl.MaxTokens(32), sgl.Stop("\n")))
	case "search engine":
		s.Add("The key word to search is", sgl.Gen("word", sgl.MaxTokens(32), sgl.Stop("\n")))
	}
})

// TipArgs is the argument of TipSuggestion.
type TipArgs struct {
	Topic string
	// Tips is the number of forks (0 means 2, as in the tutorial).
	Tips int
	// MaxTokens caps each expanded tip (0 means 256).
	MaxTokens int
	// KeepForks, when set, receives the forks (to read their meta info,
	// e.g. cached_tokens). Leave it nil under RunBatch.
	KeepForks *sgl.Forks
}

// TipSuggestion lists tips, forks once per tip to expand each one in
// parallel ("detailed_tip", joined into a list on the parent), and writes a
// summary.
var TipSuggestion = sgl.Function(func(s *sgl.State, a TipArgs) {
	n := orDefault(a.Tips, 2)
	s.Add("Here are two tips for staying healthy: 1. Balanced Diet. 2. Regular Exercise.\n\n")
	if a.Topic != "" {
		s.Add("Topic: ", a.Topic, "\n\n")
	}
	forks := s.Fork(n)
	for i, f := range forks {
		f.Add(fmt.Sprintf("Now, expand tip %d into a paragraph:\n", i+1),
			sgl.Gen("detailed_tip", sgl.MaxTokens(orDefault(a.MaxTokens, 256)), sgl.Stop("\n\n")))
	}
	forks.Join()
	if a.KeepForks != nil {
		*a.KeepForks = forks
	}
	for i, tip := range s.Values("detailed_tip") {
		s.Add(fmt.Sprintf("Tip %d:", i+1), tip, "\n")
	}
	s.Add("In summary", sgl.Gen("summary", sgl.MaxTokens(64)))
})

// IPRegex matches a dotted IPv4 address (each octet 0-255).
const IPRegex = `((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)`

// RegularExpressionGen answers with an IPv4 address constrained by
// IPRegex ("answer").
var RegularExpressionGen = sgl.Function(func(s *sgl.State, question string) {
	s.Add("Q: ", question, "\n")
	s.Add("A: ", sgl.Gen("answer", sgl.Temperature(0), sgl.Regex(IPRegex)))
})

// CharacterRegex constrains a character sheet to a fixed JSON layout.
const CharacterRegex = `\{\n` +
	`    "name": "[\w ]{1,16}",\n` +
	`    "house": "(Gryffindor|Slytherin|Ravenclaw|Hufflepuff)",\n` +
	`    "blood status": "(Pure-blood|Half-blood|Muggle-born)",\n` +
	`    "wand": \{\n` +
	`        "wood": "[\w ]{1,16}",\n` +
	`        "length": [0-9]{1,2}\.[0-9]{1,2}\n` +
	`    \},\n` +
	`    "alive": "(Alive|Deceased)"\n` +
	`\}`

// Character is the JSON CharacterGen produces.
type Character struct {
	Name        string `json:"name"`
	House       string `json:"house"`
	BloodStatus string `json:"blood status"`
	Wand        struct {
		Wood   string  `json:"wood"`
		Length float64 `json:"length"`
	} `json:"wand"`
	Alive string `json:"alive"`
}

// CharacterGen fills a character sheet as JSON constrained by
// CharacterRegex ("json_output").
var CharacterGen = sgl.Function(func(s *sgl.State, name string) {
	s.Add(name, " is a character in Harry Potter. Please fill in the following information about this character.\n")
	s.Add(sgl.Gen("json_output", sgl.MaxTokens(256), sgl.Regex(CharacterRegex)))
})

// TextQA answers a question on one line ("answer"); it is the tutorial's
// batch program.
var TextQA = sgl.Function(func(s *sgl.State, question string) {
	s.Add("Q: ", question, "\n")
	s.Add("A:", sgl.Gen("answer", sgl.Stop("\n"), sgl.MaxTokens(32)))
})

// ChatExample writes its messages with explicit role begin/end calls
// instead of the wrapping helpers ("answer").
var ChatExample = sgl.Function(func(s *sgl.State, question string) {
	s.SystemBegin()
	s.Add("You are a helpful assistant.")
	s.SystemEnd()
	s.UserBegin()
	s.Add(question)
	s.UserEnd()
	s.AssistantBegin()
	s.Add(sgl.Gen("answer", sgl.MaxTokens(64)))
	s.AssistantEnd()
})

// ImageQuestion is the argument of ImageQA.
type ImageQuestion struct {
	// Image is a file path, an http(s) URL, a data URL or the bytes.
	Image    any
	Question string
}

// ImageQA asks a question about an image ("answer"). The backend must
// take images.
var ImageQA = sgl.Function(func(s *sgl.State, q ImageQuestion) {
	s.User(sgl.Image(q.Image), q.Question)
	s.Assistant(sgl.Gen("answer", sgl.MaxTokens(128)))
})
