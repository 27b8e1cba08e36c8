"""A scripted double of an OpenAI-compatible server, for model-path contract tests only (not a model).

`ScriptedOpenAIServer` is not a model: it answers POST /v1/chat/completions with the replies a test
scripted, in order (status, JSON or raw body, headers, delay), and records every request it got.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: dict | str = field(default_factory=dict)
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def completion(content: str | None = "ok", *, model: str = "gpt-4o-mini-2024-07-18", prompt_tokens: int = 12,
               completion_tokens: int = 5, finish_reason: str = "stop", tool_calls: list | None = None) -> Reply:
    """A successful chat completion body, the way OpenAI's API shapes it."""
    message: dict = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return Reply(body={
        "id": "chatcmpl-scripted-1", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens}})


def tool_call(name: str, arguments: dict | str, call_id: str = "call_1") -> dict:
    """One entry of a completion's `tool_calls`, the way OpenAI's API shapes it (arguments as a JSON string)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def error(status: int, message: str = "scripted failure", headers: dict | None = None) -> Reply:
    return Reply(status=status, body={"error": {"message": message, "type": "server_error", "code": None}},
                 headers=headers or {})


class ScriptedOpenAIServer:
    """Serves scripted replies on 127.0.0.1 at a free port; `base_url` ends in /v1 like OpenAI's.

    Tests build replies with `server.completion(...)`, `server.error(...)` and `Reply(...)` via `server.reply`.
    """

    completion = staticmethod(completion)
    error = staticmethod(error)
    tool_call = staticmethod(tool_call)
    reply = Reply

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path != "/v1/chat/completions":
                    self._send(error(404, f"no route {self.path}"))
                    return
                with outer._lock:
                    outer.requests.append(json.loads(raw))
                    reply = outer.script.pop(0) if outer.script else error(500, "script exhausted")
                time.sleep(reply.delay_s)
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                body = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = body.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def then(self, *replies: Reply) -> "ScriptedOpenAIServer":
        self.script.extend(replies)
        return self

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
