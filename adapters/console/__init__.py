"""The console adapter: ``mlc-bot exec`` (:mod:`.exec`), the interactive console
(:mod:`.repl`) and the console as a channel for digests (:mod:`.poster`).

Import the module you need: ``exec`` must not pay for the console's readline set-up.
"""
