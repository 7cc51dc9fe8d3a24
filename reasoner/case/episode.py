"""The episode the duration phases rest on: which present symptoms' durations measure the low back pain episode."""

from __future__ import annotations

from collections.abc import Iterable

from ..consts import SK

#: Bladder, bowel and sexual symptoms are not the pain whose duration is the episode (they count only alone)
_SPHINCTER = "urinary_incontinence urinary_retention fecal_incontinence sexual_dysfunction"
#: Signs of spinal cord compression (a myelopathy, graded or not, and its signs in the KB's myelopathy class):
#: their own course, graded by mJOA, not the low back pain or sciatica episode's
_CORD = "myelopathy severe_myelopathy_finding hand_clumsiness gait_disturbance"
SPHINCTER = frozenset(str(SK[n]) for n in _SPHINCTER.split())
CORD_SIGNS = frozenset(str(SK[n]) for n in _CORD.split())
NOT_THE_EPISODE = SPHINCTER | CORD_SIGNS
#: The neck and the upper limb, the cervical spine's territory (dermatomes C2 to T1, the hands): a symptom recorded
#: only there (neck pain, a C6 arm pain, numb hands) is not of the low back pain or sciatica episode
NECK_AND_ARM = frozenset([str(SK[f"dermatome_{d}"]) for d in "C2 C3 C4 C5 C6 C7 C8 T1".split()] + [str(SK.hands)])


def episode_rank(types: Iterable[str], locations: Iterable[str] = ()) -> int:
    """How far a present symptom is from the low back pain or sciatica episode the phases are phases of (the
    ``lbp_phase_*`` rows of presentations.csv): 0 for one of it; 1 for a sign of cord compression (CORD_SIGNS) or
    a symptom recorded only in the neck or arm (its ``locations``, dermatome and body region IRIs, all in
    NECK_AND_ARM); 2 for a bladder, bowel or sexual symptom (SPHINCTER). The episode is measured on the nearest
    rank that has a duration.

    >>> episode_rank([str(SK.radicular_pain)], [str(SK.dermatome_L5)]), episode_rank([str(SK.hand_clumsiness)])
    (0, 1)
    >>> episode_rank([str(SK.radicular_pain)], [str(SK.dermatome_C6)]), episode_rank([str(SK.urinary_retention)])
    (1, 2)
    """
    kinds, where = set(types), set(locations)
    if kinds & SPHINCTER:
        return 2
    return 1 if kinds & CORD_SIGNS or (where and where <= NECK_AND_ARM) else 0


def episode_length(dated: Iterable[tuple[int | float, int]]) -> int | float | None:
    """The longest duration among the symptoms of the nearest rank that has one (``(weeks, rank)`` pairs), or None.

    >>> episode_length([(16, 1), (8, 0), (520, 2)]), episode_length([(16, 1), (520, 2)]), episode_length([])
    (8, 16, None)
    """
    pairs = list(dated)
    nearest = min((rank for _, rank in pairs), default=None)
    return max((w for w, rank in pairs if rank == nearest), default=None)
