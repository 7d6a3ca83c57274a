#!/usr/bin/python3
"""Expected chat-template prompts for attn4j's ChatTemplateTest, rendered by Python's jinja2.

Run from the repository root:
    PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/gen-chat-template-refs.py

Renders with transformers' own render_jinja_template (transformers/utils/chat_template_utils.py,
which sets up jinja2 as apply_chat_template does: ImmutableSandboxedEnvironment with
trim_blocks=True, lstrip_blocks=True, loopcontrols, the tojson filter and the raise_exception and
strftime_now globals) when transformers imports from PYTHONPATH; otherwise with a transcription of
that setup on Debian's python3-jinja2 (the output says which). The template kwargs are, as in
apply_chat_template, the tokenizer's special tokens map (bos_token, eos_token, ... when set) plus
tools=None, documents=None unless a case gives them.

Writes attn4j-models/src/test/resources/tokenizers/chat/chat-template-refs.json.
"""
import json
import os

import jinja2

SHARED = os.path.join("..", "shared", "tokenizers")
OUT = os.path.join("attn4j-models", "src", "test", "resources", "tokenizers", "chat", "chat-template-refs.json")

try:
    from transformers.utils.chat_template_utils import render_jinja_template

    def render(template, messages, add_generation_prompt, kwargs):
        tools = kwargs.pop("tools", None)
        documents = kwargs.pop("documents", None)
        out, _ = render_jinja_template(conversations=[messages], tools=tools, documents=documents,
                                       chat_template=template, add_generation_prompt=add_generation_prompt,
                                       **kwargs)
        return out[0]

    ENGINE = "transformers.utils.chat_template_utils.render_jinja_template (jinja2 %s)" % jinja2.__version__
except ImportError:
    from datetime import datetime
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    import jinja2.ext

    def _env():
        def raise_exception(message):
            raise jinja2.exceptions.TemplateError(message)

        def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
            return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
        env.filters["tojson"] = tojson
        env.globals["raise_exception"] = raise_exception
        env.globals["strftime_now"] = lambda f: datetime.now().strftime(f)
        return env

    def render(template, messages, add_generation_prompt, kwargs):
        tools = kwargs.pop("tools", None)
        documents = kwargs.pop("documents", None)
        return _env().from_string(template).render(messages=messages, tools=tools, documents=documents,
                                                   add_generation_prompt=add_generation_prompt, **kwargs)

    ENGINE = "transcription of transformers' _compile_jinja_template (jinja2 %s)" % jinja2.__version__

SPECIAL_ATTRS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
                 "additional_special_tokens"]


def special_tokens_map(config):
    """transformers' special_tokens_map: the attributes that are set (AddedToken dicts as their content)."""
    out = {}
    for k in SPECIAL_ATTRS:
        v = config.get(k)
        if isinstance(v, dict):
            v = v["content"]
        if isinstance(v, list):
            v = [x["content"] if isinstance(x, dict) else x for x in v]
        if v:
            out[k] = v
    return out


SYS = {"role": "system", "content": "You are a helpful assistant."}
U1 = {"role": "user", "content": "Hello! How are you?"}
A1 = {"role": "assistant", "content": "I'm fine, thank you. How can I help?"}
U2 = {"role": "user", "content": "  Write a haiku about {{ braces }} and \"quotes\".\n\n"}

CONVERSATIONS = {
    "user": [U1],
    "system_user": [SYS, U1],
    "multi_turn": [SYS, U1, A1, U2],
    "assistant_last": [U1, A1],
    "unicode": [{"role": "user", "content": "Füß 😀👍🏽 我爱北京 — «ça va?» \t tabs\nnew\nlines "}],
    "empty_content": [{"role": "user", "content": ""}],
}
# Only for the synthetic templates (the shared ones do not take a None content).
SYNTHETIC_CONVERSATIONS = {
    "none_content": [{"role": "assistant", "content": None,
                      "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {}}}]}],
}

# Qwen3-only features: reasoning in <think>, tool calls and tool responses, enable_thinking.
TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city, in °C.",
                                         "parameters": {"type": "object",
                                                        "properties": {"city": {"type": "string"}},
                                                        "required": ["city"]}}}
