"""A local PBX for demos and tests: a real Asterisk 22 and sipp phones and customers."""

from ccgateway.sandbox.errors import SandboxError
from ccgateway.sandbox.phones import PHONE_MODES, CallBatch, CallOutcome
from ccgateway.sandbox.sandbox import PhoneStatus, Sandbox, SandboxStatus

__all__ = [
    "PHONE_MODES",
    "CallBatch",
    "CallOutcome",
    "PhoneStatus",
    "Sandbox",
    "SandboxError",
    "SandboxStatus",
]
