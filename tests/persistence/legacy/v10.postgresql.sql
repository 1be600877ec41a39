-- A database as ccgateway at bcdf21c (schema_version 10, before Alembic) made and filled it:
-- open_database, then tests/persistence/every_table.fill; dumped with sqlite3's iterdump or
-- pg_dump --no-owner --no-privileges. Loaded by test_migrations.py; never edit by hand.
--
-- PostgreSQL database dump
--

\restrict SzMxWdl92xHodLnLO6eforuaZgDYTR2A4PqgGC8erHguUGRvQdJenh1k2Erb5sm

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: ccgw_refuse_change(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.ccgw_refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
           AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM purge_permits) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || ': the dialer records are append-only: never changed or deleted',
        ERRCODE = 'restrict_violation';
END
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: agent_presence; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_presence (
    agent_id character varying(64) NOT NULL,
    state character varying(20) NOT NULL,
    reason character varying(200),
    updated_at double precision NOT NULL
);


--
-- Name: agent_skills; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_skills (
    agent_id character varying(64) NOT NULL,
    skill_id character varying(64) NOT NULL,
    level integer NOT NULL
);


--
-- Name: agents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agents (
    id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    device character varying(120) NOT NULL,
    pbx character varying(64) NOT NULL,
    attributes text NOT NULL,
    capacity text NOT NULL
);


--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id character varying(32) NOT NULL,
    name character varying(200) NOT NULL,
    role character varying(20) NOT NULL,
    agent_id character varying(64),
    key_hash character varying(64) NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id integer NOT NULL,
    at double precision NOT NULL,
    actor character varying(200) NOT NULL,
    action character varying(40) NOT NULL,
    subject character varying(200) NOT NULL,
    detail text NOT NULL
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;


--
-- Name: callbacks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.callbacks (
    id character varying(64) NOT NULL,
    queue_id character varying(64) NOT NULL,
    number character varying(32) NOT NULL,
    name character varying(200) NOT NULL,
    priority integer NOT NULL,
    placed_at double precision NOT NULL,
    created_at double precision NOT NULL,
    state character varying(20) NOT NULL,
    not_before double precision,
    attempts integer NOT NULL,
    agent_id character varying(64),
    leg_id character varying(64),
    pbx character varying(64) NOT NULL,
    origin_call_id character varying(150),
    result character varying(100) NOT NULL,
    answered_at double precision,
    updated_at double precision NOT NULL
);


--
-- Name: campaigns; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.campaigns (
    id character varying(64) NOT NULL,
    settings text NOT NULL,
    state character varying(20) NOT NULL
);


--
-- Name: contact_lists; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contact_lists (
    campaign_id character varying(64) NOT NULL,
    id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    created_at double precision NOT NULL,
    contacts integer NOT NULL,
    rejected integer NOT NULL,
    source text NOT NULL
);


--
-- Name: contacts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contacts (
    campaign_id character varying(64) NOT NULL,
    id character varying(64) NOT NULL,
    list_id character varying(64) NOT NULL,
    number character varying(32) NOT NULL,
    time_zones text NOT NULL,
    line_type character varying(20) NOT NULL,
    region character varying(2) NOT NULL,
    name character varying(200) NOT NULL,
    business boolean NOT NULL,
    consents text NOT NULL,
    fields text NOT NULL,
    priority integer NOT NULL,
    state character varying(20) NOT NULL,
    attempts integer NOT NULL,
    next_at double precision,
    last_outcome text NOT NULL,
    outcomes text NOT NULL,
    callback_at double precision,
    callback_agent_id character varying(64),
    dial_id character varying(150),
    updated_at double precision NOT NULL
);


--
-- Name: dial_records; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.dial_records (
    id character varying(150) NOT NULL,
    campaign_id character varying(64) NOT NULL,
    contact_id character varying(64) NOT NULL,
    number character varying(32) NOT NULL,
    rule_set_id character varying(64) NOT NULL,
    mode character varying(20) NOT NULL,
    caller_id character varying(32) NOT NULL,
    dialled_at double precision NOT NULL,
    ended_at double precision NOT NULL,
    outcome character varying(20) NOT NULL,
    answered_at double precision,
    live_at double precision,
    connected_at double precision,
    agent_id character varying(64),
    amd character varying(20) NOT NULL,
    at_risk boolean NOT NULL,
    detail text NOT NULL,
    erased_at double precision
);


--
-- Name: dispositions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.dispositions (
    id integer NOT NULL,
    dial_id character varying(150) NOT NULL,
    campaign_id character varying(64) NOT NULL,
    contact_id character varying(64) NOT NULL,
    agent_id character varying(64) NOT NULL,
    code character varying(64) NOT NULL,
    at double precision NOT NULL,
    answers text NOT NULL,
    note text NOT NULL,
    callback_at double precision,
    callback_agent_id character varying(64),
    erased_at double precision
);


--
-- Name: dispositions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.dispositions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: dispositions_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.dispositions_id_seq OWNED BY public.dispositions.id;


--
-- Name: interactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.interactions (
    id integer NOT NULL,
    call_id character varying(150) NOT NULL,
    queue_id character varying(64),
    agent_id character varying(64),
    caller_number character varying(64) NOT NULL,
    outcome character varying(20) NOT NULL,
    arrived_at double precision NOT NULL,
    answered_at double precision,
    ended_at double precision NOT NULL,
    wait_s double precision NOT NULL,
    talk_s double precision NOT NULL,
    offers integer NOT NULL,
    detail text NOT NULL,
    kind character varying(20) NOT NULL,
    channel character varying(32) NOT NULL
);


--
-- Name: interactions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.interactions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: interactions_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.interactions_id_seq OWNED BY public.interactions.id;


