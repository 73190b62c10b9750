"""`agentdeck run --providers a,b:MODEL`: each prompt asked of several providers/models as one group."""

from __future__ import annotations

import argparse

from tui.cli.options import check_key, check_text
from tui.config import Config, ConfigError
from tui.engine.groups import GroupError, Target, check_targets, parse_targets


def group_targets(args: argparse.Namespace, config: Config) -> list[Target] | None:
    """The checked targets of `--providers` (None without it); every one's key must be set before anything runs."""
    if args.providers is None:
        return None
    check_text("--providers", args.providers)
    if getattr(args, "model", None):
        raise ConfigError("--model does not apply with --providers; name each model as NAME:MODEL")
    try:
        targets = check_targets(config, parse_targets(args.providers))
    except GroupError as exc:
        raise ConfigError(f"--providers: {exc}") from None
    for provider, _model in targets:
        check_key(config.provider(provider))
    return targets
