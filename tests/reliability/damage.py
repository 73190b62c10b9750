"""Damaged copies of a valid session file, for the fuzz tests of opening and of searching.

Damage: flipped bytes, truncations, zeroed, swapped and duplicated pages, a
mangled header, and the same on the write-ahead log of a session whose last
changes were never folded into the file.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

from tui.engine import Task, TaskOutput, TaskStatus, Usage
from tui.store import SessionStore
from tui.store.batch import Pending, write_batch
from tui.store.records import capture_inputs, capture_state
from tui.store.schema import connect_writer

PAGE = 4096
SEED = 20_261_127


def _task(task_id: int, text: str, status: TaskStatus) -> Task:
    now = time.time()
    state = {"type": "session", "session_id": f"s{task_id}", "service_session_id": None,
             "state": {"in_memory": {"messages": [{"role": "assistant", "text": text}]}}}
    return Task(task_id, f"prompt {task_id} " + "words " * 30, "demo", "demo-chat", "chat", status=status,
                created_at=now - 60, started_at=now - 50, finished_at=now - 1, usage=Usage(10, 20, 30),
                attachments=["/tmp/a.txt"], request_text=f"request {task_id}", session_state=state,
                continuation_token={"response_id": f"resp_{task_id}"} if task_id % 2 else None,
                last_sequence=task_id * 7, output=TaskOutput(""))


def build(path: Path, *, keep_log: bool) -> None:
    """A session of 8 tasks whose texts were saved in interleaved flushes (as a real run does).

    With `keep_log`, the last flushes stay in the write-ahead log (copied while the writer is open).
    """
    SessionStore.open(path).close()
    rng = random.Random(SEED)
    tasks = [_task(i, "", TaskStatus.RUNNING) for i in range(1, 9)]
    conn = connect_writer(path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    chars: dict[int, int] = {}
    write_batch(conn, {t.id: Pending(capture_inputs(t), capture_state(t)) for t in tasks}, chars, 1)
    for rev in range(2, 40):
        batch = {}
        for task in rng.sample(tasks, 5):
            piece = "".join(rng.choice("abcdefghij \n#*-`") for _ in range(rng.randint(50, 900)))
            task.output.append(piece)
            batch[task.id] = Pending(text=[piece], state=capture_state(task))
        write_batch(conn, batch, chars, rev)
    for task in tasks[:5]:
        task.status = TaskStatus.DONE
    done = {t.id: Pending(state=capture_state(t), session_state=t.session_state) for t in tasks[:5]}
    write_batch(conn, done, chars, 40)
    if keep_log:
        snapshot = Path(f"{path}.snapshot")
        shutil.copyfile(path, snapshot)
        shutil.copyfile(f"{path}-wal", f"{snapshot}-wal")
        conn.close()
        os.replace(snapshot, path)
        os.replace(f"{snapshot}-wal", f"{path}-wal")
    else:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    pages = max(1, len(out) // PAGE)
    kind = rng.choice(["flip", "flip", "flip", "truncate", "zero_page", "swap_pages", "dup_page", "header", "garbage"])
    if kind == "flip":
        for _ in range(rng.randint(1, 16)):
            at = rng.randrange(len(out))
            out[at] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del out[rng.randrange(len(out)) :]
    elif kind == "zero_page":
        page = rng.randrange(pages)
        out[page * PAGE : (page + 1) * PAGE] = bytes(PAGE)
    elif kind == "swap_pages" and pages > 1:
        a, b = rng.sample(range(pages), 2)
        pa, pb = out[a * PAGE : (a + 1) * PAGE], out[b * PAGE : (b + 1) * PAGE]
        out[a * PAGE : (a + 1) * PAGE], out[b * PAGE : (b + 1) * PAGE] = pb, pa
    elif kind == "dup_page" and pages > 1:
        a, b = rng.sample(range(pages), 2)
        out[b * PAGE : (b + 1) * PAGE] = out[a * PAGE : (a + 1) * PAGE]
    elif kind == "header":
        at = rng.randrange(min(100, len(out)))
        out[at : at + 4] = rng.randbytes(4)
    else:
        at = rng.randrange(len(out))
        out[at : at + rng.randint(1, 600)] = rng.randbytes(rng.randint(1, 600))
    return bytes(out)


class Damager:
    """Valid sessions built once (with and without a pending write-ahead log); each round writes a damaged copy."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.originals: dict[bool, tuple[bytes, bytes | None]] = {}
        for keep_log in (False, True):
            source = workdir / f"valid-{keep_log}.sqlite"
            build(source, keep_log=keep_log)
            self.originals[keep_log] = (source.read_bytes(), Path(f"{source}-wal").read_bytes() if keep_log else None)

    def damage(self, target: Path, round_: int) -> None:
        """Write round `round_`'s damaged session at `target`: every third round with a log, damaged or under it."""
        for companion in ("", "-wal", "-shm", ".lock"):
            Path(f"{target}{companion}").unlink(missing_ok=True)
        keep_log = round_ % 3 == 2
        main, log = self.originals[keep_log]
        if keep_log and self.rng.random() < 0.6:  # damage the log, or the file under an intact log
            log = mutate(log, self.rng)
        else:
            main = mutate(main, self.rng)
        target.write_bytes(main)
        if log is not None:
            Path(f"{target}-wal").write_bytes(log)
