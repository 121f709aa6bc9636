"""The `ccboard` command: argument parsing in main.py, one module per subcommand."""
