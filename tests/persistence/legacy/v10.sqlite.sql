-- A database as ccgateway at bcdf21c (schema_version 10, before Alembic) made and filled it:
-- open_database, then tests/persistence/every_table.fill; dumped with sqlite3's iterdump or
-- pg_dump --no-owner --no-privileges. Loaded by test_migrations.py; never edit by hand.
BEGIN TRANSACTION;
CREATE TABLE agent_presence (
	agent_id VARCHAR(64) NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	reason VARCHAR(200), 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (agent_id), 
	FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
);
INSERT INTO "agent_presence" VALUES('ann','paused','lunch',1796126400.0);
CREATE TABLE agent_skills (
	agent_id VARCHAR(64) NOT NULL, 
	skill_id VARCHAR(64) NOT NULL, 
	level INTEGER NOT NULL, 
	PRIMARY KEY (agent_id, skill_id), 
	FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE, 
	FOREIGN KEY(skill_id) REFERENCES skills (id)
);
INSERT INTO "agent_skills" VALUES('ann','billing',2);
INSERT INTO "agent_skills" VALUES('ann','de',7);
CREATE TABLE agents (
	id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	device VARCHAR(120) NOT NULL, 
	pbx VARCHAR(64) NOT NULL, 
	attributes TEXT NOT NULL, 
	capacity TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (device)
);
INSERT INTO "agents" VALUES('ann','Ann','PJSIP/agent1','asterisk','{}','{}');
CREATE TABLE api_keys (
	id VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	agent_id VARCHAR(64), 
	key_hash VARCHAR(64) NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (key_hash)
);
INSERT INTO "api_keys" VALUES('k1','crm','admin',NULL,'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',1796126400.0);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at FLOAT NOT NULL, 
	actor VARCHAR(200) NOT NULL, 
	action VARCHAR(40) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "audit_log" VALUES(1,1796126400.0,'key:x','export','h:1','');
