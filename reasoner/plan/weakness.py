"""Warnings for a leg weakness whose record leaves a red flag open: a weakness recorded without a side (it could be
bilateral leg weakness, or a progressive neurological deficit), and a weakness of this episode whose MRC grade or
course is not recorded (graded MRC 3 or less, or getting worse at any grade, it would be a progressive neurological
deficit). spinekg raises neither red flag on such a record, nor reads it as absent: the progressive deficit's steps
are unknown (rule red-flag-present-weakness-grade-or-course-unrecorded-unknown), and the warning asks for the fields
that decide it and for an early review (:mod:`reasoner.plan.followup`; clinician's reviews R16 #1, R17 #1 and #2).

Each is a warning, never a step, and never a red flag of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..case.paths import path_key
from ..consts import SK
from ..kb.index import local
from ..reasoning.engine import CaseRun, Reasoner
from .model import REVIEW_EARLY, Step, Warning
from .words import steps_named

_WEAKNESS, _BOTH_SIDES = str(SK.weakness), str(SK.bilateral_leg_weakness)
_THIS_EPISODE, _BOTH_LEGS = str(SK.weakness_of_this_episode), str(SK.both_legs)
_CES, _PROGRESSIVE = str(SK.cauda_equina_syndrome_suspected), str(SK.progressive_neurological_deficit)
_LAT, _DERM, _REGION = str(SK.laterality), str(SK.inDermatome), str(SK.inBodyRegion)
_MRC, _WORSE, _WEEKS = str(SK.mrcGrade), str(SK.progressive), str(SK.durationWeeks)
_EXAM = "neurological_examination"
#: red_flags.csv's row for the progressive neurological deficit, its trigger and its action, as the warnings quote them
_WORSENING = (
    "red_flags.csv: \u201cworsening motor weakness (e.g., foot drop progression)\u201d, whose action is \u201curgent "
    "MRI + urgent spine surgical referral\u201d"
)
#: the review the warnings ask for while the red flag is undecided (spinekg's judgement)
_UNTIL = f"until then {REVIEW_EARLY} (spinekg's judgement, which no source in its reference gives)"


def undecided(run: CaseRun, fact: str) -> list[str]:
    """The fields of a weakness that leave the progressive neurological deficit undecided, of ``strength_mrc`` and
    ``progressive`` (as rule red-flag-present-weakness-grade-or-course-unrecorded-unknown): a weakness of this
    episode with no MRC grade, or no course recorded, whatever its grade, unless recorded not progressive and of 12
    weeks or more (long-standing and stable, which no grade makes a red flag); [] where it is decided. Whether the red
    flag is raised or excluded is the caller's to ask."""
    if _THIS_EPISODE not in run.fact_types.get(fact, ()):
        return []
    rec = run.details.get(fact, {})
    course = {str(v).lower() for v in rec.get(_WORSE, ())}
    if "false" in course and any(float(w) >= 12 for w in rec.get(_WEEKS, ())):
        return []
    return [name for name, prop in (("strength_mrc", _MRC), ("progressive", _WORSE)) if not rec.get(prop)]


def _open_flag(run: CaseRun) -> bool:
    """Whether the progressive neurological deficit is neither raised nor excluded: a weakness can leave it open."""
    return _PROGRESSIVE not in run.red_flags and _PROGRESSIVE not in run.excluded_flags


def _leg_places(reasoner: Reasoner) -> frozenset[str]:
    """The dermatomes and body regions of the legs: those the both-legs region spans, the regions that are part of it,
    and the region itself (read from the KB once per reasoner)."""
    key = ("leg_places",)
    if key not in reasoner.cache:
        kb = reasoner.kb
        places = {str(d) for d in kb.objects(SK.both_legs, SK.spansDermatome)}
        places |= {str(r) for r in kb.subjects(SK.partOfRegion, SK.both_legs)} | {_BOTH_LEGS}
        reasoner.cache[key] = frozenset(places)
    return reasoner.cache[key]


