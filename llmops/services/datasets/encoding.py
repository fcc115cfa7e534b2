"""Decode uploaded bytes: UTF-8 (BOM or not) as is; GBK/GB18030 and UTF-16 recognised but converted only on consent."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import ValidationError

UTF8 = ("utf-8", "utf-8-sig")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_BAD_ASCII = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HANZI = re.compile(r"[\u4e00-\u9fff]")
_SAMPLE_CHARS = 4_000_000
_SAMPLE_NON_ASCII = 200_000
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


@dataclass(frozen=True)
class Decoded:
    """A file's text and the encoding it was read with."""

    text: str
    encoding: str

    @property
    def needs_conversion(self) -> bool:
        """True when the bytes on disk are not UTF-8, so storing the text means converting it."""
        return self.encoding not in UTF8


def decode(data: bytes, label: str) -> Decoded:
    """Decode strictly; legacy Chinese encodings only when the result reads as Chinese, never guessed otherwise."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _checked(Decoded(_strict(data[3:], "utf-8", label), "utf-8-sig"), label)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _checked(Decoded(_strict(data, "utf-16", label), "utf-16"), label)
    try:
        return _checked(Decoded(data.decode("utf-8"), "utf-8"), label)
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and looks_chinese(text):
        return _checked(Decoded(text, _legacy_name(data)), label)
    raise ValidationError("err.ds_encoding", path=label, line=data.count(b"\n", 0, first_bad) + 1, offset=first_bad)


def looks_chinese(text: str) -> bool:
    """True when text decoded as GB18030 is plausibly Chinese: GB2312-range characters, common ones, no controls."""
    sample = text[:_SAMPLE_CHARS]
    if _BAD_ASCII.search(sample):
        return False
    wide = _NON_ASCII.findall(sample)[:_SAMPLE_NON_ASCII]
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


def _strict(data: bytes, encoding: str, label: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValidationError("err.ds_encoding", path=label, line=data.count(b"\n", 0, exc.start) + 1,
                              offset=exc.start) from None


def _checked(decoded: Decoded, label: str) -> Decoded:
    if "\x00" in decoded.text:
        raise ValidationError("err.ds_binary", path=label)
    return decoded
