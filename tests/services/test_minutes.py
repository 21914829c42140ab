"""Minutes: the draft laid out from the session, saving without losing work, approval by
every chair of a joint session, lock and hash, corrections with a diff, and follow-ups."""

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from renkei.models import (
    ActionItem,
    MailMessage,
    MinutesSection,
    MinutesStatus,
    Pledge,
    SectionKind,
    Visibility,
)
from renkei.services import agenda, minutes, minutes_document, pledges, policy, scheduling
from renkei.services.agenda import ItemData
from renkei.services.errors import DomainError, Forbidden
from renkei.services.policy import MinutesView
from tests.helpers import body_named, count, person_by_email
from tests.sessions_helpers import (
    DAY,
    LAYER1,
    SUPPORT,
    approve_as_chairs,
    make_session,
    mark_held,
    record_attendance,
)

SECRET = "CANARY-MINUTES-SECRET-4411"
SENDER = "renkei@example.jp"


@pytest.fixture
def people(world):
    return {
        name: person_by_email(world, f"{name}@example.jp")
        for name in ("secretary", "chair.support", "chair.kyogitai", "member.both", "admin")
    }


@pytest.fixture
def joint(world, people, ctx):
    """A held joint session of the 支援会議 and the 第1層 協議体 with a confidential item of
    the 支援会議 and an attendees' item (session) of the 協議体."""
    support = body_named(world, SUPPORT)
    for name in ("secretary", "chair.support"):
        pledges.record_pledge(world, support, people[name], by=people[name])
    session = make_session(world, SUPPORT, LAYER1)
    for title, body, visibility in (
        ("個別ケース検討", SUPPORT, None),
        ("地域資源の報告", LAYER1, "session"),
    ):
        data = ItemData(
            title, body_named(world, body).id, planned_minutes=30, visibility=visibility
        )
        agenda.add_item(world, session, data, by=people["secretary"])
    scheduling.set_reply(world, session, people["member.both"], "attend")
    mark_held(world, session)
    record_attendance(world, session)
    world.commit()
    return session


# The agenda of a held session changes only as a correction (services.agenda).
CORRECTION = agenda.Correction("議事録作成中に判明した誤りの訂正")


def section(version, kind, body=None, world=None) -> MinutesSection:
    return next(
        s
        for s in version.sections
        if s.kind == kind and (body is None or s.body_id == body_named(world, body).id)
    )


def write(world, version, people, kind, text, body=None):
    target = section(version, kind, body, world)
    minutes.save_section(world, target, text, revision=target.revision, by=people["secretary"])
    world.commit()
    return target


@pytest.fixture
def draft(world, joint, people):
    version = minutes.open_minutes(world, joint, by=people["secretary"])
    world.commit()
    write(world, version, people, SectionKind.ITEM, f"支援方針を確認した。{SECRET}", SUPPORT)
    write(world, version, people, SectionKind.DECISIONS, "- 次回までに資料を整理する")
    return version


def test_draft_is_laid_out_from_the_session(world, joint, people):
    version = minutes.open_minutes(world, joint, by=people["secretary"])
    kinds = [s.kind for s in version.sections]
    assert kinds == [
        SectionKind.HEADER,
        SectionKind.ATTENDANCE,
        SectionKind.ATTENDANCE,
        SectionKind.ITEM,
        SectionKind.ITEM,
        SectionKind.DECISIONS,
        SectionKind.NEXT_SESSION,
    ]
    secret = section(version, SectionKind.ITEM, SUPPORT, world)
    assert (secret.title, secret.visibility) == ("個別ケース検討", Visibility.CONFIDENTIAL)
    assert section(version, SectionKind.ITEM, LAYER1, world).visibility == Visibility.SESSION
    # Sections of no item speak to the session: for its attendees, as the bodies are not
    # all public (the 協議体's own attendance is public).
    assert [(s.kind, s.visibility) for s in version.sections if s.agenda_item_id is None] == [
        (SectionKind.HEADER, Visibility.PUBLIC),
        (SectionKind.ATTENDANCE, Visibility.SESSION),
        (SectionKind.ATTENDANCE, Visibility.PUBLIC),
        (SectionKind.DECISIONS, Visibility.SESSION),
        (SectionKind.NEXT_SESSION, Visibility.SESSION),
    ]
    header = version.sections[0].text
    assert SUPPORT in header and LAYER1 in header and f"{DAY.month}月{DAY.day}日" in header
    # Attendance comes from the replies, per body: the shared member is in both.
    for body in (SUPPORT, LAYER1):
        assert "兼務 三郎" in section(version, SectionKind.ATTENDANCE, body, world).text


