"""A fake Discord API (REST + gateway websocket) on 127.0.0.1 for driving the real bot.

It implements what discord.py 2.x uses for ModelDesk, keeps the server-side state a user would
see (messages, interaction replies, threads, modals) and records every request so tests can
assert on exactly what was sent: content, `allowed_mentions`, flags, components and files.

Payloads follow Discord's documented shapes: slash commands (interaction type 2, data.type 1,
subcommands as nested options of type 1, channel options with data.resolved.channels), message
context menus (type 2, data.type 3 with target_id and data.resolved.messages), modal submits
(type 5 with the submitted components, labels as type 18), forum channels (type 15) whose posts
are public threads (type 11) opened by a starter message with the thread's id.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1_420_070_400_000
API = "/api/v10"

MANAGE_GUILD = 1 << 5
VIEW_AND_SEND = (1 << 10) | (1 << 11) | (1 << 38)  # view channel, send messages, in threads
_counter = itertools.count(1)


def snowflake() -> int:
    """A fresh, increasing Discord-style id (18–19 digits, as discord.py's regexes expect)."""
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(_counter) & 0x3FFFFF)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot}


@dataclass
class Recorded:
    """One request the bot made."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[dict[str, Any]] = field(default_factory=list)
    at: float = field(default_factory=time.perf_counter)


@dataclass
class FakeInteraction:
    """Server-side state of one interaction the test injected."""

    id: int
    token: str
    payload: dict[str, Any]
    sent_at: float
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    callback_at: float | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    original_deleted: bool = False
    modal: dict[str, Any] | None = None  # the form the bot opened in reply


@dataclass(frozen=True)
class Channel:
    """A channel option's value in `FakeDiscord.slash`."""

    id: int


