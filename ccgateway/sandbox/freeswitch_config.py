"""The sandbox FreeSWITCH's configuration, generated: pure functions from settings to file texts.

Everything lives under the state folder (conf/), so a FreeSWITCH build's own conf/ is never
read. Ports are chosen away from the Asterisk sandbox (5038, 5060, 5070-5090) and from the
stock FreeSWITCH ports (5060, 5080, 8021), so both sandboxes and a FreeSWITCH of one's own can
run side by side.

The ESL password is not in any of these texts: vars.xml includes a 0600 file beside them that
sets the global variable the project's event_socket.conf.xml reads (`ccgw_esl_password`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from ccgateway.pbx.freeswitch.sounds import SOUNDS

ESL_PORT, SIP_PORT, FIRST_PHONE_PORT = 8031, 5200, 5200
MAX_AGENTS = 19  # agent K's phone is on 5200+K
# The outside world behind the gateway "trunk" (the adapter's default dial template
# sofia/gateway/trunk/{number}): one sipp UAS, as the Asterisk sandbox's on 5090.
TRUNK, TRUNK_PORT, TRUNK_MEDIA_PORT = "trunk", 5290, 17800
# The sandbox Asterisk beside it, over a SIP trunk (queues' trunked_pbxes): its agents rung
# through the gateway "asterisk" (sofia/gateway/asterisk/agent1); what comes from its SIP
# port rings this one's agents (dialplan ccgw-trunk-agents). The Asterisk sandbox's
# endpoint "freeswitch" is the other end (asterisk_config.py).
ASTERISK_GATEWAY, ASTERISK_SIP_PORT = "asterisk", 5060
FIRST_MEDIA_PORT = 17000  # agent K's phone's RTP: 17000+10K (the Asterisk sandbox's: 16000+)
RTP_PORTS = (27000, 27998)  # FreeSWITCH's own RTP (it rounds an odd end down)
DOMAIN = "127.0.0.1"
PROFILE = "ccgw-sandbox"
ENTRY_CONTEXT = "ccgw-sandbox"  # where the profile's calls start: customers and phones
MOH_STREAM = "moh"  # local_stream://moh, the controller's default hold music
REGISTER_EXPIRES_S = 86_400
MODULES = (
    "mod_console",
    "mod_logfile",
    "mod_event_socket",
    "mod_sofia",
    "mod_commands",
    "mod_dptools",
    "mod_dialplan_xml",
    "mod_loopback",
    "mod_sndfile",
    "mod_native_file",
    "mod_tone_stream",
    "mod_local_stream",
    "mod_voicemail",
    # campaigns (dialplans/freeswitch ccgw-outbound): the claim (hash), the grace's
    # arithmetic (expr), the beep before a machine's message (avmd)
    "mod_hash",
    "mod_expr",
    "mod_avmd",
    "mod_conference",  # three-way conferences (dialplans/freeswitch/conference.conf.xml)
    "mod_say_en",  # ccgw-announce says the position and the expected wait
)

# What the dialplan, the sound table (ccgateway/pbx/freeswitch/sounds.py) and the voicemail
# phrases below play, as FreeSWITCH en/us/callie paths -> the words to speak when
# FreeSWITCH's sounds are absent (the sound table's own files say what their name says).
PROMPTS = {
    "ivr/ivr-call_cannot_be_completed_as_dialed.wav": "Your call cannot be completed.",
    "voicemail/vm-goodbye.wav": "Goodbye.",
    "voicemail/vm-not_available.wav": "Nobody is available to take your call.",
    "voicemail/vm-record_message.wav": "Please leave your message after the tone.",
    "voicemail/vm-saved.wav": "Your message has been saved.",
    "voicemail/vm-too-small.wav": "Your message was too short.",
    "voicemail/vm-deleted.wav": "Deleted.",
    "voicemail/vm-record_file_check.wav": "To save your message, press 2, or hang up.",
    # ccgw-announce's words (en/us/callie's names, docs/phrase/phrase_en.xml)
    "ivr/ivr-you_are_number.wav": "You are number",
    "ivr/ivr-in_line.wav": "in line.",
    "ivr/ivr-estimated_hold_time.wav": "Your estimated hold time is",
    "time/minutes.wav": "minutes.",
    "ivr/ivr-if_you_would_like_us_to_call_back.wav": "If you would like us to call you back, press",
}
# mod_say_en says a number from these files (digits/<n>.wav up to 19, then the tens).
ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
PROMPTS |= {f"digits/{n}.wav": word for n, word in enumerate(ONES)}
PROMPTS |= {f"digits/{10 * (i + 2)}.wav": word for i, word in enumerate(TENS)}
PROMPTS |= {"digits/hundred.wav": "hundred", "digits/thousand.wav": "thousand"}


def sound_files() -> dict[str, str]:
    """Every sound file the sandbox may play -> the words it says."""
    return {path: _words(path) for path in SOUNDS.values()} | PROMPTS


def _words(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for prefix in ("ivr-", "vm-"):
        stem = stem.removeprefix(prefix)
    return stem.replace("_", " ").replace("-", " ")


@dataclass(frozen=True)
class FreeSwitchConfig:
    agents: int
    state_dir: str  # absolute
    secret_file: str  # the 0600 file that sets ccgw_esl_password (included by vars.xml)
    sound_prefix: str  # where en/us/callie-style paths are found
    moh_dir: str
    # the dead-controller guard: how long a caller holds before FreeSWITCH ends the call
    # (dialplans/freeswitch's ccgw-inbound reads the global variable ccgw_hold_timeout)
    hold_timeout_s: int = 900


def phone_port(agent: int) -> int:
    return FIRST_PHONE_PORT + agent


def phone_media_port(agent: int) -> int:
    return FIRST_MEDIA_PORT + 10 * agent


def user_id(agent: int) -> str:
    """Agent K's directory user: the controller's device is `user/<id>`."""
    return str(1000 + agent)


def render(
    config: FreeSwitchConfig, dialplan: str, event_socket: str, conference: str | None = None
) -> dict[str, str]:
    """Relative path (under conf/) -> content. `dialplan` is the repository's
    dialplans/freeswitch/ccgateway.xml, `event_socket` its event_socket.conf.xml (whose
    port is moved to ESL_PORT), `conference` its conference.conf.xml (the profile of
    three-way conferences)."""
    if 'value="8021"' not in event_socket:
        raise ValueError("event_socket.conf.xml has no listen-port 8021 to move")
    return {
        "freeswitch.xml": FREESWITCH_XML,
        "vars.xml": _vars(config),
        "autoload_configs/modules.conf.xml": _modules(),
        "autoload_configs/switch.conf.xml": _switch(),
        "autoload_configs/logfile.conf.xml": LOGFILE,
        "autoload_configs/console.conf.xml": CONSOLE,
        "autoload_configs/sofia.conf.xml": _sofia(),
        "autoload_configs/event_socket.conf.xml": event_socket.replace(
            'value="8021"', f'value="{ESL_PORT}"'
        ),
        "autoload_configs/local_stream.conf.xml": _local_stream(config),
        "autoload_configs/voicemail.conf.xml": VOICEMAIL,
        "autoload_configs/avmd.conf.xml": AVMD,
        "dialplan/ccgateway.xml": dialplan,
        "dialplan/sandbox.xml": ENTRY,
        "directory/sandbox.xml": _directory(config),
        "lang/en.xml": LANGUAGE,
    } | ({"autoload_configs/conference.conf.xml": conference} if conference else {})


FREESWITCH_XML = """<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="configuration" description="Various Configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
  <section name="directory" description="User Directory">
    <X-PRE-PROCESS cmd="include" data="directory/*.xml"/>
  </section>
  <section name="languages" description="Phrases (mod_voicemail's prompts)">
    <X-PRE-PROCESS cmd="include" data="lang/*.xml"/>
  </section>
