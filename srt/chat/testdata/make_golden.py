#!/usr/bin/python3
"""Regenerates srt/chat/testdata/golden/*.json, the expected renderings of
every chat template in ../shared/chat-templates for the conversations in
conversations.json.

Run with Debian's python3-jinja2 (apt-get install python3-jinja2):

    /usr/bin/python3 srt/chat/testdata/make_golden.py [/path/to/shared/chat-templates]

The Jinja environment is set up the way Hugging Face transformers'
apply_chat_template sets it up: an immutable sandbox with trim_blocks and
lstrip_blocks, the loopcontrols extension, a {% generation %} block tag,
tojson as json.dumps(ensure_ascii=False), raise_exception and strftime_now
globals. strftime_now uses the fixed time from conversations.json so the
goldens are deterministic. tools and documents are always passed (None when
absent), as transformers does.
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


class GenerationBlock(Extension):
    """Renders {% generation %}...{% endgeneration %} as its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return now.strftime(fmt)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[GenerationBlock, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, "..", "..", "..", "..", "shared", "chat-templates")
    with open(os.path.join(HERE, "conversations.json"), encoding="utf-8") as f:
        conv = json.load(f)
    now = datetime.datetime.fromisoformat(conv["now"])
    env = make_env(now)
    out_dir = os.path.join(HERE, "golden")
    os.makedirs(out_dir, exist_ok=True)
    names = sorted(n for n in os.listdir(src) if n.endswith(".jinja"))
    for name in names:
        with open(os.path.join(src, name), encoding="utf-8") as f:
            source = f.read()
        results = {}
        try:
            tmpl = env.from_string(source)
        except Exception as e:  # a template that does not compile
            tmpl, parse_err = None, "%s: %s" % (type(e).__name__, e)
        for case in conv["cases"]:
            if tmpl is None:
                results[case["name"]] = {"error": parse_err}
                continue
            try:
                text = tmpl.render(
                    messages=case["messages"],
                    tools=case.get("tools"),
                    documents=None,
                    add_generation_prompt=case["add_generation_prompt"],
                    bos_token=conv["bos_token"],
                    eos_token=conv["eos_token"],
                )
                results[case["name"]] = {"output": text}
            except Exception as e:
                results[case["name"]] = {"error": "%s: %s" % (type(e).__name__, e)}
        golden = {"template": name, "jinja2": jinja2.__version__, "cases": results}
        with open(os.path.join(out_dir, name[:-len(".jinja")] + ".json"), "w", encoding="utf-8") as f:
            json.dump(golden, f, ensure_ascii=False, indent=1)
            f.write("\n")
    print("wrote %d goldens to %s" % (len(names), out_dir))


if __name__ == "__main__":
    main()