--
-- Name: legal_holds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.legal_holds (
    kind character varying(20) NOT NULL,
    value character varying(129) NOT NULL,
    reason text NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: notes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notes (
    id character varying(32) NOT NULL,
    at double precision NOT NULL,
    agent_id character varying(64),
    author character varying(64),
    number character varying(64) NOT NULL,
    call_id character varying(150),
    dial_id character varying(150),
    text text NOT NULL
);


--
-- Name: purge_permits; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.purge_permits (
    id integer NOT NULL
);


--
-- Name: purge_permits_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.purge_permits_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: purge_permits_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.purge_permits_id_seq OWNED BY public.purge_permits.id;


--
-- Name: queue_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.queue_log (
    id bigint NOT NULL,
    "time" timestamp without time zone NOT NULL,
    callid character varying(80) NOT NULL,
    queuename character varying(256) NOT NULL,
    agent character varying(80) NOT NULL,
    event character varying(32) NOT NULL,
    data1 character varying(100) NOT NULL,
    data2 character varying(100) NOT NULL,
    data3 character varying(100) NOT NULL,
    data4 character varying(100) NOT NULL,
    data5 character varying(100) NOT NULL
);


--
-- Name: queue_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.queue_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: queue_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.queue_log_id_seq OWNED BY public.queue_log.id;


--
-- Name: queue_requirements; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.queue_requirements (
    queue_id character varying(64) NOT NULL,
    skill_id character varying(64) NOT NULL,
    min_level integer NOT NULL
);


--
-- Name: queues; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.queues (
    id character varying(64) NOT NULL,
    name character varying(200) NOT NULL,
    extension character varying(20) NOT NULL,
    pbx character varying(64) NOT NULL,
    ring_timeout_s double precision NOT NULL,
    wrapup_s double precision NOT NULL,
    routing text NOT NULL
);


--
-- Name: recordings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.recordings (
    id character varying(64) NOT NULL,
    call_id character varying(150) NOT NULL,
    pbx character varying(64) NOT NULL,
    queue_id character varying(64),
    agent_id character varying(64),
    caller_number character varying(64) NOT NULL,
    started_at double precision NOT NULL,
    ended_at double precision,
    pauses text NOT NULL,
    file character varying(200) NOT NULL,
    channel_id character varying(150) NOT NULL,
    failure text NOT NULL,
    consent character varying(20) DEFAULT ''::character varying NOT NULL,
    campaign_id character varying(64),
    size integer,
    sha256 character varying(64)
);


--
-- Name: refusals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refusals (
    id integer NOT NULL,
    campaign_id character varying(64) NOT NULL,
    contact_id character varying(64) NOT NULL,
    number character varying(32) NOT NULL,
    rule character varying(64) NOT NULL,
    detail text NOT NULL,
    at double precision NOT NULL,
    retry_at double precision,
    erased_at double precision
);


--
-- Name: refusals_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.refusals_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: refusals_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.refusals_id_seq OWNED BY public.refusals.id;


--
-- Name: registers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.registers (
    name character varying(64) NOT NULL,
    screened_at double precision NOT NULL,
    numbers integer NOT NULL
);


--
-- Name: report_agent_intervals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.report_agent_intervals (
    agent_id character varying(64) NOT NULL,
    bucket_start bigint NOT NULL,
    calls_answered bigint NOT NULL,
    talk_s double precision NOT NULL,
    transfers bigint NOT NULL,
    callbacks bigint NOT NULL,
    tasks_completed bigint NOT NULL,
    task_handle_s double precision NOT NULL,
    available_s double precision NOT NULL,
    reserved_s double precision NOT NULL,
    on_call_s double precision NOT NULL,
    wrap_up_s double precision NOT NULL,
    paused_s double precision NOT NULL,
    logins bigint NOT NULL,
    logouts bigint NOT NULL
);


--
-- Name: report_agent_pauses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.report_agent_pauses (
    agent_id character varying(64) NOT NULL,
    bucket_start bigint NOT NULL,
    reason character varying(200) NOT NULL,
    seconds double precision NOT NULL
);


--
-- Name: report_campaign_counts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.report_campaign_counts (
    campaign_id character varying(64) NOT NULL,
    bucket_start bigint NOT NULL,
    what character varying(200) NOT NULL,
    count bigint NOT NULL,
    total double precision NOT NULL
);


--
-- Name: report_campaign_intervals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.report_campaign_intervals (
    campaign_id character varying(64) NOT NULL,
    bucket_start bigint NOT NULL,
    dials bigint NOT NULL,
    connected bigint NOT NULL,
    abandoned bigint NOT NULL,
    hung_up bigint NOT NULL,
    machine bigint NOT NULL,
    no_answer bigint NOT NULL,
    busy bigint NOT NULL,
    failed bigint NOT NULL,
    lost bigint NOT NULL,
    skipped bigint NOT NULL,
    talk_s double precision NOT NULL,
    wait_s double precision NOT NULL,
    waited bigint NOT NULL,
    dispositions bigint NOT NULL
);


--
-- Name: report_queue_intervals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.report_queue_intervals (
    queue_id character varying(64) NOT NULL,
    bucket_start bigint NOT NULL,
    offered bigint NOT NULL,
    answered bigint NOT NULL,
    answered_in_time bigint NOT NULL,
    transferred bigint NOT NULL,
    abandoned bigint NOT NULL,
    short_abandoned bigint NOT NULL,
    timed_out bigint NOT NULL,
    unstaffed bigint NOT NULL,
    deflected bigint NOT NULL,
    callbacks_requested bigint NOT NULL,
    callbacks_completed bigint NOT NULL,
    callbacks_not_reached bigint NOT NULL,
    wait_answered_s double precision NOT NULL,
    talk_s double precision NOT NULL,
    longest_wait_answered_s double precision NOT NULL,
    tasks_completed bigint NOT NULL,
    tasks_cancelled bigint NOT NULL,
    task_wait_s double precision NOT NULL,
    task_handle_s double precision NOT NULL
);


--
-- Name: retention_policy; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.retention_policy (
    id integer NOT NULL,
    document text NOT NULL,
    updated_at double precision NOT NULL
);


--
-- Name: retention_policy_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.retention_policy_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: retention_policy_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.retention_policy_id_seq OWNED BY public.retention_policy.id;


--
-- Name: rule_sets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rule_sets (
    id character varying(64) NOT NULL,
    settings text NOT NULL
);


--
-- Name: schema_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_version (
    version integer NOT NULL
);


--
-- Name: schema_version_version_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.schema_version_version_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: schema_version_version_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.schema_version_version_seq OWNED BY public.schema_version.version;


--
-- Name: skills; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.skills (
    id character varying(64) NOT NULL,
    name character varying(200) NOT NULL
);


--
-- Name: suppressions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.suppressions (
    register character varying(64) NOT NULL,
    number character varying(32) NOT NULL,
    reason text NOT NULL,
    added_at double precision NOT NULL
);


--
-- Name: tasks; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tasks (
    id character varying(64) NOT NULL,
    channel character varying(32) NOT NULL,
    queue_id character varying(64) NOT NULL,
    priority integer NOT NULL,
    created_at double precision NOT NULL,
    title character varying(200) NOT NULL,
    data text NOT NULL,
    state character varying(20) NOT NULL,
    agent_id character varying(64),
    offered_at double precision,
    assigned_at double precision,
    ended_at double precision,
    offers integer NOT NULL,
    updated_at double precision NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    username character varying(64) NOT NULL,
    password_hash character varying(200) NOT NULL,
    role character varying(20) NOT NULL,
    agent_id character varying(64),
    device character varying(120),
    display_name character varying(200) NOT NULL,
    created_at double precision NOT NULL
);


--
-- Name: web_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.web_sessions (
    token_hash character varying(64) NOT NULL,
    username character varying(64) NOT NULL,
    csrf_token character varying(64) NOT NULL,
    created_at double precision NOT NULL,
    last_seen double precision NOT NULL
);


--
-- Name: webhook_deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_deliveries (
    id character varying(64) NOT NULL,
    subscription_id character varying(64) NOT NULL,
    seq integer NOT NULL,
    event_id character varying(64) NOT NULL,
    event_type character varying(64) NOT NULL,
    order_key character varying(200) NOT NULL,
    body text NOT NULL,
    created_at double precision NOT NULL,
    queued_at double precision NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    next_at double precision NOT NULL,
    last_error character varying(500) NOT NULL,
    last_status integer,
    delivered_at double precision,
    updated_at double precision NOT NULL
);


--
-- Name: webhook_subscriptions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_subscriptions (
    id character varying(64) NOT NULL,
    url character varying(2000) NOT NULL,
    events text NOT NULL,
    secret character varying(200) NOT NULL,
    description character varying(200) NOT NULL,
    active boolean NOT NULL,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    overflowed integer NOT NULL
);


--
-- Name: audit_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);


