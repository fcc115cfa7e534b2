"""Live state: every picker and table is filled on page load, on tab select and whenever the workspace changes.

A tab registers what it shows with `Live.add` (or `Live.picker`) and the topics it depends on; `Live.wire`
then attaches three events to the page: load (everything), tab select (that tab's items) and a timer that
compares cheap per-topic fingerprints and refreshes only the items whose topics changed. An update equal to
the one this page was last sent for that output is skipped, so a busy job table does not re-render every
table on the page. Nothing is computed once at page build, and no refresh goes through the queue.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from ..errors import LLMOpsError
from ..services.workspace import TOPICS, WorkspaceWatch

log = logging.getLogger(__name__)
TICK_S = 2.0


@dataclass
class _Item:
    """A refresh: fn(*input values, lang) -> one update per output."""

    outputs: list
    inputs: list
    fn: Callable[..., Sequence[Any]]
    topics: frozenset[str]
    tab: Any = None
    deferred: bool = False  # filled by the first tick after load, so a slow source never holds up the page


def choice_values(choices: Iterable) -> list:
    """The values of (label, value) pairs or plain choices."""
    return [c[1] if isinstance(c, tuple) else c for c in choices]


def picker_update(choices: list, current, *, multiselect: bool = False, default=None, prefer=None) -> dict:
    """New choices; keep what is still offered, drop what is gone, fall back to `default`, select `prefer`.

    When the current pick stays, the update carries no value at all: a refresh computed from a value the user
    has changed since must not put the old one back.
    """
    values = choice_values(choices)
    if multiselect:
        kept = [v for v in (current or []) if v in values]
        if prefer in values and prefer not in kept:
            kept.append(prefer)
        if not kept and current is None:
            kept = [v for v in (default or []) if v in values]
        return gr.update(choices=choices) if kept == (current or []) and current is not None else \
            gr.update(choices=choices, value=kept)
    for candidate in (prefer, current, default):
        if candidate is not None and candidate in values:
            if candidate == current:
                return gr.update(choices=choices)
            return gr.update(choices=choices, value=candidate)
    return gr.update(choices=choices, value=None)


@dataclass
class Live:
    """The page's registry of live items; one per page build."""

    watch: WorkspaceWatch
    lang_state: gr.State
    items: list[_Item] = field(default_factory=list)
    current_tab: Any = None

    def add(self, outputs: Sequence, fn: Callable[..., Sequence[Any]], *, topics: Iterable[str],
            inputs: Sequence = (), deferred: bool = False) -> None:
        """Register `fn(*inputs, lang)` as the refresh of `outputs`, run when any of `topics` changes (`deferred`:
        on the first tick after the page loaded instead of in the load itself, for a source that is slow once)."""
        unknown = set(topics) - set(TOPICS)
        if unknown:
            raise ValueError(f"unknown topics {sorted(unknown)}")
        self.items.append(_Item(list(outputs), list(inputs), fn, frozenset(topics), self.current_tab, deferred))

    def picker(self, component: gr.Dropdown, choices: Callable[[str], list], *, topics: Iterable[str],
               default: Callable[[list], Any] | None = None, follow: Callable[[], Any] | None = None,
               deferred: bool = False) -> None:
        """A dropdown whose choices come from `choices(lang)`.

        `default(choices)` is used when nothing valid is chosen; `follow()` names a value the picker jumps to
        whenever that value changes (a new default backend, a new version), and otherwise the user's pick holds.
        """
        multiselect = bool(getattr(component, "multiselect", False))
        seen = gr.State(None)

        def refresh(current, last, lang):
            options = choices(lang)
            target = follow() if follow else None
            prefer = target if target is not None and target != last else None
            update = picker_update(options, current, multiselect=multiselect,
                                   default=default(options) if default else None, prefer=prefer)
            return [update, target]

        self.add([component, seen], refresh, topics=topics, inputs=[component, seen], deferred=deferred)

    def wire(self, demo: gr.Blocks) -> None:
        """Attach load, tab-select and timer events for every registered item."""
        outputs, inputs = self._components()
        revision, sent = gr.State(None), gr.State(None)
        all_in = [revision, sent, self.lang_state, *inputs]
        all_out = [revision, sent, *outputs]

        def on_load(_rev, _sent, lang, *values):
            now = self.watch.revision()  # before reading: a change made during the reads shows at the next tick
            updates, digests = _unsent(self._run(values, inputs, lang, lambda item: not item.deferred), {})
            return [now, digests, *updates]

        def on_tick(rev, last_sent, lang, *values):
            now = self.watch.revision()
            changed = self.watch.changed(rev, now)
            if not changed:
                return gr.skip()
            updates, digests = _unsent(self._run(values, inputs, lang, lambda item: bool(item.topics & changed)),
                                       last_sent)
            return [now, digests, *updates]

        demo.load(on_load, all_in, all_out, api_name="live_load", queue=False, show_progress="hidden")
        self._wire_deferred(demo, inputs)
        timer = gr.Timer(TICK_S)
        timer.tick(on_tick, all_in, all_out, api_name="live_tick", queue=False, show_progress="hidden")
        for tab in {id(item.tab): item.tab for item in self.items if item.tab is not None}.values():
            def on_select(rev, last_sent, lang, *values, _tab=tab):
                updates, digests = _unsent(self._run(values, inputs, lang, lambda item: item.tab is _tab), last_sent)
                return [gr.skip(), digests, *updates]

            tab.select(on_select, all_in, all_out, queue=False, show_progress="hidden")

    def _wire_deferred(self, demo: gr.Blocks, inputs: list) -> None:
        """Slow sources load in an event of their own beside the page's load, so they hold up neither it nor a tick
        (their outputs join the sent-digest bookkeeping when a topic or a tab select refreshes them)."""
        deferred = [item for item in self.items if item.deferred]
        if not deferred:
            return
        wanted_in = [comp for comp in inputs if any(comp is known for item in deferred for known in item.inputs)]

        def on_load_deferred(lang, *values):
            by_id = {id(comp): value for comp, value in zip(wanted_in, values, strict=True)}
            return [update for item in deferred for update in self._refresh(item, by_id, lang)]

        demo.load(on_load_deferred, [self.lang_state, *wanted_in], [comp for item in deferred for comp in item.outputs],
                  api_name="live_load_deferred", queue=False, show_progress="hidden")

    def _components(self) -> tuple[list, list]:
        outputs, inputs, seen = [], [], set()
        for item in self.items:
            for comp in item.outputs:
                if comp._id in seen:
                    raise ValueError(f"component {comp._id} is refreshed by two live items")
                seen.add(comp._id)
                outputs.append(comp)
            for comp in item.inputs:
                if all(comp is not known for known in inputs):
                    inputs.append(comp)
        return outputs, inputs

    def _run(self, values: Sequence, inputs: list, lang: str, wanted: Callable[[_Item], bool]) -> list:
        """Updates for every output: fresh for the wanted items, skipped for the rest."""
        by_id = {id(comp): value for comp, value in zip(inputs, values, strict=True)}
        result = []
        for item in self.items:
            result.extend(self._refresh(item, by_id, lang) if wanted(item) else [gr.skip() for _ in item.outputs])
        return result

    @staticmethod
    def _refresh(item: _Item, by_id: dict, lang: str) -> list:
        """One item's updates from its input values; a broken store keeps the last good view."""
        try:
            updates = list(item.fn(*(by_id[id(comp)] for comp in item.inputs), lang))
        except LLMOpsError as exc:
            # A broken store is shown where it is edited; the refresh keeps the last good view.
            log.warning("live refresh skipped: %s", exc.message("en"))
            updates = [gr.skip() for _ in item.outputs]
        if len(updates) != len(item.outputs):
            raise ValueError(f"{item.fn.__name__} returned {len(updates)} updates for {len(item.outputs)} outputs")
        return updates


def _unsent(updates: list, last_sent: dict | None) -> tuple[list, dict]:
    """The updates with those equal to what this page was last sent for the same output replaced by skips."""
    digests = dict(last_sent or {})
    result = []
    for position, update in enumerate(updates):
        if _is_skip(update):
            result.append(update)
            continue
        digest = _digest(update)
        result.append(gr.skip() if digest is not None and digests.get(position) == digest else update)
        digests[position] = digest
    return result, digests


def _is_skip(update) -> bool:
    return isinstance(update, dict) and set(update) == {"__type__"}


def _digest(update) -> str | None:
    """A fingerprint of an update's full content (tables and figures by their JSON, never a truncated repr)."""
    def full(value):
        to_json = getattr(value, "to_json", None)
        return to_json() if callable(to_json) else repr(value)

    try:
        text = json.dumps(update, sort_keys=True, default=full)
    except (TypeError, ValueError):  # keys that do not sort: always sent
        return None
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
