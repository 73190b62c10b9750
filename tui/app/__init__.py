"""The Textual app of agentdeck: `tui.app.app.AgentDeckApp`.

Nothing is imported here, so screens can import `tui.app.bindings` without a cycle.
"""
