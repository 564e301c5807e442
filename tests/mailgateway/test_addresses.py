import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mailgateway.addresses
from mailgateway import tokens
from mailgateway.addresses import (
    BOUNCES,
    COMMANDS,
    KINDS,
    RESERVED,
    TOKEN_PREFIXES,
    Route,
    address,
    route,
    sign,
    verify,
)


def test_module_examples_hold():
    assert doctest.testmod(mailgateway.addresses).failed == 0


def test_group_address_is_case_insensitive_and_domain_bound():
    assert route("<Engineering@PLEIN.localhost>", "plein.localhost") == Route("group", "engineering")
    assert route("engineering@other.example", "plein.localhost") is None


def test_token_addresses_and_bounces_are_told_apart_from_groups():
    assert route("unsubscribe+7-abc@plein.localhost", "plein.localhost") == Route("unsubscribe", "7-abc")
    assert route("bounces@plein.localhost", "plein.localhost") == Route("bounces", "")
    assert route("reply@plein.localhost", "plein.localhost") is None
    assert route("confirm+1-2-abc@plein.localhost", "plein.localhost") == Route("confirm", "1-2-abc")


def test_group_commands_are_routed_and_unknown_commands_are_not():
    assert route("eng+digest@plein.localhost", "plein.localhost") == Route("command", "eng", "digest")
    assert route("Eng+Unsubscribe@plein.localhost", "plein.localhost") == Route("command", "eng", "unsubscribe")
    assert route("eng+weekly@plein.localhost", "plein.localhost") is None
    assert route("confirm+subscribe@other.example", "plein.localhost") is None


DOMAIN = "plein.localhost"
TOKEN_KINDS = sorted(name for name, kind in KINDS.items() if kind.purpose)
SENDERS = sorted(name for name, kind in KINDS.items() if kind.local == name)
slugs = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,63}", fullmatch=True).filter(
    lambda s: s not in (*TOKEN_PREFIXES, BOUNCES)
)
parts = st.lists(st.integers(min_value=0, max_value=2**63), min_size=1, max_size=4)
keys = st.text(min_size=1, max_size=40)
expiries = st.integers(min_value=1, max_value=2**40)


@st.composite
def recased(draw, text: str) -> str:
    """`text` with the case of any of its letters changed, as mail servers may (RFC 5321, 2.4)."""
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if flip else c for c, flip in zip(text, flips, strict=True))


@st.composite
def signed(draw, kind: str) -> tuple[str, str, tuple[int, ...], int | None]:
    """A token signed for `kind`: the key, the token, the parts it names, when it expires."""
    key, signed_parts = draw(keys), tuple(draw(parts))
    expires = draw(expiries) if KINDS[kind].expiring else None
    return key, sign(kind, key, *signed_parts, expires=expires), signed_parts, expires


@st.composite
def destinations(draw) -> Route:
    kind = draw(st.sampled_from(["group", "command", *TOKEN_KINDS]))
    if kind == "group":
        return Route(kind, draw(slugs))
    if kind == "command":
        return Route(kind, draw(slugs), draw(st.sampled_from(COMMANDS)))
    return Route(kind, draw(signed(kind))[1])


@given(data=st.data())
def test_every_kind_of_address_routes_back_to_its_kind_and_value_whatever_the_case_of_its_letters(data):
    destination = data.draw(destinations())
    assert route(data.draw(recased(address(destination, DOMAIN))), DOMAIN) == destination


@given(data=st.data(), kind=st.sampled_from(TOKEN_KINDS))
def test_a_token_from_an_address_verifies_for_its_own_kind_only(data, kind):
    key, token, signed_parts, expires = data.draw(signed(kind))
    value = route(data.draw(recased(address(Route(kind, token), DOMAIN))), DOMAIN).value
    now = data.draw(st.integers(min_value=0, max_value=expires or 2**40))
    assert verify(kind, key, value, now=now) == signed_parts
    assert [other for other in TOKEN_KINDS if verify(other, key, value, now=now) is not None] == [kind]
    other_key = data.draw(keys.filter(lambda k: k != key))
    assert verify(kind, other_key, value, now=now) is None


@given(data=st.data(), kind=st.sampled_from(TOKEN_KINDS))
def test_a_token_with_one_character_changed_is_refused(data, kind):
    key, token, _, _ = data.draw(signed(kind))
    at = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    other = data.draw(st.sampled_from("0123456789abcdefxz-+_. ١").filter(lambda c: c != token[at]))
    assert verify(kind, key, token[:at] + other + token[at + 1 :], now=0) is None


@given(key=keys, signed_parts=parts, expires=expiries, late=st.floats(min_value=0.001, max_value=1e9))
def test_a_confirmation_token_is_refused_once_it_expired(key, signed_parts, expires, late):
    token = sign("confirm", key, *signed_parts, expires=expires)
    assert verify("confirm", key, token, now=expires) == tuple(signed_parts)
    assert verify("confirm", key, token, now=expires + late) is None


def test_tokens_signed_before_the_registry_still_verify():
    # Signed with key "k" by hub.services.signing as it was before mailgateway.tokens.
    assert tokens.verify("k", "reply", "12-0-3-ac599fdd29d3d534e6a0de99") == (12, 0, 3)
    assert tokens.verify("k", "confirm", "7-100-119fdb20271fdd564e5aa77c") == (7, 100)


def test_plein_s_own_senders_are_built_and_no_group_can_take_their_names():
    assert [address(Route(name, ""), DOMAIN) for name in SENDERS] == [f"{name}@{DOMAIN}" for name in SENDERS]
    assert RESERVED >= {*SENDERS, *TOKEN_PREFIXES, BOUNCES}


@pytest.mark.parametrize(
    ("destination", "error"),
    [
        (Route("group", "reply"), "no group's address"),
        (Route("group", "Engineering"), "no group's address"),
        (Route("group", "eng\n"), "no group's address"),
        (Route("command", "eng", "dance"), "not a command"),
        (Route("group", "eng", "digest"), "carries no command"),
        (Route("reply", "12-0-3"), "no token"),
        (Route("reply", "12-0-3-abc@elsewhere.example"), "no token"),
        (Route("no-reply", "eng"), "carries nothing"),
        (Route("list", "eng"), "no kind of address"),
    ],
)
def test_an_address_its_kind_cannot_carry_is_a_clear_error(destination, error):
    with pytest.raises(ValueError, match=error):
        address(destination, DOMAIN)


def test_only_token_kinds_sign_and_verify_and_only_expiring_ones_take_an_expiry():
    with pytest.raises(ValueError, match="carries no token"):
        verify("group", "k", "1-abc", now=0)
    with pytest.raises(ValueError, match="needs time it expires"):
        sign("confirm", "k", 1)
    with pytest.raises(ValueError, match="takes no time it expires"):
        sign("reply", "k", 1, expires=5)
    with pytest.raises(ValueError, match="whole numbers"):
        sign("reply", "k", -1)
