"""Properties: rendered YAML loads back exactly, and name rules let through only what they document."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from llmops.errors import InvalidInputError
from llmops.lf import render
from llmops.services import models
from llmops.storage import safe_name

PROPERTY = settings(max_examples=200, deadline=None)

# Text a user might type into any field, weighted towards what YAML treats specially.
YAML_SPECIAL = ["yes", "no", "on", "off", "null", "~", "true", "False", "NO", "Null", "y", "n", "1e3", "0x1f", "0o17",
                "012", ".inf", "-.inf", ".nan", "1_000", "12:30:00", "2026-01-01", "- a", "-", "--- x", "...", "? k",
                ": v", "a: b", "a #c", "#x", "&anchor", "*alias", "!tag", "!!str x", "|", ">", "'q'", '"q"', "{a: 1}",
                "[1, 2]", "%YAML", "@x", "`x", " lead", "trail ", "\ttab", "a\nb", "a\r\nb", "\n", "", " ",
                "line\u2028sep", "nel\x85x", "bom\ufeffx", "\x00nul", "é中文", "emoji 🙂", "back\\slash"]
values_text = st.one_of(st.sampled_from(YAML_SPECIAL), st.text(),
                        st.lists(st.sampled_from(YAML_SPECIAL) | st.text(max_size=5), max_size=4).map("".join))
scalars = st.one_of(values_text, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
SECTION_KEYS = [key for _, keys in render.yaml_sections() for key in keys]


@PROPERTY
@given(value=values_text, key=st.sampled_from([*SECTION_KEYS, "some_new_key"]))
def test_any_text_value_renders_as_one_scalar_and_loads_back_equal(value, key):
    args = {"stage": "sft", key: value, "output_dir": "checkpoints/run"}
    loaded = yaml.safe_load(render.to_yaml(args))
    assert loaded == args  # same keys (none added, none lost) and the text unchanged
    assert isinstance(loaded[key], str)


@PROPERTY
@given(args=st.dictionaries(st.sampled_from(SECTION_KEYS) | st.text(string.ascii_lowercase + "_", min_size=1),
                            scalars | st.lists(values_text, max_size=3), max_size=12),
       header=st.text())
def test_any_argument_dict_and_header_round_trip(args, header):
    text = render.to_yaml(args, header=header)
    assert (yaml.safe_load(text) or {}) == args
    assert text.count("\n### ") + text.startswith("### ") <= len(render.yaml_sections()) + 1


# --- names --------------------------------------------------------------------------------------------

CJK = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 200)) + "\u9fff"
FIRST = string.ascii_letters + string.digits + CJK
REST = FIRST + "_.-"
documented_names = st.builds(lambda a, b: a + b, st.sampled_from(FIRST), st.text(REST, max_size=99)).filter(
    lambda n: ".." not in n)
hostile = st.one_of(st.text(), st.sampled_from(["..", ".", "../x", "a/../b", "a/b", "/etc", "a\\b", "a\x00b", "\x00",
                                                "x..", "..x", "a\nb", " a ", "-a", "_a", ".a", "a" * 101, "𝔞", "é"]),
                    st.lists(st.sampled_from(["a", "..", "/", "\\", "\x00", ".", "-", "中", " "]), max_size=8).map("".join))


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _documented(name: str) -> bool:
    """The rule as the messages state it: letters, digits, Chinese characters, '-', '_', '.'; no '..'; ≤ 100."""
    plain = string.ascii_letters + string.digits
    return (0 < len(name) <= 100 and (name[0] in plain or _cjk(name[0]))
            and all(ch in plain + "_.-" or _cjk(ch) for ch in name) and ".." not in name)


def _one_component(name: str, root: Path) -> bool:
    return (root / name).resolve().parent == root.resolve() and name not in (".", "..")


@PROPERTY
@given(name=hostile)
def test_safe_name_accepts_only_documented_names(name):
    try:
        accepted = safe_name(name)
    except InvalidInputError as exc:
        assert exc.key == "err.unsafe_name"
        assert not _documented(name.strip())
        return
    assert accepted == name.strip() and _documented(accepted)
    assert not any(bad in accepted for bad in ("/", "\\", "\x00", "..", "\n"))
    assert _one_component(accepted, Path("/tmp/llmops-root"))


@PROPERTY
@given(name=documented_names, pad=st.sampled_from(["", " ", "\t", " \n"]))
def test_safe_name_keeps_every_documented_name(name, pad):
    assert safe_name(pad + name + pad) == name


@PROPERTY
@given(name=hostile)
def test_model_names_follow_the_same_rule(name):
    try:
        accepted = models._check_name(name)
    except InvalidInputError as exc:
        assert exc.key == "err.model_bad_name" and not _documented(name.strip())
        return
    assert accepted == name.strip() and _documented(accepted) and "/" not in accepted and "\x00" not in accepted


@PROPERTY
@given(version=st.one_of(st.text(max_size=40), st.sampled_from(["v1.0", "v1.1", "../v1", "v1/0", "v\x001", ".v1"])))
def test_versions_never_carry_separators(version):
    try:
        accepted = models._check_version(version)
    except InvalidInputError as exc:
        assert exc.key == "err.model_bad_version"
        return
    assert accepted == version.strip() and 0 < len(accepted) <= 32 and accepted[0] not in ".-_"
    assert not any(bad in accepted for bad in ("/", "\\", "\x00", "\n")) and accepted not in (".", "..")


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "a\x00b", "", "  "])
def test_dataset_registration_refuses_hostile_names(settings, name):
    from llmops.lf import dataset_info

    with pytest.raises(InvalidInputError) as info:
        dataset_info.register(dataset_info.ensure(settings), name, {"file_name": "x.jsonl"})
    assert info.value.key == "err.unsafe_name"
