"""The realistic load scenario `make load` runs (benchmarks/load.py prepares its data and servers).

Four kinds of caller, in the mix a working day brings:
- brokers search care homes near a person and read their placement requests;
- providers bid on the invitations they hold (each home once per tender; a second try is the
  409 every provider meets when it has bid already, counted as a success) and update vacancies;
- commissioners read the timeliness dashboard;
- council case systems poll placement requests and placements.

Every caller authenticates with its own API client, as integrations and the generated client do.
The data each caller uses comes from the JSON file named by LOAD_SCENARIO.
"""

import itertools
import json
import os
import random
import threading
from datetime import date, timedelta

from locust import HttpUser, between, task

with open(os.environ["LOAD_SCENARIO"]) as handle:
    SCENARIO = json.load(handle)

_bids = itertools.cycle(SCENARIO["bids"])
_bids_lock = threading.Lock()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class Broker(HttpUser):
    weight = 3
    wait_time = between(0.5, 2)

    @task(3)
    def search_care_homes(self):
        latitude, longitude = SCENARIO["centre"]
        self.client.get(
            f"/api/v1/care-homes/?lot=1&vacancy=true&near={latitude},{longitude}&within_km=25",
            headers=_bearer(SCENARIO["broker"]),
            name="broker: search care homes",
        )

    @task(2)
    def placement_requests(self):
        self.client.get(
            "/api/v1/placement-requests/", headers=_bearer(SCENARIO["broker"]), name="broker: placement requests"
        )


class Provider(HttpUser):
    weight = 3
    wait_time = between(0.5, 2)

    @task(3)
    def bid(self):
        with _bids_lock:
            tender_id, home_id, token = next(_bids)
        body = {
            "care_home": home_id,
            "weekly_fee": f"{random.randint(700, 950)}.00",
            "earliest_start": (date.today() + timedelta(days=3)).isoformat(),
            "needs_confirmed": True,
        }
        with self.client.post(
            f"/api/v1/tenders/{tender_id}/bids/",
            json=body,
            headers=_bearer(token),
            name="provider: submit bid",
            catch_response=True,
        ) as response:
            if response.status_code == 409 and response.json().get("code") == "already_bid":
                response.success()

    @task(1)
    def update_vacancies(self):
        home_id, token = random.choice(SCENARIO["vacancies"])
        self.client.put(
            f"/api/v1/care-homes/{home_id}/vacancies/",
            json={
                "vacancies": [{"lot": 1, "beds_free": random.randint(0, 4), "available_from": date.today().isoformat()}]
            },
            headers=_bearer(token),
            name="provider: update vacancies",
        )


class Commissioner(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    @task
    def timeliness(self):
        self.client.get(
            "/api/v1/dashboards/timeliness/", headers=_bearer(SCENARIO["commissioner"]), name="commissioner: timeliness"
        )


class CouncilSystem(HttpUser):
    weight = 2
    wait_time = between(0.5, 1.5)

    @task(2)
    def poll_requests(self):
        self.client.get(
            "/api/v1/placement-requests/", headers=_bearer(SCENARIO["system"]), name="council system: poll requests"
        )

    @task(1)
    def poll_placements(self):
        self.client.get(
            "/api/v1/placements/", headers=_bearer(SCENARIO["system"]), name="council system: poll placements"
        )
