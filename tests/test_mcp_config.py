"""`[mcp.NAME]` and a provider's `tools` in the config file: every mistake is one line and exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.cli.main import main
from tui.config import load_config
from tui.engine.redact import Redactor


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[mcp.git]\ncommand = "mcp-server-git"\nurl = "http://127.0.0.1:1/mcp"\n', "has both `command`"),
        ("[mcp.git]\napprove = \"ask\"\n", "needs `command`"),
        ('[mcp.git]\ncommand = "mcp-server-git"\napprove = "sometimes"\n', 'must be "auto", "ask" or "deny"'),
        ('[mcp.git]\ncommand = "mcp-server-git"\ntool_timeout = 0\n', "tool_timeout"),
        ('[mcp.docs]\nurl = "http://127.0.0.1:1/mcp"\nheaders_env = { Authorization = "Bearer abc-123" }\n',
         "NAME of an environment variable"),
        ('[providers.x]\nbase_url = "http://127.0.0.1:1/v1"\nmodel = "m"\ntools = ["time"]\n',
         "no MCP server named 'time'"),
        ('[providers.x]\nbase_url = "http://127.0.0.1:1/v1"\nmodel = "m"\nmax_tool_rounds = 0\n', "max_tool_rounds"),
    ],
)
def test_mcp_config_mistakes_are_one_line_and_exit_2(
    isolated_home: Path, capsys: pytest.CaptureFixture[str], toml: str, says: str
) -> None:
    write_config(isolated_home, toml)
    assert main(["run", "--provider", "demo", "hello"]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert err.startswith("agentdeck: ") and err.count("\n") == 1


def test_tools_flag_names_only_configured_servers(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--provider", "demo", "--tools", "demo,tiem", "hello"]) == 2
    err = capsys.readouterr().err
    assert "no MCP server named 'tiem'" in err and err.count("\n") == 1
    assert main(["mcp", "check", "nope"]) == 2
    assert "no MCP server named 'nope'" in capsys.readouterr().err


def test_the_demo_server_is_built_in_unless_the_file_defines_its_own(isolated_home: Path) -> None:
    assert load_config().mcp["demo"].args == ("-m", "tui.demo.mcp_server")
    write_config(isolated_home, '[mcp.demo]\ncommand = "my-demo"\n')
    mine = load_config().mcp["demo"]
    assert (mine.command, mine.builtin) == ("my-demo", False)


def test_header_secrets_are_redacted_like_keys(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        isolated_home, '[mcp.docs]\nurl = "http://127.0.0.1:1/mcp"\nheaders_env = { Authorization = "DOCS_TOKEN" }\n'
    )
    monkeypatch.setenv("DOCS_TOKEN", "Bearer docs-secret-4711")
    config = load_config()
    assert "DOCS_TOKEN" in config.secret_env_names
    assert Redactor(config.secret_env_names).hide("sent Bearer docs-secret-4711") == "sent [redacted DOCS_TOKEN]"
    assert config.mcp["docs"].headers() == {"Authorization": os.environ["DOCS_TOKEN"]}
