"""Issue 13, item 5: the KB cache cannot run code, reads only the user's own files and survives corruption."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from reasoner.kb import cache as cache
from reasoner.kb.load import kb_version
from reasoner.reasoning.classify import Rule

ROOT = Path(__file__).resolve().parent.parent
CASE = "examples/000-gluteal-s2-s3-numbness.yaml"
NAMES = ("kb", "vocabulary", "reasoner")  # what `recommend` caches
LABEL = b"suspected cauda equina syndrome"  # a KB label the plan of CASE prints
FORGED = b"FORGED LABEL FROM A PLANTED FILE"
NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")


def recommend(cache_setting: Path | str, tmp: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SPINEKG_CACHE=str(cache_setting), XDG_CACHE_HOME=str(tmp / "xdg"), HOME=str(tmp / "home"))
    return subprocess.run(
        [sys.executable, "-m", "reasoner", "recommend", CASE], capture_output=True, text=True, cwd=ROOT, env=env
    )


def entries(folder: Path) -> dict[str, Path]:
    """The cache files in ``folder`` by entry name (whatever their format; the newest of each, should the
    package's code have changed in between)."""
    out = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns):
        for name in NAMES:
            if path.name.startswith(f"{name}-0") and path.is_file():
                out[name] = path
    return out


def key_of(path: Path) -> str:
    return path.name.removesuffix(".json")


