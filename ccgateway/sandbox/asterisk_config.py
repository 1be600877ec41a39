"""The sandbox Asterisk's configuration, generated: pure functions from settings to file texts.

Everything lives in CONF_DIR inside the root; asterisk.conf points every directory Asterisk
writes to at folders of ours, so the Debian package's own /etc/asterisk is never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ccgateway.pbx.asterisk.translate import manager_filters
from ccgateway.sandbox import app_queue_config

CONF_DIR = "/etc/ccgateway-sandbox"  # inside the root
AMI_PORT, SIP_PORT, TRUNK_PORT, FIRST_PHONE_PORT = 5038, 5060, 5090, 5070
# Agent K's phone: SIP on 5070+K for K up to 19 (5090 is the customers' trunk), then on
# 6000+K (6020-6200), clear of the FreeSWITCH sandbox's 5200-5290; its RTP on 16000+10K, then
# on 30000+10K (30200-32000): below the kernel's ephemeral ports (32768-), above both PBXs'
# own RTP (20000-23999 here, FreeSWITCH's 27000-27998). The load benchmark needs 200.
MAX_AGENTS = 200
FIRST_BLOCK = 19
SECOND_PHONE_PORT, FIRST_MEDIA_PORT, SECOND_MEDIA_PORT = 6000, 16000, 30000
RTP_PORTS = (20000, 23999)  # Asterisk's own RTP: two ports (RTP, RTCP) per channel
FREESWITCH_SIP_PORT = 5200  # the FreeSWITCH sandbox's (freeswitch_config.SIP_PORT)
TRUNK_HEADER = ("X-CCGW-Trunk", "customers")
QUALIFY_S = 2
# manager.conf `write` classes the controller needs (and no more): Redirect, Setvar, Hangup
# (call), Originate (originate), CoreShowChannels and DeviceStateList (reporting).
WRITE_CLASSES = ("call", "originate", "reporting")
# The AMI user of the tests' and benchmarks' observers (every event); the controller's is
# `ccgateway`, filtered as README "AMI user" advises.
OBSERVER = "observer"
FILTERS = "\n".join(manager_filters())

MODULES = (
    # SIP
    "res_pjproject.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "chan_pjsip.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_rfc3326.so",
    "res_pjsip_pubsub.so",
    "res_pjsip_logger.so",
    "res_rtp_asterisk.so",
    "res_timing_timerfd.so",
    # bridging, holding, dialplan applications
    "bridge_simple.so",
    "bridge_native_rtp.so",
    "bridge_holding.so",
    "bridge_softmix.so",
    "bridge_builtin_features.so",
    "app_bridgewait.so",
    "app_userevent.so",
    "app_playback.so",
    "app_read.so",  # "press 1 to be called back" in the announcements
    "app_confbridge.so",  # three-way conferences
    "app_voicemail.so",  # the voicemail action
    "app_dial.so",
    "app_echo.so",
    "app_mixmonitor.so",
    "app_chanspy.so",
    "app_amd.so",  # answering-machine detection (ccgw-outbound)
    "app_waitforsilence.so",  # a machine's greeting ends before its message (ccgw-outbound)
    "res_pjsip_header_funcs.so",  # PJSIP_HEADER: the agent legs' auto-answer header
    "app_stack.so",
    "app_verbose.so",
    "res_musiconhold.so",
    "pbx_config.so",
    "func_channel.so",
    "func_callerid.so",
    "func_strings.so",
    "func_logic.so",
    "func_global.so",  # SHARED(): the agent leg marks its caller (dialplan)
    "func_db.so",  # DB(): the end marks of callers and agent legs (dialplan ccgw-end-mark)
    "app_db.so",  # DBdeltree: the end marks of recorded calls dropped
    "res_manager_devicestate.so",
    "app_queue.so",  # the load benchmark's baseline only (app_queue_config.py)
    # media
    "format_wav.so",
    "format_gsm.so",
    "format_pcm.so",
    "format_sln.so",
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_gsm.so",
)


def phone_port(agent: int) -> int:
    return (FIRST_PHONE_PORT if agent <= FIRST_BLOCK else SECOND_PHONE_PORT) + agent


def phone_media_port(agent: int) -> int:
    return (FIRST_MEDIA_PORT if agent <= FIRST_BLOCK else SECOND_MEDIA_PORT) + 10 * agent


# --- several sandbox Asterisks (issue 14: several PBXs) --------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where one sandbox Asterisk lives in the shared root and on the network: its folders
    (`suffix` after `ccgateway-sandbox` in each, so two never share a pid file, CLI socket,
    AstDB or spool), its ports and its phones' ports. Each is an Asterisk of its own: its
    own config, AMI user secret and state folder (`state_subdir` under the sandbox's)."""

    name: str  # the `--pbx` name of the sandbox commands
    suffix: str
    state_subdir: str
    ami_port: int
    sip_port: int
    trunk_port: int
    rtp_ports: tuple[int, int]
    max_agents: int
    outside_media_port: int  # the phone behind the trunk's RTP
    # (first agent, last agent, SIP port base, RTP port base): agent K's phone is on
    # base+K, its RTP on media base+10K
    phone_blocks: tuple[tuple[int, int, int, int], ...]

    @property
    def conf_dir(self) -> str:
        return f"/etc/ccgateway-sandbox{self.suffix}"  # inside the root

    @property
    def run_dir(self) -> str:
        return f"/run/ccgateway-sandbox{self.suffix}"  # Asterisk's pid file and CLI socket

    @property
    def work_dirs(self) -> tuple[str, ...]:
        """The folders Asterisk writes to (relative to the root)."""
        s = self.suffix
        dirs = (f"var/lib/ccgateway-sandbox{s}", f"var/spool/ccgateway-sandbox{s}")
        return (*dirs, self.run_dir.lstrip("/"), f"var/log/ccgateway-sandbox{s}")

    def phone_port(self, agent: int) -> int:
        return self._block(agent)[2] + agent

    def phone_media_port(self, agent: int) -> int:
        return self._block(agent)[3] + 10 * agent

    def _block(self, agent: int) -> tuple[int, int, int, int]:
        for block in self.phone_blocks:
            if block[0] <= agent <= block[1]:
                return block
        raise ValueError(f"agent {agent} is not one of this sandbox's 1-{self.max_agents}")


