package chat

import (
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"
)

// ContentFormat says how a template expects message content, following
// SGLang's detection for /v1/chat/completions.
type ContentFormat int

const (
	// ContentString: content must be a string; text parts are joined.
	ContentString ContentFormat = iota
	// ContentOpenAI: content may be a list of parts the template iterates.
	ContentOpenAI
)

func (f ContentFormat) String() string {
	if f == ContentOpenAI {
		return "openai"
	}
	return "string"
}

// ContentFormat reports whether the template iterates message content
// ("openai": a for loop over message.content, msg.content or m.content, or
// a template that mentions image, audio, video or vision) or expects
// strings ("string"). Built-ins flatten parts themselves and report
// "openai".
func (t *Template) ContentFormat() ContentFormat {
	if t == nil {
		return ContentString
	}
	if t.builtin {
		return ContentOpenAI
	}
	for _, v := range t.variants {
		if v.ContentFormat() == ContentOpenAI {
			return ContentOpenAI
		}
	}
	for _, kw := range []string{"image", "audio", "video", "vision"} {
		if strings.Contains(t.source, kw) {
			return ContentOpenAI
		}
	}
	if t.contentLoop {
		return ContentOpenAI
	}
	return ContentString
}

// NormalizeContent prepares request messages for a template the way
// SGLang does before rendering: for ContentString, list content becomes
// its text parts joined by a space (other parts dropped); for
// ContentOpenAI, image_url parts become {"type": "image"} (and video_url,
// audio_url become video and audio) while text parts stay. String or nil
// content is left alone. msgs is not modified.
func NormalizeContent(msgs []Message, f ContentFormat) []Message {
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		parts, ok := m.Content.([]Part)
		if !ok {
			continue
		}
		if f == ContentString {
			var texts []string
			for _, p := range parts {
				if p.Type == "text" || p.Type == "input_text" {
					texts = append(texts, p.Text)
				}
			}
			out[i].Content = strings.Join(texts, " ")
			continue
		}
		np := make([]Part, 0, len(parts))
		for _, p := range parts {
			switch p.Type {
			case "image_url", "input_image":
				np = append(np, Part{Type: "image"})
			case "video_url":
				np = append(np, Part{Type: "video"})
			case "audio_url":
				np = append(np, Part{Type: "audio"})
			case "text", "input_text":
				np = append(np, Part{Type: "text", Text: p.Text})
			}
		}
		out[i].Content = np
	}
	return out
}

// iteratesContent reports whether a for loop's iterable is message.content
// (or msg/m), possibly filtered, tested or sliced.
func iteratesContent(e nodes.Node) bool {
	for {
		switch n := e.(type) {
		case *nodes.FilteredExpression:
			e = n.Expression
		case *nodes.TestExpression:
			e = n.Expression
		case *nodes.GetSlice:
			e = n.Node
		case *nodes.GetAttribute:
			return n.Attribute == "content" && isMessageName(n.Node)
		case *nodes.GetItem:
			s, ok := n.Arg.(*nodes.String)
			return ok && s.Val == "content" && isMessageName(n.Node)
		default:
			return false
		}
	}
}

func isMessageName(n nodes.Node) bool {
	name, ok := n.(*nodes.Name)
	if !ok || name.Name == nil {
		return false
	}
	switch name.Name.Val {
	case "message", "msg", "m":
		return true
	}
	return false
}
