"""The processes ``mlc-bot`` runs, one module each; the CLI imports only the one it runs."""
