"""Load corpus sources (Markdown, text, HTML, JSON/JSONL, CSV/TSV, folders) into documents."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from ...errors import InvalidInputError, NotFoundError

DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024
_SPACES = re.compile(r"\s+")
FORMATS = {
    ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".html": "html", ".htm": "html",
    ".json": "json", ".jsonl": "jsonl", ".csv": "csv", ".tsv": "csv",
}
# Formats we recognise but cannot read without a library this environment lacks.
UNSUPPORTED = {".pdf": ("PDF", "pypdf"), ".docx": ("DOCX", "python-docx"), ".doc": ("DOC", None)}


@dataclass(frozen=True)
class Doc:
    """One document: its text, where it came from, and format/position details."""

    text: str
    source: str
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A file inside a folder that was left out, and why (a `corpus.skip.*` key)."""

    path: str
    reason: str


def read_text_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """The file's text, decoded as UTF-8 (a BOM is dropped); refuse empty, oversized and undecodable files."""
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidInputError("err.corpus_file_too_large", path=str(path), size_mb=round(size / 2**20, 1),
                              limit_mb=round(max_bytes / 2**20, 1))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("err.corpus_encoding", path=str(path), offset=exc.start) from None
    if not text.strip():
        raise InvalidInputError("err.corpus_empty_file", path=str(path))
    return text