--
-- Name: dispositions id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dispositions ALTER COLUMN id SET DEFAULT nextval('public.dispositions_id_seq'::regclass);


--
-- Name: interactions id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions ALTER COLUMN id SET DEFAULT nextval('public.interactions_id_seq'::regclass);


--
-- Name: purge_permits id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.purge_permits ALTER COLUMN id SET DEFAULT nextval('public.purge_permits_id_seq'::regclass);


--
-- Name: queue_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_log ALTER COLUMN id SET DEFAULT nextval('public.queue_log_id_seq'::regclass);


--
-- Name: refusals id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refusals ALTER COLUMN id SET DEFAULT nextval('public.refusals_id_seq'::regclass);


--
-- Name: retention_policy id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.retention_policy ALTER COLUMN id SET DEFAULT nextval('public.retention_policy_id_seq'::regclass);


--
-- Name: schema_version version; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version ALTER COLUMN version SET DEFAULT nextval('public.schema_version_version_seq'::regclass);


--
-- Data for Name: agent_presence; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.agent_presence (agent_id, state, reason, updated_at) FROM stdin;
ann	paused	lunch	1796126400
\.


--
-- Data for Name: agent_skills; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.agent_skills (agent_id, skill_id, level) FROM stdin;
ann	billing	2
ann	de	7
\.


--
-- Data for Name: agents; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.agents (id, name, device, pbx, attributes, capacity) FROM stdin;
ann	Ann	PJSIP/agent1	asterisk	{}	{}
\.


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.api_keys (id, name, role, agent_id, key_hash, created_at) FROM stdin;
k1	crm	admin	\N	ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff	1796126400
\.


--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.audit_log (id, at, actor, action, subject, detail) FROM stdin;
1	1796126400	key:x	export	h:1	
\.


--
-- Data for Name: callbacks; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.callbacks (id, queue_id, number, name, priority, placed_at, created_at, state, not_before, attempts, agent_id, leg_id, pbx, origin_call_id, result, answered_at, updated_at) FROM stdin;
cb1	out	+447946000001	Ann O'Brien	0	1796127400	1796127400	waiting	\N	0	\N	\N	asterisk	\N		\N	0
cb2	out	+447946000002	Person 2	0	1796128400	1796128400	waiting	\N	0	\N	\N	asterisk	\N		\N	0
\.


