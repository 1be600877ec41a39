"""The pages: login, agent desktop, supervisor console and wallboard, served by the
controller itself under `/ui/`. Plain JavaScript modules over the public REST API and the
event stream, no build step; `router.py` serves them, `security.py` puts the security
headers on every response of the app."""
