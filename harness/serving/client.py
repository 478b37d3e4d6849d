"""A client of ``harness serve`` with the service's ``score`` interface, for adapters running in
trainer processes (``HARNESS_REWARD_URL``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import httpx

from harness.serving.service import ItemReward, RewardItem, UnknownSpecError, unscored


class RemoteRewardService:
    """Scores items through a running ``harness serve`` at ``url``. A server-side 4xx raises
    (``UnknownSpecError`` for an unknown spec, else ``ValueError``) with the server's message;
    a transport failure leaves the items unscored with the reason."""

    def __init__(self, url: str, *, timeout_s: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self._clients: dict[int, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        # one client per event loop (a trainer may call from its own loop thread)
        loop = id(asyncio.get_running_loop())
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient(timeout=self.timeout_s)
        return self._clients[loop]

    async def score(
        self, items: Sequence[RewardItem], *, step: int | None = None
    ) -> list[ItemReward]:
        body: dict[str, Any] = {
            "items": [{k: v for k, v in asdict(i).items() if v is not None} for i in items],
            "step": step,
        }
        try:
            reply = await self._client().post(f"{self.url}/score", json=body)
        except httpx.HTTPError as ex:
            reason = f"reward service unreachable: {type(ex).__name__}: {ex}"
            return [unscored(reason) for _ in items]
        if reply.status_code == 404:
            raise UnknownSpecError(reply.json().get("detail", reply.text))
        if 400 <= reply.status_code < 500:
            raise ValueError(
                f"reward service refused the request: {reply.json().get('detail', reply.text)}"
            )
        if reply.status_code != 200:
            return [unscored(f"reward service error: HTTP {reply.status_code}") for _ in items]
        return [ItemReward.from_json(r) for r in reply.json()["rewards"]]
