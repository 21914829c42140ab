"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from renkei.models import (
    calendar_stamps,  # noqa: F401  (registers the flush listener)
    calendar_versions,  # noqa: F401  (registers the flush listener)
)
from renkei.models.attendance import Attendance, ItemPresence, Presence
from renkei.models.audit import AuditEntry, AuditHead
from renkei.models.bodies import (
    Authority,
    Body,
    BodyKind,
    Confidentiality,
    Layer,
    Membership,
    Programme,
    QuorumRule,
    Role,
)
from renkei.models.calendar_copies import CalendarCopy
from renkei.models.case_numbers import CaseNumberCounter
from renkei.models.convening import (
    Participant,
    SelectedMember,
    Selection,
    SessionPledge,
    participant_items,
)
from renkei.models.feeds import FeedCopy, FeedFragment
from renkei.models.installation import Installation
from renkei.models.local_issues import (
    IssueDiscussion,
    IssueStatus,
    LocalIssue,
    LocalIssueEvent,
)
from renkei.models.logins import LoginFailure, PasswordReset
from renkei.models.mail import MailMessage, MailStatus
from renkei.models.materials import Material, MaterialVersion
from renkei.models.minutes import (
    ActionItem,
    Approval,
    Decision,
    MaterialRef,
    Minutes,
    MinutesSection,
    MinutesStatus,
    MinutesVersion,
    SectionKind,
)
from renkei.models.organisations import Organisation, OrganisationKind
from renkei.models.people import Person
from renkei.models.pledges import Pledge
from renkei.models.polls import (
    Choice,
    Poll,
    PollAnswer,
    PollAnswerChange,
    PollInvitee,
    PollLink,
    PollSlot,
    PollStatus,
)
from renkei.models.posts import Post
from renkei.models.referrals import Consent, Referral, ReferralEvent, ReferralStatus, Topic
from renkei.models.search import SearchEntry, SearchKind
from renkei.models.sessions import (
    AgendaItem,
    Answer,
    Guest,
    MeetingSession,
    Mode,
    Reply,
    Series,
    SessionChange,
    Status,
    Visibility,
)
from renkei.models.submissions import FormSubmission
from renkei.models.tasks import TaskCarry, TaskEvent

__all__ = [
    "SearchEntry",
    "SearchKind",
    "IssueDiscussion",
    "IssueStatus",
    "LocalIssue",
    "LocalIssueEvent",
    "Consent",
    "Referral",
    "ReferralEvent",
    "ReferralStatus",
    "Topic",
    "CalendarCopy",
    "Installation",
    "CaseNumberCounter",
    "Participant",
    "SelectedMember",
    "Selection",
    "SessionPledge",
    "participant_items",
    "FeedCopy",
    "FeedFragment",
    "FormSubmission",
    "Material",
    "MaterialVersion",
    "Attendance",
    "ItemPresence",
    "Presence",
    "Post",
    "Choice",
    "Poll",
    "PollAnswer",
    "PollAnswerChange",
    "PollInvitee",
    "PollLink",
    "PollSlot",
    "PollStatus",
    "QuorumRule",
    "AuditEntry",
    "AuditHead",
    "ActionItem",
    "Approval",
    "Decision",
    "MaterialRef",
    "Minutes",
    "MinutesSection",
    "MinutesStatus",
    "MinutesVersion",
    "SectionKind",
    "TaskCarry",
    "TaskEvent",
    "AgendaItem",
    "Answer",
    "Guest",
    "LoginFailure",
    "MailMessage",
    "MailStatus",
    "MeetingSession",
    "Mode",
    "Pledge",
    "Reply",
    "Series",
    "SessionChange",
    "Status",
    "Visibility",
    "Authority",
    "Body",
    "BodyKind",
    "Layer",
    "Confidentiality",
    "Membership",
    "Organisation",
    "OrganisationKind",
    "PasswordReset",
    "Person",
    "Programme",
    "Role",
]
