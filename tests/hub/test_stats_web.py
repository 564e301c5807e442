"""`/stats`, `GET /api/stats` and `plein stats export` (issue 20): the figures for administrators and group owners,
a page with server-drawn SVG and no script, 400s with a reason, nothing for anyone else; and visits counted as
pages are opened, a click on a link in Plein's mail counted as one from mail."""

from __future__ import annotations

import csv
import doctest
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub import urls
from hub.cli import main
from hub.models import OutgoingMail, ViewEvent
from hub.services import accounts, groups, notifications, participation, participation_figures, posts
from hub.urls import from_mail
from hub.web import stats_plots
from hub.web.app import create_app
from tests.hub.test_participation import build, today
from tests.support.web import signed_in


@pytest.fixture
def world(context):
    with context.session_scope() as session:
        built = build(session)
        participation.record_view(session, built["dirk"], built["secret"].id)
        participation.record_view(session, built["bram"], built["cables"].id)
        participation.roll_up_day(session, today())
        tokens = {name: accounts.create_api_token(session, built[name]) for name in ("anna", "bram", "carol")}
        return {"tokens": tokens, "cables": built["cables"].id, "secret": built["secret"].id}


def api(context, world, who: str) -> TestClient:
    return TestClient(create_app(context), headers={"Authorization": f"Bearer {world['tokens'][who]}"})


def test_an_administrator_reads_the_whole_hub_over_the_api(context, world):
    answer = api(context, world, "anna").get("/api/stats", params={"from": str(today() - timedelta(days=6)),
                                                                    "period": "day"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["people"] == 4 and body["funnel"]["created"] == {"people": 2, "share": 0.5}
    assert body["series"][-1] == {"start": str(today()), "visited": 2, "reacted": 0, "created": 2}
    assert {t["title"] for t in body["top_threads"]} == {"Kabels", "Geheim"}  # Anna is in Board
    assert body["groups_counted"] is None and body["items"]["posts"] == 2


def test_a_group_owner_reads_their_group_and_nothing_of_a_private_one(context, world):
    body = api(context, world, "bram").get("/api/stats").json()
    assert body["groups_counted"] == ["team"]
    text = repr(body)
    assert "Geheim" not in text and "board" not in text and "reorganisatie" not in text
    assert [t["title"] for t in body["top_threads"]] == ["Kabels"]


@pytest.mark.parametrize("params, status", [
    ({"from": "yesterday"}, 400), ({"to": "2026-02-30"}, 400), ({"group": "board"}, 400),
    ({"group": "no-such-group"}, 400), ({"department": 999999}, 400), ({"department": 2**40}, 400),
    ({"department": -1}, 400), ({"department": "Sales"}, 422), ({"period": "year"}, 400),
    ({"from": "2026-05-02", "to": "2026-05-01"}, 400),
])
def test_bad_questions_get_400_with_a_reason(context, world, params, status):
    answer = api(context, world, "bram").get("/api/stats", params=params)
    assert answer.status_code == status and answer.json()["detail"]


def test_a_private_group_one_may_not_see_gets_the_same_answer_as_one_that_is_not_there(context, world):
    client = api(context, world, "bram")
    hidden = client.get("/api/stats", params={"group": "board"}).json()["detail"]
    missing = client.get("/api/stats", params={"group": "gone"}).json()["detail"]
    assert hidden.replace("board", "X") == missing.replace("gone", "X")


def test_someone_who_owns_no_group_gets_403_and_no_page(context, world):
    assert api(context, world, "carol").get("/api/stats").status_code == 403
    assert TestClient(create_app(context)).get("/api/stats").status_code == 401
    page = signed_in(context, "carol@example.com").get("/stats")
    assert page.status_code == 404 and "Kabels" not in page.text


def test_the_page_draws_its_plots_inline_without_a_script(context, world):
    page = signed_in(context, "anna@example.com").get("/stats", params={"period": "day"})
    assert page.status_code == 200
    assert page.text.count("<svg") >= 2 and "<script" not in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "Kabels" in page.text and "Geheim" in page.text
    bram = signed_in(context, "bram@example.com").get("/stats").text
    assert "Kabels" in bram and "Geheim" not in bram and "Board" not in bram


def test_a_bad_date_on_the_page_is_a_message_on_its_form(context, world):
    page = signed_in(context, "anna@example.com").get("/stats", params={"from": "gisteren"})
    assert page.status_code == 400
    assert 'class="error"' in page.text and "gisteren" in page.text and 'name="from"' in page.text


def test_opening_pages_counts_visits_and_a_thread_and_a_click_from_mail(context, world):
    browser = signed_in(context, "bram@example.com")
    with context.session_scope() as session:
        session.execute(ViewEvent.__table__.delete())
    browser.get("/groups")
    browser.get(from_mail(f"/p/{world['cables']}"))
    browser.get(f"/p/{world['secret']}")  # not his to see: a 404 is no visit
    with context.session_scope() as session:
        bram = accounts.get_user(session, "bram@example.com")
        seen = [(e.user_id, e.post_id, e.from_mail) for e in session.scalars(select(ViewEvent).order_by(ViewEvent.id))]
    assert seen == [(bram.id, None, False), (bram.id, world["cables"], True)]


def test_links_to_threads_in_mail_carry_the_mail_marker(context, world):
    with context.session_scope() as session:
        team, anna = groups.get_group(session, "team"), accounts.get_user(session, "anna@example.com")
        post = posts.create_post(session, team, anna, "Nieuws", "Het dak is klaar.")
        session.flush()
        notifications.notify_post(session, post.id)
    with context.session_scope() as session:
        sent = session.scalars(select(OutgoingMail)).all()
    assert sent and all(f"/p/{post.id}?via=mail" in mail.message.decode() for mail in sent)


def test_plein_stats_export_writes_the_figures_as_csv(context, world, tmp_path):
    target = tmp_path / "stats.csv"
    result = CliRunner().invoke(main, ["stats", "export", "--from", str(today() - timedelta(days=6)),
                                       "--to", str(today()), "--period", "day", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open()))
    figures = {(r["section"], r["name"], r["measure"]): r["value"] for r in rows}
    assert figures["people", "", "people"] == "4"
    assert figures["funnel", "created", "people"] == "2"
    assert figures["series", str(today()), "visited"] == "2"
    assert ("top_threads", f"/p/{world['secret']}", "title") in figures  # the operator sees every group


def test_plein_stats_export_refuses_a_bad_date_in_one_line(context, world, tmp_path):
    result = CliRunner().invoke(main, ["stats", "export", "--from", "soon", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "YYYY-MM-DD" in result.output


def test_the_examples_of_the_mail_marker_and_the_plots_axis_hold():
    for module in (urls, stats_plots, participation_figures):
        assert doctest.testmod(module).failed == 0, module.__name__
