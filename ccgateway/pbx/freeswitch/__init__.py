"""FreeSWITCH over the Event Socket: sans-IO framing (esl.py); the adapter is future work."""
