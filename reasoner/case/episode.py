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
#: The hip-origin pain generator's imaging findings (the ``hip_pain_generator`` presentation: ischiofemoral space
#: narrowing or hip osteoarthritis, mild or not) and the hip look-alike pains it explains (groin pain, and the
#: presentation's ``sk:suggestedBy`` features): in a case whose imaging shows the hip, such a pain recorded in no
#: dermatome is the hip's, not the spine's, so it is not of the low back pain or sciatica episode
_HIP = "hip_osteoarthritis mild_hip_osteoarthritis ischiofemoral_space_narrowing"
HIP_GENERATORS = frozenset(str(SK[n]) for n in _HIP.split())
HIP_PAINS = frozenset(str(SK[n]) for n in "groin_pain hip_provoked_pain long_stride_walking_pain hip_snapping".split())
_DERMATOME = str(SK.dermatome_)
#: The pain the phases are phases of (presentations.csv ``lbp_phase_*``: acute, subacute, chronic low back pain):
#: a ``sk:PainSymptom`` (axial, radicular, buttock pain ...; a symptom's types must name it, as the subclass
#: closure does) or neurogenic claudication (leg pain on walking, not a PainSymptom in findings.ttl). Numbness,
#: paresthesia, weakness and the other deficits are not: a deficit that outlasts an old episode is not this pain's
PAIN = frozenset({str(SK.PainSymptom), str(SK.neurogenic_claudication)})
#: Where a radicular pain is not sciatica (rule derive-lumbosacral-radicular-pain: a dermatome above L1, the hands)
_NOT_LUMBOSACRAL = NECK_AND_ARM | frozenset(str(SK[f"dermatome_T{n}"]) for n in range(2, 13))


def episode_rank(types: Iterable[str], locations: Iterable[str] = (), hip_generator: bool = False) -> int:
    """How far a present symptom is from the low back pain or sciatica episode the phases are phases of (the
    ``lbp_phase_*`` rows of presentations.csv): 0 for its pain (``types`` meet PAIN); 1 for another symptom of the
    back or legs (numbness, paresthesia, weakness: a painless foot drop still has an episode, its own); 2 for a sign
    of cord compression (CORD_SIGNS), a symptom recorded only in the neck or arm (its ``locations``, dermatome and
    body region IRIs, all in NECK_AND_ARM), or, in a case whose imaging shows a hip-origin pain generator
    (``hip_generator``: a finding of HIP_GENERATORS), a hip look-alike pain (HIP_PAINS) recorded in no dermatome;
    3 for a bladder, bowel or sexual symptom (SPHINCTER). The episode is measured on the nearest rank that has a
    duration.

    >>> pain, l5 = [str(SK.radicular_pain), str(SK.PainSymptom)], [str(SK.dermatome_L5)]
    >>> episode_rank(pain, l5), episode_rank([str(SK.numbness)], l5), episode_rank([str(SK.hand_clumsiness)])
    (0, 1, 2)
    >>> episode_rank(pain, [str(SK.dermatome_C6)]), episode_rank([str(SK.urinary_retention)])
    (2, 3)
    >>> groin = [str(SK.groin_pain), str(SK.PainSymptom)]
    >>> episode_rank(groin, [str(SK.groin)], hip_generator=True), episode_rank(groin, [str(SK.groin)])
    (2, 0)
    >>> episode_rank(groin, [str(SK.dermatome_L1)], hip_generator=True)
    0
    """
    kinds, where = set(types), set(locations)
    if kinds & SPHINCTER:
        return 3
    if kinds & CORD_SIGNS or (where and where <= NECK_AND_ARM):
        return 2
    if hip_generator and kinds & HIP_PAINS and not any(w.startswith(_DERMATOME) for w in where):
        return 2
    return 0 if kinds & PAIN else 1


