// Package chat renders a conversation into a prompt string with a chat
// template, for the OpenAI /v1/chat/completions route and for the sgl
// frontend language.
//
// # Templates
//
// Templates are Hugging Face Jinja chat templates: tokenizer_config.json's
// chat_template (a string, or a list of {name, template} where "default"
// is used and "tool_use" when tools are given), chat_template.jinja or
// chat_template.json in a model folder (FromModelDir), or a file
// (FromFile). They run on gonja, set up the way transformers'
// apply_chat_template sets up Jinja2: an immutable sandbox with
// trim_blocks and lstrip_blocks on and keep_trailing_newline off. The
// variables are messages, tools (None when absent), documents (None),
// add_generation_prompt, bos_token, eos_token (plus unk_token and pad_token
// from tokenizer_config.json) and every key of Options.Extra
// (chat_template_kwargs).
//
// # Python compatibility
//
// Gonja is a Go Jinja dialect; this package closes the gaps real chat
// templates hit, at parse time (rewriting the source or the parsed tree)
// and through gonja's filter, test, method and global extension points:
//
//   - (a if b else c) anywhere in an expression, not only at the top of
//     {{ }} (rewritten to a lazy and/or form);
//   - methods called on a parenthesised expression, "(x | trim).split()";
//   - None distinct from undefined ("x is defined", "none" literal),
//     printing values the way Python's str() does (None, True, repr of
//     lists and dicts);
//   - dicts keep insertion order (items(), keys(), tojson, dictsort);
//   - tojson is json.dumps(ensure_ascii=False) with indent, separators,
//     sort_keys and ensure_ascii arguments;
//   - "+" follows Python: str + list, str + dict and undefined operands
//     are errors, Markup (|safe) + str escapes the str; "*" repeats;
//     "~" joins the Python str() of both sides;
//   - for loops over None fail; list[-1] works on one-element lists;
//     map/select/reject/selectattr/rejectattr return generators that
//     tojson and length refuse (as Python does);
//   - str methods strip/lstrip/rstrip/split/replace/startswith/endswith
//     with Python's arguments; dict get/items/keys/values/copy; list and
//     dict mutation (append, pop, update, ...) is refused like Jinja2's
//     immutable sandbox refuses it;
//   - raise_exception(msg) returns an error wrapping ErrTemplate;
//     strftime_now(fmt) formats Options.Now (default: the current time);
//     {% generation %} renders its body.
//
// All 57 templates of the shared chat-templates folder render byte for
// byte like Python Jinja2 on the conversations of
// testdata/conversations.json (goldens made by testdata/make_golden.py).
// Known remaining differences: string methods other than those above keep
// gonja's behaviour; an undefined operand of -, / or a comparison does
// not raise as Jinja2's Undefined would; Markup is only tracked through
// |safe, |escape and +; Python identifiers with non-ASCII letters are not
// accepted.
//
// # Limits
//
// A render fails with ErrLimit instead of running away: macro nesting
// deeper than 500, more than 1,000,000 loop iterations, range() longer
// than 1,000,000, or a string repetition over 64 MiB.
//
// # Concurrency and errors
//
// A Template is immutable after Parse and safe for concurrent Render
// calls. Errors wrap ErrParse (with gonja's Line/Col), ErrRender,
// ErrTemplate, ErrLimit, ErrNoTemplate, ErrUnknownBuiltin or ErrBadInput.
// A panic inside the engine is recovered and returned as ErrRender.
//
// # Built-ins
//
// Builtin returns SGLang's named conversation templates (chatml, llama-2,
// llama-3, qwen2-vl, vicuna_v1.1) written as Jinja, and Template.Roles
// gives the role prefixes and suffixes, default system prompt, stop
// strings and image token SGLang's frontend uses for them.
package chat
