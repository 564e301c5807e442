"""The domain model: one module per area, all tables on one metadata."""

from hub.models.accounts import ApiToken, User
from hub.models.base import Base, utcnow
from hub.models.content import Attachment, Comment, Post
from hub.models.delivery import AddressHealth, BounceReport
from hub.models.groups import Delivery, Group, Membership
from hub.models.imap import ImapMailbox, ImapMessage
from hub.models.mail import (
    DigestWatermark,
    InboundMessage,
    InboundStatus,
    OutgoingMail,
    OutgoingStatus,
)

__all__ = [
    "AddressHealth", "BounceReport",
    "ApiToken", "Attachment", "Base", "Comment", "Delivery", "DigestWatermark", "Group",
    "ImapMailbox", "ImapMessage", "InboundMessage", "InboundStatus", "Membership", "OutgoingMail", "OutgoingStatus",
    "Post", "User", "utcnow",
]
