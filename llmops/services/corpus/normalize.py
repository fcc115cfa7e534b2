"""Clean text for a corpus: NFKC that spares CJK punctuation, whitespace, control characters, Markdown markup.

Fenced code blocks (``` or ~~~) are copied byte for byte; everything else is normalised.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata


def _line_start(text: str, i: int) -> int:
    """Start of the line holding index i if only up to 3 spaces precede i on it, else -1."""
    start = text.rfind("\n", 0, i) + 1
    return start if i - start <= 3 and text[start:i] == " " * (i - start) else -1


def split_fences(text: str) -> list[tuple[bool, str]]:
    """Text cut into (is_code, piece): fenced blocks (fence lines included, no trailing newline) and the rest."""
    if "```" not in text and "~~~" not in text:
        return [(False, text)]
    parts: list[tuple[bool, str]] = []
    pos = search = 0
    size = len(text)
    ticks = tildes = -1  # next "```" / "~~~" at or after `search` (size when there is none)
    while search < size:
        if ticks < search:
            ticks = text.find("```", search) % (size + 1)
        if tildes < search:
            tildes = text.find("~~~", search) % (size + 1)
        i = min(ticks, tildes)
        if i >= size:
            break
        mark = text[i]
        run = i
        while run < size and text[run] == mark:
            run += 1
        line_end = text.find("\n", run)
        line_end = size if line_end < 0 else line_end
        start = _line_start(text, i)
        if start < 0 or (mark == "`" and "`" in text[run:line_end]):
            search = run
            continue
        fence = text[i:run]
        end = size
        probe = line_end
        while probe < size:
            k = text.find(fence, probe + 1)
            if k < 0:
                break
            close_end = text.find("\n", k)
            close_end = size if close_end < 0 else close_end
            if _line_start(text, k) >= 0 and text[k:close_end].rstrip(" \t").strip(mark) == "" and k > line_end:
                end = close_end
                break
            probe = k + len(fence) - 1
        if start > pos:
            parts.append((False, text[pos:start]))
        parts.append((True, text[start:end]))
        pos = search = end
    if pos < size:
        parts.append((False, text[pos:]))
    return parts


# Full-width punctuation that NFKC would turn into ASCII; in Chinese text the full-width form is the correct one.
# Superscripts/subscripts are kept too, so that "m²" does not become "m2".
PROTECTED = frozenset("，：；！？（）～…" "¹²³⁰⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉")

# Control and zero-width characters, and the private-use range used below to shield characters.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\ufff9-\ufffb\ufffe\uffff"
    "\ue000-\ue07f]"
)
_LINE_SEP = re.compile("[\u2028\u2029\x85]")

# Markdown. Escaped characters and markup characters inside inline code are shielded: moved to the private-use
# range U+E000-U+E07F so that no later pattern touches them, then moved back at the end.
_SHIFT = 0xE000
_SHIELD = {ord(c): _SHIFT + ord(c) for c in "\\`*_{}[]()#+-.!|<>~&="}
_UNSHIELD = re.compile("[\ue000-\ue07f]+")
_MARKUP_CHARS = re.compile(r"[\\*_\[\]!<>~&#]")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~&])")
# Every pattern starts with a literal character: the regex engine then jumps between candidates instead of
# trying each position (10x faster on large texts).
_INLINE_CODE = re.compile(r"`(`?)([^`\n](?:[^\n]*?[^`\n])?)`\1(?!`)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>")
_HTML_TAG = re.compile(
    r"</?(?:a|abbr|b|big|blockquote|br|center|cite|code|dd|del|details|div|dl|dt|em|figcaption|figure|font|h[1-6]"
    r"|hr|i|img|ins|kbd|li|mark|ol|p|pre|s|samp|small|span|strike|strong|sub|summary|sup|table|tbody|td|tfoot|th"
    r"|thead|tr|tt|u|ul|var)\b[^<>]*>",
    re.IGNORECASE,
)
_IMAGE = re.compile(r"!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_LINK = re.compile(r"\[([^\]\n]+)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
# Emphasis stays within one line, so an unmatched mark costs one line, never the rest of the text.
_STRONG_STAR = re.compile(r"\*\*([^\s*](?:[^\n]*?[^\s*])?)\*\*")
_STRONG_UNDER = re.compile(r"__(?<![\w\\]__)([^\s_](?:[^\n]*?[^\s_])?)__(?!\w)")
_EM_STAR = re.compile(r"\*([^\s*](?:[^*\n]*[^\s*])?)\*")
_EM_UNDER = re.compile(r"_(?<![\w\\]_)([^\s_](?:[^_\n]*[^\s_])?)_(?!\w)")
_STRIKE = re.compile(r"~~([^\s~](?:[^~\n]*[^\s~])?)~~")
# Line patterns start with a literal "\n" (the text gets one in front), which the regex engine finds quickly.
_LINK_DEF = re.compile(r"\n[ ]{0,3}\[[^\]\n]+\]:[ \t]+\S[^\n]*(?=\n|\Z)")
_SETEXT = re.compile(r"\n([^\n#>|`~ \-=][^\n]*)\n=+[ \t]*(?=\n|\Z)")  # "Title\n===" -> "# Title"
_RULE = re.compile(r"\n[ ]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*(?=\n|\Z)")
_QUOTE = re.compile(r"\n[ ]{0,3}>[ ]?")
_ASCII_CONTROL = bytes(range(9)) + b"\x0b\x0c" + bytes(range(14, 32)) + b"\x7f"


def _nfkc_ranges() -> list[tuple[int, int]]:
    """Code points NFKC may change (or compose), except PROTECTED; big stable blocks are skipped."""
    stable_blocks = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xAC00, 0xD7A4), (0xD800, 0xF900), (0x20000, 0x2F800),
                     (0x30000, 0x110000))
    ranges: list[tuple[int, int]] = []
    start = None
    cursor = 0x80
    for block_start, block_end in (*stable_blocks, (0x110000, 0x110000)):
        for cp in range(cursor, block_start):
            ch = chr(cp)
            hit = ch not in PROTECTED and (
                unicodedata.combining(ch) != 0 or 0x1100 <= cp < 0x1200 or unicodedata.normalize("NFKC", ch) != ch
            )
            if hit and start is None:
                start = cp
            elif not hit and start is not None:
                ranges.append((start, cp - 1))
                start = None
        if start is not None:
            ranges.append((start, block_start - 1))
            start = None
        cursor = block_end
    return ranges


@functools.lru_cache(maxsize=1)
def _nfkc_runs() -> re.Pattern:
    """Runs of characters NFKC may change; astral characters are all included (rare, and NFKC is then a no-op)."""
    bmp = [(a, min(b, 0xFFFF)) for a, b in _nfkc_ranges() if a <= 0xFFFF]
    klass = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" if a != b else re.escape(chr(a)) for a, b in bmp)
    return re.compile(f"(?:[{klass}]|[\\U00010000-\\U000effff])+")


def _needs_base(ch: str) -> bool:
    return unicodedata.combining(ch) != 0 or "\u1100" <= ch <= "\u11ff"


def nfkc(text: str) -> str:
    """NFKC, except for full-width CJK punctuation and super/subscripts (see PROTECTED)."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    out: list[str] = []
    pos = 0
    for match in _nfkc_runs().finditer(text):
        start = match.start()
        # A combining mark composes with the character before it, so that one goes through NFKC too.
        if start > pos and _needs_base(text[start]) and text[start - 1] not in PROTECTED:
            start -= 1
        out.append(text[pos:start])
        out.append(unicodedata.normalize("NFKC", text[start:match.end()]))
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def strip_markdown(text: str) -> str:
    """Remove Markdown markup outside fenced code: links -> text, images dropped, emphasis marks removed.

    Headings keep their '#' marks (the chunker needs them); lists and tables stay as they are.
    """
    shielded = 0
    if "\\" in text:
        text, shielded = _ESCAPE.subn(lambda m: chr(_SHIFT + ord(m.group(1))), text)
    if "`" in text:
        hits = []

        def shield(match: re.Match) -> str:
            code = match.group(2)
            if _MARKUP_CHARS.search(code):
                hits.append(1)
                return code.translate(_SHIELD)
            return code

        text = _INLINE_CODE.sub(shield, text)
        shielded += len(hits)
    if "<" in text:
        if "<!--" in text:
            text = _HTML_COMMENT.sub("", text)
        text = _AUTOLINK.sub(r"\1", text)
        text = _HTML_TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if "[" in text:
        text = _IMAGE.sub("", text)
        text = _LINK.sub(r"\1", text)
    if "*" in text:
        text = _EM_STAR.sub(r"\1", _STRONG_STAR.sub(r"\1", text))
    if "_" in text:
        text = _EM_UNDER.sub(r"\1", _STRONG_UNDER.sub(r"\1", text))
    if "~" in text:
        text = _STRIKE.sub(r"\1", text)
    text = "\n" + text
    if "]" in text:
        text = _LINK_DEF.sub("", text)
    if "=" in text:
        text = _SETEXT.sub("\n# \\1", text)
    if "-" in text or "*" in text or "_" in text:
        text = _RULE.sub("", text)
    if ">" in text:
        text = _QUOTE.sub("\n", text)
    text = text[1:]
    if shielded:
        text = _UNSHIELD.sub(_unshield, text)
    return text


