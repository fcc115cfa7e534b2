"""Every CLI command, fed malformed input, exits 2 with a message in the user's language and no traceback."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys

import pytest

from llmops.cli import types as cli_types
from llmops.cli.main import build_parser, main
from tests.apphelpers import ROOT

MISSING = "no-such-thing-zz9"
# Arguments that name something the command creates: a name nobody used yet is exactly what they take.
NEW_NAMES = {("targets", "add", "slurm", "name")}
_HAN = re.compile(r"[\u4e00-\u9fff]")
_RANGE_TYPES = {cli_types.positive_int, cli_types.non_negative_int, cli_types.non_negative_float,
                cli_types.positive_float, cli_types.unit_float, cli_types.devices}


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """The CLI in-process: exit code, stdout, stderr (an uncaught exception fails the test)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return code, out.getvalue(), err.getvalue()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser, is_leaf) for every level of the command tree."""
    children = _subparsers(parser)
    yield path, parser, not children
    for name, child in children.items():
        yield from walk(child, (*path, name))


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]


def _needs_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _placeholder(action: argparse.Action, existing_file: str) -> str:
    if action.choices:
        return str(next(iter(action.choices)))
    if action.dest == "out":  # an output folder or file: a path that exists as a file cannot be used
        return existing_file
    return MISSING


def _filled(parser: argparse.ArgumentParser, existing_file: str, skip: argparse.Action | None = None) -> list[str]:
    """Every required argument given a placeholder (positionals in order), except `skip`."""
    argv: list[str] = []
    for action in _arguments(parser):
        if action is skip or not action.required:
            continue
        value = _placeholder(action, existing_file)
        argv += [value] if not action.option_strings else [action.option_strings[0], value]
    return argv


def malformed_cases(existing_file: str) -> list[tuple[str, list[str]]]:
    """(label, argv) pairs, drawn from the parser itself so a new command is swept too."""
    cases: list[tuple[str, list[str]]] = [("no command", [])]
    for path, parser, leaf in walk(build_parser()):
        if not leaf:
            cases.append((f"{' '.join(path)} unknown subcommand", [*path, "bogus-subcommand"]))
            continue
        base = [*path, *_filled(parser, existing_file)]
        cases.append((f"{' '.join(path)} unknown flag", [*base, "--no-such-flag"]))
        if any(a.required for a in _arguments(parser)):
            cases.append((f"{' '.join(path)} nothing given", list(path)))
        for action in _arguments(parser):
            flag = action.option_strings[0] if action.option_strings else None
            name = f"{' '.join(path)} {flag or action.dest}"
            if flag and _needs_value(action) and action.type in (int, float, *_RANGE_TYPES):
                cases.append((f"{name} not a number", [*base, flag, "abc"]))
            if flag and action.type in _RANGE_TYPES:
                cases.append((f"{name} out of range", [*base, f"{flag}=-1"]))
            if flag and action.choices:
                cases.append((f"{name} unknown choice", [*base, flag, "bogus-choice"]))
            if flag and _needs_value(action) and not action.required:
                cases.append((f"{name} value missing", [*base, flag]))
            if action.dest == "set":
                for bad in ("novalue", "=1", "learning_rate=[unclosed", "learning_rate={a: b", "no_such_key=1"):
                    cases.append((f"{name} {bad}", [*base, flag, bad]))
            if action.required and not action.choices:
                rest = _filled(parser, existing_file, skip=action)
                for value, what in (("", "empty"), ("   ", "blank"), (MISSING, "unknown")):
                    if what == "unknown" and action.dest == "out":
                        value = existing_file
                    if what == "unknown" and (*path, action.dest) in NEW_NAMES:
                        continue
                    given = [value] if not flag else [flag, value]
                    cases.append((f"{name} {what}", [*path, *_ordered(parser, action, given, rest)]))
    return cases


def _ordered(parser, action, given: list[str], rest: list[str]) -> list[str]:
    """Put a positional's value back at its place among the other placeholders."""
    if action.option_strings:
        return [*rest, *given]
    positionals = [a for a in _arguments(parser) if not a.option_strings]
    index = positionals.index(action)
    return [*rest[:index], *given, *rest[index:]]


@pytest.fixture
def one_parser(monkeypatch):
    """main() reuses one real parser for the whole test, built on its first call (after the test set the language,
    which the epilog is written in): argparse keeps no state between parse_args calls and no command here takes a
    custom action, so each call parses exactly as a fresh parser would, without rebuilding the tree ~400 times."""
    import llmops.cli.main as cli_main

    built: list[argparse.ArgumentParser] = []

    def reused() -> argparse.ArgumentParser:
        if not built:
            built.append(build_parser())
        return built[0]

    monkeypatch.setattr(cli_main, "build_parser", reused)
    return built


