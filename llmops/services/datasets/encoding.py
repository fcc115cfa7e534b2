"""Decode uploaded files: UTF-8 (BOM or not) as is; GBK/GB18030 and UTF-16 recognised but converted only on consent.

Files are read in chunks: the encoding is chosen from a bounded window, then the whole file is decoded
chunk by chunk, so memory never grows with the file."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from ...errors import InvalidInputError

UTF8 = ("utf-8", "utf-8-sig")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_BAD_ASCII = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HANZI = re.compile(r"[\u4e00-\u9fff]")
_SAMPLE_CHARS = 4_000_000
_SAMPLE_NON_ASCII = 200_000
# Bytes read at once; the window the encoding is chosen from starts a little before the first non-ASCII byte.
CHUNK_BYTES = 256 * 2**10
_WINDOW_BYTES = 4 * 2**20
_WINDOW_LEAD = 64 * 2**10
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "utf-8"), (b"\xff\xfe", "utf-16", "utf-16-le"),
         (b"\xfe\xff", "utf-16", "utf-16-be"))
# About the 500 most frequent Chinese characters: real Chinese text draws roughly half of its characters from
# them, while other legacy encodings misread as GBK (EUC-KR Korean, for one) land on them only by chance.
_COMMON_HANZI = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然"
    "家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心本前开但因只从想实日者意无力它与长把机十"
    "第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应向头文体相见被利什二等产或新己制身果加月话合回特"
    "代内信表化老给世位次度门任常先海通教原东声提立及比员解水名真论处走义各入几口认条平系气题活更别打变四总何电数安"
    "少报才结反受目太量再感建务做接必场件计管期市直资命山金指许统区保至形便空决治展取据程确检查设备运维护障故码器压"
    "流温测量组串板线路站压装置停运行时间操作步骤检修安全规定要求标准记录数据模型训练参数调整输出输入问题回答系统用户"
)
# Share of Chinese characters that must come from the list above (checked once there are enough of them).
_COMMON_SHARE = 0.2
_MIN_HANZI_FOR_FREQUENCY = 40


def looks_chinese(text: str) -> bool:
    """True when text decoded as GB18030 is plausibly Chinese: GB2312-range characters, common ones, no controls."""
    sample = text[:_SAMPLE_CHARS]
    if _BAD_ASCII.search(sample):
        return False
    wide = [m.group() for m in itertools.islice(_NON_ASCII.finditer(sample), _SAMPLE_NON_ASCII)]
    if not wide:
        return False
    # GB2312 proper (both bytes >= 0xA1) holds the common characters and full-width punctuation. Mojibake from
    # Latin-1, cp1252 or Shift-JIS lands in GBK's extension area, whose second byte is ASCII or below 0xA1.
    in_gb2312 = 0
    for ch in wide:
        encoded = ch.encode("gb18030")
        in_gb2312 += len(encoded) == 2 and encoded[0] >= 0xA1 and encoded[1] >= 0xA1
    if in_gb2312 < 0.9 * len(wide):
        return False
    hanzi = _HANZI.findall("".join(wide))
    if len(hanzi) >= _MIN_HANZI_FOR_FREQUENCY:
        return sum(ch in _COMMON_HANZI for ch in hanzi) >= _COMMON_SHARE * len(hanzi)
    return True


def _legacy_name(data: bytes) -> str:
    """'GBK' when GBK alone decodes the bytes (the usual Windows encoding), else its superset 'GB18030'."""
    try:
        data.decode("gbk")
        return "GBK"
    except UnicodeDecodeError:
        return "GB18030"


def detect(path: Path, label: str) -> str:
    """The encoding of a file, chosen from its BOM or a bounded window around its first non-ASCII byte."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        for bom, name, _ in _BOMS:
            if head.startswith(bom):
                return name
        handle.seek(0)
        first, newlines = _first_non_ascii(handle)
        if first is None:
            return "utf-8"  # pure ASCII: UTF-8 reads it exactly
        start = max(0, first - _WINDOW_LEAD)
        newlines -= _count_newlines(handle, start, first)  # newlines before the window
        bad = _utf8_window(handle, start)
        if bad is None:
            return "utf-8"
        first_bad, bad_line = bad[0], newlines + bad[1]
        handle.seek(start)
        window = handle.read(_WINDOW_BYTES)
        complete = not handle.read(1)
    try:
        text, used = _decode_prefix(window, "gb18030", complete)
    except UnicodeDecodeError:
        text, used = None, 0
    if text is not None and "\x00" not in text and looks_chinese(text):
        return _legacy_name(window[:used])
    raise InvalidInputError("err.ds_encoding", path=label, line=bad_line, offset=first_bad)


