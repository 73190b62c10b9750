"""Where agentdeck keeps its files, with environment overrides for tests and power users."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "agentdeck"


def config_file() -> Path:
    """The config file: `AGENTDECK_CONFIG` if set, else the platform's config dir."""
    override = os.environ.get("AGENTDECK_CONFIG")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir() -> Path:
    """Root of saved sessions: `AGENTDECK_DATA_DIR` if set, else the platform's data dir."""
    override = os.environ.get("AGENTDECK_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def logs_dir() -> Path:
    """Crash logs: beside the sessions, so one folder holds everything agentdeck wrote."""
    return data_dir() / "logs"


def cache_dir() -> Path:
    """What can be rebuilt from the sessions (the search index): `AGENTDECK_CACHE_DIR` if set, else `cache/`
    in `AGENTDECK_DATA_DIR` when that is set (one override keeps everything apart), else the platform's cache dir."""
    override = os.environ.get("AGENTDECK_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if os.environ.get("AGENTDECK_DATA_DIR"):
        return data_dir() / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME))
