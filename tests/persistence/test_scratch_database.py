"""`sqlite://` (the test harness's database, and anyone's throwaway run): sessions in
several threads each get a transaction of their own. It was one shared in-memory
connection, and a reader's rollback in one thread undid a write still open in another (a
campaign created with 201 was then 404)."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from sqlalchemy import text

from ccgateway.persistence.database import open_database


def test_a_rollback_in_one_thread_leaves_another_threads_open_write_alone() -> None:
    engine = open_database("sqlite://")
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE scratch_probe (id INTEGER PRIMARY KEY)"))
    written = threading.Event()
    read_done = threading.Event()

    def writer() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO scratch_probe (id) VALUES (1)"))
            written.set()
            assert read_done.wait(5)  # the commit comes after the other thread's rollback

    def reader() -> None:
        assert written.wait(5)
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM scratch_probe")).scalar_one()
            connection.rollback()
        read_done.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM scratch_probe")).scalars().all() == [1]
    engine.dispose()


def test_the_scratch_database_goes_with_its_engine() -> None:
    engine = open_database("sqlite://")
    folder = Path(str(engine.url.database)).parent
    assert folder.is_dir() and folder.stat().st_mode & 0o077 == 0
    engine.dispose()
    del engine
    gc.collect()
    assert not folder.exists()
