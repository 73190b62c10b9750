"""Groups in the engine over real HTTP: one prompt asked of several providers/models of the demo server."""

from __future__ import annotations

import asyncio

import pytest

from tui.demo.script import expected_answer
from tui.engine import Engine, EngineError, TaskStatus
from tui.engine.groups import GroupError, parse_targets


async def test_a_group_of_three_ends_with_three_done_tasks_sharing_one_group(engine: Engine) -> None:
    prompt = "compare me [[len:400]]"
    tasks = engine.add_group(prompt, [("chat", None), ("resp", None), ("chat", "other-model")])
    await asyncio.gather(*(engine.run_task(task) for task in tasks))
    assert [task.status for task in tasks] == [TaskStatus.DONE] * 3
    assert {task.group for task in tasks} == {"g1"}
    assert [(task.provider, task.model) for task in tasks] == [
        ("chat", "demo-chat"), ("resp", "demo-responses"), ("chat", "other-model"),
    ]
    assert all(task.text == expected_answer(prompt) for task in tasks)
    assert engine.group("g1") == tasks
    assert tasks[0].summary()["group"] == "g1"


async def test_a_named_model_is_the_one_sent(engine: Engine) -> None:
    tasks = engine.add_group("which model [[fault:404]]", [("chat", "my-model:7b"), ("resp", "other")])
    await asyncio.gather(*(engine.run_task(task) for task in tasks))
    assert "my-model:7b" in (tasks[0].error or "")
    assert "other" in (tasks[1].error or "")


async def test_groups_get_new_ids_and_unknown_providers_create_nothing(engine: Engine) -> None:
    first = engine.add_group("a", [("chat", None), ("resp", None)])
    second = engine.add_group("b", [("chat", None), ("resp", None)])
    assert (first[0].group, second[0].group) == ("g1", "g2")
    with pytest.raises(EngineError, match="unknown provider 'nope'"):
        engine.add_group("c", [("chat", None), ("nope", None)])
    with pytest.raises(EngineError, match="no group 'g9'"):
        engine.group("g9")
    assert len(engine.tasks) == 4


def test_targets_split_at_the_first_colon_only() -> None:
    assert parse_targets("deepseek, openai:gpt-5-mini,local:llama3:8b") == [
        ("deepseek", None), ("openai", "gpt-5-mini"), ("local", "llama3:8b"),
    ]
    with pytest.raises(GroupError, match="names no model"):
        parse_targets("openai:")
    with pytest.raises(GroupError, match="needs NAME or NAME:MODEL"):
        parse_targets("openai,,local")


async def test_follow_up_on_a_group_asks_every_member_in_its_own_session(engine: Engine) -> None:
    tasks = engine.add_group("first [[len:50]]", [("chat", None), ("resp", None)])
    await asyncio.gather(*(engine.run_task(task) for task in tasks))
    follow_ups = engine.follow_up_group("g1", "second [[len:60]]")
    await asyncio.gather(*(engine.run_task(task) for task in follow_ups))
    assert [task.parent_id for task in follow_ups] == [task.id for task in tasks]
    assert {task.group for task in follow_ups} == {"g2"}
    assert all(task.status is TaskStatus.DONE and task.text == expected_answer("second [[len:60]]")
               for task in follow_ups)


async def test_retry_reruns_the_whole_group_or_one_member(engine: Engine) -> None:
    tasks = engine.add_group("again [[len:30]]", [("chat", None), ("resp", None)])
    await asyncio.gather(*(engine.run_task(task) for task in tasks))
    one = engine.retry(tasks[1].id)
    assert one.group == "g1" and len(engine.group("g1")) == 3
    with pytest.raises(EngineError, match="still queued"):
        engine.retry_group("g1")
    await engine.run_task(one)
    whole = engine.retry_group("g1")
    assert {task.group for task in whole} == {"g2"}
    assert [task.provider for task in whole] == ["chat", "resp"], "the member retried alone is asked once, not twice"
    await asyncio.gather(*(engine.run_task(task) for task in whole))
    assert all(task.status is TaskStatus.DONE for task in whole)