@pytest.fixture
def existing_file(tmp_path) -> str:
    path = tmp_path / "taken.txt"
    path.write_text("already here\n", encoding="utf-8")
    return str(path)


def test_the_sweep_reaches_every_command(existing_file):
    labels = [label for label, _ in malformed_cases(existing_file)]
    leaves = {" ".join(path) for path, _, leaf in walk(build_parser()) if leaf}
    assert {"train config", "train launch", "jobs show", "data validate", "data register", "prefs stats",
            "loop dpo-round", "demo-model"} <= leaves
    assert all(any(label.startswith(leaf + " ") for label in labels) for leaf in leaves)
    assert len(labels) > 100


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_command_refuses_malformed_input_with_exit_2(lang, monkeypatch, existing_file, tmp_path, settings,
                                                           one_parser):
    monkeypatch.setenv("LLMOPS_LANG", lang)
    monkeypatch.chdir(tmp_path)  # nothing a refused command might write lands in the repository
    failures = []
    for label, argv in malformed_cases(existing_file):
        code, _, err = run_cli(argv)
        message = err.strip().splitlines()[-1] if err.strip() else ""
        if code != 2 or "Traceback" in err or not message or (lang == "zh" and not _HAN.search(err)):
            failures.append(f"{label}: argv={argv} exit={code} stderr={err[:600]!r} … {err[-400:]!r}")
    assert not failures, "\n".join(failures)


def _write(path, content: bytes | str):
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_malformed_files_and_values(lang, monkeypatch, tmp_path, settings, one_parser):
    monkeypatch.setenv("LLMOPS_LANG", lang)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    bad_yaml = _write(tmp_path / "bad.yaml", "model_name_or_path: [unclosed\n")
    not_mapping = _write(tmp_path / "list.yaml", "- a\n- b\n")
    binary = _write(tmp_path / "bin.yaml", b"\x00\xff\xfe\x00garbage")
    bad_json = _write(tmp_path / "bad.json", '[{"instruction": "q", "output": ')
    cases = [
        ["train", "launch", bad_yaml], ["train", "launch", not_mapping], ["train", "launch", binary],
        ["train", "launch", str(folder)], ["train", "launch", str(tmp_path / "missing.yaml")],
        ["data", "register", bad_json, "--name", "bad"], ["data", "register", str(folder), "--name", "x"],
        ["data", "register", bad_json, "--name", "../evil"], ["data", "validate", str(folder)],
        ["prefs", "stats", "--file", str(folder)], 
        ["data", "preview", "sample_sft", "--version", "v99"], ["data", "export-csv", "sample_sft", str(folder)],
        ["jobs", "logs", "20990101-000000-abcdef"],
    ]
    failures = []
    for argv in cases:
        code, _, err = run_cli(argv)
        message = err.strip().splitlines()[-1] if err.strip() else ""
        if code != 2 or "Traceback" in err or not message or (lang == "zh" and not _HAN.search(err)):
            failures.append(f"argv={argv} exit={code} stderr={err[-400:]!r}")
    assert not failures, "\n".join(failures)
    assert len(one_parser) == 1


def test_an_invalid_dataset_is_a_run_that_failed_not_a_user_error(tmp_path, settings):
    bad = _write(tmp_path / "bad.jsonl", '{"text": "ok"}\n{oops\n')
    code, out, err = run_cli(["data", "validate", bad])
    assert code == 1 and f"{bad}:2: invalid JSON" in out and "Traceback" not in err


def _subprocess(*args: str, lang: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llmops", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "LLMOPS_LANG": lang})


def test_real_process_malformed_set_value_and_unknown_command(settings):
    bad = _subprocess("train", "config", "--stage", "sft", "--model", "demo", "--dataset", "sample_sft",
                      "--set", "learning_rate=[1,", lang="en")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--set learning_rate=[1,: the value is not valid YAML" in bad.stderr
    zh = _subprocess("jobs", "bogus", lang="zh")
    assert zh.returncode == 2 and "Traceback" not in zh.stderr
    assert "用法：" in zh.stderr and "无效的选项 'bogus'" in zh.stderr
    env_bad = subprocess.run([sys.executable, "-m", "llmops", "jobs", "list"], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env={**os.environ, "LLMOPS_STOP_GRACE_S": "soon"})
    assert env_bad.returncode == 2 and "Traceback" not in env_bad.stderr and "soon" in env_bad.stderr
