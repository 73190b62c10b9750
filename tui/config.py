"""The TOML config: typed, validated, with one clear message per mistake.

Providers are named tables. The API key is never stored: a provider names the
environment variable that holds it (`api_key_env`).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlparse

import tomli_w

from tui import paths
from tui.config_limits import PROVIDER_LIMIT_KEYS, TOP_LEVEL_LIMIT_KEYS, provider_limits, session_limits
from tui.config_mcp import (
    DEFAULT_MAX_TOOL_ROUNDS,
    MAX_TOOL_ROUNDS,
    McpServerConfig,
    builtin_mcp_servers,
    describe_server,
    parse_mcp_servers,
    parse_tool_list,
)
from tui.config_prices import PRICE_KEYS, PriceList, describe_price_list, parse_price_list
from tui.timeouts import MAX_TIMEOUT_S as MAX_TIMEOUT_S  # re-exported: the config's limits live here
from tui.timeouts import NOT_A_NUMBER, check_timeout, timeout_or_none
from tui.user_files import CONFIG_LIMIT, UnreadableFile, read_user_file

ApiKind = Literal["chat", "responses"]
API_KINDS: tuple[ApiKind, ...] = ("chat", "responses")
DEMO_PROVIDERS = ("demo", "demo-responses")
MAX_CONCURRENCY = 256
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"
DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
StreamsMode = Literal["process", "thread"]
STREAMS_MODES: tuple[StreamsMode, ...] = ("process", "thread")


def is_local_url(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ConfigError(Exception):
    """A user mistake in the config; its text is shown as is, without a traceback."""


@dataclass(frozen=True)
class ProviderConfig:
    """One model endpoint. `base_url` is None only for the built-in demo server."""

    name: str
    api: ApiKind
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    timeout: float | None = None
    """Per-task timeout for this provider, overriding the global one."""
    max_retries: int = 2
    """Retries of a request refused before its stream starts (429, 5xx, no connection), each after a wait."""
    concurrency: int | None = None
    """This provider's tasks streaming at once, under the global limit (None: only the global one)."""
    auto_continue: int | None = None
    """Automatic continues after a dropped stream, overriding the global `auto_continue`."""
    instructions: str | None = None
    """System prompt sent with every task of this provider."""
    tools: tuple[str, ...] = ()
    """MCP servers (`[mcp.NAME]`) whose tools this provider's tasks are offered by default."""
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS
    """Model -> tools -> model rounds per task before it stops as failed."""
    idle_timeout: float | None = None
    """Seconds without output before a task ends `timed_out` (0 = never); None: the top-level `idle_timeout`."""
    max_output_tokens: int | None = None
    """Sent with every request (Chat: `max_completion_tokens`, Responses: `max_output_tokens`)."""
    prices: PriceList = field(default_factory=PriceList)
    """USD per million tokens, per model; empty means cost unknown."""
    builtin: bool = False

    @property
    def is_demo(self) -> bool:
        return self.builtin and self.name in DEMO_PROVIDERS

    @property
    def needs_key(self) -> bool:
        """Remote providers need their key; the demo server and loopback servers may not."""
        if self.is_demo or not self.api_key_env:
            return False
        return not (self.base_url and is_local_url(self.base_url))

    @property
    def secret_env_names(self) -> tuple[str, ...]:
        """Variables whose values are secrets: hidden wherever a provider quotes them back."""
        return (self.api_key_env,) if self.api_key_env else ()

    def api_key(self) -> str | None:
        """The key from the environment, read only when a request is made."""
        if not self.api_key_env:
            return None
        return os.environ.get(self.api_key_env) or None


