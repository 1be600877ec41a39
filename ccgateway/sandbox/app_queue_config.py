"""Asterisk's own app_queue in the sandbox: the baseline of the load benchmark.

benchmarks/asterisk_load.py compares ccgateway with app_queue on the same Asterisk, the same
agent phones and the same load. This adds what app_queue needs, apart from the controller's
own configuration: a queue of static members (every agent phone), a trunk of its own (the
same customers' sipp, told apart by a header value) and a context that puts its callers in
that queue. Nothing here is used by the controller.
"""

from __future__ import annotations

QUEUE = "ccgw-bench"
CONTEXT = "ccgw-bench-appqueue"
TRUNK_HEADER = ("X-CCGW-Trunk", "appqueue")


def queues_conf(agents: int) -> str:
    """One queue, every agent phone a static member; like the benchmark's ccgateway queue:
    longest idle first (leastrecent), no wrap-up, each member rung for 15 s, several callers
    offered at once (autofill), no announcement."""
    members = "".join(f"member => PJSIP/agent{k}\n" for k in range(1, agents + 1))
    return f"""[general]
persistentmembers = no
shared_lastcall = no

[{QUEUE}]
strategy = leastrecent
timeout = 15
retry = 1
wrapuptime = 0
autofill = yes
ringinuse = no
joinempty = yes
leavewhenempty = no
announce-frequency = 0
announce-holdtime = no
periodic-announce-frequency = 0
{members}"""


def pjsip_trunk() -> str:
    """The customers' sipp with `X-CCGW-Trunk: appqueue` reaches the app_queue context."""
    name, value = TRUNK_HEADER
    return f"""
; The load benchmark's app_queue baseline (app_queue_config.py): customers told apart by a
; header value.
[trunk-appqueue]
type = endpoint
context = {CONTEXT}
disallow = all
allow = ulaw,alaw
direct_media = no
trust_id_inbound = yes

[trunk-appqueue]
type = identify
endpoint = trunk-appqueue
match_header = {name}: {value}
"""


def dialplan() -> str:
    """Callers of the app_queue trunk: answered, then into the queue (as ccgw-inbound
    answers before its caller waits)."""
    return f"""
; The load benchmark's app_queue baseline (app_queue_config.py).
[{CONTEXT}]
exten => _X.,1,Answer()
 same => n,Queue({QUEUE},,,,${{CCGW_HOLD_TIMEOUT}})
 same => n,Hangup()
"""
