"""The presentations the synthetic cases are drawn from: one per source article, one per red flag.

Each article presentation is red-flag free by construction (so the generator knows which red flags a case must
raise); each red-flag presentation adds exactly the findings of its red flag.
"""

from __future__ import annotations

import random

#: Seed 002: "27.2% of patients receive radiography and 11.1% receive CT/MRI within 4 weeks".
EARLY_RADIOGRAPHY, EARLY_CT_MRI = 0.272, 0.111

#: The oldest age a presentation has: back or leg pain at 70 or over is a suspected fracture red flag in the KB
#: (``sk:back_pain_in_older_patient``), and a presentation carries no red flag of its own.
OLDEST = 69
SIDES = ("left", "right")
SEVERITIES = ("mild", "moderate", "severe")
# radiculopathy by root: the dermatome, the body regions spanning it, and disc levels that reach the root
# (paracentral herniation → traversing root; foraminal stenosis → exiting root)
ROOTS = {
    "L3": (("medial_knee", "anterior_thigh"), "L2-L3", "L3-L4"),
    "L4": (("medial_leg",), "L3-L4", "L4-L5"),
    "L5": (("lateral_leg", "dorsum_of_foot"), "L4-L5", "L5-S1"),
    "S1": (("lateral_foot",), "L5-S1", None),
}
ROOT_WEIGHTS = {"L5": 0.45, "S1": 0.40, "L4": 0.10, "L3": 0.05}
DISC_LEVELS = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
VERTEBRAE = ("T12", "L1", "L2", "L3", "L4", "L5")
DURATIONS = (0.5, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 26, 52)
CONSERVATIVE = ("conservative_care", "physical_therapy", "nsaid", "activity_modification", "acetaminophen")
OUTCOMES = ("improved", "unchanged", "worse", "failed")


