from __future__ import annotations

import json

import pytest
from conftest import make_spec
from pydantic import ValidationError

from harness.data import MissingFileError
from harness.spec import Checker, Criterion, PromptMessage, RewardSpec, prompt_hash, sha256_text
from harness.store import SpecStore, SpecStoreError, read_specs


def test_hashes_are_derived_and_stable(spec: RewardSpec) -> None:
    assert spec.prompt_hash == sha256_text(spec.prompt)
    assert spec.version == spec.content_hash()
    again = make_spec()
    assert again.version == spec.version
    # provenance is not content: rebuilding by another builder keeps the version
    rebuilt = RewardSpec.model_validate(
        {**spec.model_dump(exclude={"version"}), "provenance": {"builder": "other"}}
    )
    assert rebuilt.version == spec.version


def test_edit_makes_a_new_version_and_specs_are_frozen(spec: RewardSpec) -> None:
    edited = spec.edit(
        criteria=(*spec.criteria, Criterion(id="c4", text="Mentions salt.", weight=1))
    )
    assert edited.version != spec.version
    assert edited.prompt_hash == spec.prompt_hash
    with pytest.raises(ValidationError):
        spec.task_label = "x"  # type: ignore[misc]


def test_tampered_version_is_rejected(spec: RewardSpec) -> None:
    data = spec.model_dump(mode="json")
    data["criteria"][0]["weight"] = 10
    with pytest.raises(ValidationError, match="specs are immutable"):
        RewardSpec.model_validate(data)


@pytest.mark.parametrize(
    "criteria, message",
    [
        ([("c1", "a", 1.0), ("c1", "b", 1.0)], "duplicate criterion ids"),
        ([("c1", "a", -1.0)], "at least one criterion with positive weight"),
    ],
)
def test_invalid_rubrics(criteria: list, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_spec(criteria=criteria)


@pytest.mark.parametrize("weight", [0.0, float("nan"), float("inf")])
def test_weight_must_be_finite_and_non_zero(weight: float) -> None:
    with pytest.raises(ValidationError, match="finite non-zero"):
        Criterion(id="c", text="t", weight=weight)


@pytest.mark.parametrize(
    "source, message",
    [
        ("def check(:\n", "does not parse"),
        ("def verify(response):\n    return True\n", "must define a top-level function check"),
        ("async def check(response):\n    return True\n", "not async"),
        ("def check():\n    return True\n", "first argument"),
    ],
)
def test_checker_source_is_validated_without_running_it(source: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Checker(id="k", constraint="c", source=source)


def test_checker_source_is_never_executed() -> None:
    # Parsing a checker must not run it: this one would raise at import time.
    c = Checker(
        id="k", constraint="c", source="raise SystemExit(3)\ndef check(r):\n    return True\n"
    )
    assert c.id == "k"


def test_multi_turn_prompt_hash() -> None:
    msgs = (
        PromptMessage(role="user", content="hi"),
        PromptMessage(role="assistant", content="hello"),
    )
    s = RewardSpec(
        prompt_id="m",
        prompt=msgs,
        criteria=(Criterion(id="a", text="t"),),
        provenance={"builder": "t"},
    )
    assert s.prompt_hash == prompt_hash(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    )
    assert s.prompt_text == "user: hi\n\nassistant: hello"


def test_store_round_trip_and_lookup(tmp_path, spec: RewardSpec) -> None:
    path = tmp_path / "specs.jsonl"
    store = SpecStore(path, create=True)
    other = make_spec(prompt_id="p2", prompt="Another prompt")
    store.put_many([spec, other])
    edited = spec.edit(task_label="poetry")
    store.put(edited)
    store.put(spec)  # already present: no duplicate line
    assert len(path.read_text().splitlines()) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left

    reopened = SpecStore(path)
    assert reopened.get("p1") == edited  # newest version
    assert reopened.get("p1", version=spec.version) == spec
    assert reopened.get_by_prompt_hash(other.prompt_hash) == other
    assert reopened.get_version(edited.version) == edited
    assert reopened.get("nope") is None
    assert [s.prompt_id for s in reopened.latest()] == ["p1", "p2"]


def test_missing_store_is_an_error(tmp_path) -> None:
    with pytest.raises(MissingFileError, match="none.jsonl does not exist"):
        SpecStore(tmp_path / "none.jsonl")


def test_malformed_json_line_names_file_and_line(tmp_path, spec: RewardSpec) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(spec.model_dump_json() + "\n{not json\n")
    with pytest.raises(SpecStoreError, match=r"s\.jsonl:2: invalid JSON"):
        read_specs(path)


def test_invalid_field_names_file_line_and_field(tmp_path, spec: RewardSpec) -> None:
    data = spec.model_dump(mode="json", exclude={"version"})
    data["criteria"][1]["weight"] = "heavy"
    path = tmp_path / "s.jsonl"
    path.write_text("\n" + json.dumps(data) + "\n")
    with pytest.raises(SpecStoreError, match=r"s\.jsonl:2: field 'criteria\.1\.weight'"):
        SpecStore(path)


def test_unknown_field_is_rejected(tmp_path, spec: RewardSpec) -> None:
    data = spec.model_dump(mode="json")
    data["rubric"] = []
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(data) + "\n")
    with pytest.raises(
        SpecStoreError, match=r"s\.jsonl:1: field 'rubric': Extra inputs are not permitted"
    ):
        read_specs(path)


def test_a_stored_criterion_must_state_its_weight(tmp_path, spec: RewardSpec) -> None:
    """A hand-written line without a weight is an error, never a silent weight of 1."""
    data = spec.model_dump(mode="json", exclude={"version", "prompt_hash"})
    del data["criteria"][2]["weight"]
    path = tmp_path / "s.jsonl"
    path.write_text(spec.model_dump_json() + "\n" + json.dumps(data) + "\n")
    with pytest.raises(SpecStoreError) as error:
        read_specs(path)
    assert str(error.value) == (
        f"{path}:2: field 'criteria.2.weight': Field required "
        "(every stored criterion states its weight; negative for a pitfall)"
    )
    # specs written by the harness always carry it, so they read back unchanged
    written = tmp_path / "ok.jsonl"
    SpecStore(written, create=True).put(spec.edit(criteria=(Criterion(id="c", text="t"),)))
    assert '"weight":1.0' in written.read_text() and len(read_specs(written)) == 1


def test_invalid_utf8_names_file_line_and_column(tmp_path, spec: RewardSpec) -> None:
    path = tmp_path / "s.jsonl"
    line = spec.model_dump_json().encode()
    path.write_bytes(line + b"\n" + line.replace(b"haiku", b"ha\xefku") + b"\n")
    with pytest.raises(SpecStoreError) as error:
        SpecStore(path)
    column = line.index(b"haiku") + 3
    assert str(error.value) == (
        f"{path}:2: invalid UTF-8 (byte 0xef at column {column}); save the file as UTF-8"
    )


def test_a_byte_order_mark_is_accepted(tmp_path, spec: RewardSpec) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + spec.model_dump_json().encode() + b"\r\n")
    assert read_specs(path) == [spec]