--
-- Data for Name: campaigns; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.campaigns (id, settings, state) FROM stdin;
sales	{"abandon_message": "ccgw-abandon", "abandon_target": null, "amd": {"enabled": false, "false_positive_share": 0.03, "machine_action": "hang_up", "machine_message": null}, "blend": null, "caller_id": "+442071234567", "caller_name": "", "dispositions": [{"callback": false, "code": "sale", "do_not_call": false, "final": true, "label": "Sale / success", "retry_after_s": null}, {"callback": false, "code": "not_interested", "do_not_call": false, "final": true, "label": "Not interested", "retry_after_s": null}, {"callback": true, "code": "callback", "do_not_call": false, "final": false, "label": "Call back", "retry_after_s": null}, {"callback": false, "code": "call_later", "do_not_call": false, "final": false, "label": "Call again later", "retry_after_s": 86400.0}, {"callback": false, "code": "wrong_number", "do_not_call": false, "final": true, "label": "Wrong number", "retry_after_s": null}, {"callback": false, "code": "do_not_call", "do_not_call": true, "final": true, "label": "Do not call", "retry_after_s": null}], "ends_at": null, "hours": null, "live_priority": 100, "max_lines": null, "mode": "predictive", "name": "Sales", "pbx": "asterisk", "preview_timeout_s": 60.0, "purpose": "service", "queue_id": "out", "recording": null, "retries": {"abandoned": {"after_s": 259200.0, "times": 2}, "busy": {"after_s": 600.0, "times": 5}, "failed": {"after_s": 3600.0, "times": 1}, "hung_up": {"after_s": 3600.0, "times": 2}, "lost": {"after_s": 600.0, "times": 3}, "machine": {"after_s": 14400.0, "times": 3}, "no_answer": {"after_s": 10800.0, "times": 5}}, "ring_s": 20.0, "rule_set_id": "uk", "script": {"questions": [], "text": ""}, "starts_at": null}	paused
winback	{"abandon_message": "ccgw-abandon", "abandon_target": null, "amd": {"enabled": false, "false_positive_share": 0.03, "machine_action": "hang_up", "machine_message": null}, "blend": null, "caller_id": "+442071234567", "caller_name": "", "dispositions": [{"callback": false, "code": "sale", "do_not_call": false, "final": true, "label": "Sale / success", "retry_after_s": null}, {"callback": false, "code": "not_interested", "do_not_call": false, "final": true, "label": "Not interested", "retry_after_s": null}, {"callback": true, "code": "callback", "do_not_call": false, "final": false, "label": "Call back", "retry_after_s": null}, {"callback": false, "code": "call_later", "do_not_call": false, "final": false, "label": "Call again later", "retry_after_s": 86400.0}, {"callback": false, "code": "wrong_number", "do_not_call": false, "final": true, "label": "Wrong number", "retry_after_s": null}, {"callback": false, "code": "do_not_call", "do_not_call": true, "final": true, "label": "Do not call", "retry_after_s": null}], "ends_at": null, "hours": null, "live_priority": 100, "max_lines": null, "mode": "predictive", "name": "Sales", "pbx": "asterisk", "preview_timeout_s": 60.0, "purpose": "service", "queue_id": "out", "recording": null, "retries": {"abandoned": {"after_s": 259200.0, "times": 2}, "busy": {"after_s": 600.0, "times": 5}, "failed": {"after_s": 3600.0, "times": 1}, "hung_up": {"after_s": 3600.0, "times": 2}, "lost": {"after_s": 600.0, "times": 3}, "machine": {"after_s": 14400.0, "times": 3}, "no_answer": {"after_s": 10800.0, "times": 5}}, "ring_s": 20.0, "rule_set_id": "uk", "script": {"questions": [], "text": ""}, "starts_at": null}	paused
\.


--
-- Data for Name: contact_lists; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.contact_lists (campaign_id, id, name, created_at, contacts, rejected, source) FROM stdin;
sales	l1	List l1	1796126400	2	2	leads.csv
winback	l2	List l2	1796126400	1	2	leads.csv
\.


--
-- Data for Name: contacts; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.contacts (campaign_id, id, list_id, number, time_zones, line_type, region, name, business, consents, fields, priority, state, attempts, next_at, last_outcome, outcomes, callback_at, callback_agent_id, dial_id, updated_at) FROM stdin;
sales	c1	l1	+447946000001	["Europe/London"]	mobile	GB	Ann O'Brien	f	{"marketing": {"basis": "express", "given_at": 1796039999.5, "source": "web form"}}	{"email": "ann@example.org", "order": "A-1"}	0	new	0	\N		{}	\N	\N	\N	0
sales	c2	l1	+447946000002	["Europe/London"]	mobile	GB	Person 2	f	{"marketing": {"basis": "express", "given_at": 1796039999.5, "source": "web form"}}	{"note": "ünïcode ok", "order": "A-2"}	0	new	0	\N		{}	\N	\N	\N	0
winback	w1	l2	+447946000001	["Europe/London"]	mobile	GB	Ann O'Brien	f	{"marketing": {"basis": "express", "given_at": 1796039999.5, "source": "web form"}}	{"email": "ann@example.org", "order": "A-1"}	0	new	0	\N		{}	\N	\N	\N	0
\.


--
-- Data for Name: dial_records; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.dial_records (id, campaign_id, contact_id, number, rule_set_id, mode, caller_id, dialled_at, ended_at, outcome, answered_at, live_at, connected_at, agent_id, amd, at_risk, detail, erased_at) FROM stdin;
d1	sales	c1	+447946000001	uk	predictive	+442071234567	1796127400	1796127460.5	connected	1796127409.25	1796127411	1796127411.75	ann	human	t	agent took it	\N
d2	sales	c2	+447946000002	uk	predictive	+442071234567	1796128400	1796128460.5	connected	1796128409.25	1796128411	1796128411.75	ann	human	t	agent took it	\N
\.