class Draft:
    """A case being drawn: a random source and the case's fields.

    ``more`` is a second random source for the fields the case format gained later (zones, MRC grades, vitals,
    labs, the red-flag screen): drawing them from it leaves every earlier field of every case as it was.
    """

    def __init__(self, rng: random.Random, case_id: str, more: random.Random | None = None):
        self.rng = rng
        self.more = more if more is not None else random.Random(f"{case_id}:more")
        self.id = case_id
        self.age: int | None = None
        self.sex: str | None = None
        self.symptoms: list[dict] = []
        self.imaging: list[dict] = []
        self.risk_factors: list[str] = []
        self.prior_treatments: list[dict] = []
        self.scores: dict[str, int | str] = {}
        self.vitals: dict[str, float] = {}
        self.labs: dict[str, float] = {}
        self.red_flag_screen: dict[str, str] | None = None
        self.candidate_for: list[str] = []
        self.red_flags_excluded: list[str] = []

    def p(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options):
        return self.rng.choice(options)

    def weighted(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def also(self, probability: float) -> bool:
        """A draw for a later field (from ``more``)."""
        return self.more.random() < probability

    def zone(self, finding: dict, zones: tuple[str, ...], probability: float = 0.5) -> None:
        """Now and then, the zone the report gives a finding at a disc level (one that reaches the same root)."""
        if self.also(probability):
            finding["zone"] = self.more.choice(zones)

    def normal_measurements(self) -> None:
        """Vital signs and blood results inside the limits the red flags are defined by (a presentation carries no
        red flag): temperature under 38.0 degrees C, CRP at most 10 mg/L, ESR at most 20 mm/h, WBC at most 11."""
        if self.also(0.15):
            self.vitals["temperature_c"] = round(self.more.uniform(36.0, 37.6), 1)
        if self.also(0.08):
            self.labs["crp_mg_l"] = round(self.more.uniform(0.5, 9.5), 1)
            if self.also(0.7):
                self.labs["esr_mm_h"] = self.more.randint(2, 20)
            if self.also(0.5):
                self.labs["wbc_10e9_l"] = round(self.more.uniform(4.0, 10.9), 1)

    def duration(self) -> float | int:
        return self.pick(DURATIONS)

    def study(self, modality: str, weeks_ago: float | int = 0, contrast: bool | None = None) -> list[dict]:
        study: dict = {"modality": modality}
        if contrast is not None:
            study["contrast"] = contrast
        if not self.p(0.03):  # a study whose date is not recorded
            study["weeks_ago"] = weeks_ago
        study["findings"] = []
        self.imaging.append(study)
        return study["findings"]

    def current_imaging(self) -> list[dict]:
        """Today's study: a radiograph, CT or MRI in seed 002's proportions (among those imaged)."""
        total = EARLY_RADIOGRAPHY + EARLY_CT_MRI
        if self.p(EARLY_RADIOGRAPHY / total):
            return self.study("radiography")
        if self.p(0.5):
            return self.study("CT")
        return self.study("MRI", contrast=self.p(0.05))

    def treatments(self, duration: float | int) -> None:
        """Prior conservative care, sometimes without its length or outcome recorded; a course shorter than the
        episode records when it ended (it began with the episode: an assumption of the generator, not a finding)."""
        for kind in self.rng.sample(CONSERVATIVE, self.rng.randint(1, 2)):
            entry: dict = {"type": kind}
            if not self.p(0.1):
                entry["weeks"] = max(1, int(duration) - self.rng.randint(0, 2))
                if entry["weeks"] < int(duration):  # a course shorter than the episode ended the weeks between
                    entry["weeks_ago"] = int(duration) - entry["weeks"]
            if not self.p(0.1):
                entry["outcome"] = self.pick(OUTCOMES)
            self.prior_treatments.append(entry)

    def document(self) -> dict:
        doc: dict = {"id": self.id}
        if self.age is not None:
            doc["age"] = self.age
        if self.sex is not None:
            doc["sex"] = self.sex
        for key in ("symptoms", "imaging", "risk_factors", "prior_treatments"):
            value = getattr(self, key)
            if value or (key == "risk_factors" and self.p(0.05)):  # an explicit empty list now and then
                doc[key] = value
        if self.scores:
            doc["scores"] = self.scores
        for key in ("vitals", "labs"):
            if getattr(self, key):
                doc[key] = getattr(self, key)
        if self.red_flag_screen is not None:
            doc["red_flag_screen"] = self.red_flag_screen
        if self.candidate_for:
            doc["candidate_for"] = self.candidate_for
        if self.red_flags_excluded:
            doc["red_flags_excluded"] = self.red_flags_excluded
        if self.p(0.02):  # what a reader does with a code it cannot map (these cases use spinekg ids only)
            doc["unmapped_codes"] = self.pick(("error", "warn"))
        return doc


def _patient(d: Draft, low: int, high: int) -> None:
    if not d.p(0.05):  # age not recorded
        d.age = d.rng.randint(low, high)
        if d.age > OLDEST:  # back pain at 70 or over is a fracture red flag: drawn again, below it (from ``more``)
            d.age = d.more.randint(low, OLDEST)
    if not d.p(0.03):
        d.sex = d.weighted({"female": 0.5, "male": 0.48, "other": 0.01, "unknown": 0.01})
    d.normal_measurements()


def _absent_red_flags(d: Draft) -> None:
    """Red flags looked for and recorded absent, as a careful note does."""
    if d.p(0.25):
        d.symptoms.append({"type": "urinary_retention", "present": False})
    if d.p(0.15):
        d.symptoms.append(
            {"type": "numbness", "laterality": "bilateral", "body_regions": ["saddle_region"], "present": False}
        )
    if d.p(0.08):
        d.symptoms.append({"type": "fecal_incontinence", "present": False})


def article_002(d: Draft) -> None:
    """Lumbosacral radiculopathy (seed 002): unilateral radicular pain in one root, conservative care first."""
    _patient(d, 20, 80)
    side, root = d.pick(SIDES), d.weighted(ROOT_WEIGHTS)
    regions, paracentral, foraminal = ROOTS[root]
    duration = d.duration()
    pain: dict = {"type": "radicular_pain", "dermatomes": [root], "laterality": side}
    if not d.p(0.1):
        pain["duration_weeks"] = duration
    if d.p(0.6):
        pain["severity"] = d.weighted({"mild": 0.3, "moderate": 0.5, "severe": 0.2})
    d.symptoms.append(pain)
    if d.p(0.4):
        sensory = {"type": d.pick(("numbness", "paresthesia")), "body_regions": list(regions[: d.rng.randint(1, 2)])}
        sensory.update({"laterality": side, "duration_weeks": duration, "progressive": False})
        d.symptoms.append(sensory)
    if d.p(0.15):
        weakness = {"type": "weakness", "laterality": side, "progressive": False, "severity": "mild"}
        if d.also(0.6):
            weakness["strength_mrc"] = 4  # mild weakness: movement against some resistance
        d.symptoms.append(weakness)
    if d.p(0.2):
        d.symptoms.append({"type": "muscle_spasm", "laterality": "midline"})
    if d.p(0.1):
        d.symptoms.append({"type": "neurological_deficit", "laterality": side})
    if d.p(0.15):
        d.symptoms.append({"type": "axial_pain", "laterality": "midline", "duration_weeks": duration})
    _absent_red_flags(d)
    if d.p(0.15):  # an MRI from an earlier episode
        findings = d.study("MRI", weeks_ago=d.pick((26, 52, 78, 104)), contrast=False)
        findings.append({"type": d.pick(("disc_protrusion", "disc_bulge")), "level": paracentral, "side": side})
    if (isinstance(duration, int) and duration >= 6 and d.p(0.5)) or d.p(EARLY_CT_MRI):
        findings = d.study("MRI", contrast=False) if d.p(0.8) else d.study("CT")
        disc = {
            "type": d.pick(("disc_protrusion", "disc_extrusion")),
            "level": paracentral,
            "side": side,
            "severity": d.pick(SEVERITIES[:2]),
        }
        d.zone(disc, ("paracentral", "subarticular", "central"))  # each reaches the traversing root
        findings.append(disc)
        if foraminal and d.p(0.3):
            stenosis = {"type": "foraminal_stenosis", "level": foraminal, "side": side, "severity": "mild"}
            d.zone(stenosis, ("foraminal", "extraforaminal"))  # each reaches the exiting root
            findings.append(stenosis)
        if d.p(0.3):
            findings.append({"type": "nerve_root_impingement", "level": paracentral, "side": side})
        if d.p(0.3):
            findings.append({"type": "facet_arthropathy", "level": d.pick(DISC_LEVELS[2:]), "severity": "mild"})
        if d.p(0.2):
            findings.append({"type": "muscle_atrophy", "present": False})
    if isinstance(duration, int) and duration >= 4 and d.p(0.6):
        d.treatments(duration)
    if d.p(0.25):
        d.candidate_for = d.rng.sample(["injection", "surgery"], d.rng.randint(1, 2))
    _start_back(d)


def _start_back(d: Draft) -> None:
    """A STarT Back risk group now and then, from a source of its own: every other draw of the case stays as it was."""
    own = random.Random(f"{d.id}:start_back")
    if own.random() < 0.3:
        d.scores["start_back"] = own.choice(("low", "medium", "high"))


def article_003(d: Draft) -> None:
    """Axial back pain with degenerative changes and disc space narrowing (seed 003)."""
    _patient(d, 35, 90)
    duration = d.duration()
    pain: dict = {"type": "axial_pain", "laterality": "midline"}
    if not d.p(0.15):
        pain["duration_weeks"] = duration
    if d.p(0.5):
        pain["severity"] = d.pick(SEVERITIES)
    if d.p(0.1):
        pain["progressive"] = True  # worsening pain is not a neurological deficit
    d.symptoms.append(pain)
    for kind, rate in (
        ("muscle_spasm", 0.2),
        ("functional_limitation", 0.1),
        ("facet_mediated_pain", 0.15),
        ("spinal_deformity", 0.03),
        ("pulmonary_dysfunction", 0.01),
        ("gait_disturbance", 0.03),
    ):
        if d.p(rate):
            d.symptoms.append({"type": kind})
    if d.p(0.2):
        d.symptoms.append({"type": "segmental_instability", "present": False})  # flexion-extension films normal
    _absent_red_flags(d)
    findings = d.current_imaging()
    for level in d.rng.sample(["L4-L5", "L5-S1", "L3-L4"], d.rng.randint(1, 2)):
        findings.append({"type": "disc_space_narrowing", "level": level, "severity": d.pick(SEVERITIES[:2])})
    if d.p(0.6):
        findings.append({"type": "spondylosis"})
    # seed 001: "Facet arthrosis is present in 79% of individuals at L4-5 and 59% at L5-S1"
    for level, rate in (("L4-L5", 0.79), ("L5-S1", 0.59)):
        if d.p(rate * 0.5):
            findings.append({"type": "facet_arthropathy", "level": level})
    if d.p(0.15):
        findings.append({"type": "canal_stenosis", "level": "L4-L5", "side": "bilateral", "severity": "moderate"})
    if d.p(0.1):
        recess = {"type": "lateral_recess_stenosis", "level": d.pick(("L4-L5", "L5-S1")), "side": d.pick(SIDES)}
        d.zone(recess, ("subarticular",))
        findings.append(recess)
    if d.p(0.3):
        findings.append({"type": "degenerative_disc_disease"})
    if d.p(0.05):
        findings.append({"type": "spondylolisthesis", "present": False})
    if isinstance(duration, int) and duration >= 6 and d.p(0.4):
        d.treatments(duration)
    if d.p(0.1):
        d.candidate_for = ["surgery"]
    if d.p(0.05):
        d.risk_factors.append("night_pain")
    _start_back(d)


def article_000(d: Draft) -> None:
    """Multilevel degenerative disease on CT with buttock and leg symptoms (seed 000), without a saddle pattern."""
    _patient(d, 45, 90)
    duration = d.duration()
    numb: dict = {"type": "numbness", "body_regions": ["buttock"], "dermatomes": ["L2", "L3"]}
    numb["laterality"] = d.weighted({"bilateral": 0.4, "left": 0.3, "right": 0.3})
    if d.p(0.7):
        numb["duration_weeks"] = duration
    d.symptoms.append(numb)
    side = d.pick(SIDES)
    if d.p(0.6):
        root = d.weighted(ROOT_WEIGHTS)
        d.symptoms.append(
            {"type": "radicular_pain", "dermatomes": [root], "laterality": side, "duration_weeks": duration}
        )
    if d.p(0.3):
        d.symptoms.append({"type": "neurogenic_claudication", "laterality": "bilateral", "duration_weeks": duration})
    if d.p(0.2):
        d.symptoms.append({"type": "facet_mediated_pain", "laterality": "midline"})
    _absent_red_flags(d)
    findings = d.study("CT", contrast=False) if d.p(0.9) else d.study("MRI")
    for level in DISC_LEVELS[d.rng.randint(0, 2) :]:
        findings.append({"type": "disc_bulge", "level": level})
    for level in DISC_LEVELS[d.rng.randint(2, 4) :]:
        severity = d.pick(SEVERITIES)
        findings.append({"type": "canal_stenosis", "level": level, "side": "bilateral", "severity": severity})
        findings.append(
            {
                "type": "foraminal_stenosis",
                "level": level,
                "side": d.pick(("bilateral", side)),
                "severity": d.pick(SEVERITIES[:2]),
            }
        )
        findings.append({"type": "facet_arthropathy", "level": level, "severity": "moderate"})
    if d.p(0.6):
        findings.append({"type": "degenerative_disc_disease"})
    if d.p(0.3):
        findings.append({"type": "baastrup_kissing_spinous_processes"})
    if d.p(0.3):
        d.treatments(duration)
    if d.p(0.1):
        d.candidate_for = [d.pick(("injection", "surgery"))]


def article_004(d: Draft) -> None:
    """Multilevel spondylosis with mild vertebral height loss (seed 004); some with mild or moderate myelopathy."""
    _patient(d, 50, 95)
    pain: dict = {"type": "axial_pain"}
    if d.p(0.7):
        pain["duration_weeks"] = d.duration()
    d.symptoms.append(pain)
    findings = d.current_imaging()
    findings.append({"type": "spondylosis"})
    height_loss = {"type": "vertebral_height_loss", "level": d.pick(VERTEBRAE), "severity": d.pick(SEVERITIES[:2])}
    # new height loss at 65 or over is a fracture red flag, so here it is new only in younger patients
    if d.age is not None and d.age < 65 and d.p(0.3):
        height_loss["new"] = True
    elif d.p(0.5):
        height_loss["new"] = False
    findings.append(height_loss)
    if d.p(0.3):
        myelopathy = {"type": "myelopathy", "severity": d.pick(SEVERITIES[:2])}
        d.symptoms.append(myelopathy)
        d.scores["mjoa"] = d.rng.randint(12, 18)
    elif d.p(0.05):
        d.scores["mjoa"] = 18
    if d.p(0.05):
        d.symptoms.append({"type": "mri_contraindication"})
    if d.p(0.15):
        d.symptoms.append({"type": "radicular_pain", "dermatomes": [d.pick(("L4", "L5"))], "laterality": d.pick(SIDES)})
    _absent_red_flags(d)
    if d.p(0.3):
        d.treatments(d.pick((6, 8, 12)))
    if d.p(0.1):
        d.candidate_for = ["surgery"]


def article_001(d: Draft) -> None:
    """The CT report of seed 001: ischiofemoral narrowing, hip and facet arthropathy, incidental findings."""
    _patient(d, 40, 85)
    side = d.pick(SIDES)
    if not d.p(0.1):  # the article's own case has no symptoms at all
        for kind, rate in (
            ("buttock_pain", 0.6),
            ("long_stride_walking_pain", 0.4),
            ("hip_provoked_pain", 0.3),
            ("groin_pain", 0.2),
            ("hip_snapping", 0.1),
            ("inner_thigh_pain", 0.1),
        ):
            if d.p(rate):
                d.symptoms.append({"type": kind, "laterality": side, "duration_weeks": d.duration()})
        if d.p(0.3):
            d.symptoms.append({"type": "gastrointestinal_symptom", "present": False})
    findings = d.study("CT", contrast=False)
    for level in ("L4-L5", "L5-S1"):
        if d.p(0.7):
            findings.append({"type": "facet_arthropathy", "level": level})
    findings.append({"type": "hip_osteoarthritis", "side": d.pick(("bilateral", side)), "severity": "mild"})
    if d.p(0.3):
        findings.append({"type": "hip_joint_space_narrowing", "side": side})
    if d.p(0.4):
        findings.append({"type": "pubic_symphysis_arthritis", "severity": "mild"})
    findings.append({"type": "ischiofemoral_space_narrowing", "side": side})
    if d.p(0.2):
        findings.append({"type": "quadratus_femoris_edema", "side": side})
    if d.p(0.5):
        findings.append({"type": "muscle_atrophy", "present": False})
    if d.p(0.2):
        findings.append({"type": "sigmoid_diverticulosis"})
    if d.p(0.4):
        findings.append({"type": "vascular_calcification"})
    if d.p(0.1):
        findings.append({"type": "spondylosis"})
    if d.p(0.2):
        d.treatments(d.pick((4, 8, 12)))


ARTICLES = {"002": article_002, "003": article_003, "000": article_000, "004": article_004, "001": article_001}


def _cauda_equina(d: Draft) -> None:
    kind = d.pick(("retention", "saddle", "article_000", "fecal", "bilateral_weakness", "incontinence", "sexual"))
    if kind == "retention":
        d.symptoms.append({"type": "urinary_retention"})
    elif kind == "saddle":
        d.symptoms.append({"type": "numbness", "laterality": "bilateral", "body_regions": ["saddle_region"]})
    elif kind == "article_000":  # seed 000: bilateral numbness over the buttock and S2-S3
        d.symptoms.append(
            {"type": "numbness", "laterality": "bilateral", "body_regions": ["buttock"], "dermatomes": ["S2", "S3"]}
        )
    elif kind == "fecal":
        d.symptoms.append({"type": "fecal_incontinence"})
    elif kind == "bilateral_weakness":
        d.symptoms.append({"type": "weakness", "laterality": "bilateral"})
    elif kind == "incontinence":
        d.symptoms.append({"type": "urinary_incontinence", "duration_weeks": 0})
    else:
        d.symptoms.append({"type": "sexual_dysfunction"})


def _infection(d: Draft) -> None:
    d.risk_factors += d.rng.sample(["fever", "iv_drug_use", "immunosuppression"], d.rng.randint(1, 2))
    if d.also(0.4):  # a measured fever, and the blood results of the work-up
        d.vitals["temperature_c"] = round(d.more.uniform(38.0, 39.6), 1)
    if d.also(0.3):
        d.labs.update(crp_mg_l=d.more.randint(15, 150), esr_mm_h=d.more.randint(25, 110))
        d.labs["wbc_10e9_l"] = round(d.more.uniform(11.5, 18.0), 1)


def _malignancy(d: Draft) -> None:
    d.risk_factors += d.rng.sample(["history_of_cancer", "unexplained_weight_loss"], d.rng.randint(1, 2))
    d.risk_factors += ["night_pain"] if d.p(0.3) and "night_pain" not in d.risk_factors else []


def _fracture(d: Draft) -> None:
    if d.p(0.3):  # new height loss in an older patient (seed 004 / ACR variant 6)
        d.age = d.rng.randint(65, 95)
        findings = d.study("radiography")
        findings.append({"type": "vertebral_height_loss", "level": d.pick(VERTEBRAE), "new": True})
    else:
        # not prolonged corticosteroid use: as immunosuppression it raises suspected infection too
        options = ["osteoporosis", "minor_trauma", "significant_trauma"]
        d.risk_factors += d.rng.sample(options, d.rng.randint(1, 2))


def _progressive(d: Draft) -> None:
    side = d.pick(SIDES)
    kind = d.pick(("weakness", "numbness", "gait_disturbance"))
    d.symptoms.append({"type": kind, "laterality": side, "progressive": True, "duration_weeks": d.pick((1, 2, 4))})


def _instability(d: Draft) -> None:
    d.symptoms = [s for s in d.symptoms if s["type"] != "segmental_instability"]
    d.symptoms.append({"type": "segmental_instability"})
    if d.p(0.7):
        d.study("radiography").append({"type": "spondylolisthesis", "level": d.pick(("L4-L5", "L5-S1"))})


def _severe_myelopathy(d: Draft) -> None:
    d.symptoms = [s for s in d.symptoms if s["type"] != "myelopathy"]
    if d.p(0.7):
        d.symptoms.append({"type": "myelopathy"})
        d.scores["mjoa"] = d.rng.randint(5, 11)
    else:
        d.symptoms.append({"type": "myelopathy", "severity": "severe"})


RED_FLAGS = {
    "cauda_equina_syndrome_suspected": _cauda_equina,
    "infection_suspected": _infection,
    "malignancy_suspected": _malignancy,
    "fracture_suspected": _fracture,
    "progressive_neurological_deficit": _progressive,
    "spinal_instability": _instability,
    "severe_myelopathy": _severe_myelopathy,
}


def drop_contradictions(d: Draft) -> None:
    """A finding a red flag added present and the presentation recorded absent: keep the present one."""
    present = {(s["type"], s.get("laterality")) for s in d.symptoms if s.get("present", True)}
    d.symptoms = [s for s in d.symptoms if s.get("present", True) or (s["type"], s.get("laterality")) not in present]
    for study in d.imaging:
        seen = {(f["type"], f.get("level")) for st in d.imaging for f in st["findings"] if f.get("present", True)}
        study["findings"] = [
            f for f in study["findings"] if f.get("present", True) or (f["type"], f.get("level")) not in seen
        ]
