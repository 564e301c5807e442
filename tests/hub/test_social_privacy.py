"""Nothing social tells a reader about a group they may not see (issue 17).

Hypothesis builds random groups (public or private), members, posts with tags, mentions,
comments and reactions, and follows of people, groups, threads and tags; then lets some members
leave. Every reader then reads their home feed, notifications, follow list, every tag page, the
mention suggestions and every thread's reactions over the API, and none of it may name, show or
count an item, a group or a thread they may not see: a hidden thread answers exactly as a missing
one does.
"""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from hub.models import (
    Comment,
    Follow,
    Group,
    Membership,
    Notification,
    NotificationChannel,
    OutgoingMail,
    Post,
    Reaction,
    Tagging,
    ThreadRead,
    User,
)
from hub.services import accounts, follows, groups, inbox, posts, reactions
from hub.web.app import create_app

TAGS = ["glasvezel", "kabelgoot", "begroting"]
FOLLOW_KINDS = ["person", "group", "post", "tag"]

worlds = st.fixed_dictionaries({
    "private": st.lists(st.booleans(), min_size=1, max_size=3),
    "users": st.integers(min_value=2, max_value=4),
    "memberships": st.sets(st.tuples(st.integers(0, 3), st.integers(0, 2)), max_size=8),
    "posts": st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 2), st.integers(0, 3), st.booleans()),
        min_size=1, max_size=6,
    ),
    "reactions": st.sets(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=6),
    "follows": st.sets(st.tuples(st.integers(0, 3), st.sampled_from(FOLLOW_KINDS), st.integers(0, 5)), max_size=10),
    "leaving": st.sets(st.tuples(st.integers(0, 3), st.integers(0, 2)), max_size=3),
})


def clear(session):
    for table in (
        Notification, NotificationChannel, OutgoingMail, ThreadRead, Reaction, Tagging, Follow, Comment, Post,
        Membership, Group, User,
    ):
        session.execute(delete(table))
    session.flush()


def build(session, world):
    """The world in the database; returns the groups, the people, the posts and who is a member of what."""
    made_groups = [
        groups.create_group(session, f"zone{n}q", f"Zone {n}", private=private)
        for n, private in enumerate(world["private"])
    ]
    people = [accounts.create_user(session, f"mens{n}@example.com", f"Mens {n}") for n in range(world["users"])]
    members = set()
    for person_n, group_n in world["memberships"]:
        if person_n < len(people) and group_n < len(made_groups):
            groups.add_member(session, made_groups[group_n], people[person_n])
            members.add((person_n, group_n))
    made_posts = []
    for n, (group_n, author_n, tag_n, mentioned_n, with_comment) in enumerate(world["posts"]):
        group, author = made_groups[group_n % len(made_groups)], people[author_n % len(people)]
        mentioned = people[mentioned_n % len(people)].email.partition("@")[0]
        post = posts.create_post(
            session, group, author, f"Titel geheimcode{n}", f"Over #{TAGS[tag_n]} met @{mentioned}: geheimcode{n}"
        )
        if with_comment:
            posts.create_comment(session, post, people[(author_n + 1) % len(people)], f"Ja @{mentioned} geheimcode{n}")
        made_posts.append(post)
    for person_n, post_n in world["reactions"]:
        if person_n < len(people) and post_n < len(made_posts):
            reactions.react(session, people[person_n], made_posts[post_n], "like")
    for person_n, kind, target_n in world["follows"]:
        if person_n >= len(people):
            continue
        targets = {"person": people, "group": made_groups, "post": made_posts, "tag": TAGS}[kind]
        follows.follow(session, people[person_n], targets[target_n % len(targets)])
    session.flush()
    for post in made_posts:  # the fan-out job of each new post, as a worker runs it
        inbox.notify_post(session, post.id)
    return made_groups, people, made_posts, members


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds)
def test_no_feed_notification_follow_list_tag_page_suggestion_or_reaction_list_reveals_a_hidden_group(
    context, session, world
):
    clear(session)
    made_groups, people, made_posts, members = build(session, world)
    tokens = [accounts.create_api_token(session, person) for person in people]
    session.commit()
    for person_n, group_n in world["leaving"]:
        if (person_n, group_n) in members:
            groups.remove_member(session, made_groups[group_n], people[person_n])
            members.discard((person_n, group_n))
    session.commit()

    app = create_app(context)
    for person_n, token in enumerate(tokens):
        visible = {g.id for n, g in enumerate(made_groups) if not g.is_private or (person_n, n) in members}
        hidden_posts = [(n, p) for n, p in enumerate(made_posts) if p.group_id not in visible]
        secrets = [f"geheimcode{n}" for n, _ in hidden_posts] + [g.slug for g in made_groups if g.id not in visible]
        client = TestClient(app, headers={"Authorization": f"Bearer {token}"})

        answers = [*pages(client, "/api/feed"), client.get("/api/follows"), *pages(client, "/api/notifications")]
        answers += [client.get(f"/api/tags/{tag}") for tag in TAGS]
        answers += [client.get("/api/mentions/suggest", params={"q": "mens"})]
        for answer in answers:
            assert answer.status_code == 200, (answer.url, answer.text)
            leaked = [secret for secret in secrets if secret in answer.text]
            assert not leaked, (answer.url, leaked)

        missing = client.get("/api/posts/999999")
        for _, post in hidden_posts:
            for path in (f"/api/posts/{post.id}", f"/api/posts/{post.id}/history"):
                answer = client.get(path)
                assert (answer.status_code, answer.json()) == (404, not_found_like(missing, post.id)), path
            assert client.put(f"/api/follows/post/{post.id}").status_code == 404
            assert client.put(f"/api/posts/{post.id}/reactions/like").status_code == 404
        for group in made_groups:
            if group.id not in visible:
                assert client.put(f"/api/follows/group/{group.slug}").status_code == 404


def pages(client: TestClient, path: str):
    """Every page of a cursor-paged listing."""
    answer = client.get(path)
    yield answer
    while answer.status_code == 200 and answer.json().get("next_cursor"):
        answer = client.get(path, params={"cursor": answer.json()["next_cursor"]})
        yield answer


def not_found_like(missing, post_id: int):
    """The 404 body for a missing post, with its id swapped for `post_id`."""
    return json.loads(missing.text.replace("999999", str(post_id)))
