"""A local PBX for demos and tests: a real Asterisk 22 and sipp phones and customers."""

from ccgateway.sandbox.rootfs import SandboxError
from ccgateway.sandbox.sandbox import PHONE_MODES, Sandbox

__all__ = ["PHONE_MODES", "Sandbox", "SandboxError"]
