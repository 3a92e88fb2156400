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
- `action_log`: the action log in the contract's JSON (`action_log`);
- the cockpit's reads, each a page at a time by cursor (`cursors`), each served by an index:
  `account_pages` (the account list with search, sort, filters, band trends and totals, from the
  account cards), `timeline` (one stream of what happened to an account), `work` (a CSM's open
  work items by due date, a team's overdue ones); a playbook's nested funnel is `engine.insight.funnel`,
  beside the stats it reads.

The primary score, the one the account list shows, is chosen one way: the `health` score when
there is one, else the first score by name, among the scores of the bundle when one is loaded
(the API and the dashboard always have one; the CLI has one when the configured playbooks
compile), else among the scores recorded in the store.
"""

from __future__ import annotations

from engine.read_model.account_pages import (
    AccountItem,
    AccountPage,
    AccountTotals,
    BandTotal,
    CsmOut,
    account_page,
    account_totals,
    csm_list,
)
from engine.read_model.accounts import (
    AccountDetail,
    AccountSummary,
    JourneyOut,
    account_detail,
    account_summaries,
    known_account,
)
from engine.read_model.action_log import action_log
from engine.read_model.cursors import BadCursor, BadQuery
from engine.read_model.drafts import DraftOut, draft_list
from engine.read_model.scores import PRIMARY, ScoreDetail, ScorePoint, account_scores, primary_score
from engine.read_model.tasks import TaskOut, task_list
from engine.read_model.timeline import TimelineItem, TimelinePage, account_exists, account_timeline
from engine.read_model.work import WorkItem, WorkPage, team_owners, work_page

__all__ = [
    "PRIMARY",
    "AccountDetail",
    "AccountItem",
    "AccountPage",
    "AccountSummary",
    "AccountTotals",
    "BadCursor",
    "BadQuery",
    "BandTotal",
    "CsmOut",
    "DraftOut",
    "JourneyOut",
    "ScoreDetail",
    "ScorePoint",
    "TaskOut",
    "TimelineItem",
    "TimelinePage",
    "WorkItem",
    "WorkPage",
    "account_detail",
    "account_exists",
    "account_page",
    "account_scores",
    "account_summaries",
    "account_timeline",
    "account_totals",
    "action_log",
    "csm_list",
    "draft_list",
    "known_account",
    "primary_score",
    "task_list",
    "team_owners",
    "work_page",
]
