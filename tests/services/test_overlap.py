from datetime import timedelta

from renkei.services import memberships, overlap, policy
from renkei.services.dates import today
from tests.helpers import body_named, person_by_email

SUPPORT = "みどり町支援会議"
LAYER1 = "みどり町生活支援体制整備協議体（第1層）"
COORDINATION = "みどり町支援調整会議"


def test_matrix_counts_current_members_shared_by_each_pair(world):
    secretary = person_by_email(world, "secretary@example.jp")
    matrix = overlap.overlap_matrix(world, policy.managed_body_ids(world, secretary))
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    shared = {p.name for p in matrix.shared(support.id, layer1.id)}
    # The demo's secretary, 兼務 三郎, 民生 ふみ and 介護 由美 sit on both.
    assert shared == {"事務 花子", "兼務 三郎", "民生 ふみ", "介護 由美"}
    assert matrix.count(support.id, layer1.id) == matrix.count(layer1.id, support.id) == 4


def test_matrix_ignores_ended_terms(world):
    secretary = person_by_email(world, "secretary@example.jp")
    support, layer1 = body_named(world, SUPPORT), body_named(world, LAYER1)
    member = person_by_email(world, "member.both@example.jp")
    term = next(m for m in memberships.person_memberships(world, member) if m.body == layer1)
    memberships.end_membership(world, term, today() - timedelta(days=1), by=secretary)
    matrix = overlap.overlap_matrix(world, {support.id, layer1.id})
    assert "兼務 三郎" not in {p.name for p in matrix.shared(support.id, layer1.id)}


def test_matrix_covers_only_the_bodies_a_secretary_runs(world):
    chair = person_by_email(world, "chair.support@example.jp")
    assert policy.managed_body_ids(world, chair) == set()
    secretary = person_by_email(world, "secretary@example.jp")
    assert body_named(world, COORDINATION).id in policy.managed_body_ids(world, secretary)


def test_pairs_are_sorted_most_shared_first(world):
    secretary = person_by_email(world, "secretary@example.jp")
    matrix = overlap.overlap_matrix(world, policy.managed_body_ids(world, secretary))
    counts = [n for _a, _b, n in matrix.pairs()]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 4
