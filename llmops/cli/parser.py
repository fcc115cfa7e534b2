"""An ArgumentParser whose errors speak the user's language and exit 2 like every other user error."""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from ..i18n import has, t
from ..settings import Settings

_ARGUMENT = re.compile(r"argument (?P<arg>[^:]+): (?P<message>.*)", re.DOTALL)
_PLAIN = (
    (re.compile(r"the following arguments are required: (?P<names>.*)", re.DOTALL), "cli.arg_required"),
    (re.compile(r"unrecognized arguments: (?P<names>.*)", re.DOTALL), "cli.arg_unrecognized"),
    (re.compile(r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)", re.DOTALL), "cli.arg_ambiguous"),
)
_FOR_ARGUMENT = (
    (re.compile(r"invalid choice: (?P<value>.*) \(choose from (?P<choices>.*)\)", re.DOTALL), "cli.arg_choice"),
    (re.compile(r"invalid (?P<type>\S+) value: (?P<value>.*)", re.DOTALL), "cli.arg_type"),
    (re.compile(r"expected (?P<count>.*?) arguments?", re.DOTALL), "cli.arg_expected"),
    (re.compile(r"not allowed with argument (?P<other>.*)", re.DOTALL), "cli.arg_not_allowed"),
    (re.compile(r"ignored explicit argument (?P<value>.*)", re.DOTALL), "cli.arg_ignored"),
)
_COUNTS = {"one": "1", "at least one": "≥ 1", "at most one": "≤ 1"}


def translate(message: str, lang: str) -> str:
    """argparse's English error message in `lang` (the argument names and values stay as typed)."""
    for pattern, key in _PLAIN:
        if found := pattern.fullmatch(message):
            return t(key, lang, **found.groupdict())
    argument = _ARGUMENT.fullmatch(message)
    if argument is None:
        return t("cli.arg_other", lang, message=message)
    arg, inner = argument["arg"], argument["message"]
    for pattern, key in _FOR_ARGUMENT:
        if found := pattern.fullmatch(inner):
            params = found.groupdict()
            if "type" in params and has(f"cli.type_{params['type']}"):
                params["type"] = t(f"cli.type_{params['type']}", lang)
            if "count" in params:
                params["count"] = _COUNTS.get(params["count"], params["count"])
            return t(key, lang, arg=arg, **params)
    return t("cli.arg_other_for", lang, arg=arg, message=inner)


class CliParser(argparse.ArgumentParser):
    """Sub-parsers inherit this class, so every level of the command tree reports errors the same way."""

    def error(self, message: str) -> NoReturn:
        """Usage, then the translated message; exit 2."""
        lang = Settings().lang  # the plain constructor reads only the language, so it cannot fail here
        usage = self.format_usage()
        if usage.startswith("usage: "):
            usage = t("cli.usage", lang) + usage[len("usage: "):]
        sys.stderr.write(usage)
        sys.stderr.write(f"{self.prog}: {t('cli.error', lang, message=translate(message, lang))}\n")
        raise SystemExit(2)