def _count_newlines(handle, start: int, end: int) -> int:
    handle.seek(start)
    return handle.read(end - start).count(b"\n")


def _utf8_window(handle, start: int) -> tuple[int, int] | None:
    """None when the window from `start` reads as UTF-8, else the first bad byte's offset and line in it."""
    handle.seek(start)
    pending, offset, newlines, read = b"", start, 0, 0
    while read < _WINDOW_BYTES:
        piece = handle.read(min(CHUNK_BYTES, _WINDOW_BYTES - read))  # in pieces: decoding costs 4x the bytes
        read += len(piece)
        data = pending + piece
        try:
            _, used = _decode_prefix(data, "utf-8", final=not piece)
        except UnicodeDecodeError as exc:
            return offset + exc.start, newlines + data.count(b"\n", 0, exc.start) + 1
        newlines += data.count(b"\n", 0, used)
        offset, pending = offset + used, data[used:]
        if not piece:
            return None
    return None  # a character cut by the window's end is no evidence against UTF-8


def _first_non_ascii(handle) -> tuple[int | None, int]:
    """Offset of the first byte ≥ 0x80 (None if there is none) and the newlines before it."""
    offset = newlines = 0
    while chunk := handle.read(CHUNK_BYTES):
        found = _NON_ASCII_BYTE.search(chunk)
        if found:
            return offset + found.start(), newlines + chunk.count(b"\n", 0, found.start())
        offset += len(chunk)
        newlines += chunk.count(b"\n")
    return None, newlines


def _decode_prefix(data: bytes, codec: str, final: bool) -> tuple[str, int]:
    """Decode `data`; unless `final`, a sequence cut by the chunk's end is left over. Returns text, bytes used."""
    try:
        return data.decode(codec), len(data)
    except UnicodeDecodeError as exc:
        if final or len(data) - exc.start > 4:
            raise
        return data[:exc.start].decode(codec), exc.start


def chunks(path: Path, label: str, encoding: str, size: int | None = None) -> Iterator[str]:
    """The file's text, decoded strictly chunk by chunk; a bad byte or a NUL raises with its line."""
    size = size or CHUNK_BYTES
    with open(path, "rb") as handle:
        codec, skip = _stream_codec(encoding, handle.read(4))
        handle.seek(skip)
        offset, newlines, pending = skip, 0, b""
        while True:
            block = handle.read(size)
            data = pending + block
            if not data:
                return
            try:
                text, used = _decode_prefix(data, codec, final=not block)
            except UnicodeDecodeError as exc:
                before = data[:exc.start].decode(codec, errors="replace")
                raise InvalidInputError("err.ds_encoding", path=label, line=newlines + before.count("\n") + 1,
                                      offset=offset + exc.start) from None
            if "\x00" in text:
                raise InvalidInputError("err.ds_binary", path=label)
            pending = data[used:]
            offset += used
            newlines += text.count("\n")
            yield text
            if not block:
                return


def _stream_codec(encoding: str, head: bytes) -> tuple[str, int]:
    """The codec that decodes the file after its BOM, and the BOM's length."""
    for bom, name, codec in _BOMS:
        if name == encoding and head.startswith(bom):
            return codec, len(bom)
    if encoding in ("GBK", "GB18030"):
        return "gb18030", 0
    return encoding, 0