def test_minutes_only_for_a_held_session(world, people, ctx):
    session = make_session(world, SUPPORT)
    with pytest.raises(DomainError, match="開催済"):
        minutes.open_minutes(world, session, by=people["secretary"])


def test_only_the_secretariat_opens_minutes(world, joint, people):
    with pytest.raises(Forbidden):
        minutes.open_minutes(world, joint, by=people["member.both"])


def test_minutes_are_opened_once(world, joint, people):
    minutes.open_minutes(world, joint, by=people["secretary"])
    world.commit()
    with pytest.raises(DomainError):
        minutes.open_minutes(world, joint, by=people["secretary"])


# --- Saving ----------------------------------------------------------------------------------


def test_concurrent_edit_is_a_conflict_with_both_texts(world, draft, people):
    target = section(draft, SectionKind.DECISIONS)
    started_from = target.revision
    minutes.save_section(world, target, "Aの文", revision=started_from, by=people["secretary"])
    world.commit()
    with pytest.raises(minutes.EditConflict) as conflict:
        minutes.save_section(world, target, "Bの文", revision=started_from, by=people["secretary"])
    world.rollback()
    assert conflict.value.yours == "Bの文"
    assert conflict.value.section.text == "Aの文"
    assert str(conflict.value.message) == "他の人が更新しました。"
    world.expire_all()
    assert world.get(MinutesSection, target.id).text == "Aの文"


def test_a_save_from_the_latest_revision_wins(world, draft, people):
    target = section(draft, SectionKind.DECISIONS)
    before = target.revision
    minutes.save_section(world, target, "改訂", revision=before, by=people["secretary"])
    assert target.revision == before + 1 and target.text == "改訂"


def test_oversized_section_is_refused(world, draft, people):
    target = section(draft, SectionKind.DECISIONS)
    before = target.text
    with pytest.raises(DomainError, match="長すぎます"):
        minutes.save_section(world, target, "あ" * 1_000_000, revision=0, by=people["secretary"])
    world.rollback()
    assert world.get(MinutesSection, target.id).text == before


def test_item_section_visibility_follows_the_item(world, draft, people):
    target = section(draft, SectionKind.ITEM, LAYER1, world)
    with pytest.raises(DomainError):
        minutes.save_section(
            world,
            target,
            "x",
            revision=target.revision,
            by=people["secretary"],
            visibility="public",
        )


def test_an_item_made_confidential_closes_its_draft_section(world, joint, draft, people):
    item = next(i for i in joint.items if i.title == "地域資源の報告")
    data = ItemData(title=item.title, body_id=item.body_id, visibility="confidential")
    agenda.update_item(world, item, data, by=people["secretary"], correction=CORRECTION)
    world.commit()
    assert section(draft, SectionKind.ITEM, LAYER1, world).visibility == Visibility.CONFIDENTIAL


def test_an_item_added_later_gets_a_section(world, joint, draft, people):
    agenda.add_item(
        world,
        joint,
        ItemData(title="追加議題", body_id=joint.host_body_id),
        by=people["secretary"],
        correction=CORRECTION,
    )
    assert minutes.sync_with_agenda(world, draft) == 1
    kinds = [s.kind for s in draft.sections]
    assert kinds[-3:] == [SectionKind.ITEM, SectionKind.DECISIONS, SectionKind.NEXT_SESSION]
    assert [s.position for s in draft.sections] == list(range(1, len(draft.sections) + 1))


# --- Approval --------------------------------------------------------------------------------


def test_empty_minutes_cannot_be_submitted(world, joint, people, links):
    version = minutes.open_minutes(world, joint, by=people["secretary"])
    with pytest.raises(DomainError, match="空"):
        minutes.submit(world, version, by=people["secretary"], links=links, sender=SENDER)
    assert version.status == MinutesStatus.DRAFT