def is_sciatica(types: Iterable[str], locations: Iterable[str] = ()) -> bool:
    """Whether a present symptom is sciatica, NICE NG59's leg pain of lumbosacral nerve root origin: a radicular pain
    (its ``types`` name ``sk:radicular_pain``) in no dermatome above L1 and not in the hands (its ``locations``), as
    rule derive-lumbosacral-radicular-pain reads it.

    >>> pain = [str(SK.radicular_pain), str(SK.PainSymptom)]
    >>> is_sciatica(pain, [str(SK.dermatome_L5)]), is_sciatica(pain), is_sciatica(pain, [str(SK.dermatome_C6)])
    (True, True, False)
    >>> is_sciatica([str(SK.axial_pain), str(SK.PainSymptom)])
    False
    """
    return str(SK.radicular_pain) in types and not _NOT_LUMBOSACRAL.intersection(locations)


def sciatica_length(weeks: Iterable[int | float], episode: int | float | None) -> int | float | None:
    """The sciatica's own length (``sk:sciaticaWeeks``): the longest of its pains' durations (``weeks``), where it is
    not the ``episode``'s; None where no sciatica is dated or it is the episode (whose phases are then the sciatica's).

    >>> sciatica_length([3], 260), sciatica_length([26, 4], 26), sciatica_length([], 260)
    (3, None, None)
    """
    longest = max(weeks, default=None)
    return None if longest is None or longest == episode else longest


def episode_length(dated: Iterable[tuple[int | float, int]]) -> int | float | None:
    """The longest duration among the symptoms of the nearest rank that has one (``(weeks, rank)`` pairs), or None.

    >>> episode_length([(150, 1), (2, 0), (16, 2), (520, 3)]), episode_length([(16, 2), (520, 3)])
    (2, 16)
    >>> episode_length([])
    """
    pairs = list(dated)
    nearest = min((rank for _, rank in pairs), default=None)
    return max((w for w, rank in pairs if rank == nearest), default=None)


def episode_lengths(
    dated: Iterable[tuple[int | float, Iterable[str], Iterable[str]]], hip_generator: bool = False
) -> tuple[int | float | None, int | float | None]:
    """The episode's length (``sk:episodeWeeks``: :func:`episode_length` of the :func:`episode_rank`) and the
    sciatica's own (``sk:sciaticaWeeks``: :func:`sciatica_length`) from the present symptoms' ``(weeks, types,
    locations)``.

    >>> axial = [str(SK.axial_pain), str(SK.PainSymptom)]
    >>> l5 = [str(SK.radicular_pain), str(SK.PainSymptom)], [str(SK.dermatome_L5)]
    >>> episode_lengths([(260, axial, []), (3, *l5)]), episode_lengths([(2, axial, []), (26, *l5)])
    ((260, 3), (26, None))
    """
    pairs = [(w, list(types), list(where)) for w, types, where in dated]
    episode = episode_length((w, episode_rank(types, where, hip_generator)) for w, types, where in pairs)
    return episode, sciatica_length((w for w, types, where in pairs if is_sciatica(types, where)), episode)


def before_episode(weeks_ago: float | None, weeks: float | None, episode: float | None) -> bool:
    """Whether a prior treatment ended before the episode began (``sk:CourseBeforeEpisode``): its ``weeks_ago`` is
    more than the ``episode``'s length and its own ``weeks`` (none where not recorded) together, so it ended before
    the episode began whether ``weeks_ago`` was meant from its end (the case field's definition) or from its start.
    Without ``weeks_ago`` or an episode length, it is not (this episode's, the reading that was spinekg's before).

    >>> before_episode(150, 6, 2), before_episode(8, 6, 2), before_episode(8, 5, 2), before_episode(3, None, 2)
    (True, False, True, True)
    >>> before_episode(2, None, 2), before_episode(None, 6, 2), before_episode(150, 6, None)
    (False, False, False)
    """
    return weeks_ago is not None and episode is not None and weeks_ago > episode + (weeks or 0)
