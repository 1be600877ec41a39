"""Whose uniqueids are whose: two Asterisks must never give the controller the same one.

The centre knows a call by its channel's uniqueid. Asterisk makes them from its
`systemname` (asterisk.conf) when it has one (`east-1796538238.0`) and from the time and a
counter when it has not (`1796538238.0`): two Asterisks without a systemname, or with the
same one, give calls started in the same second the same uniqueid, and the centre would
take the second caller for the first (a record overwritten, an agent bridged to the wrong
call). Each Asterisk adapter of one controller claims its systemname here at every connect;
one whose name another connected Asterisk holds stays passive (commands nothing, routes
nothing) until its name is changed, and says why in the health's `problems`.
"""

from __future__ import annotations


class UniqueidSpaces:
    """The systemnames of the Asterisks one controller is linked to, by PBX name."""

    def __init__(self) -> None:
        self._holder: dict[str, str] = {}  # systemname ("" for none) -> the PBX holding it

    def claim(self, pbx: str, system_name: str) -> str | None:
        """Take `system_name` for `pbx`; the other PBX that holds it already, if one does."""
        self.release(pbx)
        other = self._holder.setdefault(system_name, pbx)
        return None if other == pbx else other

    def release(self, pbx: str) -> None:
        """`pbx`'s link is gone: its name is free (its next connect claims it again)."""
        for name, holder in list(self._holder.items()):
            if holder == pbx:
                del self._holder[name]


def clash_problem(pbx: str, system_name: str, other: str) -> str:
    """What the health says of an Asterisk left alone for its uniqueids."""
    named = f"systemname {system_name!r}" if system_name else "no systemname"
    return (
        f"Asterisk {pbx} has {named}, as Asterisk {other} has: their uniqueids would clash, "
        f"so this controller leaves {pbx} alone; give each Asterisk its own systemname "
        "(asterisk.conf [options]) and restart it"
    )