# -- indexed, read-only access (harness score, harness/prompts) -------------------------------


def test_indexed_store_answers_as_the_store_and_follows_appends_and_rewrites(
    tmp_path, spec: RewardSpec
) -> None:
    from harness.store_index import INDEX_SUFFIX, IndexedSpecStore

    path = tmp_path / "specs.jsonl"
    store = SpecStore(path, create=True)
    other = make_spec(prompt_id="p2", prompt="Another prompt")
    edited = spec.edit(task_label="poetry")
    store.put_many([spec, other, edited, spec])  # spec twice: counted once, at its first line
    indexed = IndexedSpecStore(path)
    assert (tmp_path / ("specs.jsonl" + INDEX_SUFFIX)).exists()
    assert indexed.get("p1") == edited and indexed.get("p1", version=spec.version) == spec
    assert indexed.get("p2", version=spec.version) is None  # a version of another prompt
    assert indexed.get_by_prompt_hash(other.prompt_hash) == other
    assert indexed.get_version(edited.version) == edited and indexed.get("nope") is None
    assert [s.version for s in indexed] == [s.version for s in SpecStore(path)]
    # appended lines extend the index (a new version of p2)
    newer = other.edit(task_label="tides")
    SpecStore(path).append(newer)
    assert IndexedSpecStore(path).get("p2") == newer and len(IndexedSpecStore(path)) == 4
    # a rewritten file is indexed afresh
    path.write_text(other.model_dump_json() + "\n")
    again = IndexedSpecStore(path)
    assert len(again) == 1 and again.get("p1") is None and again.get("p2") == other


def test_indexed_store_finds_a_tampered_line_when_it_is_used(tmp_path, spec: RewardSpec) -> None:
    from harness.data import DataError
    from harness.store_index import IndexedSpecStore

    other = make_spec(prompt_id="p2", prompt="Another prompt")
    data = json.loads(spec.model_dump_json())
    data["criteria"][0]["weight"] = 99  # edited in place: the stored version no longer matches
    path = tmp_path / "specs.jsonl"
    path.write_text(json.dumps(data) + "\n" + other.model_dump_json() + "\n")
    indexed = IndexedSpecStore(path)  # opens: the line is not read yet
    assert indexed.get("p2") == other
    with pytest.raises(DataError, match=r"specs\.jsonl:1: .*does not match the content"):
        indexed.get("p1")
    path.write_text(spec.model_dump_json() + "\n{not json\n")
    with pytest.raises(DataError, match=r"specs\.jsonl:2: invalid JSON"):
        IndexedSpecStore(path)
    with pytest.raises(MissingFileError):
        IndexedSpecStore(tmp_path / "none.jsonl")


def test_indexed_store_that_cannot_write_its_index_indexes_in_memory(
    tmp_path, spec: RewardSpec
) -> None:
    from harness.store_index import INDEX_SUFFIX, IndexedSpecStore

    path = tmp_path / "specs.jsonl"
    path.write_text(spec.model_dump_json() + "\n")
    (tmp_path / ("specs.jsonl" + INDEX_SUFFIX)).mkdir()  # the index path cannot be a database
    assert IndexedSpecStore(path).get("p1") == spec
    assert (tmp_path / ("specs.jsonl" + INDEX_SUFFIX)).is_dir()  # left as it was
