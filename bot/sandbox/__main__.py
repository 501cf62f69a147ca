"""`python -m bot.sandbox`: run the sandbox until Ctrl+C."""

from bot.sandbox.server import main

main()
