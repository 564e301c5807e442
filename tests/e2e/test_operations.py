"""What operators rely on: health, readiness, metrics and `plein check`, on both profiles."""

from __future__ import annotations

import json

import httpx

from tests.e2e.conftest import Company
from tests.e2e.test_mail_to_hub import mail, send, wait_for_post
from tests.support.processes import Process, tree
from tests.support.servers import wait_for


def test_healthz_and_readyz_answer_without_signing_in(company: Company):
    base = company.server.base_url
    assert httpx.get(base + "/healthz").json() == {"status": "ok"}
    # Right after start the indexer's query service may still be coming up (production profile).
    wait_for(lambda: httpx.get(base + "/readyz").status_code == 200, timeout=30, what="/readyz to answer 200")
    ready = httpx.get(base + "/readyz")
    assert set(ready.json()["checks"]) == {"database", "broker", "index", "roles"}
    assert all(check["ok"] for check in ready.json()["checks"].values())


def test_metrics_count_mail_and_show_queues_and_search_latency(company: Company):
    send(company, mail("alice", company.address("engineering"), "Meetbare post", "Voor de metriek."))
    wait_for_post(company, "engineering", "Meetbare post")
    company.server.api(company.tokens["alice"], "/api/search", q="metriek")

    metrics = httpx.get(company.server.metrics_url).text
    posted = next(line for line in metrics.splitlines() if line.startswith('plein_inbound_messages{status="posted"}'))
    assert float(posted.split()[-1]) >= 1
    assert 'plein_queue_depth{queue="plein"}' in metrics
    assert 'plein_queue_depth{queue="plein.index"}' in metrics
    assert 'plein_search_seconds_count{endpoint="/api/search"}' in metrics


def test_plein_check_says_in_one_line_each_that_all_is_well(company: Company):
    result = company.server.cli("check")
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok   database", "ok   broker", "ok   index", "ok   outbox", "ok   smtp",
    ]
    production = company.server.profile == "production"
    assert production == ("postgresql" in lines[0])
    assert production == ("queries go to the indexer" in lines[2])


def test_json_logs_follow_one_message_from_smtp_to_its_post(company: Company):
    message = mail("alice", company.address("engineering"), "Gevolgd in de logs", "Tekst")
    send(company, message)
    wait_for_post(company, "engineering", "Gevolgd in de logs")
    message_id = message["Message-ID"].strip("<>")

    def entries() -> list[dict]:
        found = []
        for log in company.server.logs():
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("{") and message_id in line:
                    found.append(json.loads(line))
        return found

    logged = wait_for(lambda: (e := entries()) and len(e) >= 2 and e, what="both log lines")
    assert {entry["message"] for entry in logged} >= {"accepted message over SMTP"}
    posted = [entry for entry in logged if entry.get("status") == "posted"]
    assert posted and posted[0]["inbound_id"] == next(e["inbound_id"] for e in logged if "envelope_from" in e)


def test_background_workers_give_way_to_smtp_and_the_web(company: Company):
    def processes() -> list[Process]:
        return [found for started in company.server.processes.values() for found in tree(started.pid)]

    def worker_nice_values() -> set[int] | None:
        found = {p.nice for p in processes() if "celery" in p.command and " worker " in p.command}
        return found if found == {min(base + 10, 19)} else None

    [base] = {p.nice for p in processes() if "hub.cli" in p.command}  # run, or web, smtp and indexer
    # A worker lowers its priority once it has started; it may still be starting.
    wait_for(worker_nice_values, what="every worker at nice +10, PLEIN_WORKER_NICE's default")
