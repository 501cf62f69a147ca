"""The Slack adapter: Bolt listeners in, the command core, Block Kit out."""