@dataclass(frozen=True)
class Config:
    path: Path
    default_provider: str
    concurrency: int = 4
    """Tasks streaming at once; more wait as queued."""
    timeout: float | None = 600.0
    """Seconds of running time per task, all its runs together; None means no limit."""
    max_attachment_bytes: int = 1_000_000
    bell: bool = False
    """Ring the terminal bell when a task ends (app only)."""
    idle_timeout: float = 120.0
    """Seconds without output before a task ends `timed_out`; 0 = never (see `tui.engine.stalls`)."""
    budget_usd: float | None = None
    """Spending limit of a session: no task starts once it is reached; None = no budget."""
    auto_continue: int = 2
    """How often a task whose stream dropped is continued in its session by itself."""
    streams: StreamsMode = "process"
    """Where provider streams are read: a worker process (off the UI's GIL) or a thread of this one."""
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    mcp: dict[str, McpServerConfig] = field(default_factory=builtin_mcp_servers)
    """MCP servers by name; the built-in `demo` one unless the file defines its own."""
    loaded_from_file: bool = False

    def provider(self, name: str | None) -> ProviderConfig:
        """Look a provider up by name, with a helpful message when it does not exist."""
        key = name or self.default_provider
        try:
            return self.providers[key]
        except KeyError:
            known = ", ".join(sorted(self.providers))
            hint = _did_you_mean(key, self.providers)
            raise ConfigError(f"unknown provider {key!r}{hint} (known: {known})") from None

    def mcp_server(self, name: str) -> McpServerConfig:
        try:
            return self.mcp[name]
        except KeyError:
            known = ", ".join(sorted(self.mcp))
            raise ConfigError(f"no MCP server named {name!r}{_did_you_mean(name, self.mcp)} (known: {known})") from None

    @property
    def secret_env_names(self) -> tuple[str, ...]:
        keys = [name for p in self.providers.values() for name in p.secret_env_names]
        headers = [var for server in self.mcp.values() for var in server.headers_env.values()]
        return tuple(keys + headers)

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)

    def idle_timeout_of(self, provider: ProviderConfig) -> float | None:
        """The provider's idle timeout, else the top-level one; None when off."""
        seconds = provider.idle_timeout if provider.idle_timeout is not None else self.idle_timeout
        return seconds or None

TOP_LEVEL_KEYS = {
    "default_provider", "concurrency", "timeout", "max_attachment_bytes", "bell", "providers", "mcp", "auto_continue",
    "streams",
} | TOP_LEVEL_LIMIT_KEYS
PROVIDER_KEYS = {
    "api", "base_url", "model", "api_key_env", "timeout", "max_retries", "instructions", "tools", "max_tool_rounds",
    *PRICE_KEYS, "prices", "concurrency", "auto_continue",
} | PROVIDER_LIMIT_KEYS
PRICE_ONLY_KEYS = {*PRICE_KEYS, "prices"}
"""All a table for a built-in provider (`[providers.demo]`) may set without replacing it."""
MAX_AUTO_CONTINUE = 100


