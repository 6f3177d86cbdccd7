"""The one HTTP boundary to Twilio: the twilio library's Client and our media downloads both go
through this client (tests fake it by mounting a transport on `session`).

Why our own HttpClient instead of twilio's TwilioHttpClient: its Response keeps only decoded
text, which corrupts binary media, and it forgets the headers (Retry-After) once the library
turns a 429 into an exception. Everything else (explicit timeout, pooled session) is the same."""

from __future__ import annotations

import logging
import threading

import requests
from twilio.http import HttpClient
from twilio.http.response import Response

log = logging.getLogger(__name__)


class TwilioResponse(Response):
    """twilio's Response plus the raw bytes; text is decoded only when the library asks (a
    media download never pays for charset detection over megabytes of JPEG)."""

    def __init__(self, response: requests.Response):  # noqa: B027 - fields set below
        self.status_code, self.headers, self.body = response.status_code, response.headers, response.content
        self.ok, self.cached, self._response = response.status_code < 400, False, response

    @property
    def content(self) -> str:
        return self._response.text

    @property
    def text(self) -> str:
        return self._response.text


class TwilioHttp(HttpClient):
    def __init__(self, timeout: float, session: requests.Session | None = None):
        super().__init__(log, is_async=False, timeout=timeout)
        self.session = session or requests.Session()
        self._local = threading.local()

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> TwilioResponse:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        response = self.session.request(
            method.upper(), url, params=params, data=data, headers=headers, auth=auth,
            timeout=timeout or self.timeout, allow_redirects=allow_redirects,
        )
        result = TwilioResponse(response)
        self._local.last = result
        return result

    @property
    def last_response(self) -> TwilioResponse | None:
        """This thread's last response (the library raises from it without its headers)."""
        return getattr(self._local, "last", None)
