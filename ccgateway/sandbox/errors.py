"""The one error of the sandbox: its message says what went wrong and what to do."""


class SandboxError(RuntimeError):
    """The sandbox cannot do what was asked; the message says why and what to do."""
