"""PagerDuty's own Python client (`pagerduty` on PyPI) against this product's /pagerduty
surface: e2e/pagerduty_client.test.mjs runs it with the worker's base URL, a token and a
service id, and checks what it prints (one JSON object per line).

The client accepts only https:// base URLs; `wrangler dev` serves plain http on loopback,
so the base URL is set on the client's private attribute. Everything else is the client's
own code: authentication header, From, pagination (iter_all), wrappers and errors.
"""

import json
import sys

import pagerduty


def main() -> None:
    base, token, service_id, from_email = sys.argv[1:5]
    client = pagerduty.RestApiV2Client(token, default_from=from_email)
    client._url = base + "/pagerduty"  # the https:// check; see the module docs

    def say(step, **fields):
        print(json.dumps({"step": step, **fields}), flush=True)

    created = client.rpost(
        "/incidents",
        json={
            "incident": {
                "type": "incident",
                "title": "From the Python client",
                "service": {"id": service_id, "type": "service_reference"},
                "urgency": "high",
                "body": {"type": "incident_body", "details": "pagerduty " + pagerduty.__version__},
            }
        },
    )
    say("create", id=created["id"], status=created["status"], self=created["self"])
    got = client.rget("/incidents/" + created["id"])
    say("get", title=got["title"], details=got["body"]["details"])
    listed = list(client.iter_all("incidents", params={"service_ids[]": [service_id], "limit": 1}))
    say("list", count=len(listed))
    updated = client.rput(
        "/incidents/" + created["id"],
        json={"incident": {"type": "incident", "status": "acknowledged"}},
    )
    say("update", status=updated["status"])
    note = client.rpost("/incidents/" + created["id"] + "/notes", json={"note": {"content": "via python"}})
    say("note", content=note["content"])
    entries = list(client.iter_all("incidents/" + created["id"] + "/log_entries"))
    say("log", types=[entry["type"] for entry in entries])
    services = list(client.iter_all("services"))
    say("services", ids=[service["id"] for service in services])
    bulk = client.rput(
        "/incidents",
        json={"incidents": [{"id": created["id"], "type": "incident_reference", "status": "resolved"}]},
    )
    say("bulk", statuses=[incident["status"] for incident in bulk])
    try:
        client.rget("/incidents/inc_missing")
        say("missing", status=200)
    except pagerduty.HttpError as error:
        say("missing", status=error.response.status_code)


if __name__ == "__main__":
    main()