</document>
"""


def _vars(c: FreeSwitchConfig) -> str:
    return f"""<include>
  <X-PRE-PROCESS cmd="include" data="{c.secret_file}"/>
  <X-PRE-PROCESS cmd="set" data="domain={DOMAIN}"/>
  <X-PRE-PROCESS cmd="set" data="sound_prefix={c.sound_prefix}"/>
  <X-PRE-PROCESS cmd="set" data="ccgw_hold_timeout={int(c.hold_timeout_s)}"/>
</include>
"""


def secret_include(password: str) -> str:
    """The 0600 file vars.xml includes: the ESL password as a global variable."""
    if not password.replace("-", "").replace("_", "").isalnum():
        raise ValueError("the ESL password must be letters, digits, - and _")
    line = f'<X-PRE-PROCESS cmd="set" data="ccgw_esl_password={password}"/>'
    return f"<include>\n  {line}\n</include>\n"


def _modules() -> str:
    loads = "".join(f'    <load module="{m}"/>\n' for m in MODULES)
    return f"""<configuration name="modules.conf" description="Modules">
  <modules>
{loads}  </modules>
</configuration>
"""


def _switch() -> str:
    return f"""<configuration name="switch.conf" description="Core Configuration">
  <settings>
    <param name="max-sessions" value="500"/>
    <param name="sessions-per-second" value="50"/>
    <param name="loglevel" value="info"/>
    <param name="rtp-start-port" value="{RTP_PORTS[0]}"/>
    <param name="rtp-end-port" value="{RTP_PORTS[1]}"/>
  </settings>
