"""HRET's high-level Python API (``llm_eval/hret.py``) with HRET's names and parameter names,
running on the hret service: ``@evaluate``, ``@benchmark``, ``evaluation_context``,
``quick_eval``, ``compare_models``, ``get_metrics_history``, ``compare_metric``.

Two differences from HRET, both forced by evaluating on a fleet: a model is the *name* of a model
configured on the service (a callable raises TypeError), and a decorated function's body is not
the model: it is called with the result (see each function).
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from .client import Client, EvaluationResult, build_request, check_model

__all__ = ["configure", "evaluate", "benchmark", "evaluation_context", "EvaluationContext",
           "quick_eval", "compare_models", "ModelComparison", "get_metrics_history",
           "compare_metric"]

_settings: Dict[str, Any] = {
    "url": None, "token": None, "timeout": 600.0,
    "default_dataset": None, "default_model": None, "default_split": None,
    "default_evaluation_method": None, "output_dir": "./hret_results",
    "auto_save_results": False,
}


def configure(**kw: Any) -> None:
    """Sets the service (``url``, ``token``; default: ``HRET_API_URL``, ``HRET_API_TOKEN``), the
    wait ``timeout`` in seconds and HRET's defaults (``default_dataset``, ``default_model``,
    ``default_split``, ``default_evaluation_method``, ``output_dir``, ``auto_save_results``).
    Unknown keys are a TypeError (HRET only warned)."""
    for k, v in kw.items():
        if k not in _settings:
            raise TypeError(f"configure: unknown key {k!r} (known: {', '.join(_settings)})")
        _settings[k] = v


def _client() -> Client:
    return Client(_settings["url"], _settings["token"])


def _model_name(model: Any) -> Optional[str]:
    model = model if model is not None else _settings["default_model"]
    if model is not None:
        check_model(model)
    return model


def _request(dataset: Optional[str], models: Sequence[Optional[str]], kw: Mapping[str, Any],
             run_name: Optional[str], metadata: Optional[Mapping[str, Any]] = None,
             tracking: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """A request from HRET's parameter names (dataset_name, split, subset, limit,
    evaluation_method_name or evaluation_method, evaluator_params, num_few_shot)."""
    kw = dict(kw)
    unknown = set(kw) - {"split", "subset", "limit", "evaluation_method", "evaluation_method_name",
                         "evaluator_params", "num_few_shot", "track_metrics"}
    if unknown:
        raise TypeError(f"unknown argument(s): {', '.join(sorted(unknown))}")
    method = kw.pop("evaluation_method_name", None) or kw.pop("evaluation_method", None)
    return build_request(
        dataset or _settings["default_dataset"], [m for m in models if m is not None],
        subset=kw.get("subset"), split=kw.get("split") or _settings["default_split"],
        limit=kw.get("limit"),
        evaluation_method=method or _settings["default_evaluation_method"],
        evaluator_params=kw.get("evaluator_params"), run_name=run_name, metadata=metadata,
        tracking=tracking, num_few_shot=kw.get("num_few_shot"),
        track_metrics=kw.get("track_metrics"))


def _run(request: Mapping[str, Any]) -> List[EvaluationResult]:
    with _client() as c:
        _, results = c.evaluate(request, timeout=_settings["timeout"])
        return results


class ModelComparison(dict):
    """``{model name: EvaluationResult}`` in the order given, with ``comparisons``: ``{name:
    paired comparison against the first model}`` for every other model (McNemar's exact test and
    the paired bootstrap interval, as ``hret compare --json``)."""

    comparisons: Dict[str, Dict[str, Any]]


def _compare(results: Mapping[str, EvaluationResult]) -> ModelComparison:
    out = ModelComparison(results)
    out.comparisons = {}
    names = list(results)
    if len(names) > 1:
        with _client() as c:
            first = results[names[0]].run_id
            for name in names[1:]:
                out.comparisons[name] = c.compare(first, results[name].run_id)
    return out


# ---- the context ------------------------------------------------------------------------------

class EvaluationContext:
    """HRET's ``EvaluationContext``: one place for a dataset, a default model and a run name.
    ``log_to_mlflow``/``log_to_wandb`` set the tracking of the requests sent afterwards (the
    service's bridges do the logging); ``metadata`` goes on every request (HRET's
    ``metrics_tracker.run_metadata``)."""

    def __init__(self, dataset_name: Optional[str] = None,
                 model_backend_name: Optional[str] = None, run_name: Optional[str] = None,
                 **kw: Any):
        self.dataset_name = dataset_name
        self.model_backend_name = _model_name(model_backend_name)
        self.run_name = run_name or f"run_{int(time.time())}"
        self.options = kw
        self.metadata: Dict[str, Any] = {}
        self.tracking: Dict[str, Any] = {}
        self.results: List[EvaluationResult] = []
        _request(dataset_name, [], kw, None)  # unknown keywords fail here, as in HRET

    def log_to_mlflow(self, experiment_name: Optional[str] = None) -> None:
        """Requests sent from now on are logged to MLflow by the service's MLflow bridge."""
        self.tracking["mlflow"] = {"experiment": experiment_name} if experiment_name else {}

    def log_to_wandb(self, project_name: Optional[str] = None) -> None:
        """Requests sent from now on are logged to W&B by the service's W&B bridge."""
        self.tracking["wandb"] = {"project": project_name} if project_name else {}

    def evaluate(self, model: Optional[str] = None) -> EvaluationResult:
        """Runs the context's dataset on model (a configured model name; default: the
        context's) and returns its result."""
        name = _model_name(model) if model is not None else self.model_backend_name
        req = _request(self.dataset_name, [name], self.options, self.run_name, self.metadata,
                       self.tracking)
        result = _run(req)[0]
        self.results.append(result)
        return result

    def benchmark(self, models: Union[Mapping[str, str], Sequence[str]]) -> ModelComparison:
        """Runs every model ({label: model name} or names) in one request, on the same items."""
        mapping = dict(models) if isinstance(models, Mapping) else {m: m for m in models}
        for m in mapping.values():
            check_model(m)
        req = _request(self.dataset_name, list(mapping.values()), self.options, self.run_name,
                       self.metadata, self.tracking)
        by_model = {r.model: r for r in _run(req)}
        results = {label: by_model[m] for label, m in mapping.items()}
        self.results.extend(results.values())
        return _compare(results)

    def save_results(self, filename: Optional[str] = None) -> str:
        """HRET's ``save_results``: {run_metadata, metrics, results} under output_dir."""
        out = Path(_settings["output_dir"])
        out.mkdir(parents=True, exist_ok=True)
        path = out / (filename or f"hret_results_{int(time.time())}.json")
        metrics: Dict[str, Any] = {}
        for r in self.results:
            metrics.update(r.metrics)
        doc = {"run_metadata": {"run_name": self.run_name, "dataset": self.dataset_name,
                                "model": self.model_backend_name, "metadata": self.metadata},
               "metrics": metrics, "results": [r.to_dict() for r in self.results]}
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        return str(path)


