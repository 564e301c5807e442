import doctest

import mailgateway.addresses
from mailgateway.addresses import Route, route


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
