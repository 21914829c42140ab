"""Posts (職): the funded positions a person holds per programme, which decide whose meeting
hours are apportioned and to what (docs/architecture.md, "Minutes and apportionment")."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from renkei.i18n import lazy_gettext as _l
from renkei.models import Person, Post, Programme
from renkei.services import policy
from renkei.services.errors import DomainError, Forbidden

MAX_TITLE = 100

# What the notice names; offered as suggestions, any title may be typed.
SUGGESTED_TITLES = {
    Programme.LIVELIHOOD: ("主任相談支援員", "相談支援員", "就労支援員"),
    Programme.CARE_INSURANCE: ("生活支援コーディネーター",),
}


@dataclass
class PostData:
    programme: str
    title: str
    start_on: date
    end_on: date | None = None


def posts_of(db: Session, person: Person) -> list[Post]:
    return list(
        db.scalars(select(Post).where(Post.person_id == person.id).order_by(Post.start_on, Post.id))
    )


def holders(db: Session, first: date, last: date) -> list[Person]:
    """Everyone holding a post at some time between ``first`` and ``last``."""
    held = (Post.start_on <= last) & ((Post.end_on.is_(None)) | (Post.end_on >= first))
    people = db.scalars(
        select(Person)
        .where(Person.id.in_(select(Post.person_id).where(held)))
        .order_by(Person.kana, Person.name, Person.id)
    )
    return list(people)


def posts_by_person(db: Session, person_ids: set[int]) -> dict[int, list[Post]]:
    rows = db.scalars(select(Post).where(Post.person_id.in_(person_ids)).order_by(Post.start_on))
    result: dict[int, list[Post]] = {}
    for post in rows:
        result.setdefault(post.person_id, []).append(post)
    return result


def _require_admin(by: Person) -> None:
    if not policy.can_manage_posts(by):
        raise Forbidden(_l("Only an administrator may change posts."))


def add_post(db: Session, person: Person, data: PostData, *, by: Person) -> Post:
    _require_admin(by)
    try:
        programme = Programme(data.programme)
    except ValueError:
        raise DomainError(_l("Choose a programme."), "programme") from None
    title = data.title.strip()
    if not title:
        raise DomainError(_l("Enter the title of the post, such as 相談支援員."), "title")
    if len(title) > MAX_TITLE:
        raise DomainError(_l("Use at most %(max)d characters.", max=MAX_TITLE), "title")
    if data.end_on is not None and data.end_on < data.start_on:
        raise DomainError(_l("The post cannot end before it starts."), "end_on")
    post = Post(
        person_id=person.id,
        programme=programme,
        title=title,
        start_on=data.start_on,
        end_on=data.end_on,
    )
    _check_overlap(db, post)
    db.add(post)
    db.flush()
    return post


def _check_overlap(db: Session, post: Post) -> None:
    """The same post twice at once is a typing slip (the report lists posts held)."""
    for other in db.scalars(select(Post).where(Post.person_id == post.person_id)):
        if other.id == post.id or other.programme != post.programme or other.title != post.title:
            continue
        if _overlaps(other, post.start_on, post.end_on):
            raise DomainError(
                _l("%(title)s is already held for part of that period.", title=post.title),
                "start_on",
            )


def _overlaps(post: Post, first: date, last: date | None) -> bool:
    return (last is None or post.start_on <= last) and (post.end_on is None or post.end_on >= first)


def end_post(db: Session, post: Post, on: date, *, by: Person) -> None:
    """The post ends on ``on`` (its last day); it stays on record for past years' reports."""
    _require_admin(by)
    if on < post.start_on:
        raise DomainError(_l("The post cannot end before it starts."), "end_on")
    post.end_on = on
    _check_overlap(db, post)
    db.flush()


def delete_post(db: Session, post: Post, *, by: Person) -> None:
    """For a post entered by mistake; a post that ended is ended, not deleted."""
    _require_admin(by)
    db.delete(post)
    db.flush()
