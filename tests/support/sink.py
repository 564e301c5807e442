"""A real SMTP sink for outgoing mail: aiosmtpd on a free loopback port, answering as told."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.servers import free_port


@dataclass
class Received:
    connection: int
    mail_from: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


class SmtpSink:
    """Keeps what it accepted; `answers` are replies to DATA used up in order, then 250.

    With `delay`, each DATA waits before answering; a client that disconnects meanwhile
    (a killed worker) never got its 250, and the message is not kept.
    """

    def __init__(self, answers: list[str] | None = None, delay: float = 0.0) -> None:
        self.answers = list(answers or [])
        self.delay = delay
        self.received: list[Received] = []
        self.data_started = 0
        self.data_started_event = threading.Event()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def smarthost(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.data_started += 1
        self.data_started_event.set()
        answer = self.answers.pop(0) if self.answers else "250 2.0.0 Accepted"
        if self.delay:
            await asyncio.sleep(self.delay)
        if answer.startswith("250"):
            self.received.append(
                Received(id(session), envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return answer

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]