def test_joint_minutes_need_every_chair(world, draft, people, links):
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    world.commit()
    requests = world.scalars(select(MailMessage).where(MailMessage.kind == minutes.REQUEST)).all()
    assert {m.to_address for m in requests} == {
        "chair.support@example.jp",
        "chair.kyogitai@example.jp",
    }
    assert not any(SECRET.encode() in m.content for m in requests)

    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    minutes.decide(
        world,
        draft,
        support.id,
        approve=True,
        by=people["chair.support"],
        links=links,
        sender=SENDER,
    )
    world.commit()
    assert draft.status == MinutesStatus.SUBMITTED  # the 協議体's chair has not approved yet

    with pytest.raises(DomainError, match="すでに"):
        minutes.decide(
            world,
            draft,
            support.id,
            approve=True,
            by=people["chair.support"],
            links=links,
            sender=SENDER,
        )
    world.rollback()
    with pytest.raises(Forbidden):  # not the chair of the 支援会議
        minutes.decide(
            world,
            draft,
            support.id,
            approve=True,
            by=people["chair.kyogitai"],
            links=links,
            sender=SENDER,
        )
    world.rollback()

    minutes.decide(
        world,
        draft,
        layer1.id,
        approve=True,
        by=people["chair.kyogitai"],
        links=links,
        sender=SENDER,
    )
    world.commit()
    assert draft.status == MinutesStatus.APPROVED
    assert draft.approved_at is not None
    answers = world.scalars(select(MailMessage).where(MailMessage.kind == minutes.APPROVED)).all()
    assert {m.to_address for m in answers} == {"secretary@example.jp"}


