"""The commands themselves, one module per area. Declared with ``commands.spec.command``."""