def _unshield(match: re.Match) -> str:
    return "".join(chr(ord(c) - _SHIFT) for c in match.group())


def _collapse(text: str, run: str, single: str) -> str:
    """Replace runs of `run` by `single`; str.replace halves long runs each pass, so few passes are needed."""
    while run in text:
        text = text.replace(run, single)
    return text


def _has_control(text: str) -> bool:
    if text.isascii():  # bytes.translate is a C loop over bytes, far quicker than a regex character class
        data = text.encode("ascii")
        return len(data.translate(None, _ASCII_CONTROL)) != len(data)
    return _CONTROL.search(text) is not None


def _clean(text: str, markup: bool) -> str:
    if not text.isascii() and ("\u2028" in text or "\u2029" in text or "\x85" in text):
        text = _LINE_SEP.sub("\n", text)
    if _has_control(text):
        text = _CONTROL.sub("", text)
    text = nfkc(text)
    if markup:
        text = strip_markdown(text)
    if "\t" in text:
        text = text.replace("\t", " ")
    text = _collapse(text, "  ", " ")
    if " \n" in text:
        text = text.replace(" \n", "\n")
    if "\n " in text:
        text = text.replace("\n ", "\n")
    return _collapse(text, "\n\n\n", "\n\n").strip()


def normalize(text: str, *, markup: bool = True) -> str:
    """Normalise `text`; fenced code blocks are kept as they are and set apart by blank lines.

    `markup=True` strips Markdown/inline HTML markup (for .md sources); plain text keeps its characters.
    Newlines are unified first (CRLF/CR -> LF) everywhere, code included.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = [piece if code else _clean(piece, markup) for code, piece in split_fences(text)]
    return "\n\n".join(p for p in parts if p)