def _did_you_mean(word: str, options: Mapping[str, object] | set[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def builtin_providers(environ: Mapping[str, str] | None = None) -> dict[str, ProviderConfig]:
    """Providers that exist without any config: the demo server, and OpenAI when a key is set."""
    env = os.environ if environ is None else environ
    found = {
        "demo": ProviderConfig("demo", "chat", "demo-chat", builtin=True),
        "demo-responses": ProviderConfig("demo-responses", "responses", "demo-responses", builtin=True),
    }
    if env.get("OPENAI_API_KEY"):
        found["openai"] = ProviderConfig(
            "openai",
            "responses",
            env.get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
            base_url=env.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_URL,
            api_key_env="OPENAI_API_KEY",
            builtin=True,
        )
    return found


class _Checker:
    """Validates raw TOML values and names the offending key in every message."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: key '{key}': {problem}")

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(f"{prefix}{key}", f"unknown setting{_did_you_mean(key, allowed)}")

    def string(self, table: Mapping[str, Any], key: str, prefix: str, *, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{prefix}{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{prefix}{key}", f"must be a non-empty string, got {_show(value)}")
        return value.strip()

    def timeout(self, table: Mapping[str, Any], prefix: str) -> float | None:
        """Seconds, checked and worded as on the command line; 0 is kept (it means none)."""
        value = table.get("timeout")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{prefix}timeout", f"{NOT_A_NUMBER}, got {_show(value)}")
        try:
            return check_timeout(float(value))
        except ValueError as exc:
            raise self.fail(f"{prefix}timeout", f"{exc}, got {value}") from None

    def number(self, table: Mapping[str, Any], key: str, prefix: str, low: float, high: float) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{prefix}{key}", f"must be a number, got {_show(value)}")
        if not low <= value <= high:
            raise self.fail(f"{prefix}{key}", f"must be between {low:g} and {high:g}, got {value}")
        return float(value)

    def integer(self, table: Mapping[str, Any], key: str, prefix: str, low: int, high: int) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{prefix}{key}", f"must be a whole number, got {_show(value)}")
        if not low <= value <= high:
            raise self.fail(f"{prefix}{key}", f"must be between {low} and {high}, got {value}")
        return value


def _show(value: object) -> str:
    kind = type(value).__name__
    text = repr(value)
    return f"{kind} {text[:40]}"


def _parse_provider(check: _Checker, name: str, raw: object, servers: Mapping[str, McpServerConfig]) -> ProviderConfig:
    prefix = f"providers.{name}."
    if not isinstance(raw, dict):
        raise check.fail(f"providers.{name}", "must be a table like [providers.NAME]")
    check.unknown_keys(raw, PROVIDER_KEYS, prefix)
    api = check.string(raw, "api", prefix) or "chat"
    if api not in API_KINDS:
        raise check.fail(f"{prefix}api", f'must be "chat" or "responses", got {api!r}')
    base_url = check.string(raw, "base_url", prefix, required=True)
    assert base_url is not None
    if not base_url.startswith(("http://", "https://")):
        raise check.fail(f"{prefix}base_url", f"must start with http:// or https://, got {base_url!r}")
    model = check.string(raw, "model", prefix, required=True)
    assert model is not None
    api_key_env = check.string(raw, "api_key_env", prefix)
    if api_key_env is not None and not api_key_env.replace("_", "").isalnum():
        raise check.fail(
            f"{prefix}api_key_env",
            "must be the NAME of an environment variable (like DEEPSEEK_API_KEY), not the key itself",
        )
    timeout = check.timeout(raw, prefix)
    retries = check.integer(raw, "max_retries", prefix, 0, 10)
    rounds = check.integer(raw, "max_tool_rounds", prefix, 1, MAX_TOOL_ROUNDS)
    return ProviderConfig(
        name=name,
        api=cast(ApiKind, api),
        model=model,
        base_url=base_url.rstrip("/"),
        api_key_env=api_key_env,
        timeout=timeout,
        max_retries=2 if retries is None else retries,
        instructions=check.string(raw, "instructions", prefix),
        tools=parse_tool_list(check, raw, prefix, servers),
        max_tool_rounds=DEFAULT_MAX_TOOL_ROUNDS if rounds is None else rounds,
        **provider_limits(check, raw, prefix),
        prices=parse_price_list(check, raw, prefix),
        concurrency=check.integer(raw, "concurrency", prefix, 1, MAX_CONCURRENCY),
        auto_continue=check.integer(raw, "auto_continue", prefix, 0, MAX_AUTO_CONTINUE),
    )


def _prices_builtin(name: str, raw: object, builtins: Mapping[str, ProviderConfig]) -> bool:
    """A table naming a built-in provider with only price keys prices it (`[providers.demo]`)."""
    return name in builtins and isinstance(raw, dict) and bool(raw) and set(raw) <= PRICE_ONLY_KEYS


def parse_config(data: Mapping[str, Any], path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Turn a parsed TOML document into a Config, or raise ConfigError naming the key."""
    check = _Checker(path)
    check.unknown_keys(data, TOP_LEVEL_KEYS, "")
    providers = builtin_providers(environ)
    servers = parse_mcp_servers(check, data.get("mcp"))
    raw_providers = data.get("providers", {})
    if not isinstance(raw_providers, dict):
        raise check.fail("providers", "must be a table of [providers.NAME] tables")
    priced = {name for name, raw in raw_providers.items() if _prices_builtin(name, raw, providers)}
    for name in priced:
        prices = parse_price_list(check, raw_providers[name], f"providers.{name}.")
        providers[name] = replace(providers[name], prices=prices)
    configured = {
        name: _parse_provider(check, name, raw, servers) for name, raw in raw_providers.items() if name not in priced
    }
    providers.update(configured)

    default = check.string(data, "default_provider", "")
    if default is None:
        if configured:
            default = next(iter(configured))
        else:
            default = "openai" if "openai" in providers else "demo"
    elif default not in providers:
        raise check.fail(
            "default_provider",
            f"no provider named {default!r}{_did_you_mean(default, providers)}; "
            f"add a [providers.{default}] table or pick one of: {', '.join(sorted(providers))}",
        )
    concurrency = check.integer(data, "concurrency", "", 1, MAX_CONCURRENCY)
    timeout = check.timeout(data, "")
    max_bytes = check.integer(data, "max_attachment_bytes", "", 1, 1_000_000_000)
    auto_continue = check.integer(data, "auto_continue", "", 0, MAX_AUTO_CONTINUE)
    bell = data.get("bell", False)
    if not isinstance(bell, bool):
        raise check.fail("bell", f"must be true or false, got {_show(bell)}")
    streams = data.get("streams", "process")
    if streams not in STREAMS_MODES:
        raise check.fail("streams", f'must be "process" or "thread", got {_show(streams)}')
    return Config(
        path=path,
        default_provider=default,
        concurrency=4 if concurrency is None else concurrency,
        timeout=600.0 if timeout is None else timeout_or_none(timeout),
        max_attachment_bytes=1_000_000 if max_bytes is None else max_bytes,
        bell=bell,
        auto_continue=2 if auto_continue is None else auto_continue,
        streams=cast(StreamsMode, streams),
        providers=providers,
        mcp=servers,
        loaded_from_file=True,
        **session_limits(check, data),
    )


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Load the config file; a missing file means defaults and the built-in providers."""
    path = path or paths.config_file()
    try:
        raw = read_user_file(path, CONFIG_LIMIT, "config file")
    except FileNotFoundError:
        return replace(parse_config({}, path, environ), loaded_from_file=False)
    except UnreadableFile as exc:
        raise ConfigError(str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = f" (line {text.count(chr(10)) + 1} is the last)" if "end of document" in str(exc) else ""
        raise ConfigError(f"{path}: TOML syntax error: {exc}{where}") from None
    return parse_config(data, path, environ)


STARTER_HEADER = """\
# agentdeck configuration.
# Keys are never stored here: `api_key_env` names the environment variable holding the key.
# concurrency = tasks streaming at once (more wait as queued); timeout = seconds per task, 0 = none.
# api = "chat" (Chat Completions: DeepSeek, SiliconFlow, vLLM, Ollama, ...) or "responses" (OpenAI Responses API).
# The providers "demo" and "demo-responses" (a local server) always exist; "openai" exists when OPENAI_API_KEY is set.

"""


def starter_document() -> dict[str, Any]:
    return {
        "default_provider": "demo",
        "concurrency": 4,
        "timeout": 600,
        "providers": {
            "deepseek": {
                "api": "chat",
                "base_url": "https://api.deepseek.com/v1",
                "model": "deepseek-chat",
                "api_key_env": "DEEPSEEK_API_KEY",
            },
            "local-vllm": {
                "api": "chat",
                "base_url": "http://127.0.0.1:8000/v1",
                "model": "Qwen/Qwen2.5-7B-Instruct",
                "timeout": 1800,
            },
        },
    }


def write_starter(path: Path, *, force: bool) -> None:
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STARTER_HEADER + tomli_w.dumps(starter_document()), encoding="utf-8")


def describe(config: Config) -> str:
    """The effective config as TOML, with built-ins and whether each key variable is set."""
    providers: dict[str, Any] = {}
    for name, p in sorted(config.providers.items()):
        entry: dict[str, Any] = {"api": p.api, "model": p.model}
        entry["base_url"] = p.base_url or "(local demo server, started on demand)"
        if p.api_key_env:
            state = "set" if p.api_key() else "NOT SET"
            entry["api_key_env"] = f"{p.api_key_env} ({state})"
        if p.timeout is not None:
            entry["timeout"] = p.timeout
        entry["max_retries"] = p.max_retries
        for key in ("concurrency", "auto_continue"):
            if getattr(p, key) is not None:
                entry[key] = getattr(p, key)
        if p.instructions:
            entry["instructions"] = p.instructions
        if p.tools:
            entry["tools"] = list(p.tools)
        entry["max_tool_rounds"] = p.max_tool_rounds
        entry.update({key: getattr(p, key) for key in sorted(PROVIDER_LIMIT_KEYS) if getattr(p, key) is not None})
        entry.update(describe_price_list(p.prices))
        if p.builtin:
            entry["builtin"] = True
        providers[name] = entry
    doc = {
        "default_provider": config.default_provider,
        "concurrency": config.concurrency,
        "timeout": config.timeout or 0,
        "max_attachment_bytes": config.max_attachment_bytes,
        "bell": config.bell,
        "idle_timeout": config.idle_timeout,
        **({"budget_usd": config.budget_usd} if config.budget_usd is not None else {}),
        "auto_continue": config.auto_continue,
        "streams": config.streams,
        "providers": providers,
        "mcp": {name: describe_server(server) for name, server in sorted(config.mcp.items())},
    }
    source = str(config.path) if config.loaded_from_file else f"{config.path} (not found; defaults)"
    return f"# {source}\n" + tomli_w.dumps(doc)