def _no_side(reasoner: Reasoner, run: CaseRun, fact: str) -> bool:
    """Whether weakness_side_not_recorded speaks for the weakness: recorded with no side, in a leg or not placed (not
    in both legs by its place, not only outside the legs, not a weakness of both legs recorded one side at a time)."""
    types, rec = run.fact_types.get(fact, ()), run.details.get(fact, {})
    if _WEAKNESS not in types or _BOTH_SIDES in types or rec.get(_LAT):
        return False
    places = rec.get(_DERM, set()) | rec.get(_REGION, set())
    return _BOTH_LEGS not in places and not (places and places.isdisjoint(_leg_places(reasoner)))


def weakness_side_not_recorded(
    reasoner: Reasoner, run: CaseRun, steps: Iterable[Step], path: Callable[[str], str]
) -> list[Warning]:
    """A weakness recorded with no side, in a leg or not placed at all (a weakness only in an arm is not a leg's):
    were it in both legs, it would be bilateral leg weakness, a trigger red_flags.csv lists of suspected cauda equina
    syndrome; were it worsening, graded MRC 3 or less, or of two or more roots, a progressive neurological deficit.
    spinekg raises neither on the record as it stands ("legs feel weak" is not bilateral weakness), and says which
    fields decide them: the side, and for the progressive deficit the dermatomes, the grade and the course. A red flag
    the case already raises, or lists as excluded beside a finding that would raise it, is not named again; with
    neither left, nothing is said.

    The plan's neurological examination step, where a source gives one for the case, is named; where none does, the
    warning says so (spinekg adds no step its sources do not give)."""
    idx, out = reasoner.index, []
    weak = [f for f in run.fact_types if _no_side(reasoner, run, f)]
    for fact in sorted(weak, key=lambda f: path_key(path(f))):  # only the few weaknesses are sorted
        rec = run.details.get(fact, {})
        at = path(fact)
        flags, named, unrecorded = [], [], [f"{at}.laterality"]
        if _CES not in run.red_flags and _CES not in run.excluded_flags:
            flags.append(
                "were it in both legs, it would be bilateral leg weakness, which red_flags.csv lists among the "
                f"triggers of {idx.label(_CES)} [{local(_CES)}] (\u201cbilateral sciatica or bilateral leg "
                "weakness\u201d)"
            )
            named.append(local(_CES))
        missing = {name: not rec.get(prop) for name, prop in (("progressive", _WORSE), ("strength_mrc", _MRC))}
        missing["dermatomes"] = not rec.get(_DERM)
        if any(missing.values()) and _open_flag(run):
            raising = [words for name, words in (("progressive", "getting worse"), ("strength_mrc", "graded MRC 3 or "
                       "less (spinekg's cut-off for a severe motor deficit)")) if missing[name]]  # fmt: skip
            said = []
            if raising:
                said.append(
                    f"were it {' or '.join(raising)}, it would be a trigger of {idx.label(_PROGRESSIVE)} "
                    f"[{local(_PROGRESSIVE)}] (red_flags.csv: \u201cworsening motor weakness (e.g., foot drop "
                    "progression), multi-root deficits\u201d), on which spinekg raises it"
                )
            if missing["dermatomes"]:
                said.append(
                    "were it of two or more roots, it would be a multi-root deficit, which red_flags.csv lists among "
                    f"the triggers of {idx.label(_PROGRESSIVE)} [{local(_PROGRESSIVE)}] (spinekg warns of it, and "
                    "does not raise the red flag on it alone)"
                )
            flags += said
            named.append(local(_PROGRESSIVE))
            unrecorded += [f"{at}.{name}" for name in ("dermatomes", "strength_mrc", "progressive") if missing[name]]
        if not flags:
            continue
        exam = [s for s in steps if s.id == _EXAM and s.stance != "avoid"]
        examined = (
            "the plan's "
            + steps_named(exam)
            + (" are where they are examined" if len(exam) > 1 else " is where they are examined")
            if exam
            else "no source recommendation of a neurological examination applies to this case, and spinekg adds no "
            "step its sources do not give: they come from the clinician's examination"
        )
        which = "neither red flag" if len(named) > 1 else "that red flag"
        # its grade or course unrecorded, the progressive deficit is undecided, not absent: said, with the early review
        # the sided weakness gets (clinician's review R17 #2: no side and no grade was booked at 6 weeks)
        fields = undecided(run, fact) if local(_PROGRESSIVE) in named else []
        open_ = (
            f"; nor does it read {idx.label(_PROGRESSIVE)} as absent: the recommendations that need it are undecided "
            f"(`spinekg why-not`), so {_ask(fields)}"
            if fields
            else ""
        )
        out.append(
            Warning(
                "weakness_side_not_recorded",
                f"weakness ({at}) is recorded without a side: " + "; ".join(flags) + f". spinekg raises {which} on "
                f"this record as it stands (a weakness of unknown side is not bilateral weakness){open_}: record "
                f"{', '.join(unrecorded)} and plan again; {examined}" + (f"; {_UNTIL}" if fields else ""),
                (at, *unrecorded, *named),
            )
        )
    return out


