"""Find the <form>s of a rendered page and fill them, for the injection/XSS tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser

TEXT_TYPES = {"text", "email", "search", "tel", "url", "password", "number", "date", "month",
              "hidden", ""}


@dataclass
class Input:
    name: str
    kind: str  # input type, "textarea" or "select"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class Form:
    action: str
    method: str
    inputs: list[Input] = field(default_factory=list)
    hx: bool = False

    def text_inputs(self) -> list[Input]:
        return [i for i in self.inputs
                if (i.kind in TEXT_TYPES or i.kind == "textarea") and i.name != "_csrf_token"]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Input | None = None
        self._textarea: Input | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(
                action=a.get("hx-post") or a.get("hx-get") or a.get("action") or "",
                method=("post" if "hx-post" in a else "get" if "hx-get" in a
                        else a.get("method", "get")).lower(),
                hx=any(k.startswith("hx-") for k in a),
            )
            self.forms.append(self._form)
        if self._form is None or "name" not in a:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            self._form.inputs.append(Input(a["name"], kind, a.get("value", ""),
                                           checked="checked" in a))
        elif tag == "select":
            self._select = Input(a["name"], "select")
            self._form.inputs.append(self._select)
        elif tag == "textarea":
            self._textarea = Input(a["name"], "textarea")
            self._form.inputs.append(self._textarea)
        elif tag == "button" and a.get("value"):
            self._form.inputs.append(Input(a["name"], "button", a["value"]))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_forms(html: str) -> list[Form]:
    parser = _Parser()
    parser.feed(html)
    # options: a simple regex per select is enough for server-rendered markup
    for form in parser.forms:
        for inp in form.inputs:
            if inp.kind == "select":
                pattern = r'<select[^>]*name="' + re.escape(inp.name) + r'"[^>]*>(.*?)</select>'
                m = re.search(pattern, html, re.S)
                if m:
                    inp.options = re.findall(r'<option[^>]*value="([^"]*)"', m.group(1))
                    selected = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', m.group(1))
                    inp.value = selected.group(1) if selected else (inp.options or [""])[0]
    return parser.forms


def plausible(inp: Input, n: int, today: date) -> str:
    """A value that passes validation, so the hostile one is the only thing wrong."""
    name = inp.name.lower()
    if inp.kind in ("hidden", "select", "button") or inp.value:
        return inp.value
    if inp.kind == "email" or "email" in name:
        return f"fuzz{n}@example.ru"
    if inp.kind == "password" or "password" in name:
        return "long-enough-pass-1"
    if inp.kind == "date" or "date" in name or name.endswith("_on") or "from" in name \
            or name.endswith("to"):
        return today.isoformat() if inp.kind == "date" else today.strftime("%d.%m.%Y")
    if inp.kind == "checkbox":
        return inp.value or "yes"
    if "phone" in name:
        return "+7 900 000-00-00"
    return "Тест"


def fill(form: Form, n: int, today: date, override: dict[str, str]) -> list[tuple[str, str]]:
    data: list[tuple[str, str]] = []
    for inp in form.inputs:
        if inp.kind == "button":
            continue  # several submit buttons: the handler's default action
        if inp.kind in ("checkbox", "radio") and not (inp.checked or inp.name in override
                                                       or inp.kind == "checkbox"):
            continue
        data.append((inp.name, override.get(inp.name, plausible(inp, n, today))))
    return data
