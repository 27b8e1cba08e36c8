"""`supportmesh classify` and `supportmesh eval intents`: parsing, label validation and the report, with a
fake classifier (no trained model needed)."""

import json
from dataclasses import dataclass

import pytest
from supportmesh_cli import evaluate
from supportmesh_cli.main import build_parser, run_async

pytestmark = pytest.mark.unit


@dataclass
class _Score:
    intent: str
    score: float


class _FakeModel:
    labels = ["cancel_order", "out_of_scope", "track_order"]

    def rank(self, text: str, top: int = 3) -> list[_Score]:
        return [_Score("track_order" if "where" in text else "out_of_scope", 0.9)]


class _FakeClassifier:
    model = _FakeModel()


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(evaluate, "load_classifier", lambda model_dir="": _FakeClassifier())


def _csv(tmp_path, rows, header="text,intent"):
    path = tmp_path / "set.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_eval_and_classify_options_parse():
    args = build_parser().parse_args(
        ["eval", "intents", "--data", "x.csv", "--text-col", "instruction", "--label-col", "label", "--json"]
    )
    assert (args.command, args.target, args.data, args.text_col, args.label_col, args.json) == (
        "eval", "intents", "x.csv", "instruction", "label", True)
    defaults = build_parser().parse_args(["eval", "intents", "--data", "x.csv"])
    assert (defaults.text_col, defaults.label_col, defaults.json, defaults.min_confidence) == (
        "text", "intent", False, 0.6)
    assert build_parser().parse_args(["classify", "where is my order"]).text == "where is my order"


@pytest.mark.parametrize("argv", [["eval"], ["eval", "intents"], ["eval", "entities", "--data", "x"], ["classify"]])
def test_bad_eval_arguments_exit_2(argv):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2


async def test_labels_outside_the_taxonomy_exit_2_naming_them(fake, tmp_path, capsys):
    data = _csv(tmp_path, ["where is it,track_order", "hello,greeting", "bye,farewell"])
    assert await run_async(["eval", "intents", "--data", data]) == 2
    err = capsys.readouterr().err
    assert "labels outside the taxonomy: 'farewell', 'greeting'" in err


async def test_missing_column_and_missing_file_exit_2(fake, tmp_path, capsys):
    data = _csv(tmp_path, ["where is it,track_order"], header="body,intent")
    assert await run_async(["eval", "intents", "--data", data]) == 2
    assert "no column text" in capsys.readouterr().err
    assert await run_async(["eval", "intents", "--data", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


async def test_json_report_has_the_figures(fake, tmp_path, capsys):
    data = _csv(tmp_path, ["where is my order,track_order", "cancel it,cancel_order", "weather?,out_of_scope",
                           "where are you from,out_of_scope"])
    out = []

    class _Out:
        def write(self, s):
            out.append(s)

        def flush(self):
            pass

    assert await run_async(["eval", "intents", "--data", data, "--json"], out=_Out()) == 0
    result = json.loads("".join(out))
    assert result["accuracy"] == 0.5  # 2 of 4 right
    assert set(result["per_intent"]) == {"cancel_order", "out_of_scope", "track_order"}
    assert result["per_intent"]["track_order"]["precision"] == 0.5
    assert result["per_intent"]["cancel_order"]["recall"] == 0.0
    assert {"intent": "cancel_order", "predicted": "out_of_scope", "count": 1} in result["confusions"]


def test_table_lists_intents_worst_first_and_confusions():
    result = evaluate.evaluate(_FakeClassifier(), ["where is it", "cancel"], ["track_order", "cancel_order"], 0.6)
    table = evaluate.render(result, "set.csv")
    lines = table.splitlines()
    assert lines[0] == "set.csv: 2 examples"
    assert lines[4].split()[0] == "cancel_order" and lines[5].split()[0] == "track_order"
    assert "cancel_order → out_of_scope: 1" in table


async def test_classify_without_a_model_exits_2(tmp_path, capsys):
    assert await run_async(["classify", "where is my order", "--model-dir", str(tmp_path)]) == 2
    assert "run `make train` first" in capsys.readouterr().err
