"""The domain model: one module per area, all tables on one metadata."""

from hub.models.accounts import ApiToken, User
from hub.models.anonymity import AnonymousAuthor, AuditEntry
from hub.models.archives import ArchiveImport
from hub.models.base import Base, utcnow
from hub.models.content import Attachment, Comment, Post
from hub.models.delivery import AddressHealth, BounceReport
from hub.models.documents import Document, DocumentVersion
from hub.models.groups import (
    PERSONAL_SLUG_PREFIX,
    AnonymousPosting,
    Delivery,
    Group,
    GroupKind,
    Membership,
    PostingPolicy,
    UntrustedMail,
)
from hub.models.imap import ImapMailbox, ImapMessage
from hub.models.inbox import Channel, Notification, NotificationChannel, NotificationKind
from hub.models.installation import Installation
from hub.models.mail import (
    DigestWatermark,
    InboundMessage,
    InboundStatus,
    OutgoingMail,
    OutgoingStatus,
)
from hub.models.moderation import HeldFile, HeldMessage, HeldStatus
from hub.models.organisation import Department, OrganisationVersion
from hub.models.participation import ActivityChannel, HubDay, PersonDay, PostViewDay, ViewEvent
from hub.models.reactions import Reaction
from hub.models.revisions import Revision
from hub.models.search import IndexPending
from hub.models.social import Follow, FollowKind, Tagging, ThreadRead
from hub.models.web_sessions import SignInRequest, UsedSignInLink, WebSession

__all__ = [
    "AnonymousAuthor", "AnonymousPosting", "AuditEntry",
    "ArchiveImport",
    "AddressHealth", "BounceReport",
    "Document", "DocumentVersion",
    "HeldFile", "HeldMessage", "HeldStatus", "PostingPolicy", "UntrustedMail", "GroupKind", "PERSONAL_SLUG_PREFIX",
    "IndexPending",
    "Reaction",
    "Revision",
    "Department",
    "OrganisationVersion",
    "ActivityChannel", "HubDay", "PersonDay", "PostViewDay", "ViewEvent",
    "Follow", "FollowKind", "Tagging", "ThreadRead",
    "Channel", "Notification", "NotificationChannel", "NotificationKind",
    "Installation",
    "SignInRequest", "UsedSignInLink", "WebSession",
    "ApiToken", "Attachment", "Base", "Comment", "Delivery", "DigestWatermark", "Group",
    "ImapMailbox", "ImapMessage", "InboundMessage", "InboundStatus", "Membership", "OutgoingMail", "OutgoingStatus",
    "Post", "User", "utcnow",
]