def _ask(fields: list[str]) -> str:
    """What to find out, for the fields that leave the red flag undecided."""
    grade, course = "strength_mrc" in fields, "progressive" in fields
    if grade and course:
        return "grade the weakness (MRC) and ask whether it is getting worse"
    return "grade the weakness (MRC)" if grade else "ask whether the weakness is getting worse"


def weakness_grade_not_recorded(reasoner: Reasoner, run: CaseRun, path: Callable[[str], str]) -> list[Warning]:
    """A weakness of this episode (one with no side in a leg, or not placed: weakness_side_not_recorded) whose MRC grade
    (``weakness_grade_not_recorded``) or, graded, whose course (``weakness_course_not_recorded``) is not recorded, not
    recorded both stable and of 12 weeks or more, while the progressive neurological deficit is neither raised nor
    excluded: graded MRC 3 or less, or getting worse at any grade, it would raise that red flag, so the
    recommendations that need it are unknown, not failed (a missing fact is not read as false), and the plan asks for
    the grade and the course and an early review. Clinician's review R16 #1: "L5 weakness, left", no grade, was given
    routine care and a review at 6 weeks; R17 #1: an MRC 4 weakness with no course was read as not worsening, while
    the same note with "progressive" got an urgent MRI. The red flag is not raised on a weakness of unknown grade or
    course: most are mild and settle."""
    if not _open_flag(run):
        return []
    idx, out = reasoner.index, []
    weak = [f for f, types in run.fact_types.items() if _THIS_EPISODE in types]
    for fact in sorted(weak, key=lambda f: path_key(path(f))):
        rec = run.details.get(fact, {})
        names = undecided(run, fact)
        if not names or _no_side(reasoner, run, fact):
            continue  # one with no side in a leg: weakness_side_not_recorded says it
        at = path(fact)
        fields = [f"{at}.{name}" for name in names]
        if "strength_mrc" in names:
            wid = "weakness_grade_not_recorded"
            what = f"without an MRC grade{' or its course' if 'progressive' in names else ''}: graded MRC 3 or less "
            what += "(spinekg's cut-off for a severe motor deficit) or getting worse"
        else:
            wid = "weakness_course_not_recorded"
            grades = "/".join(sorted(str(g) for g in rec.get(_MRC, ())))
            what = f"graded MRC {grades} without its course (whether it is getting worse): getting worse, at any grade"
        ask = _ask(names)
        out.append(
            Warning(
                wid,
                f"weakness ({at}) is recorded {what}, it would raise {idx.label(_PROGRESSIVE)} "
                f"[{local(_PROGRESSIVE)}] ({_WORSENING}). spinekg neither raises it on this record nor reads it as "
                "absent: the recommendations that need it are undecided (`spinekg why-not`). "
                f"{ask[0].upper()}{ask[1:]}, "
                f"record {' and '.join(fields)} and plan again; {_UNTIL}",
                (at, *fields, local(_PROGRESSIVE)),
            )
        )
    return out
