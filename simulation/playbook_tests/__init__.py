"""`playbook test`: tests beside the playbooks, in YAML a CS team writes without code.

`test_file` reads a `*.test.yaml` file (with `located_yaml`, `moments` and `counts` for its
words), `merged_run` runs every test's timeline in one simulation, `matching` checks each
expectation against a test's actions, `report` and `junit` say how it went. `suite` ties them
together. The format: docs/testing.md.
"""
