package server

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sglang-go/sglang/srt"
)

func TestStringList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    StringList
		wantErr bool
	}{
		{`null`, nil, false},
		{`""`, nil, false},
		{`"\n"`, StringList{"\n"}, false},
		{`["a", "b"]`, StringList{"a", "b"}, false},
		{`[]`, StringList{}, false},
		{`5`, nil, true},
		{`[1]`, nil, true},
	} {
		var s StringList
		err := s.UnmarshalJSON([]byte(tc.in))
		if (err != nil) != tc.wantErr || (!tc.wantErr && !reflect.DeepEqual(s, tc.want)) {
			t.Errorf("%s: got %#v, %v; want %#v (err %v)", tc.in, s, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseGenerate(t *testing.T) {
	def := srt.DefaultSamplingParams()
	seed := uint64(7)
	for _, tc := range []struct {
		name   string
		body   string
		n      int  // requests
		batch  bool // list answer
		stream bool
		check  func(t *testing.T, r []*srt.GenerateRequest)
		err    error
		msg    string
	}{
		{name: "defaults", body: `{"text": "hi"}`, n: 1, check: func(t *testing.T, r []*srt.GenerateRequest) {
			if !reflect.DeepEqual(r[0].Sampling, def) || r[0].Text != "hi" || r[0].LogprobStartLen != -1 {
				t.Fatalf("%+v", r[0])
			}
		}},
		{name: "all nulls keep defaults", body: `{"text": "hi", "sampling_params": {"max_new_tokens": null, "temperature": null,
			"top_p": null, "top_k": null, "min_p": null, "stop": null, "stop_token_ids": null, "n": null, "regex": null,
			"json_schema": null, "stop_regex": null, "ignore_eos": null, "skip_special_tokens": null, "sampling_seed": null},
			"return_logprob": null, "logprob_start_len": null, "top_logprobs_num": null, "stream": null, "rid": null,
			"image_data": null, "input_ids": null}`, n: 1, check: func(t *testing.T, r []*srt.GenerateRequest) {
			if !reflect.DeepEqual(r[0].Sampling, def) || r[0].ReturnLogprob {
				t.Fatalf("%+v", r[0])
			}
		}},
		{name: "sglang names", body: `{"text": "hi", "sampling_params": {"max_new_tokens": 0, "min_new_tokens": 1,
			"temperature": 0, "top_p": 0.5, "top_k": 0, "min_p": 0.1, "repetition_penalty": 1.2, "frequency_penalty": 0.5,
			"presence_penalty": -0.5, "stop": ["x", ""], "stop_token_ids": [2], "ignore_eos": true, "skip_special_tokens": false,
			"spaces_between_special_tokens": true, "sampling_seed": 7}, "return_logprob": true, "logprob_start_len": 0,
			"top_logprobs_num": 3, "return_text_in_logprobs": true, "rid": "r1", "stream": true}`, n: 1, stream: true,
			check: func(t *testing.T, r []*srt.GenerateRequest) {
				want := srt.GenerateRequest{Text: "hi", Sampling: srt.SamplingParams{MaxNewTokens: 0, MinNewTokens: 1, TopP: 0.5,
					TopK: -1, MinP: 0.1, RepetitionPenalty: 1.2, FrequencyPenalty: 0.5, PresencePenalty: -0.5, Stop: []string{"x"},
					StopTokenIDs: []int32{2}, IgnoreEOS: true, Seed: &seed}, ReturnLogprob: true, LogprobStartLen: 0,
					TopLogprobsNum: 3, ReturnTextInLogprobs: true, RID: "r1"}
				if !reflect.DeepEqual(*r[0], want) {
					t.Fatalf("got  %+v\nwant %+v", *r[0], want)
				}
			}},
		{name: "text batch", body: `{"text": ["a", "b"], "return_logprob": [true, false], "rid": ["x", "y"]}`, n: 2, batch: true,
			check: func(t *testing.T, r []*srt.GenerateRequest) {
				if r[1].Text != "b" || !r[0].ReturnLogprob || r[1].ReturnLogprob || r[1].RID != "y" {
					t.Fatalf("%+v %+v", r[0], r[1])
				}
			}},
		{name: "per-item sampling", body: `{"text": ["a", "b"], "sampling_params": [{"max_new_tokens": 1}, {"max_new_tokens": 2}]}`,
			n: 2, batch: true, check: func(t *testing.T, r []*srt.GenerateRequest) {
				if r[0].Sampling.MaxNewTokens != 1 || r[1].Sampling.MaxNewTokens != 2 {
					t.Fatalf("%+v", r)
				}
			}},
		{name: "ids", body: `{"input_ids": [1, 2, 3]}`, n: 1, check: func(t *testing.T, r []*srt.GenerateRequest) {
			if !reflect.DeepEqual(r[0].InputIDs, []int32{1, 2, 3}) {
				t.Fatal(r[0].InputIDs)
			}
		}},
		{name: "ids batch", body: `{"input_ids": [[1], [2, 3]]}`, n: 2, batch: true},
		{name: "n samples", body: `{"text": "a", "rid": "q", "sampling_params": {"n": 3}}`, n: 3, batch: true,
			check: func(t *testing.T, r []*srt.GenerateRequest) {
				if r[2].RID != "q-2" {
					t.Fatalf("rid %q", r[2].RID)
				}
			}},
		{name: "both prompts", body: `{"text": "a", "input_ids": [1]}`, err: ErrBadRequest, msg: "not both"},
		{name: "no prompt", body: `{"sampling_params": {}}`, err: ErrBadRequest, msg: "must be given"},
		{name: "empty batch", body: `{"text": []}`, err: ErrBadRequest},
		{name: "bad text", body: `{"text": {"a": 1}}`, err: ErrBadRequest, msg: "text"},
		{name: "bad ids", body: `{"input_ids": ["a"]}`, err: ErrBadRequest, msg: "input_ids"},
		{name: "bad json", body: `{"text": "a"`, err: ErrBadRequest},
		{name: "bad field type", body: `{"text": "a", "sampling_params": {"max_new_tokens": "5"}}`, err: ErrBadRequest, msg: "max_new_tokens"},
		{name: "negative max", body: `{"text": "a", "sampling_params": {"max_new_tokens": -1}}`, err: ErrBadRequest, msg: "max_new_tokens"},
		{name: "temperature", body: `{"text": "a", "sampling_params": {"temperature": -1}}`, err: ErrBadRequest, msg: "temperature"},
		{name: "top_k", body: `{"text": "a", "sampling_params": {"top_k": -2}}`, err: ErrBadRequest, msg: "top_k"},
		{name: "n zero", body: `{"text": "a", "sampling_params": {"n": 0}}`, err: ErrBadRequest, msg: "n must"},
		{name: "seed", body: `{"text": "a", "sampling_params": {"sampling_seed": -3}}`, err: ErrBadRequest, msg: "sampling_seed"},
		{name: "ebnf", body: `{"text": "a", "sampling_params": {"ebnf": "root ::= x"}}`, err: ErrNotSupported, msg: "ebnf"},
		{name: "json_schema type", body: `{"text": "a", "sampling_params": {"json_schema": 12}}`, err: ErrBadRequest, msg: "json_schema"},
		{name: "stop_regex type", body: `{"text": "a", "sampling_params": {"stop_regex": 5}}`, err: ErrBadRequest, msg: "stop_regex"},
		{name: "length mismatch", body: `{"text": ["a", "b"], "rid": ["x"]}`, err: ErrBadRequest, msg: "rid"},
		{name: "one image", body: `{"text": "a", "image_data": "u1"}`, n: 1, check: images([]string{"u1"})},
		{name: "images of one prompt", body: `{"text": "a", "image_data": ["u1", "u2"]}`, n: 1, check: images([]string{"u1", "u2"})},
		{name: "one image per batch item", body: `{"text": ["a", "b"], "image_data": ["u1", "u2"]}`, n: 2, batch: true,
			check: images([]string{"u1"}, []string{"u2"})},
		{name: "image lists per batch item", body: `{"text": ["a", "b", "c"], "image_data": [["u1", "u2"], null, "u3"]}`, n: 3, batch: true,
			check: images([]string{"u1", "u2"}, nil, []string{"u3"})},
		{name: "same image for the batch", body: `{"text": ["a", "b"], "image_data": "u1"}`, n: 2, batch: true,
			check: images([]string{"u1"}, []string{"u1"})},
		{name: "images times n", body: `{"text": "a", "image_data": "u1", "sampling_params": {"n": 2}}`, n: 2, batch: true,
			check: images([]string{"u1"}, []string{"u1"})},
		{name: "image batch mismatch", body: `{"text": ["a", "b"], "image_data": ["u1"]}`, err: ErrBadRequest, msg: "image_data has 1 items"},
		{name: "image not a string", body: `{"text": "a", "image_data": [5]}`, err: ErrBadRequest, msg: "image_data"},
		{name: "empty image", body: `{"text": "a", "image_data": [""]}`, err: ErrBadRequest, msg: "empty image"},
		{name: "image object", body: `{"text": "a", "image_data": {"url": "x"}}`, err: ErrBadRequest, msg: "image_data"},
		{name: "too many", body: `{"text": ["a", "b"], "sampling_params": {"n": 2500}}`, err: ErrBadRequest, msg: "at most"},
		{name: "negative top logprobs", body: `{"text": "a", "top_logprobs_num": -1}`, err: ErrBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseGenerate(strings.NewReader(tc.body))
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || statusOf(err) != 400 {
					t.Fatalf("err %v, want %v containing %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Reqs) != tc.n || r.Batch != tc.batch || r.Stream != tc.stream {
				t.Fatalf("%d reqs batch=%v stream=%v", len(r.Reqs), r.Batch, r.Stream)
			}
			if tc.check != nil {
				tc.check(t, r.Reqs)
			}
		})
	}
}

func FuzzParseGenerate(f *testing.F) {
	for _, s := range []string{`{"text": "a"}`, `{"text": ["a", "b"], "sampling_params": [{}, null]}`,
		`{"input_ids": [[1], [2]], "rid": ["a", null]}`, `{"text": "a", "sampling_params": {"stop": "x", "n": 2}}`, `null`, `[]`,
		`{"text": "a", "sampling_params": {"json_schema": {"type": "object"}, "stop_regex": ["a+"]}}`,
		`{"text": "a", "sampling_params": {"regex": "[0-9]+", "json_schema": "true"}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r, err := ParseGenerate(strings.NewReader(body))
		if err != nil {
			if st := statusOf(err); st != 400 {
				t.Fatalf("status %d for %v", st, err)
			}
			return
		}
		if len(r.Reqs) == 0 {
			t.Fatal("no requests and no error")
		}
		for _, q := range r.Reqs {
			if (q.Text == "") == (len(q.InputIDs) == 0) {
				t.Fatalf("request without exactly one prompt: %+v", q)
			}
		}
	})
}

// images checks each request's ImageData.
func images(want ...[]string) func(*testing.T, []*srt.GenerateRequest) {
	return func(t *testing.T, r []*srt.GenerateRequest) {
		t.Helper()
		for i, q := range r {
			if !reflect.DeepEqual(q.ImageData, want[i]) {
				t.Fatalf("request %d images %q, want %q", i, q.ImageData, want[i])
			}
		}
	}
}
