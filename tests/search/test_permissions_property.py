"""No result, count, facet, suggestion, correction or related post reveals what a reader may not see.

Hypothesis builds random groups (public or private), members and posts with comments in the
real database, indexes them through the hub, lets some members leave, and then asks, as
every user, every kind of question the search offers.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from hub.models import Comment, Group, Membership, Post, User
from hub.services import accounts, groups, index_writer, posts, searching

WORDS = ["glasvezel", "kabelgoot", "begroting", "vergadering", "modem", "rooster"]

worlds = st.fixed_dictionaries({
    "private": st.lists(st.booleans(), min_size=1, max_size=4),
    "users": st.integers(min_value=1, max_value=4),
    "memberships": st.sets(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=10),
    "posts": st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(WORDS), st.booleans()),
        min_size=1, max_size=8,
    ),
    "leaving": st.sets(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=3),
})


def clear(session):
    for table in (Comment, Post, Membership, Group, User):
        session.execute(delete(table))
    session.flush()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds)
def test_search_never_reveals_an_item_from_a_group_the_reader_may_not_see(context, session, world):
    clear(session)
    made_groups = [
        groups.create_group(session, f"g{n}", f"Groep {n}", private=private, description=f"over {WORDS[n]}")
        for n, private in enumerate(world["private"])
    ]
    users = [accounts.create_user(session, f"u{n}@example.com", f"Gebruiker {n}") for n in range(world["users"])]
    members: set[tuple[int, int]] = set()
    for user_n, group_n in world["memberships"]:
        if user_n < len(users) and group_n < len(made_groups):
            groups.add_member(session, made_groups[group_n], users[user_n])
            members.add((user_n, group_n))
    made_posts = []
    for n, (group_n, author_n, word, with_comment) in enumerate(world["posts"]):
        group = made_groups[group_n % len(made_groups)]
        author = users[author_n % len(users)]
        post = posts.create_post(session, group, author, f"{word.title()} nummer{n}", f"Over {word}: geheimcode{n} #{word}")
        if with_comment:
            posts.create_comment(session, post, author, f"Reactie op {word} geheimcode{n}")
        made_posts.append(post)
    session.flush()
    session.commit()  # the rebuild reads in transactions of its own
    index_writer.reindex(context)
    for user_n, group_n in world["leaving"]:
        if (user_n, group_n) in members:
            groups.remove_member(session, made_groups[group_n], users[user_n])
            members.discard((user_n, group_n))
    session.expire_all()

    for user_n, user in enumerate(users):
        visible = {g.id for n, g in enumerate(made_groups) if not g.is_private or (user_n, n) in members}
        visible_slugs = {g.slug for g in made_groups if g.id in visible}
        visible_posts = {p.id for p in made_posts if p.group_id in visible}
        hidden_secrets = {f"geheimcode{n}" for n, p in enumerate(made_posts) if p.id not in visible_posts}
        visible_titles = {p.title for p in made_posts if p.group_id in visible} | {
            g.name for g in made_groups if g.id in visible
        } | {u.name for u in users}

        for query in [*WORDS, "kind:post", "kind:comment", "kind:group", "over", "geheimcode0 OR geheimcode1"]:
            page = searching.search(session, user, query, page_size=100)
            for result in page.results:
                assert result.hit.kind == "person" or result.hit.group_id in visible, (query, result.hit)
                assert result.hit.kind in ("person", "group") or result.hit.post_id in visible_posts
            expected = _expected_count(query, made_posts, made_groups, visible)
            if expected is not None:
                assert page.total == expected, query
            assert {f.value.removeprefix("group:") for f in page.facets.get("group", [])} <= visible_slugs
            assert sum(f.count for f in page.facets.get("kind", [])) == page.total

        for n, post in enumerate(made_posts):
            secret = f"geheimcode{n}"
            page = searching.search(session, user, secret)
            assert (post.id in {r.hit.post_id for r in page.results}) == (post.id in visible_posts), secret
            misspelled = searching.search(session, user, f"geheimcdoe{n}")
            if post.id not in visible_posts:
                assert post.id not in {r.hit.post_id for r in misspelled.results}
                assert misspelled.did_you_mean not in hidden_secrets
            else:
                for related in searching.related_posts(session, user, post.id):
                    assert related.hit.post_id in visible_posts

        for prefix in ("g", "ge", "glas", "ka", "be", "ve", "mo", "ro", "o"):
            for suggestion in searching.suggest(session, user, prefix):
                assert suggestion.title in visible_titles, (prefix, suggestion)


def _expected_count(query, made_posts, made_groups, visible):
    """What a reader should count for the simple queries; None where the test does not model it."""
    mine = [p for p in made_posts if p.group_id in visible]
    if query == "kind:post":
        return len(mine)
    if query == "kind:comment":
        return sum(len(p.comments) for p in mine)
    if query == "kind:group":
        return sum(1 for g in made_groups if g.id in visible)
    return None