</configuration>
"""


LOGFILE = """<configuration name="logfile.conf" description="File Logging">
  <settings><param name="rotate-on-hup" value="true"/></settings>
  <profiles><profile name="default"><settings/>
    <mappings><map name="all" value="info,notice,warning,err,crit,alert"/></mappings>
  </profile></profiles>
</configuration>
"""
CONSOLE = """<configuration name="console.conf" description="Console Logger">
  <mappings><map name="all" value="warning,err,crit,alert"/></mappings>
  <settings>
    <param name="colorize" value="false"/><param name="loglevel" value="warning"/>
  </settings>
</configuration>
"""
VOICEMAIL = """<configuration name="voicemail.conf" description="Voicemail">
  <settings/>
  <profiles>
    <profile name="default">
      <param name="file-extension" value="wav"/>
      <param name="terminator-key" value="#"/>
      <param name="max-login-attempts" value="3"/>
      <param name="digit-timeout" value="10000"/>
      <param name="min-record-len" value="1"/>
      <param name="max-record-len" value="300"/>
      <param name="tone-spec" value="%(1000, 0, 640)"/>
      <param name="record-silence-threshold" value="200"/>
      <param name="record-silence-hits" value="2"/>
    </profile>
  </profiles>
</configuration>
"""


# mod_avmd's documented defaults (its conf/autoload_configs/avmd.conf.xml): it listens on
# outbound channels, which a campaign's customer is.
AVMD = """<configuration name="avmd.conf" description="AVMD configuration">
  <settings>
    <param name="debug" value="0"/>
    <param name="report_status" value="1"/>
    <param name="fast_math" value="0"/>
    <param name="require_continuous_streak" value="1"/>
    <param name="sample_n_continuous_streak" value="3"/>
    <param name="sample_n_to_skip" value="0"/>
    <param name="require_continuous_streak_amp" value="1"/>
    <param name="sample_n_continuous_streak_amp" value="3"/>
    <param name="simplified_estimation" value="1"/>
    <param name="inbound_channel" value="0"/>
    <param name="outbound_channel" value="1"/>
    <param name="detection_mode" value="2"/>
    <param name="detectors_n" value="36"/>
    <param name="detectors_lagged_n" value="1"/>
  </settings>
</configuration>
"""


def _sofia() -> str:
    # Phones register without a challenge (accept-blind-reg) and answer OPTIONS (sipp -aa):
    # a phone that stops answering is unregistered, so the controller sees it go.
    params = {
        "sip-ip": DOMAIN,
        "rtp-ip": DOMAIN,
        "sip-port": str(SIP_PORT),
        "context": ENTRY_CONTEXT,
        "dialplan": "XML",
        "auth-calls": "false",
        "accept-blind-reg": "true",
        "force-register-domain": DOMAIN,
        "inbound-codec-prefs": "PCMU,PCMA",
        "outbound-codec-prefs": "PCMU,PCMA",
        "rtp-timer-name": "soft",
        "manage-presence": "false",
        "all-reg-options-ping": "true",
        "unregister-on-options-fail": "true",
        "ping-mean-interval": "5",
    }
    lines = "".join(f'        <param name="{k}" value="{v}"/>\n' for k, v in params.items())
    return f"""<configuration name="sofia.conf" description="sofia Endpoint">
  <global_settings><param name="log-level" value="0"/></global_settings>
  <profiles>
    <profile name="{PROFILE}">
      <gateways>
        <gateway name="{TRUNK}">
          <param name="proxy" value="127.0.0.1:{TRUNK_PORT}"/>
          <param name="register" value="false"/>
          <param name="caller-id-in-from" value="true"/>
        </gateway>
        <gateway name="{ASTERISK_GATEWAY}">
          <param name="proxy" value="127.0.0.1:{ASTERISK_SIP_PORT}"/>
          <param name="register" value="false"/>
          <param name="caller-id-in-from" value="true"/>
        </gateway>
      </gateways>
      <domains/><aliases/>
      <settings>
{lines}      </settings>
    </profile>
  </profiles>
</configuration>
"""


def _local_stream(c: FreeSwitchConfig) -> str:
    return f"""<configuration name="local_stream.conf" description="Hold music">
  <directory name="{MOH_STREAM}" path={quoteattr(c.moh_dir)}>
    <param name="rate" value="8000"/>
    <param name="shuffle" value="false"/>
    <param name="channels" value="1"/>
    <param name="interval" value="20"/>
    <param name="timer-name" value="soft"/>
  </directory>