class FakeDiscord:
    """The fake server. `await start()`, point discord.py at `api_base` and `gateway_url`."""

    def __init__(self, heartbeat_interval_ms: int = 1000) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.bot_id = snowflake()
        self.app_id = self.bot_id
        self.guild_id = snowflake()
        self.channel_id = snowflake()
        self.help_channel_id = snowflake()  # a text channel admins can turn answering on in
        self.forum_id = snowflake()  # a forum channel (tests list it in ANSWER_CHANNEL_IDS)
        self.admin_role_id = snowflake()  # has Manage Server
        self.helper_role_id = snowflake()  # no permission; listed in ADMIN_ROLE_IDS by the tests
        self.bot_user = _user(self.bot_id, "ModelDesk", bot=True)
        self.users = {
            "alice": _user(snowflake(), "alice"),
            "bob": _user(snowflake(), "bob"),  # Manage Server through the admin role
            "carol": _user(snowflake(), "carol"),  # only the helper role
            "dave": _user(snowflake(), "dave"),
            "erin": _user(snowflake(), "erin"),
            "frank": _user(snowflake(), "frank"),
            "grace": _user(snowflake(), "grace"),
            "heidi": _user(snowflake(), "heidi"),
            "ivan": _user(snowflake(), "ivan"),
            "judy": _user(snowflake(), "judy"),
            "ken": _user(snowflake(), "ken"),
            "mallory": _user(snowflake(), "mallory"),
            "nina": _user(snowflake(), "nina"),
            "olivia": _user(snowflake(), "olivia"),
            "peggy": _user(snowflake(), "peggy"),
            "quinn": _user(snowflake(), "quinn"),
            "rupert": _user(snowflake(), "rupert"),
            "sybil": _user(snowflake(), "sybil"),
            "trent": _user(snowflake(), "trent"),
            "victor": _user(snowflake(), "victor"),
            "walter": _user(snowflake(), "walter"),
            "uma": _user(snowflake(), "uma"),
            "wendy": _user(snowflake(), "wendy"),
            "xavier": _user(snowflake(), "xavier"),
            "yvonne": _user(snowflake(), "yvonne"),
            "zoe": _user(snowflake(), "zoe"),
            "helperbot": _user(snowflake(), "helperbot", bot=True),  # another server's bot
        }
        self.roles = {"alice": [], "bob": [self.admin_role_id], "carol": [self.helper_role_id]}
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.interactions: dict[str, FakeInteraction] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.heartbeats: list[float] = []
        self.identify: dict[str, Any] | None = None
        self.ready = asyncio.Event()
        self._changed = asyncio.Condition()
        # Every identified gateway session, oldest first: one per bot process (or shard).
        self.connections: list[web.WebSocketResponse] = []
        self._seqs: dict[int, int] = {}
        self._turn = itertools.count()
        self.route = "last"  # which session gets an event: "last" connected or "round_robin"
        self.peers: dict[int, Any] = {}  # session -> the client's (host, port)
        self._runner: web.AppRunner | None = None
        self.port = 0
        base = {"guild_id": str(self.guild_id), "permission_overwrites": [], "nsfw": False,
                "parent_id": None, "topic": None, "last_message_id": None,
                "rate_limit_per_user": 0}
        self.channels[self.channel_id] = {**base, "id": str(self.channel_id), "type": 0,
                                          "name": "general", "position": 0}
        self.channels[self.help_channel_id] = {**base, "id": str(self.help_channel_id),
                                               "type": 0, "name": "help", "position": 1}
        self.channels[self.forum_id] = {
            **base, "id": str(self.forum_id), "type": 15, "name": "questions", "position": 2,
            "flags": 0, "available_tags": [], "default_reaction_emoji": None,
            "default_thread_rate_limit_per_user": 0, "default_sort_order": None,
            "default_forum_layout": 0, "default_auto_archive_duration": 1440,
        }

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self.connections):
            if not ws.closed:
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked after every request); returns it."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise TimeoutError(f"timed out after {timeout} s waiting for {predicate}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.5))

    # -- gateway ----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.peers[id(ws)] = request.transport.get_extra_info("peername") if request.transport \
            else None
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_gateway_message(ws, json.loads(msg.data))
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
            await self._notify()
        return ws

    async def _on_gateway_message(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        op = data.get("op")
        if op == 1:
            self.heartbeats.append(time.perf_counter())
            await ws.send_json({"op": 11})
        elif op == 2:
            self.identify = data["d"]
            self.connections.append(ws)
            await self.dispatch("READY", self._ready_payload(), to=ws)
            await self.dispatch("GUILD_CREATE", self._guild_payload(), to=ws)
            self.ready.set()
            await self._notify()
        elif op == 6:
            self.connections.append(ws)
            await self.dispatch("RESUMED", {}, to=ws)

    def client_port(self, via: int) -> int:
        """The local port of a live session's client (tells which process holds it)."""
        live = [ws for ws in self.connections if not ws.closed]
        return int(self.peers[id(live[via])][1])

    def _target(self, via: int | None = None) -> web.WebSocketResponse:
        live = [ws for ws in self.connections if not ws.closed]
        assert live, "the bot is not connected"
        if via is not None:
            return live[via]
        if self.route == "round_robin":
            return live[next(self._turn) % len(live)]
        return live[-1]

    async def dispatch(self, event: str, data: dict[str, Any], *,
                       to: web.WebSocketResponse | None = None) -> None:
        """Send one gateway DISPATCH event to one bot session (see `route`)."""
        ws = to or self._target()
        seq = self._seqs[id(ws)] = self._seqs.get(id(ws), 0) + 1
        await ws.send_json({"op": 0, "t": event, "s": seq, "d": data})

    def user(self, name: str) -> dict[str, Any]:
        """A member by name, created on first use (the load bench has fifty)."""
        if name not in self.users:
            self.users[name] = _user(snowflake(), name)
        return self.users[name]

    def _ready_payload(self) -> dict[str, Any]:
        return {
            "v": 10, "user": self.bot_user, "guilds": [{"id": str(self.guild_id),
                                                        "unavailable": True}],
            "session_id": "fake-session", "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0}, "private_channels": [],
        }

    def _member(self, name: str) -> dict[str, Any]:
        user = self.bot_user if name == "bot" else self.user(name)
        return {"user": user, "roles": [str(r) for r in self.roles.get(name, [])],
                "joined_at": _now(), "deaf": False, "mute": False, "flags": 0}

    def permissions_of(self, name: str) -> int:
        perms = VIEW_AND_SEND
        if self.admin_role_id in self.roles.get(name, []):
            perms |= MANAGE_GUILD
        return perms

    def _guild_payload(self) -> dict[str, Any]:
        role = {"color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0,
                "icon": None, "unicode_emoji": None}
        return {
            "id": str(self.guild_id), "name": "Open Models", "icon": None, "splash": None,
            "owner_id": str(snowflake()), "afk_channel_id": None, "afk_timeout": 300,
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "features": [], "emojis": [],
            "stickers": [], "application_id": None, "system_channel_id": None,
            "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
            "description": None, "banner": None, "premium_tier": 0,
            "preferred_locale": "en-US", "public_updates_channel_id": None, "nsfw_level": 0,
            "premium_progress_bar_enabled": False, "joined_at": _now(), "large": False,
            "unavailable": False, "member_count": len(self.users) + 1, "voice_states": [],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [], "threads": [],
            "roles": [
                {**role, "id": str(self.guild_id), "name": "@everyone", "position": 0,
                 "permissions": str(VIEW_AND_SEND)},
                {**role, "id": str(self.admin_role_id), "name": "Admins", "position": 2,
                 "permissions": str(VIEW_AND_SEND | MANAGE_GUILD)},
                {**role, "id": str(self.helper_role_id), "name": "Helpers", "position": 1,
                 "permissions": str(VIEW_AND_SEND)},
            ],
            "members": [self._member("bot"), *(self._member(n) for n in self.users)],
            "channels": list(self.channels.values()),
        }

    # -- what the test injects ------------------------------------------------------------

    async def slash(self, name: str, options: dict[str, Any] | None = None, *,
                    user: str = "alice", itype: int = 2, focused: str | None = None,
                    channel_id: int | None = None, via: int | None = None) -> FakeInteraction:
        """A user runs `/name` (itype 4 = autocomplete with `focused` option). "kb gaps" runs a
        subcommand; a `Channel(id)` value is a channel option, resolved as Discord does."""
        types = {bool: 5, int: 4, float: 10, str: 3, Channel: 7}
        resolved: dict[str, Any] = {}
        opts = []
        for k, v in (options or {}).items():
            value: Any = v
            if isinstance(v, Channel):
                value = str(v.id)
                data_ch = {**self.channels[v.id], "permissions": str(VIEW_AND_SEND)}
                resolved.setdefault("channels", {})[value] = data_ch
            opts.append({"name": k, "type": types[type(v)], "value": value,
                         **({"focused": True} if k == focused else {})})
        command, *sub = name.split()
        for part in reversed(sub):
            opts = [{"name": part, "type": 1, "options": opts}]
        data = {"id": str(snowflake()), "name": command, "type": 1, "options": opts,
                "guild_id": str(self.guild_id), **({"resolved": resolved} if resolved else {})}
        return await self._interaction(itype, data, user, channel_id=channel_id, via=via)

    async def context_menu(self, name: str, message: dict[str, Any], *,
                           user: str = "alice") -> FakeInteraction:
        """A user right-clicks a message and picks an app's message command."""
        data = {"id": str(snowflake()), "name": name, "type": 3, "target_id": message["id"],
                "resolved": {"messages": {message["id"]: message}},
                "guild_id": str(self.guild_id)}
        return await self._interaction(2, data, user, channel_id=int(message["channel_id"]))

    async def submit_modal(self, opened: FakeInteraction, values: dict[str, Any], *,
                           user: str = "alice") -> FakeInteraction:
        """A user fills in the modal the bot opened in reply to `opened` and submits it:
        `values` maps a component's custom_id to its text (text input) or list (select)."""
        assert opened.modal is not None, "the bot opened no modal"

        def filled(component: dict[str, Any]) -> dict[str, Any]:
            kind = component["type"]
            if kind == 18:  # a label wraps one component
                return {"type": 18, "id": component.get("id"),
                        "component": filled(component["component"])}
            if kind == 1:
                return {"type": 1, "components": [filled(c) for c in component["components"]]}
            value = values.get(component["custom_id"])
            if kind == 4:
                return {"type": 4, "custom_id": component["custom_id"], "value": value or ""}
            return {"type": kind, "custom_id": component["custom_id"], "values": value or []}

        data = {"custom_id": opened.modal["custom_id"],
                "components": [filled(c) for c in opened.modal["components"]]}
        return await self._interaction(5, data, user, message=opened.payload.get("message"))

    async def click(self, message: dict[str, Any], custom_id: str, *,
                    user: str = "alice", via: int | None = None) -> FakeInteraction:
        """A user clicks a button on a message."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interaction(3, data, user, message=message, via=via)

    async def _interaction(self, itype: int, data: dict[str, Any], user: str,
                           message: dict[str, Any] | None = None,
                           channel_id: int | None = None,
                           via: int | None = None) -> FakeInteraction:
        iid = snowflake()
        token = f"itoken-{iid}"
        member = {**self._member(user), "permissions": str(self.permissions_of(user))}
        cid = channel_id or self.channel_id
        payload: dict[str, Any] = {
            "id": str(iid), "application_id": str(self.app_id), "type": itype, "token": token,
            "version": 1, "guild_id": str(self.guild_id), "channel_id": str(cid),
            "channel": self.channels[cid], "member": member, "data": data,
            "app_permissions": str(VIEW_AND_SEND), "locale": "en-US", "guild_locale": "en-US",
            "attachment_size_limit": 8 * 1024 * 1024, "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)}, "context": 0,
        }
        if message is not None:
            payload["message"] = message
        inter = FakeInteraction(iid, token, payload, time.perf_counter())
        self.interactions[token] = inter
        await self.dispatch("INTERACTION_CREATE", payload, to=self._target(via))
        return inter

    async def say(self, content: str, *, user: str = "alice",
                  channel_id: int | None = None) -> dict[str, Any]:
        """A user posts a message (MESSAGE_CREATE); `<@id>` in it mentions that user (the bot
        too), `<@&id>` a role, and @everyone everyone, as Discord's parsed fields say."""
        cid = channel_id or self.channel_id
        author = self.user(user)
        msg = self._new_message(cid, author, {"content": content})
        self._parse_mentions(msg)
        msg["member"] = {k: v for k, v in self._member(user).items() if k != "user"}
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    def _parse_mentions(self, msg: dict[str, Any]) -> None:
        content = msg["content"]
        people = [self.bot_user, *self.users.values()]
        msg["mentions"] = [u for u in people if re.search(rf"<@!?{u['id']}>", content)]
        msg["mention_roles"] = re.findall(r"<@&(\d+)>", content)
        msg["mention_everyone"] = "@everyone" in content or "@here" in content

    async def post_in_forum(self, title: str, content: str, *, user: str = "alice",
                            forum_id: int | None = None) -> dict[str, Any]:
        """A user opens a forum post: Discord creates a public thread and its starter message
        (same id) and sends THREAD_CREATE, then MESSAGE_CREATE in the thread."""
        parent = forum_id or self.forum_id
        tid = snowflake()
        author = self.users[user]
        thread = {
            "id": str(tid), "type": 11, "guild_id": str(self.guild_id), "parent_id": str(parent),
            "name": title, "owner_id": author["id"], "last_message_id": str(tid),
            "rate_limit_per_user": 0, "message_count": 1, "member_count": 1, "flags": 0,
            "total_message_sent": 1, "applied_tags": [],
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                "archive_timestamp": _now(), "locked": False},
        }
        self.channels[tid] = thread
        await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        msg = self._new_message(tid, author, {"content": content}, mid=tid)
        self._parse_mentions(msg)
        msg["member"] = {k: v for k, v in self._member(user).items() if k != "user"}
        await self.dispatch("MESSAGE_CREATE", msg)
        return thread

    # -- what a user sees ---------------------------------------------------------------

    def sent(self) -> list[Recorded]:
        """Every request that carries something a user could read."""
        return [r for r in self.requests if r.method in ("POST", "PATCH") and r.json]

    def thread_messages(self, thread_id: int) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if int(m["channel_id"]) == thread_id]

    def threads(self) -> list[dict[str, Any]]:
        return [c for c in self.channels.values() if c["type"] in (10, 11, 12)]

    # -- REST -------------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files = []
            reader = await request.multipart()
            async for part in reader:
                raw = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":
                    payload = json.loads(raw)
                else:
                    files.append({"field": part.name, "filename": part.filename,
                                  "size": len(raw), "head": bytes(raw[:8]),
                                  "content_type": part.headers.get("Content-Type")})
            return payload, files
        if request.can_read_body:
            text = await request.text()
            return (json.loads(text) if text else None), []
        return None, []

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await self._body(request)
        self.requests.append(Recorded(request.method, path, dict(request.query), body, files))
        try:
            result = self._route(request.method, path.strip("/").split("/"), body, files,
                                 dict(request.query))
        finally:
            await self._notify()
        if result is None:
            return web.Response(status=204)
        status, data = result
        # discord.py parses JSON only when the content type is exactly "application/json".
        return web.Response(status=status, body=json.dumps(data).encode(),
                            headers={"Content-Type": "application/json"})

    def _route(self, method: str, parts: list[str], body: Any, files: list[dict[str, Any]],
               query: dict[str, str]) -> tuple[int, Any] | None:
        match (method, parts):
            case ("GET", ["users", "@me"]):
                return 200, self.bot_user
            case ("GET", ["oauth2", "applications", "@me"]):
                return 200, {"id": str(self.app_id), "name": "ModelDesk", "icon": None,
                             "description": "", "rpc_origins": [], "bot_public": True,
                             "bot_require_code_grant": False, "owner": self.users["bob"],
                             "summary": "", "verify_key": "00", "team": None, "flags": 0}
            case ("GET", ["gateway"]) | ("GET", ["gateway", "bot"]):
                return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": {
                    "total": 1000, "remaining": 1000, "reset_after": 0,
                    "max_concurrency": 1}}
            case ("PUT", ["applications", _, "commands"]):
                return 200, self._store_commands("global", body)
            case ("PUT", ["applications", _, "guilds", gid, "commands"]):
                return 200, self._store_commands(gid, body)
            case ("GET", ["applications", _, "commands"]):
                return 200, self.commands.get("global", [])
            case ("GET", ["applications", _, "guilds", gid, "commands"]):
                return 200, self.commands.get(gid, [])
            case ("POST", ["interactions", _, token, "callback"]):
                return self._callback(token, body, files)
            case (_, ["webhooks", _, token, "messages", mid]):
                return self._webhook_message(method, token, mid, body, files)
            case ("POST", ["webhooks", _, token]):
                inter = self.interactions[token]
                msg = self._new_message(int(inter.payload["channel_id"]), self.bot_user, body,
                                        files)
                msg["webhook_id"] = str(self.app_id)
                inter.followups.append(msg)
                return 200, msg
            case ("GET", ["channels", cid]):
                return self._found(self.channels.get(int(cid)))
            case ("GET", ["guilds", _]):
                return 200, self._guild_payload()
            case ("POST", ["channels", _, "typing"]):
                return None
            case ("POST", ["channels", cid, "messages"]):
                return 200, self._new_message(int(cid), self.bot_user, body, files)
            case ("GET", ["channels", cid, "messages"]):
                return 200, self._history(int(cid), query)
            case ("GET", ["channels", _, "messages", mid]):
                return self._found(self.messages.get(int(mid)))
            case ("PATCH", ["channels", _, "messages", mid]):
                return self._edit(self.messages.get(int(mid)), body, files)
            case ("DELETE", ["channels", _, "messages", mid]):
                self.messages.pop(int(mid), None)
                return None
            case ("POST", ["channels", cid, "messages", mid, "threads"]):
                return 201, self._new_thread(int(cid), body, int(mid))
            case ("POST", ["channels", cid, "threads"]):
                return 201, self._new_thread(int(cid), body, None)
        return 404, {"message": "404: Not Found (fake Discord)", "code": 0}

    @staticmethod
    def _found(item: dict[str, Any] | None) -> tuple[int, Any]:
        if item is None:
            return 404, {"message": "Unknown", "code": 10008}
        return 200, item

    def _store_commands(self, scope: str, body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Discord answers with an empty description for context menus, which send none.
        stored = [{"description": "", **cmd, "id": str(snowflake()),
                   "application_id": str(self.app_id),
                   "version": "1", "default_member_permissions":
                   cmd.get("default_member_permissions")} for cmd in body]
        self.commands[scope] = stored
        return stored

    def _new_message(self, cid: int, author: dict[str, Any], body: Any,
                     files: list[dict[str, Any]] | None = None,
                     mid: int | None = None) -> dict[str, Any]:
        body = body or {}
        mid = mid or snowflake()
        msg = {
            "id": str(mid), "channel_id": str(cid), "guild_id": str(self.guild_id),
            "author": author, "content": body.get("content") or "", "timestamp": _now(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": self._attachments(files),
            "embeds": body.get("embeds") or [], "pinned": False, "type": 0,
            "flags": body.get("flags") or 0, "components": body.get("components") or [],
        }
        if body.get("message_reference"):
            msg["message_reference"] = body["message_reference"]
        self.messages[mid] = msg
        return msg

    def _attachments(self, files: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        return [{"id": str(snowflake()), "filename": f["filename"], "size": f["size"],
                 "url": f"http://127.0.0.1:{self.port}/files/{f['filename']}",
                 "proxy_url": f"http://127.0.0.1:{self.port}/files/{f['filename']}",
                 "content_type": f["content_type"]} for f in files or []]

    def _edit(self, msg: dict[str, Any] | None, body: Any,
              files: list[dict[str, Any]]) -> tuple[int, Any]:
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        body = body or {}
        for key in ("content", "components", "embeds", "flags"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if files or "attachments" in body:
            msg["attachments"] = self._attachments(files)
        msg["edited_timestamp"] = _now()
        return 200, msg

    def _history(self, cid: int, query: dict[str, str]) -> list[dict[str, Any]]:
        before = int(query.get("before", 1 << 63))
        after = int(query.get("after", 0))
        found = [m for m in self.messages.values()
                 if int(m["channel_id"]) == cid and after < int(m["id"]) < before]
        found.sort(key=lambda m: int(m["id"]), reverse=True)
        return found[: int(query.get("limit", 50))]

    def _new_thread(self, parent: int, body: Any, message_id: int | None) -> dict[str, Any]:
        tid = message_id or snowflake()
        thread = {
            "id": str(tid), "type": 11, "guild_id": str(self.guild_id), "parent_id": str(parent),
            "name": body.get("name", "thread"), "owner_id": str(self.bot_id),
            "last_message_id": None, "rate_limit_per_user": 0, "message_count": 0,
            "member_count": 1, "flags": 0, "total_message_sent": 0,
            "thread_metadata": {"archived": False, "auto_archive_duration":
                                body.get("auto_archive_duration", 1440),
                                "archive_timestamp": _now(), "locked": False},
        }
        self.channels[tid] = thread
        # Real Discord tells the bot about its new thread over the gateway, too.
        for ws in list(self.connections):
            asyncio.get_running_loop().create_task(
                self.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, to=ws))
        return thread

    def _callback(self, token: str, body: dict[str, Any],
                  files: list[dict[str, Any]]) -> tuple[int, Any]:
        inter = self.interactions[token]
        inter.callbacks.append(body)
        inter.callback_at = inter.callback_at or time.perf_counter()
        ctype = body["type"]
        data = body.get("data") or {}
        reply: dict[str, Any] = {"id": str(inter.id), "type": inter.payload["type"]}
        out: dict[str, Any] = {"interaction": reply}
        if ctype == 9:  # a modal: the user now sees the form
            inter.modal = data
            return 200, out
        if ctype in (4, 5):
            flags = data.get("flags") or 0
            msg = self._new_message(int(inter.payload["channel_id"]), self.bot_user,
                                    {**data, "flags": flags | (128 if ctype == 5 else 0)}, files)
            msg["webhook_id"] = str(self.app_id)
            inter.original = msg
            reply.update(response_message_id=msg["id"], response_message_loading=ctype == 5,
                         response_message_ephemeral=bool(flags & 64))
            out["resource"] = {"type": ctype, "message": msg}
        return 200, out

    def _webhook_message(self, method: str, token: str, mid: str, body: Any,
                         files: list[dict[str, Any]]) -> tuple[int, Any] | None:
        inter = self.interactions[token]
        if mid == "@original":
            msg = inter.original
        else:
            msg = next((m for m in inter.followups if m["id"] == mid), None)
        if method == "DELETE":
            if mid == "@original":
                inter.original_deleted = True
            return None
        if method == "GET":
            return self._found(msg)
        status, data = self._edit(msg, body, files)
        if status == 200 and data.get("flags", 0) & 128:
            data["flags"] &= ~128  # the first edit ends "thinking…"
        return status, data


@contextlib.contextmanager
def discord_pointed_at(fake: FakeDiscord) -> Any:
    """Point discord.py (REST and gateway) at the fake for the duration of the block.

    REST goes through Route.BASE (the interaction webhooks too). discord.py 2.7's Client opens
    its first gateway connection at DiscordWebSocket.DEFAULT_GATEWAY (only AutoShardedClient
    asks GET /gateway/bot), then resumes at READY's resume_gateway_url, which the fake sets.
    """
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_base  # type: ignore[misc]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway  # type: ignore[misc]


def queue_places(fake: FakeDiscord, inter: FakeInteraction) -> list[int]:
    """Every "You are number N in the queue" the user was shown, in order."""
    import re

    places = []
    for r in fake.requests:
        if r.method == "PATCH" and inter.token in r.path and isinstance(r.json, dict):
            m = re.match(r"You are number (\d+) in the queue", r.json.get("content") or "")
            if m:
                places.append(int(m.group(1)))
    return places


def finished(inter: FakeInteraction) -> bool:
    """The bot is done with an interaction: votes shown, or a one-off sentence sent."""
    msgs = [m for m in [inter.original, *inter.followups] if m is not None]
    if any(m.get("components") for m in msgs):
        return True
    if any(cb["type"] == 4 for cb in inter.callbacks):
        return True
    return any(m.get("flags", 0) & 64 for m in inter.followups)
