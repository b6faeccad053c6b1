"""What a customer reads on a page, a mail or the PDF, and the words left in the wrong language.

English mode: no Japanese character outside an element marked ``lang="ja"`` (the binding legal
texts, names, addresses, the agency's data, 「日本語」 in the switch), except runs that are part of
the data given as ``allowed`` (a name in the <title>, the agency in a mail).
Japanese mode: no English word outside an element marked ``lang="en"`` (「English」 in the switch),
except the product's own terms (``JAPANESE_MODE_WORDS``), e-mail addresses, URLs and data.
"""

import re
from html.parser import HTMLParser

# Kana, kanji, CJK punctuation and the full-width forms (（）：、「」 and the like).
JAPANESE = re.compile(
    r"[\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+"
)
WORD = re.compile(r"[A-Za-z]{2,}")
ADDRESS = re.compile(r"\S+@\S+|https?://\S+|/[\w\-/.?=&%#]*")
# English words a Japanese screen uses on purpose: names of the product and of things a
# customer sees as written (Web証券, PDF, Cookie, Google Authenticator).
JAPANESE_MODE_WORDS = {
    "Clickar",
    "WEB",
    "Web",
    "ID",
    "PDF",
    "URL",
    "AI",
    "Cookie",
    "QR",
    "IP",
    "Point",
    "Google",
    "Microsoft",
    "Authenticator",
    "AEB",
    "ASV",
    "Keizoku",
    "JavaScript",
    "Q",
    "A",
    "password",  # the FAQ's example of a common password: 「123456、password など」
}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
SHOWN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")
# Not read as words: scripts and styles, and <code> (a setup key, a recovery code).
HIDDEN = ("script", "style", "template", "code")


class _Visible(HTMLParser):
    """(text, language) of every text node and shown attribute, with the nearest lang= above."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.found: list[tuple[str, str | None]] = []
        self.hidden = 0  # inside one of HIDDEN

    def _lang(self) -> str | None:
        for _tag, lang in reversed(self.stack):
            if lang:
                return lang
        return None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        lang = (attributes.get("lang") or "").split("-")[0] or None
        if tag in HIDDEN:
            self.hidden += 1
        current = lang or self._lang()
        for name in SHOWN_ATTRIBUTES:
            if attributes.get(name):
                self.found.append((attributes[name], current))
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.found.append((attributes.get("value") or "", current))
        if tag not in VOID:
            self.stack.append((tag, lang))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in HIDDEN and self.hidden:
            self.hidden -= 1
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.found.append((data, self._lang()))


def visible_texts(html: str) -> list[tuple[str, str | None]]:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return parser.found


def japanese_left(text: str, allowed: list[str]) -> list[str]:
    """The runs of Japanese in ``text`` that are not part of the allowed data."""
    return [run for run in JAPANESE.findall(text) if not any(run in data for data in allowed)]


def english_left(text: str, allowed: list[str]) -> list[str]:
    """The English words in ``text`` a Japanese screen should not show."""
    for data in sorted(allowed, key=len, reverse=True):
        text = text.replace(data, " ")
    text = ADDRESS.sub(" ", text)
    return [word for word in WORD.findall(text) if word not in JAPANESE_MODE_WORDS]


def html_problems(html: str, language: str, allowed: list[str]) -> list[str]:
    problems = []
    for text, lang in visible_texts(html):
        if language == "en" and lang != "ja":
            problems += japanese_left(text, allowed)
        elif language == "ja" and lang != "en":
            problems += english_left(text, allowed)
    return problems


def text_problems(text: str, language: str, allowed: list[str]) -> list[str]:
    if language == "en":
        return japanese_left(text, allowed)
    return english_left(text, allowed)