</configuration>
"""


# FreeSWITCH's XML dialplan has no context include: calls reach the project's contexts by a
# transfer. The sandbox Asterisk's calls (from its SIP port) ring an agent
# (ccgw-trunk-agents); feature codes from a phone go to ccgw-features, digits to
# ccgw-inbound (a queue).
ENTRY = f"""<include>
  <context name="{ENTRY_CONTEXT}">
    <extension name="from-asterisk">
      <condition field="${{sip_network_ip}}" expression="^127\\.0\\.0\\.1$"/>
      <condition field="${{sip_network_port}}" expression="^{ASTERISK_SIP_PORT}$">
        <action application="transfer" data="${{destination_number}} XML ccgw-trunk-agents"/>
      </condition>
    </extension>
    <extension name="to-features">
      <condition field="destination_number" expression="^(\\*7\\d{{1,3}})$">
        <action application="transfer" data="$1 XML ccgw-features"/>
      </condition>
    </extension>
    <extension name="to-inbound">
      <condition field="destination_number" expression="^(\\d{{1,20}})$">
        <action application="transfer" data="$1 XML ccgw-inbound"/>
      </condition>
    </extension>
  </context>
  <!-- Another tool's context (tests): a uuid_transfer from someone else's Event Socket
       takes a caller here, out of the controller's hands; music for a minute, then
       hang-up (the sandbox Asterisk's sandbox-elsewhere). -->
  <context name="sandbox-elsewhere">
    <extension name="elsewhere">
      <condition field="destination_number" expression="^(.+)$">
        <action application="answer"/>
        <action application="set" data="playback_timeout_sec=60"/>
        <action application="playback" data="local_stream://moh"/>
        <action application="hangup"/>
      </condition>
    </extension>
  </context>
</include>
"""


def _macro(name: str, *cases: tuple[str, str]) -> str:
    """A phrase macro: for each (input pattern, file) the first matching input plays its file."""
    inputs = "".join(
        f'<input pattern="{pattern}"><match><action function="play-file" data="{file}"/>'
        "</match></input>"
        for pattern, file in cases
    )
    return f'      <macro name="{name}">{inputs}</macro>\n'


ANY = "^(.*)$"
# mod_voicemail speaks through phrase macros and gives up when one is missing: the few a
# caller leaving a message meets, on the prompts above.
LANGUAGE = (
    '<include>\n  <language name="en" say-module="en" sound-prefix="$${sound_prefix}">\n'
    '    <phrases><macros name="voicemail">\n'
    + _macro("voicemail_play_greeting", (ANY, "voicemail/vm-not_available.wav"))
    + _macro("voicemail_record_message", (ANY, "voicemail/vm-record_message.wav"))
    + _macro("voicemail_record_file_check", (ANY, "voicemail/vm-record_file_check.wav"))
    + _macro("voicemail_record_urgent_check", (ANY, "voicemail/vm-record_file_check.wav"))
    + _macro(
        "voicemail_ack",
        ("^too-small$", "voicemail/vm-too-small.wav"),
        ("^deleted$", "voicemail/vm-deleted.wav"),
        (ANY, "voicemail/vm-saved.wav"),
    )
    + _macro("voicemail_goodbye", (ANY, "voicemail/vm-goodbye.wav"))
    + "    </macros></phrases>\n  </language>\n</include>\n"
)


def _directory(c: FreeSwitchConfig) -> str:
    # user/<id> dials the domain's dial-string: the contact the phone registered.
    users = "".join(
        f'        <user id="{user_id(k)}"><params>'
        f'<param name="vm-password" value="{user_id(k)}"/></params>'
        f'<variables><variable name="user_context" value="{ENTRY_CONTEXT}"/></variables>'
        "</user>\n"
        for k in range(1, c.agents + 1)
    )
    # Mailboxes 200-219 for the queues' voicemail action (as in the Asterisk sandbox).
    boxes = "".join(
        f'        <user id="{200 + i}"><params><param name="vm-password" value="{1000 + i}"/>'
        "</params></user>\n"
        for i in range(20)
    )
    return f"""<include>
  <domain name="{DOMAIN}">
    <params>
      <param name="dial-string" value="${{sofia_contact(${{dialed_user}}@${{dialed_domain}})}}"/>
    </params>
    <groups>
      <group name="default">
        <users>
{users}{boxes}        </users>
      </group>
    </groups>
  </domain>
</include>
"""


def check_files(files: Mapping[str, str]) -> None:
    """Refuse a path that would leave conf/ (the names are ours, but be sure)."""
    for name in files:
        if name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"{name!r} is not a path inside conf/")