--
-- Data for Name: dispositions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.dispositions (id, dial_id, campaign_id, contact_id, agent_id, code, at, answers, note, callback_at, callback_agent_id, erased_at) FROM stdin;
1	d1	sales	c1	ann	callback	1796127470	{"happy": true, "score": 7.0, "why": "price"}	call after 6	1796213870	ann	\N
2	d2	sales	c2	ann	callback	1796128470	{"happy": true, "score": 7.0, "why": "price"}	call after 6	1796214870	ann	\N
\.


--
-- Data for Name: interactions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.interactions (id, call_id, queue_id, agent_id, caller_number, outcome, arrived_at, answered_at, ended_at, wait_s, talk_s, offers, detail, kind, channel) FROM stdin;
1	call-1	out	ann	+447946000001	answered	1796127400	1796127403	1796127490	3	87	1	callback to +447946000001	inbound	voice
2	call-2	out	ann	+447946000002	answered	1796128400	1796128403	1796128490	3	87	1	callback to +447946000002	inbound	voice
\.


--
-- Data for Name: legal_holds; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.legal_holds (kind, value, reason, created_at) FROM stdin;
number	+4930999	a court case	1796126400
\.


--
-- Data for Name: notes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.notes (id, at, agent_id, author, number, call_id, dial_id, text) FROM stdin;
n1	1796127400	ann	\N	+447946000001	\N	d1	Ann O'Brien: no
n2	1796128400	ann	\N	+447946000002	\N	d2	Person 2: no
\.


--
-- Data for Name: purge_permits; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.purge_permits (id) FROM stdin;
\.


--
-- Data for Name: queue_log; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.queue_log (id, "time", callid, queuename, agent, event, data1, data2, data3, data4, data5) FROM stdin;
1	2026-12-01 12:00:01	call-1	out	NONE	ENTERQUEUE		+447946000001	1	Ann O'Brien	
2	2026-12-01 12:00:02	call-2	out	NONE	ENTERQUEUE		+447946000002	1	Person 2	
\.


--
-- Data for Name: queue_requirements; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.queue_requirements (queue_id, skill_id, min_level) FROM stdin;
german	de	5
\.


--
-- Data for Name: queues; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.queues (id, name, extension, pbx, ring_timeout_s, wrapup_s, routing) FROM stdin;
german	German	200	asterisk	20	5	{"announce": {"comfort": null, "every_s": 60.0, "first_s": 30.0, "offer_callback": false, "position": false, "wait_time": false}, "callback": {"attempts": 3, "caller_id": null, "retry_s": 300.0, "ring_s": 30.0}, "hours": null, "last_agent_wait_s": 0.0, "last_agent_within_s": 86400.0, "limits": {"max_wait_s": null, "max_waiting": null, "on_closed": {"kind": "message", "target": "im-sorry&please-try-call-later"}, "on_full": {"kind": "fallback", "target": null}, "on_max_wait": {"kind": "fallback", "target": null}, "on_no_agents": null}, "priority": 0, "recording": {"mode": "never", "notice": null, "refuse_key": null, "share": 1.0, "stereo": false}, "relaxation": [], "requirement": "", "strategy": "longest_idle", "weight": 1.0}
\.


--
-- Data for Name: recordings; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.recordings (id, call_id, pbx, queue_id, agent_id, caller_number, started_at, ended_at, pauses, file, channel_id, failure, consent, campaign_id, size, sha256) FROM stdin;
rec-person	call-2	x	out	ann	+447946000002	1796128400	\N	[]	rec-person.wav				\N	\N	\N
rec-ann	call-1	x	out	ann	+447946000001	1796127400	\N	[]	rec-ann.wav				\N	44	aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
\.


--
-- Data for Name: refusals; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.refusals (id, campaign_id, contact_id, number, rule, detail, at, retry_at, erased_at) FROM stdin;
1	sales	c1	+447946000001	calling_hours	21:05	1796127405	1796131005	\N
2	sales	c2	+447946000002	calling_hours	21:05	1796128405	1796132005	\N
\.


--
-- Data for Name: registers; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.registers (name, screened_at, numbers) FROM stdin;
tps	1796126400	1
\.


--
-- Data for Name: report_agent_intervals; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.report_agent_intervals (agent_id, bucket_start, calls_answered, talk_s, transfers, callbacks, tasks_completed, task_handle_s, available_s, reserved_s, on_call_s, wrap_up_s, paused_s, logins, logouts) FROM stdin;
ann	1796127300	1	87	0	0	0	0	0	0	0	0	900	0	0
ann	1796128200	1	87	0	0	0	0	0	0	0	0	900	0	0
ann	1796126400	0	0	0	0	0	0	600	0	0	0	300	1	0
ann	1796129100	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796130000	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796130900	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796131800	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796132700	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796133600	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796134500	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796135400	0	0	0	0	0	0	0	0	0	0	900	0	0
ann	1796136300	0	0	0	0	0	0	0	0	0	0	900	0	0
\.


--
-- Data for Name: report_agent_pauses; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.report_agent_pauses (agent_id, bucket_start, reason, seconds) FROM stdin;
ann	1796126400	lunch	300
ann	1796127300	lunch	900
ann	1796128200	lunch	900
ann	1796129100	lunch	900
ann	1796130000	lunch	900
ann	1796130900	lunch	900
ann	1796131800	lunch	900
ann	1796132700	lunch	900
ann	1796133600	lunch	900
ann	1796134500	lunch	900
ann	1796135400	lunch	900
ann	1796136300	lunch	900
\.


--
-- Data for Name: report_campaign_counts; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.report_campaign_counts (campaign_id, bucket_start, what, count, total) FROM stdin;
sales	1796127300	disposition:callback	1	0
sales	1796128200	disposition:callback	1	0
\.


