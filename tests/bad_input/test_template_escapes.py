"""Templates are untrusted (architecture decision 8): the known Jinja2 sandbox escapes, object
reprs, script in a trait, and renders that would take megabytes or hours.

Every payload must end in a `RenderError` whose message shows no Python object (no
`<function ... at 0x...>`, no `<class ...>`) and, of course, never run code.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from activities import rendering
from activities.rendering import MAX_RENDERED_CHARS, RenderError, render_block, render_text
from dsl import ir

QUICK_SECONDS = 10.0  # a generous bound on a loaded machine: a refusal, not an allocation of gigabytes
OBJECT_REPR = re.compile(r"<(function|built-in|bound method|class|module|generator|method)|at 0x[0-9a-f]+", re.I)

CANARY: dict[str, Any] = {"ran": False}


def _context() -> dict[str, Any]:
    return {
        "account": {"id": "acme", "name": "Acme", "arr": 12000, "big": 10**8},
        "contact": {"name": "Ana", "email": "ana@acme.example"},
        "playbook": {"id": "p", "title": "P"},
        "canary": CANARY,
    }


ESCAPES = {
    # CVE-2024-56326: str.format reached indirectly, its format string walking to globals
    "format bound then called": "{% set f = '{0.__class__.__mro__}'.format %}{{ f(1) }}",
    "format through a set alias": "{% set x = '{0.__init__.__globals__}'.format %}{{ x(cycler) }}",
    "format_map bound then called": "{% set f = '{x.__class__.__base__.__subclasses__}'.format_map %}"
                                    "{{ f({'x': 1}) }}",
    "format reached through map(attribute)": "{% for f in ['{0.__class__.__mro__}']|map(attribute='format') %}"
                                             "{{ f(1) }}{% endfor %}",
    "format's __self__": "{{ ''.format.__self__ }}",
    "format method printed": "{{ ''.format }}",
    # CVE-2025-27516: |attr('format') reaches str.format past the sandbox's attribute check
    "attr format printed": "{{ ''|attr('format') }}",
    "attr format called on globals": "{{ ('{0.__init__.__globals__}'|attr('format'))(cycler) }}",
    "attr format walking the mro": "{{ ('{0.__class__.__mro__[1].__subclasses__}'|attr('format'))(1) }}",
    "attr format_map": "{{ ('{x.__init__.__globals__}'|attr('format_map'))({'x': joiner}) }}",
    "attr through a set alias": "{% set f = '{0.__class__}'|attr('format') %}{{ f(account) }}",
    # the classic walks
    "__class__": "{{ ''.__class__ }}",
    "__mro__": "{{ ''.__class__.__mro__ }}",
    "__subclasses__": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "__subclasses__ by item": "{{ ''['__class__']['__mro__'][1]['__subclasses__']() }}",
    "__subclasses__ by attr": "{{ ''|attr('__class__')|attr('__mro__') }}",
    "__base__ of a dict": "{{ account.__class__.__base__.__subclasses__() }}",
    "cycler globals": "{{ cycler.__init__.__globals__ }}",
    "cycler globals os": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner globals": "{{ joiner.__init__.__globals__ }}",
    "namespace globals": "{{ namespace.__init__.__globals__ }}",
    "lipsum globals": "{{ lipsum.__globals__ }}",
    "lipsum globals os": "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "lipsum builtins": "{{ lipsum.__globals__.__builtins__.__import__('os') }}",
    "range's self": "{{ range.__self__ }}",
    "self's context": "{{ self._TemplateReference__context }}",
    "self's globals": "{{ self.__init__.__globals__ }}",
    "loop internals": "{% for x in [1] %}{{ loop.__class__.__init__.__globals__ }}{% endfor %}",
    "mutating a dict": "{% set _ = canary.update({'ran': True}) %}{{ canary.ran }}",
    "mutating a list": "{% set _ = canary.setdefault('ran', []) %}{{ account.name }}",
    "function printed": "{{ lipsum }}",
    "class printed": "{{ cycler }}",
    "generator printed": "{{ [1, 2]|map('string') }}",
    "function through |string": "{{ lipsum|string }}",
    "function through |format": "{{ '%s'|format(lipsum) }}",
    "function through %": "{{ '%s' % lipsum }}",
    "list of methods printed": "{{ ['a']|map(attribute='upper')|list }}",
}


@pytest.mark.parametrize("name", list(ESCAPES))
def test_sandbox_escapes_and_object_reprs_are_refused(name: str) -> None:
    with pytest.raises(RenderError) as refused:
        render_text(ESCAPES[name], _context())
    assert not OBJECT_REPR.search(str(refused.value)), str(refused.value)
    assert CANARY == {"ran": False}


@pytest.mark.parametrize("name", ["attr format printed", "__subclasses__", "cycler globals", "lipsum globals"])
def test_the_escapes_are_refused_in_html_blocks_too(name: str) -> None:
    part = ir.TemplateText(source="{% block html %}<p>" + ESCAPES[name] + "</p>{% endblock %}", path="t.jinja")
    with pytest.raises(RenderError):
        render_block(part, "html", _context(), html=True)


@pytest.mark.parametrize("source", ["{{ lipsum ~ '' }}", "{{ 'a' ~ cycler ~ 'b' }}", "{{ ''.upper ~ '' }}"])
def test_a_function_concatenated_to_text_is_refused(source: str) -> None:
    with pytest.raises(RenderError) as refused:
        render_text(source, _context())
    assert not OBJECT_REPR.search(str(refused.value))


def test_the_sandbox_still_renders_what_templates_legitimately_do() -> None:
    source = ("{{ account.name|upper }} {{ '{:,}'.format(account.arr) }} {{ '%d%%'|format(42) }} "
              "{{ 'ab' * 2 }} {{ 2 ** 10 }} {{ account.name ~ '!' }} {{ [1, 2]|join(',') }} "
              "{% for i in range(3) %}{{ i }}{% endfor %} {{ contact.name|string }}")
    assert render_text(source, _context()) == "ACME 12,000 42% abab 1024 Acme! 1,2 012 Ana"


# --------------------------------------------------------------------------- script in a trait

SCRIPT = "<script>alert(document.cookie)</script>"
HTML = ir.TemplateText(
    source="{% block subject %}Hi {{ contact.name }}{% endblock %}"
           "{% block text %}Hi {{ contact.name }} of {{ account.name }}{% endblock %}"
           "{% block html %}<p>Hi {{ contact.name }} of <b>{{ account.name }}</b></p>"
           "<a href=\"{{ unsubscribe_url }}\">unsubscribe</a>{% endblock %}",
    path="welcome.email.jinja",
)


def test_script_in_a_trait_is_escaped_in_the_html_body() -> None:
    context = _context()
    context["contact"] = {"name": SCRIPT, "email": "ana@acme.example"}
    context["account"]["name"] = '"><img src=x onerror=alert(1)>'
    context["unsubscribe_url"] = 'javascript:alert(1)" onclick="alert(2)'
    html = render_block(HTML, "html", context, html=True)
    assert "<script>" not in html and "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'onclick="' not in html
    # the text part is plain text: it is not HTML, so it is not escaped
    assert SCRIPT in render_block(HTML, "text", context)


# --------------------------------------------------------------------------- size and time

BIG = {
    "a loop over range(10**7)": "{% for i in range(10**7) %}x{% endfor %}",
    "range with a huge argument": "{{ range(10**18)|length }}",
    "range with a huge step count": "{% for i in range(0, 10**12, 3) %}{% endfor %}",
    "nested loops printing": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "nested loops printing nothing much": "{% for i in range(99999) %}{% for j in range(99999) %}"
                                          "{{ '' }}{% endfor %}{% endfor %}",
    "'x' * 10**8": "{{ 'x' * 10**8 }}",
    "'x' * 10**10": "{{ 'x' * 10**10 }}",
    "10**8 * 'x'": "{{ 10**8 * 'x' }}",
    "a list times 10**9": "{{ [1, 2, 3] * 10**9 }}",
    "a repeat through a variable": "{% set n = account.big %}{{ 'x' * n }}",
    "a power with a billion digits": "{{ 10 ** (10 ** 9) }}",
    "a tower of powers": "{{ 9 ** (9 ** (9 ** 9)) }}",
    "ljust to 10**8": "{{ 'x'.ljust(10**8) }}",
    "center to 10**8": "{{ 'x'|center(10**8) }}",
    "format width 10**8": "{{ '{:>100000000}'.format(1) }}",
    "percent width 10**8": "{{ '%100000000d'|format(1) }}",
    "lipsum of 10**6 paragraphs": "{{ lipsum(10**6) }}",
    "lipsum of 10**7 words a paragraph": "{{ lipsum(1, False, 10**7, 10**7) }}",
    "doubling in a loop": "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
                          "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
}


@pytest.mark.parametrize("name", list(BIG))
def test_renders_that_would_take_megabytes_or_hours_are_stopped_quickly(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rendering, "MAX_RENDER_SECONDS", 1.0)  # the loop printing nothing much runs into it
    started = time.monotonic()
    with pytest.raises(RenderError) as refused:
        render_text(BIG[name], _context())
    elapsed = time.monotonic() - started
    assert elapsed < QUICK_SECONDS, f"{name}: {elapsed:.1f} s"
    assert re.search(r"exceeds|MAX_RANGE|size cap|too large|longer than|memory|at most", str(refused.value)), \
        refused.value


def test_output_just_under_the_cap_renders() -> None:
    assert len(render_text("{{ 'x' * n }}", {"n": MAX_RENDERED_CHARS})) == MAX_RENDERED_CHARS
