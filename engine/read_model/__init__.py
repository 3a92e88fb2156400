"""The read model: what the HTTP API, the dashboard and the CLI show of accounts, scores, tasks
and the action log, read from the store (and the deployed bundle) in one place.

Plain functions over `engine.store.Store`, answering pydantic models in the shapes of the API's
JSON (`GET /v1/accounts`, `/v1/accounts/{id}`, `/v1/tasks`, `/v1/log`; the OpenAPI document at
`/docs`), so that every reader shows the same thing:

- `scores`: the primary score (`primary_score`) and an account's scores in full;
- `accounts`: the account list (`account_summaries`), one account (`account_detail`) and
  whether the store knows an account at all (`known_account`);
- `tasks`: a CSM's work list (`task_list`);
- `drafts`: the emails kept for a person's review (`draft_list`);
- `action_log`: the action log in the contract's JSON (`action_log`).

The primary score, the one the account list shows, is chosen one way: the `health` score when
there is one, else the first score by name, among the scores of the bundle when one is loaded
(the API and the dashboard always have one; the CLI has one when the configured playbooks
compile), else among the scores recorded in the store.
"""

from __future__ import annotations

from engine.read_model.accounts import (
    AccountDetail,
    AccountSummary,
    JourneyOut,
    account_detail,
    account_summaries,
    known_account,
)
from engine.read_model.action_log import action_log
from engine.read_model.drafts import DraftOut, draft_list
from engine.read_model.scores import PRIMARY, ScoreDetail, ScorePoint, account_scores, primary_score
from engine.read_model.tasks import TaskOut, task_list

__all__ = [
    "PRIMARY",
    "AccountDetail",
    "AccountSummary",
    "DraftOut",
    "JourneyOut",
    "ScoreDetail",
    "ScorePoint",
    "TaskOut",
    "account_detail",
    "account_scores",
    "account_summaries",
    "action_log",
    "draft_list",
    "known_account",
    "primary_score",
    "task_list",
]
