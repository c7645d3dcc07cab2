"""A python3 kernel of a user's server, driven over REST + websocket through the proxy
(test and benchmark support: not part of the installed package)."""

import json
import time
import uuid

import requests
import websocket


def _url(hub, user, server, path=""):
    return f"{hub.url}/user/{user}/{server}/{path}"


class Kernel:
    """A python3 kernel of a server, driven over REST + websocket through the proxy."""

    def __init__(self, hub, user, server, token, path: str | None = None):
        """``path``: the folder the kernel starts in (relative to the server's root)."""
        self.base = _url(hub, user, server, "api/kernels")
        self.headers = {"Authorization": f"token {token}"}
        model = {"name": "python3", **({"path": path} if path else {})}
        r = requests.post(self.base, headers=self.headers, json=model, timeout=60)
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        self.user = user

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute ``code``; return its standard output (fails on an error)."""
        ws = websocket.create_connection(
            self.base.replace("http://", "ws://") + f"/{self.id}/channels",
            header=[f"Authorization: token {self.headers['Authorization'][6:]}"],
            timeout=timeout,
        )
        try:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps(_execute_request(msg_id, self.user, code)))
            out, errors = [], []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "stream":
                    out.append(msg["content"]["text"])
                elif kind == "error":
                    errors.append("\n".join(msg["content"]["traceback"]))
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    break
            assert not errors, errors
            return "".join(out)
        finally:
            ws.close()

    def close(self) -> None:
        """Shut the kernel down."""
        requests.delete(f"{self.base}/{self.id}", headers=self.headers, timeout=30)


def _execute_request(msg_id: str, user: str, code: str) -> dict:
    return {
        "header": {
            "msg_id": msg_id,
            "username": user,
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
        },
        "channel": "shell",
        "buffers": [],
    }
