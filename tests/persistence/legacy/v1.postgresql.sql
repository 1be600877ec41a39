-- A database as ccgateway at 3d82f41 (schema_version 1, its first) made and filled it with
-- its own open_database and stores (README.md beside this file). Never edit by hand.
--
-- PostgreSQL database dump
--

\restrict sX8Ehoua4S8uRPgf2yh1rSWFUtP836lc6OWaGlsRj8HzUIRbpuUXgJSqTFdmgBN

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

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: agent_presence; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_presence (
    agent_id character varying(64) NOT NULL,
    state character varying(20) NOT NULL,
    reason character varying(200)
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
    pbx character varying(64) NOT NULL
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
    offers integer NOT NULL
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
    wrapup_s double precision NOT NULL
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
-- Name: interactions id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions ALTER COLUMN id SET DEFAULT nextval('public.interactions_id_seq'::regclass);


--
-- Name: schema_version version; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_version ALTER COLUMN version SET DEFAULT nextval('public.schema_version_version_seq'::regclass);


--
-- Data for Name: agent_presence; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.agent_presence (agent_id, state, reason) FROM stdin;
ann	paused	lunch
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

COPY public.agents (id, name, device, pbx) FROM stdin;
ann	Ann	PJSIP/agent1	asterisk
\.


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.api_keys (id, name, role, agent_id, key_hash, created_at) FROM stdin;
\.


--
-- Data for Name: interactions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.interactions (id, call_id, queue_id, agent_id, caller_number, outcome, arrived_at, answered_at, ended_at, wait_s, talk_s, offers) FROM stdin;
1	c1	german	ann	+4930	answered	1700000000.125	1700000003.125	1700000060.125	3	57	1
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

COPY public.queues (id, name, extension, pbx, ring_timeout_s, wrapup_s) FROM stdin;
german	German	200	asterisk	20	5
\.


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schema_version (version) FROM stdin;
1
\.


--
-- Data for Name: skills; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.skills (id, name) FROM stdin;
de	German
billing	Billing
\.


--
-- Name: interactions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.interactions_id_seq', 1, true);


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
-- Name: interactions interactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT interactions_pkey PRIMARY KEY (id);


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
-- Name: interactions uq_interaction_once; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.interactions
    ADD CONSTRAINT uq_interaction_once UNIQUE (call_id, arrived_at, ended_at);


--
-- Name: ix_interactions_agent_arrived; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_agent_arrived ON public.interactions USING btree (agent_id, arrived_at);


--
-- Name: ix_interactions_arrived_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_arrived_at ON public.interactions USING btree (arrived_at);


--
-- Name: ix_interactions_queue_arrived; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_interactions_queue_arrived ON public.interactions USING btree (queue_id, arrived_at);


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
-- PostgreSQL database dump complete
--

\unrestrict sX8Ehoua4S8uRPgf2yh1rSWFUtP836lc6OWaGlsRj8HzUIRbpuUXgJSqTFdmgBN