--
-- Data for Name: report_campaign_intervals; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.report_campaign_intervals (campaign_id, bucket_start, dials, connected, abandoned, hung_up, machine, no_answer, busy, failed, lost, skipped, talk_s, wait_s, waited, dispositions) FROM stdin;
sales	1796127300	1	1	0	0	0	0	0	0	0	0	48.75	0.75	1	1
sales	1796128200	1	1	0	0	0	0	0	0	0	0	48.75	0.75	1	1
\.


--
-- Data for Name: report_queue_intervals; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.report_queue_intervals (queue_id, bucket_start, offered, answered, answered_in_time, transferred, abandoned, short_abandoned, timed_out, unstaffed, deflected, callbacks_requested, callbacks_completed, callbacks_not_reached, wait_answered_s, talk_s, longest_wait_answered_s, tasks_completed, tasks_cancelled, task_wait_s, task_handle_s) FROM stdin;
out	1796127300	1	1	1	0	0	0	0	0	0	0	0	0	3	87	3	0	0	0	0
out	1796128200	1	1	1	0	0	0	0	0	0	0	0	0	3	87	3	0	0	0	0
\.


--
-- Data for Name: retention_policy; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.retention_policy (id, document, updated_at) FROM stdin;
1	{"campaigns": {}, "default": {"interactions": 400}, "queues": {}, "rule_sets": {}}	1796126400
\.


--
-- Data for Name: rule_sets; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.rule_sets (id, settings) FROM stdin;
house	{"abandon_limit": 0.03, "abandon_window": "calendar_day", "attempts_per_campaign": null, "attempts_per_day": null, "attempts_per_week": null, "business_presumed_consent": false, "caller_id_required": true, "calling_hours": {"holidays": [], "timezone": "Europe/London", "weekly": {"fri": ["08:00-21:00"], "mon": ["08:00-21:00"], "sat": ["08:00-21:00"], "sun": ["08:00-21:00"], "thu": ["08:00-21:00"], "tue": ["08:00-21:00"], "wed": ["08:00-21:00"]}}, "consent": {"collections": {"fixed": [], "mobile": []}, "marketing": {"fixed": [], "mobile": []}, "research": {"fixed": [], "mobile": []}, "service": {"fixed": [], "mobile": []}}, "consent_proof_required": false, "count_amd_false_positives": true, "description": "custom, from uk", "grace_counts_amd": true, "grace_s": 1.5, "ledger_timezone": "Europe/London", "lockout_after_abandon_s": 259200.0, "max_ring_s": null, "min_ring_s": 15.0, "name": "House rules", "recording_needs_consent": false, "registers": {"tps": 28}}
\.


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schema_version (version) FROM stdin;
10
\.


--
-- Data for Name: skills; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.skills (id, name) FROM stdin;
de	German
billing	Billing
\.


--
-- Data for Name: suppressions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.suppressions (register, number, reason, added_at) FROM stdin;
internal	+447946000001	objection	1796126400
internal	+447946000002	objection	1796126400
tps	+447700900123		1796126400
\.


--
-- Data for Name: tasks; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.tasks (id, channel, queue_id, priority, created_at, title, data, state, agent_id, offered_at, assigned_at, ended_at, offers, updated_at) FROM stdin;
t1	email	out	0	1796127400	mail from +447946000001	{"from": "x"}	waiting	\N	\N	\N	\N	0	0
t2	email	out	0	1796128400	mail from +447946000002	{"from": "x"}	waiting	\N	\N	\N	\N	0	0
\.


--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.users (username, password_hash, role, agent_id, device, display_name, created_at) FROM stdin;
desk1	$argon2id$fixed	agent	ann	\N	Ann	1796126400
\.


--
-- Data for Name: web_sessions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.web_sessions (token_hash, username, csrf_token, created_at, last_seen) FROM stdin;
tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt	desk1	cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc	1796126400	1796126400
\.


--
-- Data for Name: webhook_deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.webhook_deliveries (id, subscription_id, seq, event_id, event_type, order_key, body, created_at, queued_at, state, attempts, next_at, last_error, last_status, delivered_at, updated_at) FROM stdin;
w1	crm	1	e1	call.ended	call-1	{"type": "call.ended", "data": {"call_id": "call-1", "caller_number": "+447946000001", "caller_name": "Ann O'Brien"}}	1796126400	0	pending	0	0		\N	\N	1796126400
w2	crm	2	e2	call.ended	call-2	{"type": "call.ended", "data": {"call_id": "call-2", "caller_number": "+447946000002", "caller_name": "Person 2"}}	1796126400	0	pending	0	0		\N	\N	1796126400
\.


--
-- Data for Name: webhook_subscriptions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.webhook_subscriptions (id, url, events, secret, description, active, created_at, updated_at, overflowed) FROM stdin;
crm	https://crm.example.net/h	["*"]	ssssssssssssssssssss		t	0	0	0
\.


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 1, true);


--
-- Name: dispositions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.dispositions_id_seq', 2, true);


--
-- Name: interactions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.interactions_id_seq', 2, true);


--
-- Name: purge_permits_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.purge_permits_id_seq', 1, false);


--
-- Name: queue_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.queue_log_id_seq', 2, true);


--
-- Name: refusals_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.refusals_id_seq', 2, true);


--
-- Name: retention_policy_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.retention_policy_id_seq', 1, false);


--
-- Name: schema_version_version_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.schema_version_version_seq', 1, false);


--
-- Name: agent_presence agent_presence_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_presence
    ADD CONSTRAINT agent_presence_pkey PRIMARY KEY (agent_id);


--
-- Name: agent_skills agent_skills_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_skills
    ADD CONSTRAINT agent_skills_pkey PRIMARY KEY (agent_id, skill_id);


--
-- Name: agents agents_device_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agents
    ADD CONSTRAINT agents_device_key UNIQUE (device);


