"""IRIs and paths the tests share."""

from __future__ import annotations

from pathlib import Path

from reasoner.consts import SK

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: The example cases, in name order (parametrize lists use it: a file glob, no KB load at collection).
EXAMPLE_CASES = sorted(EXAMPLES.glob("*.yaml"))
ACCEPTANCE = Path(__file__).resolve().parent / "acceptance"
DATA = Path(__file__).parent / "data"
MUTATIONS = DATA / "mutations"
REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
ARTICLES = ["000", "001", "002", "003", "004"]
RED_FLAGS = [
    SK.cauda_equina_syndrome_suspected,
    SK.malignancy_suspected,
    SK.infection_suspected,
    SK.fracture_suspected,
    SK.progressive_neurological_deficit,
    SK.severe_myelopathy,
    SK.spinal_instability,
]
