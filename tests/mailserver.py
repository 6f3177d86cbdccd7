"""Real mail servers for the mailbox tests and benchmarks: Dovecot (IMAP, Debian's dovecot-imapd)
with its own configuration in a temporary directory on a free loopback port, an SMTP server
(aiosmtpd) that keeps what it receives, and a local OAuth2 token endpoint speaking the real
protocol (authorization code, refresh, introspection for Dovecot's oauth2 passdb).

    with Dovecot() as imap:
        imap.append("support@example.com", raw_bytes)         # IMAP APPEND, like a real MTA's delivery
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.live import end_process, free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def dovecot_available() -> bool:
    return Path(DOVECOT).exists() and Path("/usr/lib/dovecot/imap").exists()


class Dovecot:
    PASSWORD = "s3cret-pw"  # every account's password (a static passdb: any user name exists)

    def __init__(self, port: int | None = None, oauth_introspection_url: str = "", idle: bool = True):
        self.port = port or free_port()
        self.idle = idle  # False: a server that does not offer IDLE (the runner must poll)
        self.oauth_introspection_url = oauth_introspection_url
        self.dir = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        self.process = None

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> Dovecot:
        root = os.getuid() == 0
        # As root, Dovecot drops to its own users and refuses uid 0 for mail: mail belongs to
        # "nobody". Unprivileged (a developer's laptop), everything runs as the current user.
        mail_user = pwd.getpwnam("nobody") if root else pwd.getpwuid(os.getuid())
        os.chmod(self.dir, 0o755)  # noqa: S103 - Dovecot's own users must read its config here
        for sub in ("run", "state", "home"):
            (self.dir / sub).mkdir()
        if root:
            os.chown(self.dir / "home", mail_user.pw_uid, mail_user.pw_gid)
        oauth = ""
        if self.oauth_introspection_url:
            (self.dir / "oauth2.conf").write_text(
                f"introspection_mode = post\nintrospection_url = {self.oauth_introspection_url}\n"
                "username_attribute = email\nactive_attribute = active\nactive_value = true\n")
            oauth = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {self.dir}/oauth2.conf\n}}\n"
        internal = "dovecot" if root else mail_user.pw_name
        login = "dovenull" if root else mail_user.pw_name
        (self.dir / "dovecot.conf").write_text(f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
info_log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
{"" if self.idle else "imap_capability = IMAP4rev1 SASL-IR LITERAL+ ENABLE UIDPLUS MOVE MULTIAPPEND NAMESPACE"}
mail_plugins = quota
plugin {{
  quota = count:User quota
  quota_rule = *:messages=100000
  quota_vsizes = yes
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Archive {{
    auto = create
  }}
}}
passdb {{
  driver = static
  args = password={self.PASSWORD}
}}
{oauth}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={self.dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        self.process = subprocess.Popen([DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not start:\n{self.log()}")

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            end_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- delivering and inspecting mail (as the account's owner, over IMAP) --------------
    def client(self, user: str):
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=30)
        client.login(user, self.PASSWORD)
        return client

    def append(self, user: str, *messages: bytes, folder: str = "INBOX", when=None) -> None:
        """`when`: the internal date (what IMAP SEARCH SINCE looks at), as a datetime."""
        client = self.client(user)
        try:
            if when is not None:
                for raw in messages:
                    client.append(folder, raw, msg_time=when)
                return
            for start in range(0, len(messages), 500):
                batch = messages[start:start + 500]
                if len(batch) > 1 and client.has_capability("MULTIAPPEND"):
                    client.multiappend(folder, list(batch))
                else:
                    for raw in batch:
                        client.append(folder, raw)
        finally:
            client.logout()

    def uids(self, user: str, folder: str = "INBOX", criteria="ALL") -> list[int]:
        client = self.client(user)
        try:
            client.select_folder(folder, readonly=True)
            return client.search(criteria)
        finally:
            client.logout()

    def renumber(self, user: str, folder: str = "INBOX") -> None:
        """Give the folder a new UIDVALIDITY, as a server restore or a migration does."""
        subprocess.run(["doveadm", "-c", str(self.dir / "dovecot.conf"), "mailbox", "update", "-u", user,
                        "--uid-validity", str(int(time.time()) + secrets.randbelow(10**6)), folder],
                       check=True, capture_output=True)


def mail(n: int, sender: str = "", to: str = "support@example.com", subject: str = "", body: str = "",
         message_id: str | None = None, extra: str = "") -> bytes:
    sender = sender or f"customer{n}@customers.example"
    message_id = message_id if message_id is not None else f"<mail-{n}-{secrets.token_hex(4)}@customers.example>"
    head = f"Message-ID: {message_id}\r\n" if message_id else ""
    return (f"From: Customer {n} <{sender}>\r\nTo: {to}\r\n{head}Subject: {subject or f'Question {n}'}\r\n"
            f"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n{extra}MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body or f'Hello, this is question number {n}.'}\r\n").encode()


# --- SMTP --------------------------------------------------------------------------------
class SmtpServer:
    """aiosmtpd on loopback: keeps every message; AUTH PLAIN/LOGIN against `users`, and
    XOAUTH2 checked against a token source (the fake OAuth server)."""

    def __init__(self, users: dict[str, str] | None = None, oauth: OAuthServer | None = None):
        self.users, self.oauth = users or {}, oauth
        self.messages: list = []
        self.auth_log: list[tuple[str, str]] = []  # (mechanism, user)
        self.port = free_port()
        self.controller = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):
                server.messages.append(envelope)
                return "250 OK"

            async def auth_XOAUTH2(self, smtp, args):
                import base64

                blob = args[1] if len(args) > 1 else await smtp.challenge_auth("")
                if isinstance(blob, bytes):
                    blob = blob.decode()
                fields = dict(part.split("=", 1) for part in base64.b64decode(blob).decode().split("\x01") if "=" in part)
                user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
                ok = server.oauth is not None and server.oauth.valid_access(token) == user
                if ok:
                    server.auth_log.append(("XOAUTH2", user))
                return AuthResult(success=ok, handled=False)

        def authenticator(smtp, session, envelope, mechanism, auth_data):
            user = auth_data.login.decode()
            ok = server.users.get(user) == auth_data.password.decode()
            if ok:
                server.auth_log.append((mechanism, user))
            return AuthResult(success=ok)

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     authenticator=authenticator, auth_require_tls=False,
                                     auth_exclude_mechanism=["CRAM-MD5"])
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- OAuth2 ------------------------------------------------------------------------------
class OAuthServer:
    """A token endpoint (RFC 6749: authorization_code and refresh_token grants, form-encoded
    POST, JSON answers, `invalid_grant` for a revoked grant) and an introspection endpoint
    (RFC 7662) that Dovecot's oauth2 passdb asks about XOAUTH2 logins."""

    def __init__(self, user: str, client_id: str = "test-client", client_secret: str = "test-secret",
                 expires_in: int = 3600):
        self.user, self.client_id, self.client_secret, self.expires_in = user, client_id, client_secret, expires_in
        self.codes: set[str] = {"consent-code"}
        self.refresh_tokens: set[str] = set()
        self.access_tokens: dict[str, tuple[str, float]] = {}
        self.requests: list[dict] = []
        self.port = free_port()
        self._httpd = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def revoke(self):
        self.refresh_tokens.clear()
        self.access_tokens.clear()

    def valid_access(self, token: str) -> str | None:
        user, until = self.access_tokens.get(token, ("", 0))
        return user if until > time.time() else None

    def _issue(self, with_refresh: bool) -> dict:
        access = "at-" + secrets.token_hex(8)
        self.access_tokens[access] = (self.user, time.time() + self.expires_in)
        body = {"access_token": access, "token_type": "Bearer", "expires_in": self.expires_in}
        if with_refresh:
            refresh = "rt-" + secrets.token_hex(8)
            self.refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
        return body

    def handle(self, path: str, form: dict) -> tuple[int, dict]:
        self.requests.append({"path": path, **form})
        if path == "/introspect":
            user = self.valid_access(form.get("token", ""))
            return 200, ({"active": "true", "email": user} if user else {"active": "false"})
        if path != "/token":
            return 404, {"error": "not_found"}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") in self.codes:
            self.codes.discard(form["code"])
            return 200, self._issue(with_refresh=True)
        if grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            return 200, self._issue(with_refresh=False)
        return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}

    def start(self) -> OAuthServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, body = server.handle(self.path.split("?")[0], form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class FaultyProxy:
    """A TCP forwarder that drops each connection after a random number of bytes from the
    server (somewhere in the greeting, the login, a FETCH literal, the STORE...): a network
    that fails at random points. `rng` makes a run reproducible."""

    def __init__(self, target_port: int, rng, mean_bytes: int = 200_000):
        self.target_port, self.rng, self.mean_bytes = target_port, rng, mean_bytes
        self.cuts = 0
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self._running:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            budget = [int(self.rng.expovariate(1 / self.mean_bytes))]
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, budget), daemon=True).start()

    def _pump(self, source, sink, budget):
        try:
            while chunk := source.recv(16384):
                if budget is not None:
                    if len(chunk) >= budget[0]:
                        sink.sendall(chunk[:budget[0]])
                        self.cuts += 1
                        break
                    budget[0] -= len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self):
        self._running = False
        self._server.close()