FIRST = Layout(
    "asterisk", "", "", AMI_PORT, SIP_PORT, TRUNK_PORT, RTP_PORTS, MAX_AGENTS, 16600,
    ((1, FIRST_BLOCK, FIRST_PHONE_PORT, FIRST_MEDIA_PORT),
     (FIRST_BLOCK + 1, MAX_AGENTS, SECOND_PHONE_PORT, SECOND_MEDIA_PORT)),
)  # fmt: skip
# The second Asterisk (`sandbox up --asterisks 2`), clear of the first's ports and of the
# FreeSWITCH sandbox's: AMI 5138, SIP 5160, trunk 5190; its own RTP 24000-26999 (between
# the first's 20000-23999 and FreeSWITCH's 27000-); agent K's phone on 7000+K, its RTP on
# 18000+10K (up to 18502; the first's phones use 16010-16192 and 30200-32002).
SECOND = Layout(
    "asterisk2", "2", "asterisk2", 5138, 5160, 5190, (24000, 26999), 50, 18600,
    ((1, 50, 7000, 18000),),
)  # fmt: skip
LAYOUTS = {layout.name: layout for layout in (FIRST, SECOND)}


@dataclass(frozen=True)
class SandboxConfig:
    agents: int
    ami_secret: str
    module_dir: str
    hold_timeout_s: int = 900
    layout: Layout = FIRST


