"""`agentdeck mcp list|check`: start the configured MCP servers, list their tools, say plainly which fail and why."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from tui.config import Config
from tui.safety import visible_controls

EXIT_OK, EXIT_FAILED = 0, 1


@dataclass
class ServerReport:
    name: str
    transport: str
    where: str
    started: bool = False
    seconds: float | None = None
    tools: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def mcp_command(args: argparse.Namespace, config: Config) -> int:
    names = sorted(config.mcp) if args.mcp_command == "list" else [config.mcp_server(args.name).name]
    reports = asyncio.run(_probe(config, names))
    if args.json:
        shown: Any = [r.to_dict() for r in reports] if args.mcp_command == "list" else reports[0].to_dict()
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        _print_text(reports)
    return EXIT_OK if all(r.started for r in reports) else EXIT_FAILED


async def _probe(config: Config, names: list[str]) -> list[ServerReport]:
    """Start the servers side by side (each may take seconds), then stop them all."""
    from tui.engine.mcp_servers import McpServers, McpStartError

    servers = McpServers({name: config.mcp[name] for name in names})

    async def probe(name: str) -> ServerReport:
        spec = config.mcp[name]
        report = ServerReport(name, spec.transport, spec.where)
        try:
            tool = await servers.start(name)
        except McpStartError as exc:
            report.error = exc.reason
            return report
        report.started = True
        report.seconds = round(servers.start_seconds[name], 2)
        report.tools = [{"name": f.name, "description": f.description or ""} for f in tool.functions]
        return report

    try:
        return list(await asyncio.gather(*(probe(name) for name in names)))
    finally:
        await servers.close()


def _print_text(reports: list[ServerReport]) -> None:
    for report in reports:
        head = f"{report.name} ({report.transport}: {visible_controls(report.where)})"
        if not report.started:
            print(f"{head}: did not start: {visible_controls(report.error or 'no reason given')}")
            continue
        count = len(report.tools)
        print(f"{head}: started in {report.seconds:.1f} s, {count} tool{'s' if count != 1 else ''}")
        width = max((len(t["name"]) for t in report.tools), default=0)
        for tool in report.tools:
            summary = visible_controls(" ".join(tool["description"].split()))
            summary = summary if len(summary) <= 100 else summary[:99] + "…"
            print(f"  {visible_controls(tool['name']).ljust(width)}  {summary}".rstrip())
    failed = [r.name for r in reports if not r.started]
    if failed:
        print(f"agentdeck: {len(failed)} of {len(reports)} MCP servers did not start: {', '.join(failed)}",
              file=sys.stderr)
