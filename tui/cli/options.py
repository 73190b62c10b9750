"""Flag parsing shared by the app and `agentdeck run`: values are checked, never trusted."""

from __future__ import annotations

import argparse
import re
from urllib.parse import urlparse

from tui.cli.limit_options import add_limit_options, apply_limit_options
from tui.config import API_KINDS, MAX_CONCURRENCY, Config, ConfigError, ProviderConfig
from tui.safety import visible_controls
from tui.timeouts import parse_timeout

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(what: str, value: str | None) -> None:
    """Bytes that are not UTF-8 reach argv as lone surrogates, which no request can carry: refuse them."""
    if value is not None and _LONE_SURROGATE.search(value):
        try:  # argv turns each undecodable byte into one surrogate: show the byte
            raw = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", "backslashreplace")
        shown = visible_controls(raw.decode("utf-8", "backslashreplace"))
        raise ConfigError(f"{what} is not UTF-8 text: {shown[:60]}; check the terminal's encoding")


def _echo(text: str, limit: int = 32) -> str:
    """A flag value as an error message repeats it: short, quoted, controls escaped."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def timeout_value(text: str) -> float:
    try:
        return parse_timeout(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, got {_echo(text)}") from None


def session_value(text: str) -> str:
    """A session name or path; an empty one would silently save nothing."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"needs a session name or a path (got {_echo(text)})")
    return text


def concurrency_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {_echo(text)}") from None
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_CONCURRENCY}, got {_echo(text)}")
    return value


def add_task_options(parser: argparse.ArgumentParser, *, subcommand: bool = False) -> None:
    """Options that decide where and how new tasks run.

    On a subcommand they default to "not given", so `agentdeck --provider X run ...`
    keeps the flag given before the subcommand instead of resetting it.
    """
    unset = {"default": argparse.SUPPRESS} if subcommand else {}
    add = parser.add_argument
    add("--provider", metavar="NAME", help="provider from the config (or demo, demo-responses, openai)", **unset)
    add("--model", metavar="M", help="model name, overriding the provider's", **unset)
    add("--base-url", metavar="URL", help="ad-hoc provider at this OpenAI-compatible URL", **unset)
    add("--api", choices=API_KINDS, help="API of the ad-hoc provider (default: chat)", **unset)
    add("--api-key-env", metavar="VAR", help="environment variable with the ad-hoc provider's key (OPENAI_API_KEY)",
        **unset)
    add("--timeout", type=timeout_value, metavar="S", help="seconds per task; 0 = none", **unset)
    add("--concurrency", type=concurrency_value, metavar="N", help="tasks streaming at once", **unset)
    add("--session", type=session_value, metavar="NAME|PATH",
        help="session to save to (created if missing); a path contains '/' or starts with '.' or '~'", **unset)
    add("--system", metavar="TEXT", help="instructions (system prompt) for these tasks", **unset)
    add_limit_options(add, timeout_value, unset)


def apply_task_options(config: Config, args: argparse.Namespace) -> Config:
    """The config as these flags change it; raises ConfigError for contradictions."""
    for flag in ("model", "base_url", "api_key_env", "system", "provider"):
        check_text(f"--{flag.replace('_', '-')}", getattr(args, flag, None))
    providers = dict(config.providers)
    default = config.default_provider
    if args.base_url:
        if not args.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url must start with http:// or https://, got {args.base_url!r}")
        try:
            host = urlparse(args.base_url).hostname
        except ValueError:
            host = None
        if not host:
            raise ConfigError(f"--base-url has no host name: {args.base_url!r}")
        if not args.model:
            raise ConfigError("--base-url needs --model (the ad-hoc provider has no default model)")
        key_env = args.api_key_env or "OPENAI_API_KEY"
        adhoc = ProviderConfig(
            name="adhoc",
            api=args.api or "chat",
            model=args.model,
            base_url=args.base_url.rstrip("/"),
            api_key_env=key_env,
        )
        providers["adhoc"] = adhoc
        default = "adhoc"
    elif args.api or args.api_key_env:
        raise ConfigError("--api and --api-key-env only apply together with --base-url")
    elif getattr(args, "demo", False):
        default = "demo"
    elif args.provider:
        default = args.provider
    changed = config.with_overrides(providers=providers, default_provider=default)
    changed.provider(default)
    if args.concurrency is not None:
        changed = changed.with_overrides(concurrency=args.concurrency)
    if args.timeout is not None:
        changed = changed.with_overrides(timeout=args.timeout or None)
    return apply_limit_options(changed, args)


def check_key(provider: ProviderConfig) -> None:
    """Refuse early when a remote provider's key variable is unset, before any task starts."""
    if provider.needs_key and provider.api_key() is None:
        raise ConfigError(f"{provider.api_key_env} is not set; provider {provider.name!r} reads its API key from it")