class _HTMLText(HTMLParser):
    """HTML -> Markdown-like text: headings as '#', <pre> as fenced code kept verbatim, scripts dropped."""

    _DROP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
    _BLOCK = frozenset({"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "table", "tr",
                        "ul", "ol", "dl", "dt", "dd", "blockquote", "figure", "figcaption", "form", "hr", "br",
                        "li", "h1", "h2", "h3", "h4", "h5", "h6", "details", "summary", "thead", "tbody"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title = ""
        self._drop = 0
        self._pre = 0
        self._pre_buf: list[str] = []
        self._pre_lang = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in self._DROP:
            self._drop += 1
            return
        if tag == "title":
            self._in_title = True
            return
        if self._pre:
            if tag == "code" and not self._pre_lang:
                self._pre_lang = _code_lang(attrs)
            return
        if tag == "pre":
            self._pre += 1
            self._pre_buf = []
            self._pre_lang = _code_lang(attrs)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag in self._BLOCK:
            self.out.append("\n\n" if tag in ("p", "div", "section", "article", "table", "blockquote") else "\n")

    def handle_endtag(self, tag):
        if tag in self._DROP:
            self._drop = max(0, self._drop - 1)
            return
        if tag == "title":
            self._in_title = False
            return
        if tag == "pre" and self._pre:
            self._pre -= 1
            if not self._pre:
                code = "".join(self._pre_buf).strip("\n")
                fence = "```"
                while fence in code:
                    fence += "`"
                self.out.append(f"\n\n{fence}{self._pre_lang}\n{code}\n{fence}\n\n")
            return
        if not self._pre and tag in self._BLOCK and tag not in ("li", "tr", "dt", "dd", "br", "hr"):
            self.out.append("\n\n" if tag in ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table") else "\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif self._drop:
            return
        elif self._pre:
            self._pre_buf.append(data)
        else:
            self.out.append(_SPACES.sub(" ", data))  # HTML collapses whitespace; spaces at the edges still count

    def text(self) -> str:
        return "".join(self.out)


def _code_lang(attrs) -> str:
    for name, value in attrs:
        if name == "class" and value:
            for cls in value.split():
                if cls.startswith(("language-", "lang-")):
                    return cls.split("-", 1)[1]
    return ""


def html_to_text(markup: str) -> tuple[str, str]:
    """(text, title) of an HTML page; <pre> blocks come back as fenced code, byte for byte."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return parser.text(), " ".join(parser.title.split())


def _field(record, dotted: str):
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


_MISSING = object()


def _record_doc(record, path: Path, source: str, where: str, text_field: str, meta: dict) -> Doc | None:
    value = record if isinstance(record, str) else _field(record, text_field)
    if value is _MISSING:
        raise InvalidInputError("err.corpus_field_missing", where=where, field=text_field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInputError("err.corpus_field_type", where=where, field=text_field, type=type(value).__name__)
    return Doc(value, source, meta)


def _read_jsonl(text: str, path: Path, source: str, text_field: str) -> Iterator[Doc]:
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError("err.corpus_bad_json", where=f"{path}:{lineno}", reason=exc.msg) from None
        doc = _record_doc(record, path, source, f"{path}:{lineno}", text_field, {"format": "text", "line": lineno})
        if doc:
            yield doc


def _read_json(text: str, path: Path, source: str, text_field: str) -> Iterator[Doc]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError("err.corpus_bad_json", where=f"{path}:{exc.lineno}", reason=exc.msg) from None
    records = data if isinstance(data, list) else [data]
    for index, record in enumerate(records):
        doc = _record_doc(record, path, source, f"{path}[{index}]", text_field, {"format": "text", "index": index})
        if doc:
            yield doc


def _read_csv(text: str, path: Path, source: str, column: str, max_bytes: int) -> Iterator[Doc]:
    # A single field may be as large as the file cap allows (the stdlib default is 128 KiB).
    csv.field_size_limit(max(csv.field_size_limit(), min(max_bytes, 2**31 - 1)))
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None or column not in header:
            raise InvalidInputError("err.corpus_column_missing", path=str(path), column=column,
                                  columns=", ".join(header or []))
        col = header.index(column)
        for index, row in enumerate(reader, start=1):
            if col < len(row) and row[col].strip():
                yield Doc(row[col], source, {"format": "text", "row": index})
    except csv.Error as exc:
        raise InvalidInputError("err.corpus_bad_csv", where=f"{path}:{reader.line_num}", reason=str(exc)) from None


def read_file(path: Path, *, source: str | None = None, text_field: str = "text", csv_column: str = "text",
              max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Doc]:
    """Documents of one file, by its suffix; JSON/JSONL/CSV give one document per record."""
    path = Path(path)
    source = source or path.name
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED:
        name, package = UNSUPPORTED[suffix]
        raise InvalidInputError("err.corpus_format_unsupported", path=str(path), format=name,
                              package=package or "-")
    kind = FORMATS.get(suffix)
    if kind is None:
        raise InvalidInputError("err.corpus_unknown_suffix", path=str(path), suffixes=" ".join(sorted(FORMATS)))
    text = read_text_file(path, max_bytes)
    if kind == "html":
        body, title = html_to_text(text)
        if not body.strip():
            raise InvalidInputError("err.corpus_empty_file", path=str(path))
        return [Doc(body, source, {"format": "html", "title": title} if title else {"format": "html"})]
    if kind == "jsonl":
        docs = list(_read_jsonl(text, path, source, text_field))
    elif kind == "json":
        docs = list(_read_json(text, path, source, text_field))
    elif kind == "csv":
        docs = list(_read_csv(text, path, source, csv_column, max_bytes))
    else:
        return [Doc(text, source, {"format": kind})]
    if not docs:
        raise InvalidInputError("err.corpus_empty_file", path=str(path))
    return docs


def walk_folder(root: Path) -> tuple[list[Path], list[Skipped]]:
    """Files under `root` with a known suffix, sorted; symlinks that lead outside `root` are never followed."""
    root = Path(root)
    real_root = root.resolve()
    files: list[Path] = []
    skipped: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in dirnames:  # os.walk does not enter linked folders; say so when one leads outside
            link = Path(dirpath) / name
            if link.is_symlink() and real_root not in link.resolve().parents:
                skipped.append(Skipped(str(link.relative_to(root)), "corpus.skip.symlink_outside"))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                target = path.resolve()
                if real_root not in target.parents or not target.is_file():
                    skipped.append(Skipped(rel, "corpus.skip.symlink_outside"))
                    continue
            suffix = path.suffix.lower()
            if suffix in UNSUPPORTED:
                skipped.append(Skipped(rel, "corpus.skip.unsupported"))
            elif suffix not in FORMATS:
                skipped.append(Skipped(rel, "corpus.skip.unknown_suffix"))
            else:
                files.append(path)
    return files, skipped


@dataclass(frozen=True)
class SourceFile:
    """A file to read, the name it is reported under, and whether it was picked from a folder."""

    path: Path
    source: str
    in_folder: bool


def list_files(sources) -> tuple[list[SourceFile], list[Skipped]]:
    """Every file the sources name (folders walked), and the files of folders that were left out."""
    if not sources:
        raise InvalidInputError("err.corpus_no_sources")
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    for raw in sources:
        path = Path(raw).expanduser()
        if not path.exists():
            raise NotFoundError("err.corpus_source_missing", path=str(raw))
        if path.is_file():
            files.append(SourceFile(path, path.name, False))
            continue
        found, folder_skipped = walk_folder(path)
        skipped.extend(Skipped(f"{path.name}/{s.path}", s.reason) for s in folder_skipped)
        files.extend(SourceFile(f, f"{path.name}/{f.relative_to(path).as_posix()}", True) for f in found)
    return files, skipped


def read_source_file(item: SourceFile, *, text_field: str = "text", csv_column: str = "text",
                     max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Doc] | None:
    """Documents of one listed file; None for an empty file found in a folder (a named empty file is an error)."""
    try:
        return read_file(item.path, source=item.source, text_field=text_field, csv_column=csv_column,
                         max_bytes=max_bytes)
    except InvalidInputError as exc:
        if item.in_folder and exc.key == "err.corpus_empty_file":
            return None
        raise


def iter_documents(sources, *, text_field: str = "text", csv_column: str = "text",
                   max_bytes: int = DEFAULT_MAX_FILE_BYTES, skipped: list[Skipped] | None = None) -> Iterator[Doc]:
    """Documents of every source (files or folders), in order; empty files inside folders are skipped."""
    files, left_out = list_files(sources)
    skipped = skipped if skipped is not None else []
    skipped.extend(left_out)
    for item in files:
        docs = read_source_file(item, text_field=text_field, csv_column=csv_column, max_bytes=max_bytes)
        if docs is None:
            skipped.append(Skipped(item.source, "corpus.skip.empty"))
            continue
        yield from docs


def read_sources(sources, **kwargs) -> tuple[list[Doc], list[Skipped]]:
    """All documents of `sources` and the files left out of folders."""
    skipped: list[Skipped] = []
    docs = list(iter_documents(sources, skipped=skipped, **kwargs))
    return docs, skipped
