"""The Textual app of agentdeck: `tui.app.app.AgentDeckApp`; screens and widgets never import it."""