--
-- Name: agents agents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agents
    ADD CONSTRAINT agents_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: callbacks callbacks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.callbacks
    ADD CONSTRAINT callbacks_pkey PRIMARY KEY (id);


--
-- Name: campaigns campaigns_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaigns
    ADD CONSTRAINT campaigns_pkey PRIMARY KEY (id);


--
-- Name: contact_lists contact_lists_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact_lists
    ADD CONSTRAINT contact_lists_pkey PRIMARY KEY (campaign_id, id);


--
-- Name: contacts contacts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (campaign_id, id);


--
-- Name: dial_records dial_records_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dial_records
    ADD CONSTRAINT dial_records_pkey PRIMARY KEY (id);


--
-- Name: dispositions dispositions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.dispositions
    ADD CONSTRAINT dispositions_pkey PRIMARY KEY (id);


--
-- Name: interactions interactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT interactions_pkey PRIMARY KEY (id);


--
-- Name: legal_holds legal_holds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.legal_holds
    ADD CONSTRAINT legal_holds_pkey PRIMARY KEY (kind, value);


--
-- Name: notes notes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (id);


--
-- Name: purge_permits purge_permits_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.purge_permits
    ADD CONSTRAINT purge_permits_pkey PRIMARY KEY (id);


--
-- Name: queue_log queue_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_log
    ADD CONSTRAINT queue_log_pkey PRIMARY KEY (id);


--
-- Name: queue_requirements queue_requirements_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_requirements
    ADD CONSTRAINT queue_requirements_pkey PRIMARY KEY (queue_id, skill_id);


--
-- Name: queues queues_pbx_extension_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queues
    ADD CONSTRAINT queues_pbx_extension_key UNIQUE (pbx, extension);


--
-- Name: queues queues_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queues
    ADD CONSTRAINT queues_pkey PRIMARY KEY (id);


--
-- Name: recordings recordings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.recordings
    ADD CONSTRAINT recordings_pkey PRIMARY KEY (id);


--
-- Name: refusals refusals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refusals
    ADD CONSTRAINT refusals_pkey PRIMARY KEY (id);


--
-- Name: registers registers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.registers
    ADD CONSTRAINT registers_pkey PRIMARY KEY (name);


--
-- Name: report_agent_intervals report_agent_intervals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.report_agent_intervals
    ADD CONSTRAINT report_agent_intervals_pkey PRIMARY KEY (agent_id, bucket_start);


--
-- Name: report_agent_pauses report_agent_pauses_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.report_agent_pauses
    ADD CONSTRAINT report_agent_pauses_pkey PRIMARY KEY (agent_id, bucket_start, reason);


--
-- Name: report_campaign_counts report_campaign_counts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.report_campaign_counts
    ADD CONSTRAINT report_campaign_counts_pkey PRIMARY KEY (campaign_id, bucket_start, what);


--
-- Name: report_campaign_intervals report_campaign_intervals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.report_campaign_intervals
    ADD CONSTRAINT report_campaign_intervals_pkey PRIMARY KEY (campaign_id, bucket_start);


--
-- Name: report_queue_intervals report_queue_intervals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.report_queue_intervals
    ADD CONSTRAINT report_queue_intervals_pkey PRIMARY KEY (queue_id, bucket_start);


--
-- Name: retention_policy retention_policy_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.retention_policy
    ADD CONSTRAINT retention_policy_pkey PRIMARY KEY (id);


--
-- Name: rule_sets rule_sets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rule_sets
    ADD CONSTRAINT rule_sets_pkey PRIMARY KEY (id);


--
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (version);


--
-- Name: skills skills_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.skills
    ADD CONSTRAINT skills_pkey PRIMARY KEY (id);


--
-- Name: suppressions suppressions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.suppressions
    ADD CONSTRAINT suppressions_pkey PRIMARY KEY (register, number);


--
-- Name: tasks tasks_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tasks
    ADD CONSTRAINT tasks_pkey PRIMARY KEY (id);


--
-- Name: interactions uq_interaction_once; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT uq_interaction_once UNIQUE (call_id, arrived_at, ended_at);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (username);


--
-- Name: web_sessions web_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_pkey PRIMARY KEY (token_hash);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: webhook_subscriptions webhook_subscriptions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_subscriptions
    ADD CONSTRAINT webhook_subscriptions_pkey PRIMARY KEY (id);


--
-- Name: ix_audit_log_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_audit_log_at ON public.audit_log USING btree (at);


--
-- Name: ix_callbacks_number; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_callbacks_number ON public.callbacks USING btree (number, created_at);


--
-- Name: ix_callbacks_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_callbacks_state ON public.callbacks USING btree (state);


--
-- Name: ix_contacts_callbacks; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_contacts_callbacks ON public.contacts USING btree (campaign_id, callback_at);


--
-- Name: ix_contacts_number; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_contacts_number ON public.contacts USING btree (number);


--
-- Name: ix_contacts_order; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_contacts_order ON public.contacts USING btree (campaign_id, state, priority DESC, next_at, id);


--
-- Name: ix_dial_records_campaign_dialled; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_dial_records_campaign_dialled ON public.dial_records USING btree (campaign_id, dialled_at);


--
-- Name: ix_dial_records_dialled; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_dial_records_dialled ON public.dial_records USING btree (dialled_at);


--
-- Name: ix_dial_records_number; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_dial_records_number ON public.dial_records USING btree (number, dialled_at);


--
-- Name: ix_dispositions_campaign_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_dispositions_campaign_at ON public.dispositions USING btree (campaign_id, at);


--
-- Name: ix_dispositions_dial; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_dispositions_dial ON public.dispositions USING btree (dial_id);


--
-- Name: ix_interactions_agent_arrived; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_agent_arrived ON public.interactions USING btree (agent_id, arrived_at);


