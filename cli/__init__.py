"""The command line: `playbook <command>`, one module per command under `cli.commands`."""
