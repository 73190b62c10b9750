"""Command palette entries: every key's action, plus choices that have no key of their own."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.screens.bindings import TASK_BINDINGS
from tui.widgets.formatting import one_line

Command = tuple[str, Callable[[], object], str]


class DeckCommands(Provider):
    """Offers only what applies now (as Posting does): no "Cancel" for a finished task."""

    def _commands(self) -> list[Command]:
        from tui.screens.main import MainScreen
        from tui.widgets.task_rows import TaskFilter, TaskSort

        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        commands: list[Command] = []
        for binding in TASK_BINDINGS:
            if screen.can(binding.action):
                key = binding.key_display or binding.key.split(",")[0]
                group = (binding.id or "task").split(".")[0]
                commands.append(
                    (f"{group}: {binding.tooltip}", getattr(screen, f"action_{binding.action}"), f"key: {key}")
                )
        for task_filter in TaskFilter:
            if task_filter is not screen.table.task_filter:
                commands.append((f"view: Show {task_filter.label}", partial(screen.set_filter, task_filter), ""))
        for task_sort in TaskSort:
            if task_sort is not screen.table.task_sort:
                commands.append((f"view: Sort by {task_sort}", partial(screen.set_sort, task_sort), ""))
        for task in screen.engine.tasks.values():
            for call in task.waiting_calls[:1]:
                name = f"tools: Approve {one_line(call.name, 40)} for task #{task.id}?"
                server = f"MCP server {one_line(call.server, 30)}"
                commands.append((name, partial(screen.tools.ask_approval, task), server))
        bar = screen.next_task
        for name, provider in sorted(screen.engine.config.providers.items()):
            if name != bar.provider.name:
                help_text = f"{provider.api} API, model {provider.model}"
                commands.append((f"next task: Use provider {name}", partial(bar.choose_provider, name), help_text))
        for name, server in sorted(screen.engine.config.mcp.items()):
            use = partial(bar.set_tools, (name,))
            how = f"{server.transport}, approve = {server.approve}"
            commands.append((f"next task: Offer only the tools of MCP server {name}", use, how))
        commands.append(("next task: Offer no tools", partial(bar.set_tools, ()), "like run --tools none"))
        provider_tools = partial(bar.set_tools, None)
        commands.append(("next task: Offer the provider's tools", provider_tools, "the tools: field emptied"))
        if screen.can("ask_several"):
            commands.append(("next task: Ask several models…", screen.actions.action_ask_several,
                             "one prompt, several providers/models, as one group"))
        if bar.group_targets:
            commands.append(("next task: Ask one model again", partial(bar.set_group_targets, None),
                             "or click the ⧉ label"))
        if bar.attachments:
            commands.append(("next task: Remove attached files", bar.clear_attachments, "or click the 📎 label"))
            for path in bar.attachments:
                remove = partial(bar.remove_attachment, path)
                commands.append((f"next task: Remove attachment {Path(path).name}", remove, path))
        commands.append(
            ("tasks: Set how many stream at once", screen.action_concurrency, f"now {screen.engine.concurrency}")
        )
        if not screen.actions.deck.read_only:
            from tui.screens.budget_dialog import ask_budget, budget_help

            set_budget = partial(ask_budget, screen.app, screen.engine)
            commands.append(("session: Set budget…", set_budget, budget_help(screen.engine)))
        for provider in sorted(screen.engine.config.providers):
            lanes = screen.engine.scheduler.lanes(provider)
            limit = partial(screen.actions.action_provider_concurrency, provider)
            now = f"now {lanes.configured or 'only the global limit'}"
            commands.append((f"tasks: Set how many {provider} tasks stream at once", limit, now))
        return commands

    async def discover(self) -> Hits:
        for name, run, help_text in self._commands():
            yield DiscoveryHit(name, run, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text or None)
