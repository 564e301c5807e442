"""Changing how mail arrives: per membership on the web and in the API, and the person's digest time."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hub.models import Delivery, Membership
from hub.services import accounts, groups
from hub.web.app import create_app
from tests.support.web import signed_in_with_csrf


def make_member(context, delivery: str = "each") -> str:
    with context.session_scope() as session:
        rick = accounts.create_user(session, "rick@example.com", "Rick Reader")
        groups.add_member(session, groups.create_group(session, "engineering", "Engineering"), rick, delivery)
        groups.create_group(session, "social", "Social")
        return accounts.create_api_token(session, rick)


def deliveries(context) -> dict[str, str]:
    with context.session_scope() as session:
        return {m.group.slug: m.delivery.value for m in session.query(Membership)}


def test_the_api_changes_delivery_per_membership(context, data_dir):
    token = make_member(context)
    client = TestClient(create_app(context))
    auth = {"Authorization": f"Bearer {token}"}

    answer = client.put("/api/groups/engineering/membership", json={"delivery": "daily"}, headers=auth)

    assert answer.status_code == 200
    assert answer.json()["delivery"] == "daily"
    assert deliveries(context) == {"engineering": "daily"}
    bad = client.put("/api/groups/engineering/membership", json={"delivery": "hourly"}, headers=auth)
    assert bad.status_code == 400 and "delivery must be one of" in bad.json()["detail"]
    not_member = client.put("/api/groups/social/membership", json={"delivery": "daily"}, headers=auth)
    assert not_member.status_code == 404 and not_member.json()["detail"]
    assert client.put("/api/groups/engineering/membership", json={"delivery": "none"}).status_code == 401


def test_the_api_reads_and_changes_the_digest_time_zone_hour_and_language(context, data_dir):
    token = make_member(context)
    client = TestClient(create_app(context))
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/preferences", headers=auth).json() == {
        "timezone": "Europe/Amsterdam", "digest_hour": 7, "digest_weekday": 0, "language": "en", "notify_replies": True,
        "default_delivery": "each", "receipts": True,
        "notifications": {"mention": "mail", "reply": "mail", "reaction": "web", "post": "web", "status": "web"},
    }
    wanted = {
        "timezone": "Asia/Tokyo", "digest_hour": 18, "digest_weekday": 4, "language": "nl", "notify_replies": False,
        "default_delivery": "daily", "receipts": False,
    }
    assert client.put("/api/preferences", json=wanted, headers=auth).json() == {
        **wanted, "notifications": {"mention": "mail", "reply": "web", "reaction": "web", "post": "web", "status": "web"},
    }
    bad = client.put("/api/preferences", json={**wanted, "timezone": "Mars/Olympus"}, headers=auth)
    assert bad.status_code == 400 and "time zone" in bad.json()["detail"]


def test_the_preferences_page_changes_delivery_and_digest_settings(context, data_dir):
    make_member(context)
    client, csrf = signed_in_with_csrf(context, "rick@example.com")
    page = client.get("/preferences")
    assert 'name="delivery-engineering"' in page.text

    saved = client.post("/preferences", data={
        "csrf": csrf, "delivery-engineering": "weekly", "digest_hour": "6", "digest_weekday": "2",
        "timezone": "Europe/London", "language": "nl",
    })

    assert saved.status_code == 200 and "Opgeslagen." in saved.text  # the page speaks the language just chosen
    assert deliveries(context) == {"engineering": "weekly"}
    with context.session_scope() as session:
        rick = accounts.get_user(session, "rick@example.com")
        assert (rick.digest_hour, rick.digest_weekday, rick.timezone, rick.language, rick.notify_replies) == (
            6, 2, "Europe/London", "nl", False,
        )


def test_a_bad_value_on_the_preferences_page_is_explained_and_nothing_changes(context, data_dir):
    make_member(context)
    client, csrf = signed_in_with_csrf(context, "rick@example.com")
    answer = client.post("/preferences", data={
        "csrf": csrf, "delivery-engineering": "daily", "digest_hour": "25", "digest_weekday": "0",
        "timezone": "Europe/Amsterdam", "language": "en", "notify_replies": "on",
    })
    assert answer.status_code == 400 and "0 to 23" in answer.text
    assert deliveries(context) == {"engineering": "each"}
    assert client.post("/preferences", data={"csrf": "forged"}).status_code == 403


def test_one_click_unsubscribe_needs_no_sign_in_and_the_get_page_only_asks(context, data_dir):
    make_member(context)
    from hub.services.subscriptions import unsubscribe_token

    with context.session_scope() as session:
        token = unsubscribe_token(session.query(Membership).one())
    client = TestClient(create_app(context))
    asked = client.get(f"/unsubscribe/{token}")
    assert asked.status_code == 200 and "Stop mail from Engineering?" in asked.text
    assert deliveries(context) == {"engineering": "each"}
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    assert deliveries(context) == {"engineering": Delivery.NONE.value}
