"""The testing kit's `recording_server` fixture reaches any test where playbook is installed (a
`pytest11` entry point), records each request and answers as the test tells it."""

from __future__ import annotations

import urllib.error
import urllib.request

from simulation.plugin_testing import Answer, RecordingServer, failing_first


def _post(url: str, key: str) -> int:
    request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_fixture_records_requests_and_answers_as_told(recording_server: RecordingServer) -> None:
    recording_server.answer = failing_first(1, Answer(503))
    codes = [_post(f"{recording_server.url}/tickets", "k-1") for _ in range(2)]
    assert codes == [503, 200]
    assert [request.key for request in recording_server.to("/tickets")] == ["k-1", "k-1"]
