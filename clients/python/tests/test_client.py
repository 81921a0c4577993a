"""clients/python against a live hret api, worker, Kafka and PostgreSQL (fake-llm serves models
a (55% right) and b (70%) and c (= a); the dataset is a 40-item KMMLU-shaped set)."""
import json
import os
import subprocess

import pytest

import hret


def stored_spec(request_id: str) -> dict:
    out = subprocess.run(["psql", os.environ["HRET_PG"], "-Atc",
                          f"SELECT spec FROM requests WHERE request_id = '{request_id}'"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_submit_wait_run(client):
    rid = client.submit(dataset="kmmlu", model="a", limit=20, run_name="py-submit",
                        metadata={"epoch": 3})
    st = client.wait(rid, timeout=240)
    assert st.status == "completed" and len(st.runs) == 1
    run = st.runs[0]
    assert run["model"] == "a" and 0 <= run["metrics"]["accuracy"] <= 1
    result = client.run(run["run_id"], page_size=7)  # three pages
    assert result.run_id == run["run_id"]
    assert result.metrics["accuracy"] == pytest.approx(run["metrics"]["accuracy"])
    assert len(result.samples) == 20
    assert [s["_subset_name"] is not None for s in result.samples]
    correct = sum(1 for s in result.samples if s["evaluation"]["is_correct"])
    assert correct / 20 == pytest.approx(result.metrics["accuracy"])
    assert result.to_dict()["metrics"] is result.metrics
    assert result["samples"] == result.samples and "info" in result
    assert client.run(run["run_id"], samples=False).samples == []
    runs = client.runs(model="a", limit=5)
    assert run["run_id"] in [r["run_id"] for r in runs]
    assert stored_spec(rid)["metadata"] == {"epoch": 3}


def test_to_dataframe(client):
    rid = client.submit(dataset="kmmlu", model="b", limit=5)
    st = client.wait(rid, timeout=240)
    result = client.run(st.runs[0]["run_id"])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            result.to_dataframe()
        return
    frame = result.to_dataframe()
    assert len(frame) == 5 and "eval_is_correct" in frame.columns


def test_events_end_with_results(client):
    rid = client.submit(dataset="kmmlu", model=["a", "b"], limit=10)
    events = [e for e, _ in client.events(rid, timeout=240)]
    assert events[-1] == "end"
    assert events.count("hret.run.completed.v1") == 2
    assert "hret.comparison.completed.v1" in events and "progress" in events


def test_idempotent_submit(client):
    body = hret.build_request("kmmlu", "a", limit=3)
    first = client.submit(body, idempotency_key="py-idem-1")
    assert client.submit(body, idempotency_key="py-idem-1") == first
    with pytest.raises(hret.HretError) as e:
        client.submit(hret.build_request("kmmlu", "b", limit=3), idempotency_key="py-idem-1")
    assert e.value.status == 409
    client.wait(first, timeout=240)


def test_errors(url, client):
    with pytest.raises(hret.HretError) as e:
        client.submit(dataset="kmmlu", model="no-such-model")
    assert e.value.status == 400 and "no-such-model" in e.value.message
    assert e.value.path == "models[0].name"
    with hret.Client(url, "hret_wrong") as bad:
        with pytest.raises(hret.HretError) as e:
            bad.runs()
    assert e.value.status == 401 and e.value.code == "unauthenticated"
    with hret.Client(url, os.environ["HRET_API_READ_TOKEN"]) as reader:
        with pytest.raises(hret.HretError) as e:
            reader.submit(dataset="kmmlu", model="a")
        assert e.value.status == 403
        assert reader.runs(limit=1) is not None
    with pytest.raises(hret.HretError) as e:
        client.status("no-such-request")
    assert e.value.status == 404


def test_callable_model_is_a_type_error():
    with pytest.raises(TypeError, match="configured on the service, by name"):
        hret.quick_eval(lambda prompt: "(A)", dataset="kmmlu")
    with pytest.raises(TypeError, match="Python callable"):
        hret.evaluate(dataset="kmmlu", model=lambda x: x)
    with pytest.raises(TypeError):
        hret.compare_models({"mine": print}, dataset="kmmlu")
    with pytest.raises(TypeError):
        hret.Client("http://127.0.0.1:1").submit(dataset="kmmlu", model=len)


def test_evaluate_decorator_gets_the_result():
    seen = []

    @hret.evaluate(dataset="kmmlu", model="a", limit=8)
    def checkpoint(result, epoch):
        seen.append((result, epoch))

    result = checkpoint(7)
    assert seen and seen[0][0] is result and seen[0][1] == 7
    assert isinstance(result, hret.EvaluationResult) and len(result.samples) == 8
    assert result.run["run_name"] == "eval_checkpoint"


def test_benchmark_and_compare_models():
    @hret.benchmark(dataset="kmmlu", models={"base": "a", "cand": "b"}, limit=12)
    def ab(comparison):
        return comparison

    comparison = ab()
    assert list(comparison) == ["base", "cand"]
    assert comparison["cand"].model == "b"
    assert comparison.comparisons["cand"]["paired"] is True
    three = hret.compare_models({"a": "a", "b": "b", "c": "c"}, dataset="kmmlu", limit=12)
    assert list(three) == ["a", "b", "c"]
    assert set(three.comparisons) == {"b", "c"}
    # c answers as a does (the same fake model): the same items, the same answers
    c = three.comparisons["c"]["overall"]
    assert c["difference"] == 0 and c["a_right_b_wrong"] == c["a_wrong_b_right"] == 0


def test_evaluation_context_sets_tracking():
    with hret.evaluation_context(dataset_name="kmmlu", model_backend_name="a",
                                 run_name="ctx-run", limit=4) as ctx:
        ctx.log_to_mlflow("hret-py")
        ctx.log_to_wandb("llm_evaluation")
        ctx.metadata["hyperparameters"] = {"lr": 0.001}
        result = ctx.evaluate()
        assert ctx.results == [result]
    spec = stored_spec(result.run["request_id"])
    assert spec["tracking"]["mlflow"]["experiment"] == "hret-py"
    assert spec["tracking"]["wandb"]["project"] == "llm_evaluation"
    assert spec["metadata"] == {"hyperparameters": {"lr": 0.001}}
    assert spec["run_name"] == "ctx-run"
    with pytest.raises(TypeError):
        hret.evaluation_context(dataset="kmmlu").__enter__()  # HRET's name is dataset_name


def test_history_and_compare_metric():
    r1 = hret.quick_eval("a", dataset="kmmlu", limit=6, run_name="hist-1")
    hist = hret.get_metrics_history("accuracy", model="a")
    assert hist[-1]["run_id"] == r1.run_id
    assert all(p["model"] == "a" for p in hist)
    stats = hret.compare_metric("accuracy", model="a")
    values = [v for k, v in stats.items() if k != "_stats"]
    assert stats["_stats"]["best"] == max(values) and stats["_stats"]["worst"] == min(values)
    assert stats["hist-1"] == pytest.approx(r1.metrics["accuracy"])
    assert hret.compare_metric("no_such_metric") == {}