QWEN_CONVERSATIONS = {
    "think": [U1, {"role": "assistant", "content": "<think>\nThe user greets me.\n</think>\n\nHi there!"}],
    "think_then_user": [U1, {"role": "assistant", "content": "<think>\nGreeting.\n</think>\n\nHi!"},
                        {"role": "user", "content": "Tell me a joke."}],
    "tools": [SYS, {"role": "user", "content": "Weather in Paris?"},
              {"role": "assistant", "content": "",
               "tool_calls": [{"type": "function",
                               "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]},
              {"role": "tool", "content": "{\"temp\": 21.5}"},
              {"role": "tool", "content": "sunny"}],
}

# Small templates of our own that exercise what Hugging Face templates use: raise_exception,
# whitespace control, trim_blocks/lstrip_blocks, namespace(), slicing, string methods, tojson.
SYNTHETIC = {
    "alternating": (
        "{{ bos_token }}{% for message in messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
        "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"),
    "blocks": (
        "{% for message in messages %}\n"
        "{% if message['role'] == 'user' %}\n"
        "{{ '<|user|>\\n' + message['content'] + eos_token }}\n"
        "{% elif message['role'] == 'system' %}\n"
        "{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
        "{% elif message['role'] == 'assistant' %}\n"
        "{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
        "{% endif %}\n"
        "    {% if loop.last and add_generation_prompt %}\n"
        "{{ '<|assistant|>' }}\n"
        "    {% endif %}\n"
        "{% endfor %}\n"),
    "pythonisms": (
        "{%- set ns = namespace(sys='', n=0) -%}\n"
        "{%- for m in messages -%}\n"
        "  {%- if m.role == 'system' -%}{%- set ns.sys = m.content.strip() -%}{%- endif -%}\n"
        "  {%- set ns.n = ns.n + 1 -%}\n"
        "{%- endfor -%}\n"
        "[{{ ns.sys | upper }}] n={{ ns.n }} last={{ messages[-1]['content'].strip().split(' ')[-1] }}"
        " first={{ messages[0].role.upper() }} {{ messages[0].role.title() }}\n"
        "{% for m in messages[1:] %}{{ loop.index }}/{{ loop.length }} {{ m.role }}: "
        "{{ m.content.replace('\\n', ' ').lstrip() | trim }}"
        "{% if m.content.startswith('Hello') %} (greeting){% endif %}"
        "{% if m.content.endswith('?') %} (question){% endif %}"
        "{% if not loop.last %} | {% endif %}{% endfor %}\n"
        "{% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %} {{ messages | length }} "
        "{{ messages | map(attribute='role') | join(',') }} {{ 'Hello' in messages[-1].content }}\n"
        "{{ messages[0] | tojson }} {{ {'a': [1, 2.5, true, none], 'b': 'x\"y', 'c': 'é'} | tojson }}\n"
        "{{ {'k': [1, {'z': 'w'}]} | tojson(indent=2) }}\n"
        "{%- if date_string is not defined %}{% set date_string = '26 Jul 2024' %}{% endif %}\n"
        "{{ date_string }} {{ 'yes' if add_generation_prompt else 'no' }} {{ bos_token ~ '|' ~ eos_token }}"
        " {{ (messages | selectattr('role', 'equalto', 'user') | list | length) }}"
        " {{ tools is none }} {{ missing_var is defined }} {{ messages[0].get('name', 'anon') }}\n"
        "{% for m in messages %}{% if loop.index0 >= 2 %}{% break %}{% endif %}{{ m.role }};{% endfor %}\n"
        "{%- for k, v in messages[0].items() %} {{ k }}={{ v | length }}{% endfor %}\n"),
    "values": (
        "{{ 0.1 }} {{ 2.5e-05 }} {{ 1e16 }} {{ 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 2 ** 10 }} {{ 10 % 3 }} {{ 1.5 * 2 }}\n"
        "{{ [1, 'a', \"it's\", none, true, 1.5] }} {{ {'k': 'v', 'n': none} }} {{ true }} {{ false }}\n"
        "{{ {'f': [0.1, 1e-05, 1e16, 123456789.0, 3, '\u00fc\u2028\\x01\\t']} | tojson }}"
        " {{ [1, 2] | tojson(separators=(',', ':')) }} {{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}"
        " {{ '\u00e9\U0001F600' | tojson(ensure_ascii=true) }}\n"
        "{{ messages | length }} {{ 'abc' | upper }} {{ ' x ' | trim }}|{{ 'a,b,,c'.split(',') }}"
        " {{ '  a  b '.split() }} {{ 'a-b-c'.split('-', 1) }} {{ 'x'.join(['1', '2']) }}\n"
        "{{ 'Hello World'.lower().replace('o', '0') }} {{ 'abc'.find('c') }} {{ 'aaa'.count('a') }}"
        " {{ 'hello wORLD'.title() }} {{ 'hello'.capitalize() }} {{ '\u00df'.upper() }} {{ 'xxhixx'.strip('x') }}\n"
        "{% if not messages[0].content == 'x' %}A{% endif %}{% if not x is defined %}B{% endif %}"
        "{% if x is not defined and not none %}C{% endif %}{% if not (1 > 2) or false %}D{% endif %}"
        "{{ ' E' if not messages else ' F' }}\n"),
    "tool_prompt": (
        "{{- bos_token }}\n"
        "{%- if not date_string is defined %}{%- set date_string = '01 Jan 2000' %}{%- endif %}\n"
        "{%- if messages[0]['role'] == 'system' %}\n"
        "    {%- set system_message = messages[0]['content'] | trim %}\n"
        "    {%- set messages = messages[1:] %}\n"
        "{%- else %}\n"
        "    {%- set system_message = '' %}\n"
        "{%- endif %}\n"
        "{{- '[SYS]\\n' }}\n"
        "{%- if tools is not none %}{{- 'Tools available.\\n' }}{%- endif %}\n"
        "{{- 'Date: ' + date_string + '\\n' }}\n"
        "{%- if tools is not none %}\n"
        "    {%- for t in tools %}\n"
        "        {{- t | tojson(indent=4) }}\n"
        "        {{- '\\n' }}\n"
        "    {%- endfor %}\n"
        "{%- endif %}\n"
        "{{- system_message }}{{- '[/SYS]' }}\n"
        "{%- for message in messages %}\n"
        "    {%- if not (message.role == 'tool' or 'tool_calls' in message) %}\n"
        "        {{- '[' + message['role'] + ']' + message['content'] | trim + '[/' + message['role'] + ']' }}\n"
        "    {%- elif 'tool_calls' in message %}\n"
        "        {%- for call in message.tool_calls %}\n"
        "            {%- set f = call.function %}\n"
        "            {{- '[call]{\"name\": \"' + f.name + '\", \"parameters\": ' + f.arguments | tojson + '}[/call]' }}\n"
        "        {%- endfor %}\n"
        "    {%- else %}\n"
        "        {{- '[tool]' }}\n"
        "        {%- if message.content is mapping or (message.content is iterable and message.content is not string) %}\n"
        "            {{- message.content | tojson }}\n"
        "        {%- else %}\n"
        "            {{- message.content }}\n"
        "        {%- endif %}\n"
        "        {{- '[/tool]' }}\n"
        "    {%- endif %}\n"
        "{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n"
        "    {{- '[assistant]' }}\n"
        "{%- endif %}\n"),
    "syntax": (
        "{% raw %}{{ not rendered }} {% if %}{% endraw %}\n"
        "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}\n"
        "{{ greet('A') }} {{ greet('B', punct='?') }}\n"
        "{# a comment #}\n"
        "  {# an indented comment #}\n"
        "x  {% if true %}mid-line{% endif %}\n"
        "{% set ns = namespace(k=messages|length * 2 - 1) %}{{ ns.k }}\n"
        "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% else %}none{% endfor %}\n"
        "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|first }}\n"
        "{%+ if true %}  plus{% endif %}\n"
        "    {%- if true %} minus{% endif %}\n"
        "{{ 'a' if messages|length > 1 else 'b' }} {{ (messages|last).role }} {{ messages[-1:]|length }}"
        " {{ messages[:-1]|length }} {{ messages[1::2]|length }}\n"
        "{% for i in range(3) %}{{ i }}{% if not loop.last %},{% endif %}{% endfor %}"
        " {{ [3, 1, 2]|sort|join('') }} {{ ['a', 'b']|reverse|join('') }} {{ 'abc'[::-1] }}\n"),
    "crlf": "{% for m in messages %}\r\n  {% if m.role == 'user' %}\r\n[{{ m.role }}]\r{{ m.content }}\r\n  {% endif %}\r\n{% endfor %}\r\n",
    "defined": (
        "{{ tools is defined }} {{ tools is none }} {{ documents is not defined }} {{ nothing is defined }}"
        " {{ nothing is undefined }} {{ messages[0].content is defined }} {{ messages[0].content is none }}"
        " {{ messages[0].missing is defined }} {{ messages[0]['role'] is undefined }} {{ messages[5] is defined }}"
        " {{ 'x is defined' }}\n"
        "{% if not date_string is defined %}D{% endif %}{% set x = none %}{{ x is defined }}"
        "{% set ns = namespace(a=1) %} {{ ns.a is defined }} {{ ns.b is defined }}\n"),
}
SYNTHETIC_SPECIALS = {"bos_token": "<s>", "eos_token": "</s>"}
SYNTHETIC_CASES = {
    "alternating": ["user", "assistant_last", "multi_turn"],
    "blocks": ["user", "system_user", "multi_turn"],
    "pythonisms": ["system_user", "multi_turn", "unicode"],
    "values": ["user", "empty_content"],
    "syntax": ["user", "multi_turn"],
    "crlf": ["multi_turn"],
    "defined": ["user", "none_content"],
    "tool_prompt": ["user", "system_user", "multi_turn", "tools", "tools+date"],
}
# Extra template variables per case (a case name "<conversation>+<extra>").
SYNTHETIC_EXTRAS = {"tools": {"tools": None}, "date": {"date_string": "05 Dec 2026"}}


def main():
    out = {"engine": ENGINE, "conversations": dict(CONVERSATIONS, **QWEN_CONVERSATIONS, **SYNTHETIC_CONVERSATIONS), "tools": [TOOL],
           "models": {}, "synthetic": {}}
    for folder in ["llama3", "llama3.1", "qwen2"]:
        with open(os.path.join(SHARED, folder, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        specials = special_tokens_map(config)
        names = list(CONVERSATIONS) + (list(QWEN_CONVERSATIONS) if folder == "qwen2" else [])
        cases = []
        for name in names:
            for agp in (False, True):
                extras = [{}]
                if folder == "qwen2":
                    extras.append({"enable_thinking": False})
                    if name == "tools":
                        extras = [{"tools": [TOOL]}]
                for extra in extras:
                    kwargs = dict(specials)
                    kwargs.update(json.loads(json.dumps(extra)))
                    prompt = render(config["chat_template"], json.loads(json.dumps(out["conversations"][name])),
                                    agp, kwargs)
                    cases.append({"conversation": name, "add_generation_prompt": agp, "extra": extra,
                                  "prompt": prompt})
        out["models"][folder] = cases
    for tname, template in SYNTHETIC.items():
        cases = []
        for case in SYNTHETIC_CASES[tname]:
            name, _, more = case.partition("+")
            extra = {}
            if name == "tools":
                extra["tools"] = [TOOL]
            if more:
                extra.update(SYNTHETIC_EXTRAS[more])
            for agp in (False, True):
                kwargs = dict(SYNTHETIC_SPECIALS)
                kwargs.update(json.loads(json.dumps(extra)))
                row = {"conversation": name, "add_generation_prompt": agp, "extra": extra}
                try:
                    row["prompt"] = render(template, json.loads(json.dumps(out["conversations"][name])), agp, kwargs)
                except jinja2.exceptions.TemplateError as e:
                    row["error"] = str(e)
                cases.append(row)
        out["synthetic"][tname] = {"template": template, "special_tokens": SYNTHETIC_SPECIALS, "cases": cases}
    tmp = OUT + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, OUT)
    print("wrote", OUT, "with", ENGINE)


if __name__ == "__main__":
    main()