--
-- Name: ix_interactions_arrived_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_arrived_at ON public.interactions USING btree (arrived_at);


--
-- Name: ix_interactions_caller_arrived; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_caller_arrived ON public.interactions USING btree (caller_number, arrived_at);


--
-- Name: ix_interactions_queue_arrived; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_queue_arrived ON public.interactions USING btree (queue_id, arrived_at);


--
-- Name: ix_notes_number_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_notes_number_at ON public.notes USING btree (number, at);


--
-- Name: ix_queue_log_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_queue_log_time ON public.queue_log USING btree ("time");


--
-- Name: ix_recordings_call; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_recordings_call ON public.recordings USING btree (call_id);


--
-- Name: ix_recordings_number; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_recordings_number ON public.recordings USING btree (caller_number);


--
-- Name: ix_recordings_started; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_recordings_started ON public.recordings USING btree (started_at);


--
-- Name: ix_refusals_campaign_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_refusals_campaign_at ON public.refusals USING btree (campaign_id, at);


--
-- Name: ix_report_agent_intervals_bucket; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_report_agent_intervals_bucket ON public.report_agent_intervals USING btree (bucket_start);


--
-- Name: ix_report_agent_pauses_bucket; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_report_agent_pauses_bucket ON public.report_agent_pauses USING btree (bucket_start);


--
-- Name: ix_report_campaign_counts_bucket; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_report_campaign_counts_bucket ON public.report_campaign_counts USING btree (bucket_start);


--
-- Name: ix_report_campaign_intervals_bucket; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_report_campaign_intervals_bucket ON public.report_campaign_intervals USING btree (bucket_start);


--
-- Name: ix_report_queue_intervals_bucket; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_report_queue_intervals_bucket ON public.report_queue_intervals USING btree (bucket_start);


--
-- Name: ix_suppressions_number; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_suppressions_number ON public.suppressions USING btree (number);


--
-- Name: ix_tasks_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tasks_state ON public.tasks USING btree (state);


--
-- Name: ix_users_agent_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_users_agent_id ON public.users USING btree (agent_id);


--
-- Name: ix_web_sessions_username; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_web_sessions_username ON public.web_sessions USING btree (username);


--
-- Name: ix_webhook_deliveries_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_due ON public.webhook_deliveries USING btree (subscription_id, state, next_at);


--
-- Name: ix_webhook_deliveries_line; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_line ON public.webhook_deliveries USING btree (subscription_id, order_key, state, seq);


--
-- Name: ix_webhook_deliveries_listed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_listed ON public.webhook_deliveries USING btree (subscription_id, state, seq);


--
-- Name: ix_webhook_deliveries_prune; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_webhook_deliveries_prune ON public.webhook_deliveries USING btree (state, updated_at);


--
-- Name: dial_records dial_records_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER dial_records_append_only BEFORE DELETE OR UPDATE ON public.dial_records FOR EACH ROW EXECUTE FUNCTION public.ccgw_refuse_change('number', 'contact_id', 'detail', 'erased_at');


--
-- Name: dial_records dial_records_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER dial_records_no_truncate BEFORE TRUNCATE ON public.dial_records FOR EACH STATEMENT EXECUTE FUNCTION public.ccgw_refuse_change();


--
-- Name: dispositions dispositions_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER dispositions_append_only BEFORE DELETE OR UPDATE ON public.dispositions FOR EACH ROW EXECUTE FUNCTION public.ccgw_refuse_change('contact_id', 'answers', 'note', 'erased_at');


--
-- Name: dispositions dispositions_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER dispositions_no_truncate BEFORE TRUNCATE ON public.dispositions FOR EACH STATEMENT EXECUTE FUNCTION public.ccgw_refuse_change();


--
-- Name: refusals refusals_append_only; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER refusals_append_only BEFORE DELETE OR UPDATE ON public.refusals FOR EACH ROW EXECUTE FUNCTION public.ccgw_refuse_change('number', 'contact_id', 'detail', 'erased_at');


--
-- Name: refusals refusals_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER refusals_no_truncate BEFORE TRUNCATE ON public.refusals FOR EACH STATEMENT EXECUTE FUNCTION public.ccgw_refuse_change();


--
-- Name: agent_presence agent_presence_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_presence
    ADD CONSTRAINT agent_presence_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: agent_skills agent_skills_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_skills
    ADD CONSTRAINT agent_skills_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: agent_skills agent_skills_skill_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_skills
    ADD CONSTRAINT agent_skills_skill_id_fkey FOREIGN KEY (skill_id) REFERENCES public.skills(id);


--
-- Name: contact_lists contact_lists_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact_lists
    ADD CONSTRAINT contact_lists_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);


--
-- Name: contacts contacts_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contacts
    ADD CONSTRAINT contacts_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaigns(id);


--
-- Name: queue_requirements queue_requirements_queue_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_requirements
    ADD CONSTRAINT queue_requirements_queue_id_fkey FOREIGN KEY (queue_id) REFERENCES public.queues(id) ON DELETE CASCADE;


--
-- Name: queue_requirements queue_requirements_skill_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.queue_requirements
    ADD CONSTRAINT queue_requirements_skill_id_fkey FOREIGN KEY (skill_id) REFERENCES public.skills(id);


--
-- Name: users users_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: web_sessions web_sessions_username_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.web_sessions
    ADD CONSTRAINT web_sessions_username_fkey FOREIGN KEY (username) REFERENCES public.users(username) ON DELETE CASCADE;


--
-- Name: webhook_deliveries webhook_deliveries_subscription_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES public.webhook_subscriptions(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict SzMxWdl92xHodLnLO6eforuaZgDYTR2A4PqgGC8erHguUGRvQdJenh1k2Erb5sm

