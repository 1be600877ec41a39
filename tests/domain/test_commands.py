"""The command unions: the PBX's commands listed twice (a union for the types, a tuple for
isinstance) must name the same classes, and every command is one or the other kind."""

from __future__ import annotations

from typing import get_args

from ccgateway.domain.commands import PBX_COMMANDS, Command, PbxCommand, SaveTask


def test_the_pbx_tuple_names_exactly_the_pbx_union() -> None:
    assert len(PBX_COMMANDS) == len(set(PBX_COMMANDS))
    assert set(PBX_COMMANDS) == set(get_args(PbxCommand))


def test_every_pbx_command_is_a_command_and_the_writes_are_not_pbx_commands() -> None:
    commands = set(get_args(Command))
    assert set(PBX_COMMANDS) < commands
    assert SaveTask in commands and SaveTask not in PBX_COMMANDS