# Files that do not depend on the settings.
STATIC_FILES = {
    "modules.conf": "[modules]\nautoload = no\n" + "".join(f"load = {m}\n" for m in MODULES),
    "logger.conf": "[general]\n[logfiles]\nconsole => notice,warning,error\n"
    "messages => notice,warning,error,verbose\n",
    "musiconhold.conf": "[default]\nmode = files\ndirectory = /usr/share/asterisk/moh\n",
    "rtp.conf": f"[general]\nrtpstart = {RTP_PORTS[0]}\nrtpend = {RTP_PORTS[1]}\n",
    # app_amd declines to load without amd.conf; these are Asterisk's documented defaults.
    "amd.conf": "[general]\ninitial_silence = 2500\ngreeting = 1500\n"
    "after_greeting_silence = 800\ntotal_analysis_time = 5000\n"
    "min_word_length = 100\nbetween_words_silence = 50\n"
    "maximum_number_of_words = 2\nsilence_threshold = 256\n"
    "maximum_word_length = 5000\n",
    # The agents' in-call feature (dialplan ccgw-agent: DYNAMIC_FEATURES): *0 pauses or
    # resumes the call's recording.
    "features.conf": "[general]\n[applicationmap]\n"
    "ccgw_recording => *0,self,UserEvent,CCGWRecordingToggle\n",
    # Three-way conferences (dialplan ccgw-conf-*): the caller is the marked user, agents
    # leave when the caller does.
    "confbridge.conf": "[general]\n[ccgw_bridge]\ntype = bridge\n"
    "[ccgw_caller]\ntype = user\nmarked = yes\nquiet = yes\n"
    "[ccgw_agent]\ntype = user\nend_marked = yes\nquiet = yes\n",
    # Mailboxes 200-219 in context ccgw for the demo queues' voicemail actions.
    "voicemail.conf": "[general]\nformat = wav\nattach = no\nminsecs = 1\n"
    "[ccgw]\n" + "".join(f"{200 + i} => {1000 + i},Queue {200 + i}\n" for i in range(20)),
    "cdr.conf": "[general]\nenable = no\n",
    "cel.conf": "[general]\nenable = no\n",
    "acl.conf": "",
    "pjproject.conf": "",
    "indications.conf": "[general]\ncountry = us\n\n[us]\ndescription = United States\n"
    "ringcadence = 2000,4000\ndial = 350+440\nbusy = 480+620/500,0/500\n"
    "ring = 440+480/2000,0/4000\ncongestion = 480+620/250,0/250\n",
    "ccss.conf": "[general]\n",
    "stasis.conf": "[threadpool]\n",
    "udptl.conf": "[general]\n",
}
GENERATED_FILES = (
    "asterisk.conf",
    "manager.conf",
    "pjsip.conf",
    "extensions.conf",
    "queues.conf",
)


def render(config: SandboxConfig, dialplans: Mapping[str, str]) -> dict[str, str]:
    """File name (relative to CONF_DIR) -> content. `dialplans` are the repository's
    dialplans/asterisk/*.conf (name -> text): copied beside extensions.conf, which includes
    each of them."""
    for name in dialplans:
        if not name.endswith(".conf") or "/" in name or name in (*STATIC_FILES, *GENERATED_FILES):
            raise ValueError(f"dialplan file name {name!r} is not a plain *.conf of its own")
    return {
        **dialplans,
        **STATIC_FILES,
        "rtp.conf": _rtp_conf(config.layout),
        "asterisk.conf": _asterisk_conf(config),
        "manager.conf": _manager_conf(config),
        "pjsip.conf": _pjsip_conf(config),
        "extensions.conf": _extensions_conf(config, sorted(dialplans)),
        "queues.conf": app_queue_config.queues_conf(config.agents),
    }


def _rtp_conf(layout: Layout) -> str:
    return f"[general]\nrtpstart = {layout.rtp_ports[0]}\nrtpend = {layout.rtp_ports[1]}\n"


def _asterisk_conf(c: SandboxConfig) -> str:
    s = c.layout.suffix
    return f"""[directories]
astetcdir => {c.layout.conf_dir}
astmoddir => {c.module_dir}
astvarlibdir => /var/lib/asterisk
astdbdir => /var/lib/ccgateway-sandbox{s}
astkeydir => /var/lib/asterisk
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => /var/spool/ccgateway-sandbox{s}
astrundir => {c.layout.run_dir}
astlogdir => /var/log/ccgateway-sandbox{s}
astsbindir => /usr/sbin

[options]
verbose = 1
nocolor = yes
hideconnect = yes
maxcalls = 500
{_system_name(c.layout)}"""


def _system_name(layout: Layout) -> str:
    """The second Asterisk's channels' uniqueids start with its name (`asterisk2-<time>.<n>`):
    two Asterisks started together otherwise give their first calls the same uniqueid, and
    the controller knows each call by it."""
    return f"systemname = {layout.name}\n" if layout.suffix else ""


