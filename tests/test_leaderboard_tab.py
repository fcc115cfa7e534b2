"""The Leaderboard tab's outputs: human votes by default, the filter through the real app, days on the time axis,
translated chart titles, model ids never shown as links."""

from __future__ import annotations

import json
import re

from llmops.services.container import build_services
from llmops.services.prefs import PrefsStore, Vote
from llmops.ui.tabs import leaderboard

from .apphelpers import connect


def seed(path) -> None:
    store = PrefsStore(path)
    for i in range(12):
        a, b = ("demo@v1.0", "demo@v1.1") if i % 2 else ("demo@v1.1", "other@v2.0")
        store.append(Vote(prompt=f"p{i}", model_a=a, model_b=b, response_a="x", response_b="y",
                          winner="ab"[i % 3 == 0], ts=f"2026-03-0{1 + i % 3}T1{i % 10}:00:00+00:00"))
    for i in range(5):
        store.append(Vote(prompt=f"s{i}", model_a="demo@v1.0", model_b="reference@synthetic", response_a="x",
                          response_b="y", winner="b", source="synthetic", ts="2026-03-04T08:00:00+00:00"))


def test_view_defaults_to_human_votes_with_day_ticks_and_no_links(settings):
    seed(settings.prefs_path)
    services = build_services(settings)
    summary, table, heat, time_fig, first, _ = leaderboard.view(services, leaderboard.DEFAULT_SOURCE, "en")
    assert leaderboard.DEFAULT_SOURCE == "human"
    assert sorted(table["Model"]) == ["demo@v1.0", "demo@v1.1", "other@v2.0"] and table["Votes"].sum() == 2 * 12
    assert first["choices"][0] in table["Model"].tolist() and "17 votes (12 human, 5 synthetic)" in summary
    assert "@" not in re.sub(r"`[^`]*`", "", summary)
    assert heat.layout.title.text == "Win rate (row model beats column model)"
    assert time_fig.layout.title.text == "Votes per day" and list(time_fig.data[0].x) == [
        "2026-03-01", "2026-03-02", "2026-03-03"]
    axis = time_fig.layout.xaxis
    assert axis.type == "date" and axis.tickformat == "%Y-%m-%d" and axis.dtick % 86_400_000 == 0
    everything = leaderboard.view(services, "all", "en")[1]
    assert "reference@synthetic" in everything["Model"].tolist()
    sentence = leaderboard.separation(services, "demo@v1.0", "demo@v1.1", "human", "en")
    assert "`demo@v1.0`" in sentence and "@" not in re.sub(r"`[^`]*`", "", sentence)
    zh = leaderboard.view(services, "human", "zh")
    assert zh[2].layout.title.text == "胜率（行模型胜过列模型）" and zh[3].layout.title.text == "每日投票数"
    assert zh[1].columns[0] == "模型"


def test_filter_applies_on_change_through_the_app(settings, app_factory):
    seed(settings.prefs_path)
    app = app_factory(lang="zh")
    client = connect(app.url)
    human = client.predict("human", api_name="/leaderboard")
    synthetic = client.predict("synthetic", api_name="/leaderboard_source")
    separated = client.predict("demo@v1.0", "demo@v1.1", "human", api_name="/votes_to_separate")
    def models(result) -> list[str]:
        return [row[0] for row in result[1]["data"]]

    assert sorted(models(human)) == ["demo@v1.0", "demo@v1.1", "other@v2.0"]
    assert sorted(models(synthetic)) == ["demo@v1.0", "reference@synthetic"]
    titles = [json.loads(plot["plot"])["layout"]["title"]["text"] for plot in synthetic[2:4]]
    assert titles == ["胜率（行模型胜过列模型）", "每日投票数"]
    assert "`demo@v1.0`" in separated
