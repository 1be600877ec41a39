"""The Asterisks' systemnames claimed among one controller's Asterisks (pbx/uniqueids.py)."""

from __future__ import annotations

from ccgateway.pbx.uniqueids import UniqueidSpaces, clash_problem


def test_a_name_another_asterisk_holds_is_refused_until_that_link_goes() -> None:
    spaces = UniqueidSpaces()
    assert spaces.claim("asterisk", "") is None
    assert spaces.claim("east", "east") is None
    assert spaces.claim("west", "") == "asterisk"  # both without a systemname
    assert spaces.claim("north", "east") == "east"
    spaces.release("asterisk")
    assert spaces.claim("west", "") is None  # its next connect


def test_a_reconnect_claims_its_own_name_again_and_may_change_it() -> None:
    spaces = UniqueidSpaces()
    assert spaces.claim("east", "") is None
    assert spaces.claim("east", "") is None  # the same PBX again: no clash with itself
    assert spaces.claim("east", "east") is None  # restarted with a systemname: "" is free
    assert spaces.claim("west", "") is None


def test_the_problem_says_what_to_do() -> None:
    text = clash_problem("west", "", "asterisk")
    assert "no systemname" in text and "Asterisk asterisk" in text and "asterisk.conf" in text
    assert "systemname 'pbx1'" in clash_problem("west", "pbx1", "east")