def reheadered(body: bytes, key: str) -> bytes:
    """A file with this body whose header matches it: what anyone who can write the folder can make."""
    header = {"format": cache.FORMAT, "key": key, "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(header).encode() + b"\n" + body


def forged_kb(path: Path) -> bytes:
    """The KB entry at ``path`` with a label changed and the checksum recomputed."""
    body = path.read_bytes().partition(b"\n")[2]
    assert LABEL in body
    return reheadered(body.replace(LABEL, FORGED), key_of(path))


class Planted:
    """Unpickling this creates the file ``marker``: the proof that a cache file ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def plant_pickles(folder: Path, marker: Path) -> None:
    """A pickle that would run code, under every name the cache has used for each entry (.pickle, .json)."""
    stem = current_stem()
    data = pickle.dumps(Planted(marker))
    for name in (*NAMES, "red-flag-features"):
        for suffix in (".pickle", ".json"):
            (folder / f"{name}-{stem}{suffix}").write_bytes(data)


def assert_clean(run: subprocess.CompletedProcess, reference: str) -> None:
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout == reference
    assert FORGED.decode() not in run.stdout


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> str:
    """The plan with the cache off; it writes nothing anywhere."""
    tmp = tmp_path_factory.mktemp("off")
    run = recommend("off", tmp)
    assert run.returncode == 0, run.stderr
    assert LABEL.decode() in run.stdout
    assert list(tmp.iterdir()) == []  # neither $XDG_CACHE_HOME/spinekg nor ~/.cache/spinekg was made
    return run.stdout


@pytest.fixture(scope="module")
def warm(tmp_path_factory, reference) -> Path:
    """A cache folder filled by one command and read by a second, both giving the reference plan."""
    tmp = tmp_path_factory.mktemp("warm")
    folder = tmp / "cache"
    for _ in range(2):
        assert_clean(recommend(folder, tmp), reference)
    return folder


def current_stem() -> str:
    """The part of the cache files' names a command started now uses (after the entry name)."""
    cache._code_digest.cache_clear()  # the package's files may have changed since this process started
    return kb_version().replace("+", "-") + "-" + cache._code_digest()


@pytest.fixture()
def private(tmp_path, warm, reference) -> Path:
    """A copy of the warm cache in a folder of the user's own (mode 0700), holding the entries a command started
    now reads (filled again should the package have changed since the warm cache was made)."""
    folder = tmp_path / "cache"
    shutil.copytree(warm, folder)
    folder.chmod(0o700)
    if any(not path.name.endswith(f"-{current_stem()}.json") for path in entries(folder).values()):
        for path in folder.iterdir():
            path.unlink()
        assert_clean(recommend(folder, tmp_path), reference)
    return folder


def test_issue13_cache_off_gives_the_plan_and_writes_nothing(reference):
    assert "Management plan for case 000-gluteal-s2-s3-numbness" in reference


def test_issue13_every_entry_is_cached_in_a_format_that_cannot_run_code(warm):
    found = entries(warm)
    assert sorted(found) == sorted(NAMES)  # a value the format cannot hold would silently not be cached
    assert stat.S_IMODE(warm.stat().st_mode) == 0o700
    for path in found.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().startswith(b'{"format": "spinekg-cache 1"')
        cache.decode_file(path.read_bytes(), key_of(path))


@pytest.mark.parametrize("mode", [0o700, 0o1777], ids=["own-folder", "shared-1777-folder"])
def test_issue13_planted_pickle_is_never_run(tmp_path, reference, mode):
    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(mode)
    marker = tmp_path / "code-ran"
    plant_pickles(folder, marker)
    run = recommend(folder, tmp_path)
    assert not marker.exists()
    assert_clean(run, reference)


@pytest.mark.parametrize(
    ("name", "damage"),
    [("kb", "label"), ("kb", "flip"), ("kb", "truncate"), ("vocabulary", "flip"), ("vocabulary", "truncate")]
    + [("reasoner", "flip"), ("reasoner", "truncate")],
)
def test_issue13_damaged_cache_file_is_ignored_and_rebuilt(tmp_path, private, reference, name, damage):
    path = entries(private)[name]
    data = path.read_bytes()
    if damage == "label":  # the same length, still well-formed: read as it is, it changes the plan
        bad = data.replace(LABEL, LABEL[:-1] + b"X")
    elif damage == "flip":
        bad = data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0x01]) + data[len(data) // 2 + 1 :]
    else:
        bad = data[: len(data) // 2]
    assert bad != data
    path.write_bytes(bad)
    run = recommend(private, tmp_path)
    assert_clean(run, reference)
    assert run.stderr == ""  # a bad file is rebuilt silently
    rebuilt = path.read_bytes()
    assert rebuilt != bad
    cache.decode_file(rebuilt, key_of(path))


def test_issue13_the_checksum_guards_against_accidents_not_the_owner(tmp_path, private):
    """A forged file with a matching checksum in the user's own folder is read (the user could as well edit
    this package): this shows that the forgery the tests below plant elsewhere would change the plan."""
    path = entries(private)["kb"]
    path.write_bytes(forged_kb(path))
    run = recommend(private, tmp_path)
    assert run.returncode == 0, run.stderr
    assert FORGED.decode() in run.stdout


@pytest.mark.parametrize(
    "unsafe",
    ["mode-0777", "mode-1777", pytest.param("owned-by-nobody", marks=needs_root)],
)
def test_issue13_folder_others_can_write_is_not_read(tmp_path, private, reference, unsafe):
    folder = tmp_path / "shared"
    folder.mkdir()
    path = entries(private)["kb"]
    (folder / path.name).write_bytes(forged_kb(path))
    if unsafe == "owned-by-nobody":
        os.chown(folder, NOBODY, NOBODY)
        folder.chmod(0o755)
    else:
        folder.chmod(0o777 if unsafe == "mode-0777" else 0o1777)
    run = recommend(folder, tmp_path)
    assert_clean(run, reference)
    own = folder / f"uid-{os.geteuid()}"
    assert stat.S_IMODE(own.lstat().st_mode) == 0o700 and own.lstat().st_uid == os.geteuid()
    assert sorted(entries(own)) == sorted(NAMES)


@pytest.mark.parametrize(
    "foreign",
    [pytest.param("owned-by-nobody", marks=needs_root), "mode-0666", "symlink"],
)
def test_issue13_cache_file_not_the_users_own_is_ignored_and_rebuilt(tmp_path, private, reference, foreign):
    path = entries(private)["kb"]
    if foreign == "symlink":
        elsewhere = tmp_path / "elsewhere.json"
        elsewhere.write_bytes(forged_kb(path))
        path.unlink()
        path.symlink_to(elsewhere)
    else:
        path.write_bytes(forged_kb(path))
        if foreign == "owned-by-nobody":
            os.chown(path, NOBODY, NOBODY)
        else:
            path.chmod(0o666)
    run = recommend(private, tmp_path)
    assert_clean(run, reference)
    info = path.lstat()
    assert stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o600
    assert FORGED not in path.read_bytes()


@pytest.mark.parametrize("foreign", [pytest.param("owned-by-nobody", marks=needs_root), "mode-0777"])
def test_issue13_private_subfolder_taken_by_someone_else_turns_the_cache_off(tmp_path, private, reference, foreign):
    folder = tmp_path / "shared"
    own = folder / f"uid-{os.geteuid()}"
    own.mkdir(parents=True)
    path = entries(private)["kb"]
    (own / path.name).write_bytes(forged_kb(path))
    if foreign == "owned-by-nobody":
        os.chown(own / path.name, NOBODY, NOBODY)
        os.chown(own, NOBODY, NOBODY)
    else:
        own.chmod(0o777)
    folder.chmod(0o1777)
    run = recommend(folder, tmp_path)
    assert run.returncode == 0 and run.stdout == reference
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(f"spinekg: cache not used: {own} ")
    assert sorted(p.name for p in own.iterdir()) == [path.name]  # nothing written there either


def test_issue13_decoding_builds_only_data(tmp_path):
    marker = tmp_path / "code-ran"
    with pytest.raises(cache.BadCacheFile):
        cache.decode_file(pickle.dumps(Planted(marker)), "k")
    for body in (b'["dc","os.system",{"command":"true"}]', b'["dc","builtins.open",{}]', b'["x",1]', b"[1]"):
        with pytest.raises(cache.BadCacheFile):
            cache.decode_file(reheadered(body, "k"), "k")
    with pytest.raises(cache.BadCacheFile):  # a file renamed to another entry's name
        cache.decode_file(cache.encode_file(1, "vocabulary-x"), "kb-x")
    assert not marker.exists()


def test_issue13_values_round_trip_with_their_types():
    value = {
        "list": [1, 2.5, None, True, "s"],
        "tuple": (URIRef("https://w3id.org/spinekg/x"), b"\x00\xff"),
        "set": {"a", "b"},
        "frozen": frozenset({("a", 1)}),
        ("tuple", "key"): defaultdict(set, {"k": {"v"}}),
        "rule": Rule("https://w3id.org/spinekg/c", "INSERT {} WHERE {}"),
    }
    back = cache.decode_file(cache.encode_file(value, "k"), "k")
    assert back == value
    assert type(back["tuple"]) is tuple and type(back["tuple"][0]) is URIRef and type(back["rule"]) is Rule
    assert type(back["frozen"]) is frozenset and type(back[("tuple", "key")]) is defaultdict
    assert back[("tuple", "key")]["missing"] == set()


def test_issue13_the_kb_graph_round_trips_with_its_blank_nodes_and_prefixes(kb_graph):
    back = cache.decode_file(cache.encode_file(kb_graph, "kb"), "kb")
    assert type(back) is Graph and len(back) == len(kb_graph)
    assert set(back) == set(kb_graph)  # the blank nodes keep their labels: the compiled rules name them
    assert sorted(back.namespaces()) == sorted(kb_graph.namespaces())
    assert back.identifier == kb_graph.identifier


def test_issue13_a_value_the_format_cannot_hold_is_made_and_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("SPINEKG_CACHE", str(tmp_path / "c"))
    made = cache.cached("odd", "0.1.0+x", lambda: [object()])
    assert type(made[0]) is object
    assert [p.name for p in (tmp_path / "c").iterdir()] == []
    g = Graph()
    g.add((BNode("b1"), URIRef("https://w3id.org/spinekg/p"), Literal("1", datatype=URIRef("urn:t"))))
    assert set(cache.cached("graph", "0.1.0+x", lambda: g)) == set(g)
    assert set(cache.cached("graph", "0.1.0+x", lambda: Graph())) == set(g)  # the second call reads the file


def test_issue13_red_flag_features_round_trip(kb_graph):
    from reasoner.case.graph import read_red_flag_features

    value = read_red_flag_features(kb_graph)
    assert value.types and value.thresholds
    assert cache.decode_file(cache.encode_file(value, "red-flag-features"), "red-flag-features") == value


def test_issue13_cache_folder_that_is_a_symlink_is_not_followed(tmp_path, reference):
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    link = tmp_path / "cache"
    link.symlink_to(target)
    run = recommend(link, tmp_path)
    assert run.returncode == 0 and run.stdout == reference
    assert run.stderr == f"spinekg: cache not used: {link} is a symbolic link\n"
    assert list(target.iterdir()) == []