CREATE TABLE callbacks (
	id VARCHAR(64) NOT NULL, 
	queue_id VARCHAR(64) NOT NULL, 
	number VARCHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	priority INTEGER NOT NULL, 
	placed_at FLOAT NOT NULL, 
	created_at FLOAT NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	not_before FLOAT, 
	attempts INTEGER NOT NULL, 
	agent_id VARCHAR(64), 
	leg_id VARCHAR(64), 
	pbx VARCHAR(64) NOT NULL, 
	origin_call_id VARCHAR(150), 
	result VARCHAR(100) NOT NULL, 
	answered_at FLOAT, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "callbacks" VALUES('cb1','out','+447946000001','Ann O''Brien',0,1796127400.0,1796127400.0,'waiting',NULL,0,NULL,NULL,'asterisk',NULL,'',NULL,0.0);
INSERT INTO "callbacks" VALUES('cb2','out','+447946000002','Person 2',0,1796128400.0,1796128400.0,'waiting',NULL,0,NULL,NULL,'asterisk',NULL,'',NULL,0.0);
CREATE TABLE campaigns (
	id VARCHAR(64) NOT NULL, 
	settings TEXT NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "campaigns" VALUES('sales','{"abandon_message": "ccgw-abandon", "abandon_target": null, "amd": {"enabled": false, "false_positive_share": 0.03, "machine_action": "hang_up", "machine_message": null}, "blend": null, "caller_id": "+442071234567", "caller_name": "", "dispositions": [{"callback": false, "code": "sale", "do_not_call": false, "final": true, "label": "Sale / success", "retry_after_s": null}, {"callback": false, "code": "not_interested", "do_not_call": false, "final": true, "label": "Not interested", "retry_after_s": null}, {"callback": true, "code": "callback", "do_not_call": false, "final": false, "label": "Call back", "retry_after_s": null}, {"callback": false, "code": "call_later", "do_not_call": false, "final": false, "label": "Call again later", "retry_after_s": 86400.0}, {"callback": false, "code": "wrong_number", "do_not_call": false, "final": true, "label": "Wrong number", "retry_after_s": null}, {"callback": false, "code": "do_not_call", "do_not_call": true, "final": true, "label": "Do not call", "retry_after_s": null}], "ends_at": null, "hours": null, "live_priority": 100, "max_lines": null, "mode": "predictive", "name": "Sales", "pbx": "asterisk", "preview_timeout_s": 60.0, "purpose": "service", "queue_id": "out", "recording": null, "retries": {"abandoned": {"after_s": 259200.0, "times": 2}, "busy": {"after_s": 600.0, "times": 5}, "failed": {"after_s": 3600.0, "times": 1}, "hung_up": {"after_s": 3600.0, "times": 2}, "lost": {"after_s": 600.0, "times": 3}, "machine": {"after_s": 14400.0, "times": 3}, "no_answer": {"after_s": 10800.0, "times": 5}}, "ring_s": 20.0, "rule_set_id": "uk", "script": {"questions": [], "text": ""}, "starts_at": null}','paused');
INSERT INTO "campaigns" VALUES('winback','{"abandon_message": "ccgw-abandon", "abandon_target": null, "amd": {"enabled": false, "false_positive_share": 0.03, "machine_action": "hang_up", "machine_message": null}, "blend": null, "caller_id": "+442071234567", "caller_name": "", "dispositions": [{"callback": false, "code": "sale", "do_not_call": false, "final": true, "label": "Sale / success", "retry_after_s": null}, {"callback": false, "code": "not_interested", "do_not_call": false, "final": true, "label": "Not interested", "retry_after_s": null}, {"callback": true, "code": "callback", "do_not_call": false, "final": false, "label": "Call back", "retry_after_s": null}, {"callback": false, "code": "call_later", "do_not_call": false, "final": false, "label": "Call again later", "retry_after_s": 86400.0}, {"callback": false, "code": "wrong_number", "do_not_call": false, "final": true, "label": "Wrong number", "retry_after_s": null}, {"callback": false, "code": "do_not_call", "do_not_call": true, "final": true, "label": "Do not call", "retry_after_s": null}], "ends_at": null, "hours": null, "live_priority": 100, "max_lines": null, "mode": "predictive", "name": "Sales", "pbx": "asterisk", "preview_timeout_s": 60.0, "purpose": "service", "queue_id": "out", "recording": null, "retries": {"abandoned": {"after_s": 259200.0, "times": 2}, "busy": {"after_s": 600.0, "times": 5}, "failed": {"after_s": 3600.0, "times": 1}, "hung_up": {"after_s": 3600.0, "times": 2}, "lost": {"after_s": 600.0, "times": 3}, "machine": {"after_s": 14400.0, "times": 3}, "no_answer": {"after_s": 10800.0, "times": 5}}, "ring_s": 20.0, "rule_set_id": "uk", "script": {"questions": [], "text": ""}, "starts_at": null}','paused');
CREATE TABLE contact_lists (
	campaign_id VARCHAR(64) NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at FLOAT NOT NULL, 
	contacts INTEGER NOT NULL, 
	rejected INTEGER NOT NULL, 
	source TEXT NOT NULL, 
	PRIMARY KEY (campaign_id, id), 
	FOREIGN KEY(campaign_id) REFERENCES campaigns (id)
);
INSERT INTO "contact_lists" VALUES('sales','l1','List l1',1796126400.0,2,2,'leads.csv');
INSERT INTO "contact_lists" VALUES('winback','l2','List l2',1796126400.0,1,2,'leads.csv');
CREATE TABLE contacts (
	campaign_id VARCHAR(64) NOT NULL, 
	id VARCHAR(64) NOT NULL, 
	list_id VARCHAR(64) NOT NULL, 
	number VARCHAR(32) NOT NULL, 
	time_zones TEXT NOT NULL, 
	line_type VARCHAR(20) NOT NULL, 
	region VARCHAR(2) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	business BOOLEAN NOT NULL, 
	consents TEXT NOT NULL, 
	fields TEXT NOT NULL, 
	priority INTEGER NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_at FLOAT, 
	last_outcome TEXT NOT NULL, 
	outcomes TEXT NOT NULL, 
	callback_at FLOAT, 
	callback_agent_id VARCHAR(64), 
	dial_id VARCHAR(150), 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (campaign_id, id), 
	FOREIGN KEY(campaign_id) REFERENCES campaigns (id)
);
INSERT INTO "contacts" VALUES('sales','c1','l1','+447946000001','["Europe/London"]','mobile','GB','Ann O''Brien',0,'{"marketing": {"basis": "express", "given_at": 1796039999.5, "source": "web form"}}','{"email": "ann@example.org", "order": "A-1"}',0,'new',0,NULL,'','{}',NULL,NULL,NULL,0.0);
INSERT INTO "contacts" VALUES('sales','c2','l1','+447946000002','["Europe/London"]','mobile','GB','Person 2',0,'{"marketing": {"basis": "express", "given_at": 1796039999.5, "source": "web form"}}','{"note": "ünïcode ok", "order": "A-2"}',0,'new',0,NULL,'','{}',NULL,NULL,NULL,0.0);
INSERT INTO "contacts" VALUES('winback','w1','l2','+447946000001','["Europe/London"]','mobile','GB','Ann O''Brien',0,'{"marketing": {"basis": "express", "given_at": 1796039999.5, "source": "web form"}}','{"email": "ann@example.org", "order": "A-1"}',0,'new',0,NULL,'','{}',NULL,NULL,NULL,0.0);
CREATE TABLE dial_records (
	id VARCHAR(150) NOT NULL, 
	campaign_id VARCHAR(64) NOT NULL, 
	contact_id VARCHAR(64) NOT NULL, 
	number VARCHAR(32) NOT NULL, 
	rule_set_id VARCHAR(64) NOT NULL, 
	mode VARCHAR(20) NOT NULL, 
	caller_id VARCHAR(32) NOT NULL, 
	dialled_at FLOAT NOT NULL, 
	ended_at FLOAT NOT NULL, 
	outcome VARCHAR(20) NOT NULL, 
	answered_at FLOAT, 
	live_at FLOAT, 
	connected_at FLOAT, 
	agent_id VARCHAR(64), 
	amd VARCHAR(20) NOT NULL, 
	at_risk BOOLEAN NOT NULL, 
	detail TEXT NOT NULL, 
	erased_at FLOAT, 
	PRIMARY KEY (id)
);
INSERT INTO "dial_records" VALUES('d1','sales','c1','+447946000001','uk','predictive','+442071234567',1796127400.0,1796127460.5,'connected',1796127409.25,1796127411.0,1796127411.75,'ann','human',1,'agent took it',NULL);
INSERT INTO "dial_records" VALUES('d2','sales','c2','+447946000002','uk','predictive','+442071234567',1796128400.0,1796128460.5,'connected',1796128409.25,1796128411.0,1796128411.75,'ann','human',1,'agent took it',NULL);
CREATE TABLE dispositions (
	id INTEGER NOT NULL, 
	dial_id VARCHAR(150) NOT NULL, 
	campaign_id VARCHAR(64) NOT NULL, 
	contact_id VARCHAR(64) NOT NULL, 
	agent_id VARCHAR(64) NOT NULL, 
	code VARCHAR(64) NOT NULL, 
	at FLOAT NOT NULL, 
	answers TEXT NOT NULL, 
	note TEXT NOT NULL, 
	callback_at FLOAT, 
	callback_agent_id VARCHAR(64), 
	erased_at FLOAT, 
	PRIMARY KEY (id)
);
INSERT INTO "dispositions" VALUES(1,'d1','sales','c1','ann','callback',1796127470.0,'{"happy": true, "score": 7.0, "why": "price"}','call after 6',1796213870.0,'ann',NULL);
INSERT INTO "dispositions" VALUES(2,'d2','sales','c2','ann','callback',1796128470.0,'{"happy": true, "score": 7.0, "why": "price"}','call after 6',1796214870.0,'ann',NULL);
CREATE TABLE interactions (
	id INTEGER NOT NULL, 
	call_id VARCHAR(150) NOT NULL, 
	queue_id VARCHAR(64), 
	agent_id VARCHAR(64), 
	caller_number VARCHAR(64) NOT NULL, 
	outcome VARCHAR(20) NOT NULL, 
	arrived_at FLOAT NOT NULL, 
	answered_at FLOAT, 
	ended_at FLOAT NOT NULL, 
	wait_s FLOAT NOT NULL, 
	talk_s FLOAT NOT NULL, 
	offers INTEGER NOT NULL, 
	detail TEXT NOT NULL, 
	kind VARCHAR(20) NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_interaction_once UNIQUE (call_id, arrived_at, ended_at)
);
INSERT INTO "interactions" VALUES(1,'call-1','out','ann','+447946000001','answered',1796127400.0,1796127403.0,1796127490.0,3.0,87.0,1,'callback to +447946000001','inbound','voice');
INSERT INTO "interactions" VALUES(2,'call-2','out','ann','+447946000002','answered',1796128400.0,1796128403.0,1796128490.0,3.0,87.0,1,'callback to +447946000002','inbound','voice');
CREATE TABLE legal_holds (
	kind VARCHAR(20) NOT NULL, 
	value VARCHAR(129) NOT NULL, 
	reason TEXT NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (kind, value)
);
INSERT INTO "legal_holds" VALUES('number','+4930999','a court case',1796126400.0);
CREATE TABLE notes (
	id VARCHAR(32) NOT NULL, 
	at FLOAT NOT NULL, 
	agent_id VARCHAR(64), 
	author VARCHAR(64), 
	number VARCHAR(64) NOT NULL, 
	call_id VARCHAR(150), 
	dial_id VARCHAR(150), 
	text TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "notes" VALUES('n1',1796127400.0,'ann',NULL,'+447946000001',NULL,'d1','Ann O''Brien: no');
INSERT INTO "notes" VALUES('n2',1796128400.0,'ann',NULL,'+447946000002',NULL,'d2','Person 2: no');
CREATE TABLE purge_permits (
	id INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE queue_log (
	id INTEGER NOT NULL, 
	time DATETIME NOT NULL, 
	callid VARCHAR(80) NOT NULL, 
	queuename VARCHAR(256) NOT NULL, 
	agent VARCHAR(80) NOT NULL, 
	event VARCHAR(32) NOT NULL, 
	data1 VARCHAR(100) NOT NULL, 
	data2 VARCHAR(100) NOT NULL, 
	data3 VARCHAR(100) NOT NULL, 
	data4 VARCHAR(100) NOT NULL, 
	data5 VARCHAR(100) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "queue_log" VALUES(1,'2026-12-01 12:00:01.000000','call-1','out','NONE','ENTERQUEUE','','+447946000001','1','Ann O''Brien','');
INSERT INTO "queue_log" VALUES(2,'2026-12-01 12:00:02.000000','call-2','out','NONE','ENTERQUEUE','','+447946000002','1','Person 2','');
CREATE TABLE queue_requirements (
	queue_id VARCHAR(64) NOT NULL, 
	skill_id VARCHAR(64) NOT NULL, 
	min_level INTEGER NOT NULL, 
	PRIMARY KEY (queue_id, skill_id), 
	FOREIGN KEY(queue_id) REFERENCES queues (id) ON DELETE CASCADE, 
	FOREIGN KEY(skill_id) REFERENCES skills (id)
);
INSERT INTO "queue_requirements" VALUES('german','de',5);
CREATE TABLE queues (
	id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	extension VARCHAR(20) NOT NULL, 
	pbx VARCHAR(64) NOT NULL, 
	ring_timeout_s FLOAT NOT NULL, 
	wrapup_s FLOAT NOT NULL, 
	routing TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (pbx, extension)
);
INSERT INTO "queues" VALUES('german','German','200','asterisk',20.0,5.0,'{"announce": {"comfort": null, "every_s": 60.0, "first_s": 30.0, "offer_callback": false, "position": false, "wait_time": false}, "callback": {"attempts": 3, "caller_id": null, "retry_s": 300.0, "ring_s": 30.0}, "hours": null, "last_agent_wait_s": 0.0, "last_agent_within_s": 86400.0, "limits": {"max_wait_s": null, "max_waiting": null, "on_closed": {"kind": "message", "target": "im-sorry&please-try-call-later"}, "on_full": {"kind": "fallback", "target": null}, "on_max_wait": {"kind": "fallback", "target": null}, "on_no_agents": null}, "priority": 0, "recording": {"mode": "never", "notice": null, "refuse_key": null, "share": 1.0, "stereo": false}, "relaxation": [], "requirement": "", "strategy": "longest_idle", "weight": 1.0}');
CREATE TABLE recordings (
	id VARCHAR(64) NOT NULL, 
	call_id VARCHAR(150) NOT NULL, 
	pbx VARCHAR(64) NOT NULL, 
	queue_id VARCHAR(64), 
	agent_id VARCHAR(64), 
	caller_number VARCHAR(64) NOT NULL, 
	started_at FLOAT NOT NULL, 
	ended_at FLOAT, 
	pauses TEXT NOT NULL, 
	file VARCHAR(200) NOT NULL, 
	channel_id VARCHAR(150) NOT NULL, 
	failure TEXT NOT NULL, 
	consent VARCHAR(20) DEFAULT '' NOT NULL, 
	campaign_id VARCHAR(64), 
	size INTEGER, 
	sha256 VARCHAR(64), 
	PRIMARY KEY (id)
);
INSERT INTO "recordings" VALUES('rec-ann','call-1','x','out','ann','+447946000001',1796127400.0,NULL,'[]','rec-ann.wav','','','',NULL,44,'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
INSERT INTO "recordings" VALUES('rec-person','call-2','x','out','ann','+447946000002',1796128400.0,NULL,'[]','rec-person.wav','','','',NULL,NULL,NULL);
CREATE TABLE refusals (
	id INTEGER NOT NULL, 
	campaign_id VARCHAR(64) NOT NULL, 
	contact_id VARCHAR(64) NOT NULL, 
	number VARCHAR(32) NOT NULL, 
	rule VARCHAR(64) NOT NULL, 
	detail TEXT NOT NULL, 
	at FLOAT NOT NULL, 
	retry_at FLOAT, 
	erased_at FLOAT, 
	PRIMARY KEY (id)
);
INSERT INTO "refusals" VALUES(1,'sales','c1','+447946000001','calling_hours','21:05',1796127405.0,1796131005.0,NULL);
INSERT INTO "refusals" VALUES(2,'sales','c2','+447946000002','calling_hours','21:05',1796128405.0,1796132005.0,NULL);
CREATE TABLE registers (
	name VARCHAR(64) NOT NULL, 
	screened_at FLOAT NOT NULL, 
	numbers INTEGER NOT NULL, 
	PRIMARY KEY (name)
);
INSERT INTO "registers" VALUES('tps',1796126400.0,1);
CREATE TABLE report_agent_intervals (
	agent_id VARCHAR(64) NOT NULL, 
	bucket_start BIGINT NOT NULL, 
	calls_answered BIGINT NOT NULL, 
	talk_s FLOAT NOT NULL, 
	transfers BIGINT NOT NULL, 
	callbacks BIGINT NOT NULL, 
	tasks_completed BIGINT NOT NULL, 
	task_handle_s FLOAT NOT NULL, 
	available_s FLOAT NOT NULL, 
	reserved_s FLOAT NOT NULL, 
	on_call_s FLOAT NOT NULL, 
	wrap_up_s FLOAT NOT NULL, 
	paused_s FLOAT NOT NULL, 
	logins BIGINT NOT NULL, 
	logouts BIGINT NOT NULL, 
	PRIMARY KEY (agent_id, bucket_start)
);
INSERT INTO "report_agent_intervals" VALUES('ann',1796127300,1,87.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796128200,1,87.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796126400,0,0.0,0,0,0,0.0,600.0,0.0,0.0,0.0,300.0,1,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796129100,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796130000,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796130900,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796131800,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796132700,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796133600,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796134500,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796135400,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
INSERT INTO "report_agent_intervals" VALUES('ann',1796136300,0,0.0,0,0,0,0.0,0.0,0.0,0.0,0.0,900.0,0,0);
CREATE TABLE report_agent_pauses (
	agent_id VARCHAR(64) NOT NULL, 
	bucket_start BIGINT NOT NULL, 
	reason VARCHAR(200) NOT NULL, 
	seconds FLOAT NOT NULL, 
	PRIMARY KEY (agent_id, bucket_start, reason)
);
INSERT INTO "report_agent_pauses" VALUES('ann',1796126400,'lunch',300.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796127300,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796128200,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796129100,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796130000,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796130900,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796131800,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796132700,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796133600,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796134500,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796135400,'lunch',900.0);
INSERT INTO "report_agent_pauses" VALUES('ann',1796136300,'lunch',900.0);
CREATE TABLE report_campaign_counts (
	campaign_id VARCHAR(64) NOT NULL, 
	bucket_start BIGINT NOT NULL, 
	what VARCHAR(200) NOT NULL, 
	count BIGINT NOT NULL, 
	total FLOAT NOT NULL, 
	PRIMARY KEY (campaign_id, bucket_start, what)
);
INSERT INTO "report_campaign_counts" VALUES('sales',1796127300,'disposition:callback',1,0.0);
INSERT INTO "report_campaign_counts" VALUES('sales',1796128200,'disposition:callback',1,0.0);
CREATE TABLE report_campaign_intervals (
	campaign_id VARCHAR(64) NOT NULL, 
	bucket_start BIGINT NOT NULL, 
	dials BIGINT NOT NULL, 
	connected BIGINT NOT NULL, 
	abandoned BIGINT NOT NULL, 
	hung_up BIGINT NOT NULL, 
	machine BIGINT NOT NULL, 
	no_answer BIGINT NOT NULL, 
	busy BIGINT NOT NULL, 
	failed BIGINT NOT NULL, 
	lost BIGINT NOT NULL, 
	skipped BIGINT NOT NULL, 
	talk_s FLOAT NOT NULL, 
	wait_s FLOAT NOT NULL, 
	waited BIGINT NOT NULL, 
	dispositions BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id, bucket_start)
);
INSERT INTO "report_campaign_intervals" VALUES('sales',1796127300,1,1,0,0,0,0,0,0,0,0,48.75,0.75,1,1);
INSERT INTO "report_campaign_intervals" VALUES('sales',1796128200,1,1,0,0,0,0,0,0,0,0,48.75,0.75,1,1);
CREATE TABLE report_queue_intervals (
	queue_id VARCHAR(64) NOT NULL, 
	bucket_start BIGINT NOT NULL, 
	offered BIGINT NOT NULL, 
	answered BIGINT NOT NULL, 
	answered_in_time BIGINT NOT NULL, 
	transferred BIGINT NOT NULL, 
	abandoned BIGINT NOT NULL, 
	short_abandoned BIGINT NOT NULL, 
	timed_out BIGINT NOT NULL, 
	unstaffed BIGINT NOT NULL, 
	deflected BIGINT NOT NULL, 
	callbacks_requested BIGINT NOT NULL, 
	callbacks_completed BIGINT NOT NULL, 
	callbacks_not_reached BIGINT NOT NULL, 
	wait_answered_s FLOAT NOT NULL, 
	talk_s FLOAT NOT NULL, 
	longest_wait_answered_s FLOAT NOT NULL, 
	tasks_completed BIGINT NOT NULL, 
	tasks_cancelled BIGINT NOT NULL, 
	task_wait_s FLOAT NOT NULL, 
	task_handle_s FLOAT NOT NULL, 
	PRIMARY KEY (queue_id, bucket_start)
);
INSERT INTO "report_queue_intervals" VALUES('out',1796127300,1,1,1,0,0,0,0,0,0,0,0,0,3.0,87.0,3.0,0,0,0.0,0.0);
INSERT INTO "report_queue_intervals" VALUES('out',1796128200,1,1,1,0,0,0,0,0,0,0,0,0,3.0,87.0,3.0,0,0,0.0,0.0);
CREATE TABLE retention_policy (
	id INTEGER NOT NULL, 
	document TEXT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "retention_policy" VALUES(1,'{"campaigns": {}, "default": {"interactions": 400}, "queues": {}, "rule_sets": {}}',1796126400.0);
CREATE TABLE rule_sets (
	id VARCHAR(64) NOT NULL, 
	settings TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "rule_sets" VALUES('house','{"abandon_limit": 0.03, "abandon_window": "calendar_day", "attempts_per_campaign": null, "attempts_per_day": null, "attempts_per_week": null, "business_presumed_consent": false, "caller_id_required": true, "calling_hours": {"holidays": [], "timezone": "Europe/London", "weekly": {"fri": ["08:00-21:00"], "mon": ["08:00-21:00"], "sat": ["08:00-21:00"], "sun": ["08:00-21:00"], "thu": ["08:00-21:00"], "tue": ["08:00-21:00"], "wed": ["08:00-21:00"]}}, "consent": {"collections": {"fixed": [], "mobile": []}, "marketing": {"fixed": [], "mobile": []}, "research": {"fixed": [], "mobile": []}, "service": {"fixed": [], "mobile": []}}, "consent_proof_required": false, "count_amd_false_positives": true, "description": "custom, from uk", "grace_counts_amd": true, "grace_s": 1.5, "ledger_timezone": "Europe/London", "lockout_after_abandon_s": 259200.0, "max_ring_s": null, "min_ring_s": 15.0, "name": "House rules", "recording_needs_consent": false, "registers": {"tps": 28}}');
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO "schema_version" VALUES(10);
CREATE TABLE skills (
	id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "skills" VALUES('de','German');
INSERT INTO "skills" VALUES('billing','Billing');
CREATE TABLE suppressions (
	register VARCHAR(64) NOT NULL, 
	number VARCHAR(32) NOT NULL, 
	reason TEXT NOT NULL, 
	added_at FLOAT NOT NULL, 
	PRIMARY KEY (register, number)
);
INSERT INTO "suppressions" VALUES('internal','+447946000001','objection',1796126400.0);
INSERT INTO "suppressions" VALUES('internal','+447946000002','objection',1796126400.0);
INSERT INTO "suppressions" VALUES('tps','+447700900123','',1796126400.0);
CREATE TABLE tasks (
	id VARCHAR(64) NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	queue_id VARCHAR(64) NOT NULL, 
	priority INTEGER NOT NULL, 
	created_at FLOAT NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	data TEXT NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	agent_id VARCHAR(64), 
	offered_at FLOAT, 
	assigned_at FLOAT, 
	ended_at FLOAT, 
	offers INTEGER NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "tasks" VALUES('t1','email','out',0,1796127400.0,'mail from +447946000001','{"from": "x"}','waiting',NULL,NULL,NULL,NULL,0,0.0);
INSERT INTO "tasks" VALUES('t2','email','out',0,1796128400.0,'mail from +447946000002','{"from": "x"}','waiting',NULL,NULL,NULL,NULL,0,0.0);
CREATE TABLE users (
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(200) NOT NULL, 
	role VARCHAR(20) NOT NULL, 
	agent_id VARCHAR(64), 
	device VARCHAR(120), 
	display_name VARCHAR(200) NOT NULL, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (username), 
	FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
);
INSERT INTO "users" VALUES('desk1','$argon2id$fixed','agent','ann',NULL,'Ann',1796126400.0);
CREATE TABLE web_sessions (
	token_hash VARCHAR(64) NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	csrf_token VARCHAR(64) NOT NULL, 
	created_at FLOAT NOT NULL, 
	last_seen FLOAT NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(username) REFERENCES users (username) ON DELETE CASCADE
);
INSERT INTO "web_sessions" VALUES('tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt','desk1','cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',1796126400.0,1796126400.0);
CREATE TABLE webhook_deliveries (
	id VARCHAR(64) NOT NULL, 
	subscription_id VARCHAR(64) NOT NULL, 
	seq INTEGER NOT NULL, 
	event_id VARCHAR(64) NOT NULL, 
	event_type VARCHAR(64) NOT NULL, 
	order_key VARCHAR(200) NOT NULL, 
	body TEXT NOT NULL, 
	created_at FLOAT NOT NULL, 
	queued_at FLOAT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_at FLOAT NOT NULL, 
	last_error VARCHAR(500) NOT NULL, 
	last_status INTEGER, 
	delivered_at FLOAT, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(subscription_id) REFERENCES webhook_subscriptions (id) ON DELETE CASCADE
);
INSERT INTO "webhook_deliveries" VALUES('w1','crm',1,'e1','call.ended','call-1','{"type": "call.ended", "data": {"call_id": "call-1", "caller_number": "+447946000001", "caller_name": "Ann O''Brien"}}',1796126400.0,0.0,'pending',0,0.0,'',NULL,NULL,1796126400.0);
INSERT INTO "webhook_deliveries" VALUES('w2','crm',2,'e2','call.ended','call-2','{"type": "call.ended", "data": {"call_id": "call-2", "caller_number": "+447946000002", "caller_name": "Person 2"}}',1796126400.0,0.0,'pending',0,0.0,'',NULL,NULL,1796126400.0);
CREATE TABLE webhook_subscriptions (
	id VARCHAR(64) NOT NULL, 
	url VARCHAR(2000) NOT NULL, 
	events TEXT NOT NULL, 
	secret VARCHAR(200) NOT NULL, 
	description VARCHAR(200) NOT NULL, 
	active BOOLEAN NOT NULL, 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	overflowed INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "webhook_subscriptions" VALUES('crm','https://crm.example.net/h','["*"]','ssssssssssssssssssss','',1,0.0,0.0,0);
CREATE INDEX ix_interactions_queue_arrived ON interactions (queue_id, arrived_at);
CREATE INDEX ix_interactions_agent_arrived ON interactions (agent_id, arrived_at);
CREATE INDEX ix_interactions_arrived_at ON interactions (arrived_at);
CREATE INDEX ix_interactions_caller_arrived ON interactions (caller_number, arrived_at);
CREATE INDEX ix_callbacks_number ON callbacks (number, created_at);
CREATE INDEX ix_callbacks_state ON callbacks (state);
CREATE INDEX ix_tasks_state ON tasks (state);
CREATE INDEX ix_dial_records_dialled ON dial_records (dialled_at);
CREATE INDEX ix_dial_records_campaign_dialled ON dial_records (campaign_id, dialled_at);
CREATE INDEX ix_dial_records_number ON dial_records (number, dialled_at);
CREATE INDEX ix_dispositions_campaign_at ON dispositions (campaign_id, at);
CREATE INDEX ix_dispositions_dial ON dispositions (dial_id);
CREATE INDEX ix_refusals_campaign_at ON refusals (campaign_id, at);
CREATE INDEX ix_suppressions_number ON suppressions (number);
CREATE INDEX ix_notes_number_at ON notes (number, at);
CREATE INDEX ix_audit_log_at ON audit_log (at);
CREATE INDEX ix_recordings_started ON recordings (started_at);
CREATE INDEX ix_recordings_call ON recordings (call_id);
CREATE INDEX ix_recordings_number ON recordings (caller_number);
CREATE INDEX ix_queue_log_time ON queue_log (time);
CREATE INDEX ix_report_queue_intervals_bucket ON report_queue_intervals (bucket_start);
CREATE INDEX ix_report_agent_intervals_bucket ON report_agent_intervals (bucket_start);
CREATE INDEX ix_report_agent_pauses_bucket ON report_agent_pauses (bucket_start);
CREATE INDEX ix_report_campaign_intervals_bucket ON report_campaign_intervals (bucket_start);
CREATE INDEX ix_report_campaign_counts_bucket ON report_campaign_counts (bucket_start);
CREATE INDEX ix_contacts_order ON contacts (campaign_id, state, priority DESC, next_at, id);
CREATE INDEX ix_contacts_callbacks ON contacts (campaign_id, callback_at);
CREATE INDEX ix_contacts_number ON contacts (number);
CREATE INDEX ix_users_agent_id ON users (agent_id);
CREATE INDEX ix_webhook_deliveries_listed ON webhook_deliveries (subscription_id, state, seq);
CREATE INDEX ix_webhook_deliveries_line ON webhook_deliveries (subscription_id, order_key, state, seq);
CREATE INDEX ix_webhook_deliveries_prune ON webhook_deliveries (state, updated_at);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (subscription_id, state, next_at);
CREATE INDEX ix_web_sessions_username ON web_sessions (username);
CREATE TRIGGER dial_records_no_update BEFORE UPDATE ON dial_records WHEN NOT (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.id IS OLD.id AND NEW.campaign_id IS OLD.campaign_id AND NEW.rule_set_id IS OLD.rule_set_id AND NEW.mode IS OLD.mode AND NEW.caller_id IS OLD.caller_id AND NEW.dialled_at IS OLD.dialled_at AND NEW.ended_at IS OLD.ended_at AND NEW.outcome IS OLD.outcome AND NEW.answered_at IS OLD.answered_at AND NEW.live_at IS OLD.live_at AND NEW.connected_at IS OLD.connected_at AND NEW.agent_id IS OLD.agent_id AND NEW.amd IS OLD.amd AND NEW.at_risk IS OLD.at_risk) BEGIN SELECT RAISE(ABORT, 'UPDATE on dial_records: the dialer records are append-only: never changed or deleted'); END;
CREATE TRIGGER dial_records_no_delete BEFORE DELETE ON dial_records WHEN NOT (EXISTS (SELECT 1 FROM purge_permits)) BEGIN SELECT RAISE(ABORT, 'DELETE on dial_records: the dialer records are append-only: never changed or deleted'); END;
CREATE TRIGGER dispositions_no_update BEFORE UPDATE ON dispositions WHEN NOT (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.id IS OLD.id AND NEW.dial_id IS OLD.dial_id AND NEW.campaign_id IS OLD.campaign_id AND NEW.agent_id IS OLD.agent_id AND NEW.code IS OLD.code AND NEW.at IS OLD.at AND NEW.callback_at IS OLD.callback_at AND NEW.callback_agent_id IS OLD.callback_agent_id) BEGIN SELECT RAISE(ABORT, 'UPDATE on dispositions: the dialer records are append-only: never changed or deleted'); END;
CREATE TRIGGER dispositions_no_delete BEFORE DELETE ON dispositions WHEN NOT (EXISTS (SELECT 1 FROM purge_permits)) BEGIN SELECT RAISE(ABORT, 'DELETE on dispositions: the dialer records are append-only: never changed or deleted'); END;
CREATE TRIGGER refusals_no_update BEFORE UPDATE ON refusals WHEN NOT (OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.id IS OLD.id AND NEW.campaign_id IS OLD.campaign_id AND NEW.rule IS OLD.rule AND NEW.at IS OLD.at AND NEW.retry_at IS OLD.retry_at) BEGIN SELECT RAISE(ABORT, 'UPDATE on refusals: the dialer records are append-only: never changed or deleted'); END;
CREATE TRIGGER refusals_no_delete BEFORE DELETE ON refusals WHEN NOT (EXISTS (SELECT 1 FROM purge_permits)) BEGIN SELECT RAISE(ABORT, 'DELETE on refusals: the dialer records are append-only: never changed or deleted'); END;
COMMIT;