@contextlib.contextmanager
def evaluation_context(dataset_name: Optional[str] = None,
                       model_backend_name: Optional[str] = None, run_name: Optional[str] = None,
                       **kw: Any) -> Iterator[EvaluationContext]:
    """``with hret.evaluation_context(dataset_name="kmmlu", model_backend_name="my-model") as
    ctx: ctx.log_to_mlflow("exp"); result = ctx.evaluate()``."""
    ctx = EvaluationContext(dataset_name, model_backend_name, run_name, **kw)
    try:
        yield ctx
    finally:
        if _settings["auto_save_results"] and ctx.results:
            ctx.save_results()


# ---- decorators and helpers -------------------------------------------------------------------

def evaluate(dataset: Optional[str] = None, model: Optional[str] = None,
             evaluation_method: Optional[str] = None, **kw: Any) -> Callable:
    """``@hret.evaluate(dataset="kmmlu", model="my-model")``: calling the decorated function runs
    the evaluation (run name ``eval_<function>``) and calls the function with the result as its
    first argument; it returns what the function returns, or the result when that is None."""
    name = _model_name(model)

    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with evaluation_context(dataset, name, f"eval_{func.__name__}",
                                    evaluation_method=evaluation_method, **kw) as ctx:
                result = ctx.evaluate()
            rv = func(result, *args, **kwargs)
            return result if rv is None else rv
        return run
    return wrap


def benchmark(dataset: Optional[str] = None,
              models: Union[Mapping[str, str], Sequence[str], None] = None,
              **kw: Any) -> Callable:
    """``@hret.benchmark(dataset="kmmlu", models=["base", "cand"])``: calling the decorated
    function runs every model in one request (run name ``benchmark_<function>``) and calls the
    function with the :class:`ModelComparison`; it returns what the function returns, or the
    comparison when that is None."""
    if not models:
        raise TypeError("benchmark needs models: configured model names or {label: name}")
    for m in (models.values() if isinstance(models, Mapping) else models):
        check_model(m)

    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with evaluation_context(dataset, None, f"benchmark_{func.__name__}", **kw) as ctx:
                comparison = ctx.benchmark(models)
            rv = func(comparison, *args, **kwargs)
            return comparison if rv is None else rv
        return run
    return wrap


def quick_eval(model: str, dataset: str = "kmmlu", **kw: Any) -> EvaluationResult:
    """One model on one dataset: its result."""
    check_model(model)
    with evaluation_context(dataset, model, kw.pop("run_name", None), **kw) as ctx:
        return ctx.evaluate()


def compare_models(models: Mapping[str, str], dataset: str = "kmmlu",
                   **kw: Any) -> ModelComparison:
    """``{label: model name}`` run in one request on the same items: every model's result and
    (``.comparisons``) the paired comparison of each against the first."""
    if not isinstance(models, Mapping) or not models:
        raise TypeError("compare_models takes {label: configured model name, ...}")
    with evaluation_context(dataset, None, kw.pop("run_name", None), **kw) as ctx:
        return ctx.benchmark(models)


def get_metrics_history(metric: str = "accuracy", model: Optional[str] = None,
                        dataset: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every stored run's value of metric, oldest first (HRET kept this per process; the
    service keeps it for every run): ``[{"run_id", "run_name", "model", "dataset", "value",
    ...}]``."""
    with _client() as c:
        return c.metrics_history(metric, model=model, dataset=dataset)


def compare_metric(metric_name: str, model: Optional[str] = None,
                   dataset: Optional[str] = None) -> Dict[str, Any]:
    """HRET's ``compare_metric``: ``{run name (or id): value, ..., "_stats": {"best", "worst",
    "average"}}`` over the stored runs, higher is better; ``{}`` when no run has the metric."""
    points = get_metrics_history(metric_name, model=model, dataset=dataset)
    out: Dict[str, Any] = {}
    for p in points:
        out[p.get("run_name") or p["run_id"]] = p["value"]
    if not out:
        return {}
    values = list(out.values())
    out["_stats"] = {"best": max(values), "worst": min(values),
                     "average": sum(values) / len(values)}
    return out


def _env_defaults() -> None:
    for key in ("default_dataset", "default_model"):
        v = os.environ.get(f"HRET_{key.upper()}")
        if v:
            _settings[key] = v


_env_defaults()
