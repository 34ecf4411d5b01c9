"""Registry events -> Airflow: the triggerer watches the model's `champion` alias.

`ChampionAliasTrigger` is an event trigger (Airflow 3 `AssetWatcher`): it polls the tracking
server's REST API (`GET /api/2.0/mlflow/registered-models/alias`) and fires once per change of the
version the alias points at. The version it last fired for is kept in the watched asset's state
store (Airflow 3.3), so a restarted triggerer neither fires again for the same champion nor misses
a promotion made while it was down. Each event becomes an event of the champion asset, which
schedules the scoring DAG; the event carries the version and run id, so the DAG scores exactly
the version that was promoted.

Why a poll and not MLflow's webhooks (3.x: `model_version_alias.created`): a webhook POSTs MLflow's
own payload, signed with HMAC, and cannot log in to Airflow's API (JWT) nor shape Airflow's request
body, so it would need a relay service; MLflow also refuses private addresses for webhooks unless
told otherwise. The poll needs nothing but network access from the triggerer to MLflow, and a
delivery that failed is simply seen at the next poll.

Only httpx and Airflow are imported: the triggerer needs no MLflow client. The server runs MLflow's
basic-auth app: the trigger logs in as the MLflow client does, with `MLFLOW_TRACKING_USERNAME` and
`MLFLOW_TRACKING_PASSWORD` from the triggerer's environment (read when it runs, never serialized).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, AsyncIterator, Optional

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

STATE_KEY = "fired_version"


def tracking_auth() -> Optional[tuple[str, str]]:
    """The login the MLflow client would send (HTTP basic), from the environment; None without one."""
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    return None if not user else (user, os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))


class ChampionAliasTrigger(BaseEventTrigger):
    def __init__(self, tracking_uri: str, model_name: str, alias: str = "champion", poll_interval: float = 30.0,
                 timeout: float = 10.0):
        super().__init__()
        self.tracking_uri = tracking_uri.rstrip("/")
        self.model_name = model_name
        self.alias = alias
        self.poll_interval = poll_interval
        self.timeout = timeout
        self._memory: dict[str, Any] = {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{type(self).__module__}.{type(self).__qualname__}",
                {"tracking_uri": self.tracking_uri, "model_name": self.model_name, "alias": self.alias,
                 "poll_interval": self.poll_interval, "timeout": self.timeout})

    # --- state: the watched asset's store in a triggerer, a dict elsewhere (tests, a notebook) -------
    async def _get(self) -> Optional[str]:
        store = getattr(self, "asset_state_store", None)
        value = await store.aget(STATE_KEY) if store is not None else self._memory.get(STATE_KEY)
        return None if value is None else str(value)

    async def _set(self, version: str) -> None:
        store = getattr(self, "asset_state_store", None)
        if store is not None:
            await store.aset(STATE_KEY, version)
        else:
            self._memory[STATE_KEY] = version

    async def champion(self, client) -> Optional[dict[str, Any]]:
        """The model version the alias points at, or None when the model or the alias does not exist."""
        response = await client.get(f"{self.tracking_uri}/api/2.0/mlflow/registered-models/alias",
                                    params={"name": self.model_name, "alias": self.alias})
        if response.status_code in (400, 404):
            code = response.json().get("error_code") if response.content else None
            if code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
        response.raise_for_status()
        return response.json()["model_version"]

    async def poll(self, client) -> Optional[TriggerEvent]:
        """One look at the registry: an event if the alias points somewhere new since the last event."""
        current = await self.champion(client)
        if current is None or str(current["version"]) == await self._get():
            return None
        return TriggerEvent({"model_name": self.model_name, "alias": self.alias,
                             "version": str(current["version"]), "run_id": current.get("run_id")})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import httpx

        async with httpx.AsyncClient(timeout=self.timeout, auth=tracking_auth()) as client:
            while True:
                try:
                    event = await self.poll(client)
                except httpx.HTTPError as error:  # MLflow restarting: look again at the next poll
                    self.log.warning("Polling %s for %s@%s failed: %r", self.tracking_uri, self.model_name,
                                     self.alias, error)
                    event = None
                if event is not None:
                    yield event
                    # Recorded after the event is handed over: a crash in between fires again (the
                    # scoring is idempotent), never loses a promotion.
                    await self._set(event.payload["version"])
                await asyncio.sleep(self.poll_interval)