def _manager_conf(c: SandboxConfig) -> str:
    return f"""[general]
enabled = yes
port = {c.layout.ami_port}
bindaddr = 127.0.0.1
displayconnects = no
; Every event carries the moment Asterisk made it (the load benchmark's clock).
timestampevents = yes

[ccgateway]
secret = {c.ami_secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
; The controller's user, as README "AMI user" sets it up: the classes it reads (its Login
; asks for call,user,dialplan), the events of those it uses, and what it writes.
read = call,user,dialplan
write = {",".join(WRITE_CLASSES)}
writetimeout = 5000
{FILTERS}

[{OBSERVER}]
secret = {c.ami_secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
; The tests' and benchmarks' own AMI connections: every class and event, same secret.
read = system,call,agent,user,dialplan,reporting,originate
write = {",".join(WRITE_CLASSES)}
writetimeout = 5000
; Debian's Asterisk is built with the test framework: keep its TestEvents off the wire.
eventfilter = !Event: TestEvent
"""


def _pjsip_conf(c: SandboxConfig) -> str:
    name, value = TRUNK_HEADER
    layout = c.layout
    parts = [
        f"""[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:{layout.sip_port}

; Customers: the trunk. Identified by its port, or by a header for parallel test callers
; that cannot all use port {layout.trunk_port}. The dialled number selects the queue.
[trunk]
type = endpoint
context = ccgw-inbound
disallow = all
allow = ulaw,alaw
direct_media = no
trust_id_inbound = yes
aors = trunk

[trunk]
type = aor
contact = sip:127.0.0.1:{layout.trunk_port}

[trunk]
type = identify
endpoint = trunk
match = 127.0.0.1:{layout.trunk_port}
match_header = {name}: {value}
"""
    ]
    parts.append(app_queue_config.pjsip_trunk())
    parts.extend(_peer_trunk(layout, other) for other in LAYOUTS.values() if other != layout)
    if layout == FIRST:  # the FreeSWITCH sandbox's own profile port
        parts.append(_trunk_endpoint("freeswitch", FREESWITCH_SIP_PORT, "The FreeSWITCH sandbox"))
    for k in range(1, c.agents + 1):
        parts.append(f"""
[agent{k}]
type = endpoint
context = ccgw-agent-phones
disallow = all
allow = ulaw,alaw
direct_media = no
aors = agent{k}

[agent{k}]
type = aor
contact = sip:agent{k}@127.0.0.1:{layout.phone_port(k)}
; OPTIONS every {QUALIFY_S} s: a phone that goes away is UNAVAILABLE within ~{QUALIFY_S + 1} s
qualify_frequency = {QUALIFY_S}
qualify_timeout = 1.0

[agent{k}]
type = identify
endpoint = agent{k}
match = 127.0.0.1:{layout.phone_port(k)}
""")
    return "".join(parts)


def _peer_trunk(layout: Layout, other: Layout) -> str:
    """A SIP trunk to the other sandbox Asterisk, named after it (a controller's `trunks`
    setting names this endpoint): a queue's `trunked_pbxes` rings the other's agents over
    it (`PJSIP/agent2@asterisk2`), and what comes in over it rings this one's agents
    (dialplan ccgw-trunk-agents). Each knows the other by its SIP port."""
    return _trunk_endpoint(other.name, other.sip_port, f"The other sandbox Asterisk ({other.name})")


def _trunk_endpoint(name: str, port: int, who: str) -> str:
    return f"""
; {who}, for queues whose callers its agents may take, and the other way round.
[{name}]
type = endpoint
context = ccgw-trunk-agents
disallow = all
allow = ulaw,alaw
direct_media = no
aors = {name}

[{name}]
type = aor
contact = sip:127.0.0.1:{port}

[{name}]
type = identify
endpoint = {name}
match = 127.0.0.1:{port}
"""


def _extensions_conf(c: SandboxConfig, includes: list[str]) -> str:
    lines = "".join(f"#include {name}\n" for name in includes)
    return f"""[general]
static = yes
writeprotect = yes

[globals]
CCGW_HOLD_TIMEOUT = {c.hold_timeout_s}

{lines}
; Another tool's context (tests): a raw AMI Redirect takes a waiting caller here, out of
; the controller's hands; music for a minute, then hang-up.
[sandbox-elsewhere]
exten => _X.,1,MusicOnHold(default,60)
 same => n,Hangup()

; Calls placed from an agent's phone: the feature codes, nothing else.
[ccgw-agent-phones]
include => ccgw-features
exten => _X.,1,Hangup(21)
{app_queue_config.dialplan()}"""
