package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// noneType marks Python's None: a typed nil pointer is "defined" (the Go
// value is valid) but is none and falsy, unlike a missing name or key.
type noneType struct{}

var pyNone = (*noneType)(nil)

// pyList is a list from the request (or made by a Python method). It fixes
// gonja's negative indexing (x[-1] of a one-element list) and, since gonja
// turns str + list into string concatenation where Python raises
// TypeError, its String() yields a marker that Render turns into an error
// if it reaches the output. Printing a list ({{ x }}) goes through the
// print filter and never sees the marker.
type pyList []any

const listConcatMarker = "\x00chat:list-as-str\x00"

func (l pyList) String() string { return listConcatMarker }

// GetItem implements gonja's ItemGetter with Python indexing.
func (l pyList) GetItem(key any) (*exec.Value, bool) {
	i, ok := key.(int)
	if !ok {
		return exec.AsValue(nil), false
	}
	if i < 0 {
		i += len(l)
	}
	if i < 0 || i >= len(l) {
		return exec.AsValue(nil), false
	}
	return exec.ToValue(l[i]), true
}

const maxDepth = 64

// messageValue converts a Message into the ordered dict templates see.
func messageValue(m *Message) (*exec.Dict, error) {
	d := exec.NewDict()
	d.Pairs = append(d.Pairs, pair("role", m.Role))
	content, err := contentValue(m.Content)
	if err != nil {
		return nil, err
	}
	d.Pairs = append(d.Pairs, pair("content", content))
	if m.Name != "" {
		d.Pairs = append(d.Pairs, pair("name", m.Name))
	}
	if m.ToolCalls != nil {
		calls := make(pyList, len(m.ToolCalls))
		for i, c := range m.ToolCalls {
			v, err := toTemplateValue(c, 0)
			if err != nil {
				return nil, fmt.Errorf("tool_calls[%d]: %w", i, err)
			}
			calls[i] = v
		}
		d.Pairs = append(d.Pairs, pair("tool_calls", calls))
	}
	if m.ToolCallID != "" {
		d.Pairs = append(d.Pairs, pair("tool_call_id", m.ToolCallID))
	}
	keys := make([]string, 0, len(m.Extra))
	for k := range m.Extra {
		switch k {
		case "role", "content", "name", "tool_calls", "tool_call_id":
			return nil, fmt.Errorf("extra field %q duplicates a fixed field", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := toTemplateValue(m.Extra[k], 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		d.Pairs = append(d.Pairs, pair(k, v))
	}
	return d, nil
}

func pair(k string, v any) *exec.Pair {
	return &exec.Pair{Key: exec.AsValue(k), Value: exec.ToValue(v)}
}

func contentValue(c any) (any, error) {
	switch c := c.(type) {
	case nil:
		return pyNone, nil
	case string:
		return c, nil
	case []Part:
		parts := make(pyList, len(c))
		for i, p := range c {
			parts[i] = partValue(p)
		}
		return parts, nil
	default:
		return toTemplateValue(c, 0)
	}
}

func partValue(p Part) *exec.Dict {
	d := exec.NewDict()
	d.Pairs = append(d.Pairs, pair("type", p.Type))
	switch {
	case p.Type == "text":
		d.Pairs = append(d.Pairs, pair("text", p.Text))
	case p.ImageURL != nil:
		u := exec.NewDict()
		u.Pairs = append(u.Pairs, pair("url", p.ImageURL.URL))
		if p.ImageURL.Detail != "" {
			u.Pairs = append(u.Pairs, pair("detail", p.ImageURL.Detail))
		}
		d.Pairs = append(d.Pairs, pair("image_url", u))
	}
	return d
}

// toTemplateValue converts a Go value into what the engine works with:
// strings, bools, int64, float64, pyNone, []any and *exec.Dict (ordered).
func toTemplateValue(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("value nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		return pyNone, nil
	case string, bool, int64, float64, *exec.Dict:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		return numberValue(x)
	case json.RawMessage:
		return decodeOrdered(x)
	case []byte:
		return decodeOrdered(x)
	case pyList:
		return x, nil
	case []any:
		out := make(pyList, len(x))
		for i, e := range x {
			c, err := toTemplateValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d := exec.NewDict()
		for _, k := range keys {
			c, err := toTemplateValue(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			d.Pairs = append(d.Pairs, pair(k, c))
		}
		return d, nil
	case []Part:
		return contentValue(x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(rv.Uint()), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeOrdered(b)
}

func numberValue(n json.Number) (any, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return nil, fmt.Errorf("bad number %q: %w", n, err)
	}
	return f, nil
}

// decodeOrdered decodes JSON keeping object key order (as *exec.Dict),
// integers as int64 and other numbers as float64, like Python's json.loads.
func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			out := pyList{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return out, nil
		case '{':
			d := exec.NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				setDictKey(d, k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return d, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	case json.Number:
		return numberValue(t)
	case nil:
		return pyNone, nil
	default:
		return t, nil // string, bool
	}
}

// setDictKey sets k like Python's dict: a repeated key keeps its first
// position and takes the last value.
func setDictKey(d *exec.Dict, k string, v any) {
	for _, p := range d.Pairs {
		if p.Key.IsString() && p.Key.String() == k {
			p.Value = exec.ToValue(v)
			return
		}
	}
	d.Pairs = append(d.Pairs, pair(k, v))
}

// UnmarshalJSON decodes an OpenAI chat message: role, content (string,
// array of parts or null), name, tool_calls, tool_call_id; other fields go
// to Extra. Nested objects keep their key order.
func (m *Message) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("chat: message: %w", err)
	}
	*m = Message{}
	for k, v := range raw {
		var err error
		switch k {
		case "role":
			err = json.Unmarshal(v, &m.Role)
		case "name":
			err = json.Unmarshal(v, &m.Name)
		case "tool_call_id":
			err = json.Unmarshal(v, &m.ToolCallID)
		case "content":
			m.Content, err = decodeContent(v)
		case "tool_calls":
			var calls []json.RawMessage
			err = json.Unmarshal(v, &calls)
			if err == nil && calls != nil {
				m.ToolCalls = make([]any, len(calls))
				for i, c := range calls {
					m.ToolCalls[i] = c
				}
			}
		default:
			if m.Extra == nil {
				m.Extra = map[string]any{}
			}
			m.Extra[k] = v
		}
		if err != nil {
			return fmt.Errorf("chat: message field %q: %w", k, err)
		}
	}
	return nil
}

func decodeContent(v json.RawMessage) (any, error) {
	t := bytes.TrimSpace(v)
	switch {
	case len(t) == 0 || bytes.Equal(t, []byte("null")):
		return nil, nil
	case t[0] == '"':
		var s string
		err := json.Unmarshal(t, &s)
		return s, err
	case t[0] == '[':
		var parts []Part
		if err := json.Unmarshal(t, &parts); err != nil {
			return nil, err
		}
		return parts, nil
	}
	return nil, errors.New("content must be a string, an array of parts or null")
}