def test_approved_minutes_are_locked_and_hashed(world, draft, people, links):
    approve_all(world, draft, people, links)
    expected = hashlib.sha256(
        json.dumps(
            {
                "session": draft.minutes.session_id,
                "version": 1,
                "sections": [
                    [s.position, s.kind.value, s.body_id, s.visibility.value, s.title, s.text]
                    for s in draft.sections
                ],
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    ).hexdigest()
    assert draft.content_hash == expected
    target = section(draft, SectionKind.DECISIONS)
    with pytest.raises(DomainError, match="編集できません"):
        minutes.save_section(
            world, target, "改ざん", revision=target.revision, by=people["secretary"]
        )
    world.rollback()
    # Any change to the stored text no longer matches the hash.
    target.text = "改ざん"
    assert minutes_document.content_hash(draft) != draft.content_hash


def test_minutes_approved_before_the_four_visibilities_still_match_their_hash(
    world, draft, people, links
):
    """Migration 0014 renamed `members` to `session` or `body` in approved versions too; the
    hash they were approved (and printed) with was taken over `members`, and still holds."""
    approve_all(world, draft, people, links)
    assert minutes_document.matches_hash(draft)

    def hashed(sections) -> str:
        content = {"session": draft.minutes.session_id, "version": 1, "sections": sections}
        text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    old = {"session": "members", "body": "members"}
    draft.content_hash = hashed(
        [
            [s.position, s.kind.value, s.body_id, old.get(s.visibility.value, s.visibility.value)]
            + [s.title, s.text]
            for s in draft.sections
        ]
    )
    assert any(s.visibility is Visibility.SESSION for s in draft.sections)
    assert minutes_document.matches_hash(draft)
    section(draft, SectionKind.DECISIONS).text = "改ざん"
    assert not minutes_document.matches_hash(draft)


def approve_all(world, version, people, links):
    minutes.submit(world, version, by=people["secretary"], links=links, sender=SENDER)
    approve_as_chairs(world, version, links, sender=SENDER)
    world.commit()


def test_return_with_comment_goes_back_to_draft(world, draft, people, links):
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    world.commit()
    layer1 = body_named(world, LAYER1)
    with pytest.raises(DomainError, match="コメント"):
        minutes.decide(
            world,
            draft,
            layer1.id,
            approve=False,
            by=people["chair.kyogitai"],
            links=links,
            sender=SENDER,
        )
    world.rollback()
    minutes.decide(
        world,
        draft,
        layer1.id,
        approve=False,
        comment="出席者の記載を確認してください",
        by=people["chair.kyogitai"],
        links=links,
        sender=SENDER,
    )
    world.commit()
    assert draft.status == MinutesStatus.DRAFT
    returned = world.scalars(select(MailMessage).where(MailMessage.kind == minutes.RETURNED)).one()
    assert returned.to_address == "secretary@example.jp"
    # The comment is read in Renkei: it may speak of closed items.
    assert "出席者の記載".encode() not in returned.content

    # Submitted again: the earlier round's decisions no longer count.
    write(world, draft, people, SectionKind.DECISIONS, "- 修正済み")
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    assert minutes.current_approvals(draft) == {}
    approve_as_chairs(world, draft, links, sender=SENDER)
    world.commit()
    assert draft.status == MinutesStatus.APPROVED


def test_a_chair_without_a_pledge_cannot_approve_what_they_cannot_see(world, draft, people, links):
    world.execute(delete(Pledge).where(Pledge.person_id == people["chair.support"].id))
    world.commit()
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    with pytest.raises(DomainError, match="守秘義務"):
        minutes.decide(
            world,
            draft,
            body_named(world, SUPPORT).id,
            approve=True,
            by=people["chair.support"],
            links=links,
            sender=SENDER,
        )


def test_withdrawn_minutes_can_be_edited_again(world, draft, people, links):
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    world.commit()
    target = section(draft, SectionKind.DECISIONS)
    with pytest.raises(DomainError):
        minutes.save_section(world, target, "x", revision=target.revision, by=people["secretary"])
    world.rollback()
    minutes.withdraw(world, draft, by=people["secretary"])
    minutes.save_section(world, target, "x", revision=target.revision, by=people["secretary"])
    assert target.text == "x"


# --- Corrections -----------------------------------------------------------------------------


def test_correction_is_a_new_version_with_a_diff(world, draft, people, links):
    approve_all(world, draft, people, links)
    approved_hash = draft.content_hash
    with pytest.raises(DomainError, match="理由"):
        minutes.start_correction(world, draft.minutes, reason=" ", by=people["secretary"])
    second = minutes.start_correction(
        world, draft.minutes, reason="誤字の訂正", by=people["secretary"]
    )
    world.commit()
    assert (second.number, second.status) == (2, MinutesStatus.DRAFT)
    write(world, second, people, SectionKind.DECISIONS, "- 次回までに資料を整理する\n- 追記")
    changes = {c.section.kind: c for c in minutes_document.diff(draft, second)}
    decisions = changes[SectionKind.DECISIONS]
    assert decisions.changed
    assert ("+", "- 追記") in decisions.lines
    assert (" ", "- 次回までに資料を整理する") in decisions.lines
    assert not changes[SectionKind.HEADER].changed
    # The approved version is untouched and still verifies.
    assert draft.status == MinutesStatus.APPROVED
    assert minutes_document.content_hash(draft) == approved_hash
    # Only one version at a time is being corrected.
    with pytest.raises(DomainError):
        minutes.start_correction(world, draft.minutes, reason="もう一度", by=people["secretary"])
    approve_all(world, second, people, links)
    assert second.content_hash and second.content_hash != approved_hash


# --- Renderings ------------------------------------------------------------------------------


def rendered(world, version, person, view, body=None) -> str:
    access = policy.session_access(world, person, version.minutes.session)
    sections = (
        minutes_document.body_part(version, body_named(world, body).id)
        if body
        else version.sections
    )
    parts = minutes_document.document(sections, access, view)
    return "\n".join(f"{p.heading}\n{p.section.text if p.shown else ''}" for p in parts)


def test_member_and_public_views_carry_no_confidential_text(world, draft, people):
    pledged = people["chair.support"]
    assert SECRET in rendered(world, draft, pledged, MinutesView.FULL)
    assert "個別ケース検討" in rendered(world, draft, pledged, MinutesView.FULL)
    for view in (MinutesView.MEMBER, MinutesView.PUBLIC):
        for person in (pledged, people["member.both"], people["chair.kyogitai"]):
            text = rendered(world, draft, person, view)
            assert SECRET not in text and "個別ケース検討" not in text
    public = rendered(world, draft, pledged, MinutesView.PUBLIC)
    assert "次回までに資料を整理する" not in public  # decisions are for members by default
    assert SUPPORT in public  # the outline is public


def test_extract_holds_general_sections_and_the_bodys_own(world, draft, people):
    layer1 = rendered(world, draft, people["chair.support"], MinutesView.FULL, LAYER1)
    assert "地域資源の報告" in layer1 and SECRET not in layer1
    support = rendered(world, draft, people["chair.support"], MinutesView.FULL, SUPPORT)
    assert SECRET in support and "地域資源の報告" not in support


def test_full_view_only_for_those_entitled_to_every_section(world, draft, people):
    session = draft.minutes.session
    for name, allowed in (("chair.support", True), ("chair.kyogitai", False), ("admin", False)):
        access = policy.session_access(world, people[name], session)
        assert policy.can_use_full_view(access, draft.sections) is allowed


# --- Action items ----------------------------------------------------------------------------


def test_action_items_reach_their_owner_until_done(world, draft, people):
    decisions = section(draft, SectionKind.DECISIONS)
    action = minutes.add_action(
        world,
        decisions,
        text="資料を整理する",
        owner_id=people["member.both"].id,
        due_on=None,
        by=people["secretary"],
    )
    world.commit()
    assert minutes.open_actions(world, people["member.both"]) == [action]
    minutes.set_action_done(world, action, done=True, by=people["member.both"])
    assert minutes.open_actions(world, people["member.both"]) == []


def test_a_confidential_task_only_for_those_entitled(world, draft, people):
    secret = section(draft, SectionKind.ITEM, SUPPORT, world)
    with pytest.raises(DomainError, match="閲覧|見る|may not") as refused:
        minutes.add_action(
            world,
            secret,
            text="ケースの支援計画を作る",
            owner_id=people["chair.kyogitai"].id,
            due_on=None,
            by=people["secretary"],
        )
    assert refused.value.field == "owner_id"
    world.rollback()
    assert count(world, ActionItem) == 0
    with pytest.raises(DomainError):
        minutes.add_action(
            world,
            secret,
            text="  ",
            owner_id=people["chair.support"].id,
            due_on=None,
            by=people["secretary"],
        )


def test_next_session_is_named_only_if_it_serves_every_body(world, joint, people):
    """A 支援会議 of its own must not appear in minutes a 協議体 member reads."""
    make_session(world, SUPPORT, day=DAY + timedelta(days=7), place="支援会議だけの会場")
    version = minutes.open_minutes(world, joint, by=people["secretary"])
    assert section(version, SectionKind.NEXT_SESSION).text == ""
    world.rollback()
    make_session(world, SUPPORT, LAYER1, day=DAY + timedelta(days=14), place="合同の会場")
    version = minutes.open_minutes(world, joint, by=people["secretary"])
    assert "合同の会場" in section(version, SectionKind.NEXT_SESSION).text


def test_an_item_opened_later_does_not_open_its_section(world, joint, draft, people):
    item = next(i for i in joint.items if i.title == "個別ケース検討")
    data = ItemData(title="改題", body_id=item.body_id, visibility="public", confirm_wider=True)
    agenda.update_item(world, item, data, by=people["secretary"], correction=CORRECTION)
    secret = next(s for s in draft.sections if s.agenda_item_id == item.id)
    assert (secret.title, secret.visibility) == ("改題", Visibility.CONFIDENTIAL)


def test_a_save_after_submission_is_refused(world, draft, people, links):
    target = section(draft, SectionKind.DECISIONS)
    revision = target.revision
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    world.commit()
    with pytest.raises(DomainError, match="編集できません"):
        minutes.save_section(
            world, target, "遅れた自動保存", revision=revision, by=people["secretary"]
        )


def test_a_chair_without_a_login_is_named_before_submission(world, draft, people, links):
    people["chair.kyogitai"].password_hash = None
    world.commit()
    with pytest.raises(DomainError, match="ログイン"):
        minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    assert draft.status == MinutesStatus.DRAFT


def test_the_chairs_still_to_decide_and_the_returns_as_each_reader_sees_them(
    world, draft, people, links
):
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)

    def access(name):
        return policy.session_access(world, people[name], draft.minutes.session)

    assert minutes.awaiting_decision(draft, access("chair.support")) == []  # not submitted
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    assert minutes.awaiting_decision(draft, access("chair.support")) == [support]
    assert minutes.awaiting_decision(draft, access("secretary")) == []
    minutes.decide(
        world,
        draft,
        support.id,
        approve=True,
        by=people["chair.support"],
        links=links,
        sender=SENDER,
    )
    assert minutes.awaiting_decision(draft, access("chair.support")) == []
    assert list(minutes.decisions(draft, access("secretary"))) == [support.id]
    comment = "個別ケースの記載を確認してください"
    minutes.decide(
        world,
        draft,
        layer1.id,
        approve=False,
        comment=comment,
        by=people["chair.kyogitai"],
        links=links,
        sender=SENDER,
    )
    world.commit()
    returned = minutes.returns(draft, access("secretary"))
    assert [(d.approval.body_id, d.approval.comment) for d in returned] == [(layer1.id, comment)]
    # The 協議体's part holds no confidential section: its chair's comment is readable.
    assert returned[0].comment_shown


def test_a_returned_comment_stays_hidden_from_a_reader_not_entitled_to_the_closed_sections(
    world, draft, people, links
):
    support = body_named(world, SUPPORT)
    minutes.submit(world, draft, by=people["secretary"], links=links, sender=SENDER)
    minutes.decide(
        world,
        draft,
        support.id,
        approve=False,
        comment=SECRET,
        by=people["chair.support"],
        links=links,
        sender=SENDER,
    )
    world.commit()
    world.execute(delete(Pledge).where(Pledge.person_id == people["secretary"].id))
    world.commit()
    unpledged = policy.session_access(world, people["secretary"], draft.minutes.session)
    [returned] = minutes.returns(draft, unpledged)
    assert returned.approval.body_id == support.id and not returned.comment_shown
