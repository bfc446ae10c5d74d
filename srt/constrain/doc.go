// Package constrain builds the automata behind constrained decoding: a regular
// expression (or a JSON schema translated to one) becomes a byte-level DFA that
// is determinized lazily, and each DFA state yields the set of vocabulary tokens
// whose bytes keep the output on a path to a full match.
//
// Contract:
//   - Full-match semantics: a finished output (the bytes of all accepted tokens,
//     EOS excluded) matches the whole pattern, as if anchored with ^...$.
//   - Every token allowed by a mask leads to a DFA state from which an accepting
//     state is still reachable, so a sampler that only picks allowed tokens can
//     always finish. EOS ids are allowed only in accepting states; tokens with an
//     empty byte string (special and control tokens) are never allowed.
//   - Patterns use Python re syntax as outlines accepts it, translated to Go's
//     regexp/syntax. \d, \w, \s and \b are ASCII classes (as in Go and RE2);
//     look-around, back-references, possessive and atomic groups are rejected
//     with an error that names the position in the pattern.
//   - A Grammar is immutable from the outside, shared by all requests and safe
//     for concurrent use; its DFA states and per-state token masks are built on
//     demand and cached. Building more than Options.MaxStates states is an error
//     wrapping ErrTooComplex (returned by Accept, and kept by the Matcher in
//     Err, whose Mask then allows nothing but EOS).
//   - A Matcher is the per-request cursor; it is not safe for concurrent use.
//   - Errors are prefixed with "constrain:" and wrap the sentinel errors below.
package constrain

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalidRegex wraps every regex parse error (see *RegexError).
	ErrInvalidRegex = errors.New("constrain: invalid regex")
	// ErrInvalidSchema wraps every JSON schema error (see *SchemaError).
	ErrInvalidSchema = errors.New("constrain: invalid JSON schema")
	// ErrTooComplex reports that an automaton outgrew its state or size limit.
	ErrTooComplex = errors.New("constrain: automaton too complex")
	// ErrNotAllowed reports a token or byte string that the grammar rejects here.
	ErrNotAllowed = errors.New("constrain: not allowed by the grammar")
	// ErrFinished reports input after the matcher accepted EOS.
	ErrFinished = errors.New("constrain: matcher already finished")
	// ErrEmptyLanguage reports a pattern or schema that no output can match.
	ErrEmptyLanguage = errors.New("constrain: nothing can match")
	// ErrBadVocab reports an unusable vocabulary.
	ErrBadVocab = errors.New("constrain: bad vocabulary")
)
