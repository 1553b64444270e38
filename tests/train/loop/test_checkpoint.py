from __future__ import annotations

import pickle
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from stylecam.errors import InputError, ModelLoadError  # noqa: E402
from stylecam.train.loop.checkpoint import SCHEMA_VERSION, load_checkpoint, load_model, save_checkpoint  # noqa: E402
from stylecam.train.networks.model import ModelConfig, build_model  # noqa: E402

TINY = ModelConfig(channels=(4, 8, 8), residual_blocks=1)


def _save_tiny(path: Path) -> torch.nn.Module:
    model = build_model(TINY)
    save_checkpoint(path, {"model": model.state_dict(), "model_config": TINY.to_dict(), "step": 3})
    return model


def test_round_trip_rebuilds_the_same_network(tmp_path: Path) -> None:
    path = tmp_path / "tiny.pt"
    original = _save_tiny(path)
    model, data = load_model(path)
    assert data["step"] == 3 and data["schema_version"] == SCHEMA_VERSION
    x = torch.rand(1, 3, 16, 16) * 255
    with torch.no_grad():
        assert torch.equal(model(x), original.eval()(x))
    torch.load(path, weights_only=True)  # plain data only


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"model": build_model(TINY)}, path)  # a whole module: needs pickle to load
    with pytest.raises(ModelLoadError, match="pickled Python objects"):
        load_checkpoint(path)


def test_raw_pickle_payload_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"x": print}))
    with pytest.raises(ModelLoadError):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"weights": torch.zeros(1)}, "not a stylecam checkpoint"),
        ({"schema": "stylecam-checkpoint", "schema_version": 99, "model": {}, "model_config": {}}, "upgrade"),
        ({"schema": "stylecam-checkpoint", "schema_version": 1, "model_config": {}}, "no 'model'"),
        ([1, 2, 3], "not a stylecam checkpoint dict"),
    ],
)
def test_foreign_and_future_checkpoints(tmp_path: Path, payload, message: str) -> None:
    path = tmp_path / "ckpt.pt"
    torch.save(payload, path)
    with pytest.raises(ModelLoadError, match=message):
        load_checkpoint(path)


def test_truncated_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "t.pt"
    _save_tiny(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_checkpoint(path)
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        load_checkpoint(path)


def test_mismatched_architecture(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    other = ModelConfig(channels=(4, 8, 16), residual_blocks=1)
    save_checkpoint(path, {"model": build_model(TINY).state_dict(), "model_config": other.to_dict()})
    with pytest.raises(ModelLoadError, match="does not match"):
        load_model(path)


def test_pytorch_examples_state_dict_loads(tmp_path: Path) -> None:
    state = build_model().state_dict()
    state["in1.running_mean"] = torch.zeros(32)  # old examples checkpoints carry these
    path = tmp_path / "candy.pth"
    torch.save(state, path)
    _model, data = load_model(path)
    assert data["style"]["name"] == "candy" and data["origin"].startswith("pytorch/examples")


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x02h\x01.",  # memo lookup of a key never stored: KeyError inside the unpickler
        b"\x80\x02(t\x85.",  # tuple from an empty stack: IndexError
        b"\x80\x02J\x01.",  # a 4-byte int cut short: struct.error
    ],
    ids=["memo-keyerror", "stack-indexerror", "short-struct"],
)
def test_damaged_pickle_streams_are_model_errors(tmp_path: Path, data: bytes) -> None:
    """Bytes that break torch.load's unpickler in odd ways are a corrupt checkpoint, not a crash (found by fuzzing)."""
    path = tmp_path / "damaged.pt"
    path.write_bytes(data)
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_checkpoint(path)
