"""An OpenAI-compatible judge server on localhost that misbehaves on a schedule (tests only).

``POST /v1/chat/completions`` answers our rubric and global judge prompts. What it does is
decided by the request alone, so that concurrent samples and retries stay deterministic:
- the case: a ``case:<name>`` tag in the conversation being judged (the sample's prompt);
- the component: the global prompt asks for a 0-10 score, the rubric prompt lists criteria;
- the attempt: 1 + the number of correction turns ("That reply could not be used") in it;
- for HTTP errors that Inspect retries itself, how often this exact request was seen.
Every request body is recorded (``server.requests``) to check the settings judges were sent.

Run it alone to try a judge by hand: ``python tests/judge_server.py`` prints its base URL.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.judges.rubric import criterion_ids_in

CORRECTION = "That reply could not be used"


@dataclass
class Call:
    """One judge request as the schedule sees it."""

    component: str  # "rubric" | "global"
    attempt: int
    criteria: list[str]
    seen: int  # how many times this exact body arrived (Inspect's own retries)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a dict (sent as JSON) or raw text
    content_type: str = "application/json"


def completion(
    content: Any = None,
    finish_reason: Any = "stop",
    *,
    usage: bool = True,
    **message: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1,
        "model": "judge",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 200, "completion_tokens": 30, "total_tokens": 230}
    return body


def good_text(call: Call) -> str:
    if call.component == "global":
        return json.dumps({"rationale": "Clear, correct and on point.", "score": 7})
    return json.dumps(
        {"criteria": [{"id": c, "verdict": "yes", "reason": "it does"} for c in call.criteria]}
    )


def good(call: Call) -> Reply:
    return Reply(body=completion(good_text(call)))


def echo(call: Call) -> Reply:
    """The prompt's output format copied, placeholders and all, with a plausible verdict."""
    if call.component == "global":
        text = json.dumps({"rationale": "<two or three sentences>", "score": 9})
    else:
        text = json.dumps(
            {
                "criteria": [
                    {"id": c, "verdict": "yes", "reason": "<one line>"} for c in call.criteria
                ]
            }
        )
    return Reply(body=completion(text))


def rubric_only(bad: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    return lambda call: bad(call) if call.component == "rubric" else good(call)


def first_attempt(bad: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    return lambda call: bad(call) if call.attempt == 1 else good(call)


def http_error(status: int, message: str) -> Callable[[Call], Reply]:
    return lambda call: Reply(status, {"error": {"message": message, "type": "server_error"}})


PARTIAL = '{"criteria": [{"id": "c1", "verdict": "yes", "reas'

# case name -> what the server does (rubric and global alike unless wrapped)
SCHEDULE: dict[str, Callable[[Call], Reply]] = {
    "good": good,
    "empty_choices_once": rubric_only(
        first_attempt(lambda c: Reply(body={**completion(), "choices": []}))
    ),
    "empty_choices": rubric_only(lambda c: Reply(body={**completion(), "choices": []})),
    "echo": echo,
    "echo_once": first_attempt(echo),
    "truncated": rubric_only(lambda c: Reply(body=completion(PARTIAL, "length"))),
    "refusal": rubric_only(
        lambda c: Reply(body=completion(None, refusal="I can't help with grading this."))
    ),
    "content_filter": rubric_only(lambda c: Reply(body=completion("", "content_filter"))),
    "invalid_json": rubric_only(lambda c: Reply(body=completion("{criteria: [yes, yes, no]}"))),
    "null_content": rubric_only(lambda c: Reply(body=completion(None))),
    "reasoning_only": rubric_only(
        lambda c: Reply(body=completion(None, reasoning_content="The response seems to meet"))
    ),
    "content_parts": rubric_only(
        lambda c: Reply(body=completion([{"type": "text", "text": good_text(c)}]))
    ),
    "no_message": rubric_only(
        lambda c: Reply(body={**completion(), "choices": [{"index": 0, "finish_reason": "stop"}]})
    ),
    "choices_not_a_list": rubric_only(lambda c: Reply(body={**completion(), "choices": "none"})),
    "error_body": rubric_only(
        lambda c: Reply(body={"error": {"message": "model overloaded", "type": "server_error"}})
    ),
    "html_body": rubric_only(
        lambda c: Reply(body="<html><body>Bad gateway</body></html>", content_type="text/html")
    ),
    "http_500_once": rubric_only(
        lambda c: http_error(500, "try again")(c) if c.seen == 1 else good(c)
    ),
    "http_500": rubric_only(http_error(500, "judge backend down")),
    "http_400": rubric_only(http_error(400, "unsupported parameter")),
    "wrong_types": lambda c: Reply(
        body=completion(
            json.dumps({"rationale": "fine", "score": "seven"})
            if c.component == "global"
            else json.dumps({"criteria": [{"id": i, "verdict": 1} for i in c.criteria]})
        )
    ),
    "out_of_range": lambda c: Reply(
        body=completion(
            json.dumps({"rationale": "superb", "score": 42})
            if c.component == "global"
            else good_text(c)
        )
    ),
    "missing_criteria": rubric_only(
        lambda c: Reply(
            body=completion(json.dumps({"criteria": [{"id": c.criteria[0], "verdict": "no"}]}))
        )
    ),
    "tool_calls": rubric_only(
        lambda c: Reply(
            body=completion(
                None,
                "tool_calls",
                tool_calls=[
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "grade", "arguments": '{"verdict": "yes"}'},
                    }
                ],
            )
        )
    ),
    "unknown_finish_reason": lambda c: Reply(body=completion(good_text(c), "something_new")),
    "no_usage": lambda c: Reply(body=completion(good_text(c), usage=False)),
    "null_finish_reason": lambda c: Reply(body=completion(good_text(c), None)),
}


def conversation_text(body: dict[str, Any]) -> str:
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        parts.append(str(content or ""))
    return "\n".join(parts)


class JudgeServer:
    """The server in a background thread: ``with JudgeServer() as server: server.base_url``."""

    def __init__(self, schedule: dict[str, Callable[[Call], Reply]] | None = None) -> None:
        self.schedule = schedule or SCHEDULE
        self.requests: list[dict[str, Any]] = []
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = server.reply(self.path, raw)
                data = (
                    reply.body
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body, ensure_ascii=False)
                ).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def reply(self, path: str, raw: bytes) -> Reply:
        if not path.rstrip("/").endswith("/chat/completions"):
            return Reply(404, {"error": {"message": f"no route {path}"}})
        body = json.loads(raw)
        text = conversation_text(body)
        digest = hashlib.sha256(raw).hexdigest()
        with self._lock:
            self.requests.append(body)
            self._seen[digest] += 1
            seen = self._seen[digest]
        case = re.search(r"case:(\w+)", text)
        call = Call(
            component="global" if "0-10 scale" in text else "rubric",
            attempt=1 + text.count(CORRECTION),
            criteria=list(dict.fromkeys(criterion_ids_in(text))),
            seen=seen,
        )
        behaviour = self.schedule.get(case.group(1) if case else "good", good)
        return behaviour(call)

    def __enter__(self) -> JudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":
    with JudgeServer() as s:
        print(s.base_url, flush=True)
        s.thread.join()
