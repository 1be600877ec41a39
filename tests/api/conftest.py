from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.services.stack import Stack


async def seed(stack: Stack) -> None:
    """Skills de and en; queue german (200) needs de>=5; a1 (de 8), a2 (de 5, en 9) and
    a3 (en 9) are available."""
    await stack.ok("POST", "/v1/skills", {"id": "de", "name": "German"})
    await stack.ok("POST", "/v1/skills", {"id": "en", "name": "English"})
    german = {
        "id": "german",
        "name": "German",
        "extension": "200",
        "requires": {"de": 5},
        "ring_timeout_s": 10,
        "wrapup_s": 30,
    }
    await stack.ok("POST", "/v1/queues", german)
    for k, skills in ((1, {"de": 8}), (2, {"de": 5, "en": 9}), (3, {"en": 9})):
        agent = {"id": f"a{k}", "name": f"A{k}", "device": f"PJSIP/agent{k}", "skills": skills}
        await stack.ok("POST", "/v1/agents", agent)
        await stack.ok("POST", f"/v1/agents/a{k}/state", {"state": "available"})


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    started = await Stack.start(tmp_path / "ccgateway.db")
    await seed(started)
    yield started
    await started.stop()
