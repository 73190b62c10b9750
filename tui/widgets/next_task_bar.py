"""What the next prompt will run with: provider, model, timeout, MCP tools and attached files."""

from __future__ import annotations

from pathlib import Path
from types import EllipsisType

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label, Select, Static

from tui.config import Config, ConfigError, ProviderConfig
from tui.engine.groups import Target
from tui.timeouts import parse_timeout, timeout_or_none
from tui.widgets.formatting import plural

DEFAULT = ...
"""Timeout sentinel: use the provider's or the config's default, as `Engine.add_task` does."""


class NextTaskBar(Horizontal):
    """Changing these affects only tasks submitted afterwards; running tasks keep theirs."""

    DEFAULT_CSS = """
    NextTaskBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        & > Label { color: $foreground-muted; padding: 0 1 0 0; }
        & > Select { width: 1fr; min-width: 10; max-width: 24; margin: 0 2 0 0; }
        & > #provider-pending { width: 1fr; min-width: 10; max-width: 24; margin: 0 2 0 0; padding: 0 1; }
        & > #model { width: 1fr; min-width: 10; max-width: 24; margin: 0 2 0 0; }
        & > #timeout { width: 8; }
        & > .tools-label { margin: 0 0 0 2; }
        & > #tools { width: 14; }
        & > #group {
            width: auto;
            max-width: 40%;
            padding: 0 0 0 2;
            color: $text-accent;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & > #attachments {
            width: auto;
            max-width: 40%;
            padding: 0 0 0 2;
            color: $text-accent;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
    }
    """

    def __init__(self, config: Config, *, model: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._config = config
        self._initial_model = model
        self._provider_name = config.default_provider
        """The provider chosen: by name in the first frame, then in the `Select` (blank until it is mounted)."""
        self.attachments: list[str] = []
        self.group_targets: list[Target] | None = None
        """Several (provider, model) for the next prompt, asked as one group; None: one task as set here."""

    def compose(self) -> ComposeResult:
        yield Label("next task:")
        if getattr(self.app, "first_frame_shown", True):
            yield self._provider_list()
        else:  # see `add_provider_list`
            yield Static(self._provider_name, id="provider-pending", markup=False)
        yield Input(self._initial_model or "", compact=True, id="model", tooltip="Model; empty = the provider's")
        yield Label("timeout s:", classes="timeout-label")
        yield Input(compact=True, type="number", id="timeout", tooltip="Seconds; empty = default, 0 = no timeout")
        yield Label("tools:", classes="tools-label")
        yield Input(
            compact=True, id="tools",
            tooltip="MCP servers the task may use, comma-separated; 'none' for no tools; empty = the provider's",
        )
        group = Static("", id="group", markup=False)
        group.display = False  # takes no room until a group is chosen
        group.tooltip = "The next prompt goes to each of these as one group; click to go back to one task"
        yield group
        attachments = Static("", id="attachments", markup=False)
        attachments.tooltip = "Click to remove the attached files"
        yield attachments

    def on_mount(self) -> None:
        self._show_defaults()

    def _provider_list(self) -> Select[str]:
        options = [(name, name) for name in sorted(self._config.providers)]
        return Select(
            options,
            value=self._provider_name,
            allow_blank=False,
            compact=True,
            id="provider",
            tooltip="Provider for the next task (Ctrl+P lists them too)",
        )

    def add_provider_list(self) -> None:
        """Put the `Select` where the first frame showed the provider name: its option list cost ~10% of that frame."""
        for pending in self.query("#provider-pending"):
            provider = self._provider_list()
            provider.display = pending.display
            self.mount(provider, before=pending)
            pending.remove()

    def _provider_select(self) -> Select[str] | None:
        return next(iter(self.query("#provider").results(Select)), None)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):
            self._provider_name = event.value
        self._show_defaults()

    @property
    def provider(self) -> ProviderConfig:
        return self._config.provider(self._provider_name)

    def choose_provider(self, name: str) -> None:
        self._provider_name = name
        select = self._provider_select()
        if select is None:
            self.query_one("#provider-pending", Static).update(name)
            self._show_defaults()
        else:
            select.value = name

    @property
    def model(self) -> str | None:
        return self.query_one("#model", Input).value.strip() or None

    @property
    def timeout(self) -> float | None | EllipsisType:
        """Seconds, None for no timeout, or DEFAULT; raises ValueError with a message for bad input."""
        text = self.query_one("#timeout", Input).value.strip()
        if not text:
            return DEFAULT
        return timeout_or_none(parse_timeout(text))

    @property
    def tools(self) -> tuple[str, ...] | None:
        """MCP servers offered (like `run --tools`): None for the provider's, () for none.

        A ValueError names a server the config does not define.
        """
        text = self.query_one("#tools", Input).value
        names = [name.strip() for name in text.split(",") if name.strip()]
        if not names:
            return None
        if names == ["none"]:
            return ()
        for name in names:
            try:
                self._config.mcp_server(name)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return tuple(dict.fromkeys(names))

    def set_tools(self, names: tuple[str, ...] | None) -> None:
        self.query_one("#tools", Input).value = "" if names is None else ",".join(names) or "none"

    def set_timeout(self, seconds: float | None) -> None:
        self.query_one("#timeout", Input).value = "0" if seconds is None else f"{seconds:g}"

    def add_attachment(self, path: str) -> None:
        self.attachments.append(path)
        self._show_attachments()

    def remove_attachment(self, path: str) -> None:
        self.attachments.remove(path)
        self._show_attachments()

    def clear_attachments(self) -> None:
        self.attachments.clear()
        self._show_attachments()

    def set_group_targets(self, targets: list[Target] | None) -> None:
        self.group_targets = targets or None
        for field in self.query("#provider, #provider-pending, #model"):  # a group names its own providers and models
            field.display = not targets
        names = ", ".join(p if m is None else f"{p}:{m}" for p, m in targets or [])
        label = self.query_one("#group", Static)
        label.update(f"⧉ group of {len(targets)}: {names} ✕" if targets else "")
        label.display = bool(targets)

    def on_click(self, event: events.Click) -> None:
        """A click on the ⧉ label goes back to one task; on the 📎 label it drops the attached files."""
        if event.widget is self.query_one("#group") and self.group_targets:
            self.set_group_targets(None)
            self.notify("The next prompt goes to one model again.", markup=False)
        elif event.widget is self.query_one("#attachments") and self.attachments:
            removed = plural(len(self.attachments), "attached file")
            self.clear_attachments()
            self.notify(f"Removed {removed} from the next prompt.", markup=False)

    def _show_defaults(self) -> None:
        provider = self.provider
        self.query_one("#model", Input).placeholder = provider.model
        default = provider.timeout if provider.timeout is not None else self._config.timeout
        self.query_one("#timeout", Input).placeholder = "none" if not default else f"{default:g}"
        self.query_one("#tools", Input).placeholder = ",".join(provider.tools) or "none"

    def _show_attachments(self) -> None:
        names = ", ".join(Path(p).name for p in self.attachments)
        label = f"📎 {plural(len(self.attachments), 'file')}: {names} ✕"
        self.query_one("#attachments", Static).update(label if self.attachments else "")
