-- A database as ccgateway at 3d82f41 (schema_version 1, its first) made and filled it with
-- its own open_database and stores (README.md beside this file). Never edit by hand.
BEGIN TRANSACTION;
CREATE TABLE agent_presence (
	agent_id VARCHAR(64) NOT NULL, 
	state VARCHAR(20) NOT NULL, 
	reason VARCHAR(200), 
	PRIMARY KEY (agent_id), 
	FOREIGN KEY(agent_id) REFERENCES agents (id) ON DELETE CASCADE
);
INSERT INTO "agent_presence" VALUES('ann','paused','lunch');
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
	PRIMARY KEY (id), 
	UNIQUE (device)
);
INSERT INTO "agents" VALUES('ann','Ann','PJSIP/agent1','asterisk');
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
	PRIMARY KEY (id), 
	CONSTRAINT uq_interaction_once UNIQUE (call_id, arrived_at, ended_at)
);
INSERT INTO "interactions" VALUES(1,'c1','german','ann','+4930','answered',1700000000.125,1700000003.125,1700000060.125,3.0,57.0,1);
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
	PRIMARY KEY (id), 
	UNIQUE (pbx, extension)
);
INSERT INTO "queues" VALUES('german','German','200','asterisk',20.0,5.0);
CREATE TABLE schema_version (
	version INTEGER NOT NULL, 
	PRIMARY KEY (version)
);
INSERT INTO "schema_version" VALUES(1);
CREATE TABLE skills (
	id VARCHAR(64) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "skills" VALUES('de','German');
INSERT INTO "skills" VALUES('billing','Billing');
CREATE INDEX ix_interactions_arrived_at ON interactions (arrived_at);
CREATE INDEX ix_interactions_queue_arrived ON interactions (queue_id, arrived_at);
CREATE INDEX ix_interactions_agent_arrived ON interactions (agent_id, arrived_at);
COMMIT;
