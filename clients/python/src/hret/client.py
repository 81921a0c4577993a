"""The HTTP client of `hret api` (the service's /v1 routes, schemas/openapi.yaml).

A request is what a Kafka request is (schemas/events/hret.eval.requested.v1.schema.json): the
service runs it on its worker fleet against the models named in its configuration, so a model is
always a *configured model name*, never a Python object.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import httpx

__all__ = ["Client", "EvaluationResult", "RequestStatus", "HretError", "build_request"]

FINAL = ("completed", "failed", "cancelled")


class HretError(Exception):
    """An answer of the API that is not a success: status, error code and message."""

    def __init__(self, status: int, code: str, message: str, path: Optional[str] = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.path = path


class EvaluationResult:
    """One run's result in HRET's shape: ``metrics``, ``samples`` and ``info`` (HRET's
    ``EvaluationResult``), plus ``run_metadata`` and the stored ``run`` row."""

    def __init__(self, doc: Mapping[str, Any], samples: List[Dict[str, Any]]):
        result = (doc.get("results") or [{}])[0]
        self.metrics: Dict[str, Any] = dict(doc.get("metrics") or {})
        self.samples: List[Dict[str, Any]] = samples
        self.info: Dict[str, Any] = dict(result.get("info") or {})
        self.run_metadata: Dict[str, Any] = dict(doc.get("run_metadata") or {})
        self.run: Dict[str, Any] = dict(doc.get("run") or {})

    @property
    def run_id(self) -> str:
        return self.run.get("run_id", "")

    @property
    def model(self) -> str:
        return self.run.get("model", "")

    def to_dict(self) -> Dict[str, Any]:
        """``{"metrics", "samples", "info"}`` as HRET's ``to_dict``."""
        return {"metrics": self.metrics, "samples": self.samples, "info": self.info}

    def to_dataframe(self):
        """The samples as a pandas DataFrame, the ``evaluation`` dict flattened into ``eval_*``
        columns as HRET does. Needs pandas (``pip install 'hret[pandas]'``)."""
        try:
            import pandas as pd  # noqa: PLC0415 (optional dependency)
        except ImportError as e:
            raise ImportError(
                "to_dataframe needs pandas: pip install 'hret[pandas]' (or pandas)") from e
        rows = []
        for s in self.samples:
            row = {k: v for k, v in s.items() if k != "evaluation"}
            for k, v in (s.get("evaluation") or {}).items():
                row[f"eval_{k}"] = v
            rows.append(row)
        return pd.DataFrame(rows)

    def save_json(self, path: str) -> str:
        """Writes ``to_dict()`` as UTF-8 JSON (not ASCII-escaped, indent 2); returns path."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False, indent=2)
        return path

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __contains__(self, key: object) -> bool:
        return key in ("metrics", "samples", "info")

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __repr__(self) -> str:
        return (f"EvaluationResult(run_id={self.run_id!r}, model={self.model!r}, "
                f"metrics={self.metrics!r}, samples={len(self.samples)})")


class RequestStatus(dict):
    """``GET /v1/requests/{id}``: ``request_id``, ``status`` (accepted, planned, running,
    completed, failed) and ``runs`` (each with ``run_id``, ``model``, ``dataset``, ``status``,
    ``metrics``)."""

    @property
    def status(self) -> str:
        return self.get("status", "")

    @property
    def runs(self) -> List[Dict[str, Any]]:
        return list(self.get("runs") or [])

    @property
    def done(self) -> bool:
        return self.status in FINAL


def build_request(dataset: Optional[str] = None, model: Union[str, Sequence[str], None] = None, *,
                  subset: Union[str, Sequence[str], None] = None, split: Optional[str] = None,
                  limit: Optional[int] = None, evaluation_method: Optional[str] = None,
                  evaluator_params: Optional[Mapping[str, Any]] = None,
                  run_name: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None,
                  tracking: Optional[Mapping[str, Any]] = None,
                  num_few_shot: Optional[int] = None,
                  track_metrics: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """An evaluation request from keyword arguments (None = the service's default)."""
    models = [model] if isinstance(model, str) else list(model or [])
    for m in models:
        check_model(m)
    req: Dict[str, Any] = {}
    if dataset is not None:
        ds: Dict[str, Any] = {"name": dataset}
        if subset is not None:
            ds["subset"] = [subset] if isinstance(subset, str) else list(subset)
        if split is not None:
            ds["split"] = split
        if limit is not None:
            ds["limit"] = int(limit)
        req["datasets"] = [ds]
    if models:
        req["models"] = [{"name": m} for m in models]
    if evaluation_method is not None or evaluator_params:
        ev: Dict[str, Any] = {}
        if evaluation_method is not None:
            ev["method"] = evaluation_method
        if evaluator_params:
            ev["params"] = dict(evaluator_params)
        req["evaluation"] = ev
    for key, value in (("run_name", run_name), ("num_few_shot", num_few_shot)):
        if value is not None:
            req[key] = value
    if metadata:
        req["metadata"] = dict(metadata)
    if tracking:
        req["tracking"] = dict(tracking)
    if track_metrics:
        req["track_metrics"] = list(track_metrics)
    return req


def check_model(model: Any) -> None:
    """hret evaluates models its service configures, by name: anything else is a TypeError."""
    if isinstance(model, str) and model:
        return
    kind = "a Python callable" if callable(model) else f"a {type(model).__name__}"
    raise TypeError(
        f"hret evaluates models configured on the service, by name: got {kind}. Name an entry "
        "of the service's `models:` configuration (e.g. model=\"my-model\"); HRET's Python "
        "model functions have no equivalent, since the fleet calls the model's endpoint itself.")


class Client:
    """A connection to ``hret api``.

    ``url`` and ``token`` default to the environment variables ``HRET_API_URL`` and
    ``HRET_API_TOKEN``. Every call has a timeout; errors raise :class:`HretError`.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, *,
                 timeout: float = 30.0):
        url = url or os.environ.get("HRET_API_URL")
        token = token or os.environ.get("HRET_API_TOKEN")
        if not url:
            raise ValueError("no API URL: pass url= or set HRET_API_URL")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        r = self._http.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                body = r.json()
            except ValueError:
                body = {}
            raise HretError(r.status_code, body.get("error", "http_error"),
                            body.get("message", r.text[:200]), body.get("path"))
        return r.json()

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, request: Optional[Mapping[str, Any]] = None, *,
               idempotency_key: Optional[str] = None, **kw: Any) -> str:
        """Submits a request (a dict as in a Kafka request, or :func:`build_request`'s keyword
        arguments) and returns its id. The request carries an Idempotency-Key (a new UUID unless
        given), so a retry after a lost answer names the same request."""
        body = dict(request) if request is not None else build_request(**kw)
        key = idempotency_key or str(uuid.uuid4())
        for attempt in range(3):
            try:
                doc = self._call("POST", "/v1/requests", json=body,
                                 headers={"Idempotency-Key": key})
                return doc["request_id"]
            except (httpx.TransportError, HretError) as e:
                retriable = isinstance(e, httpx.TransportError) or e.status in (429, 503)
                if not retriable or attempt == 2:
                    raise
                time.sleep(1.0 + attempt)
        raise AssertionError("unreachable")

    def status(self, request_id: str) -> RequestStatus:
        """The request's state and its runs with their metrics."""
        return RequestStatus(self._call("GET", f"/v1/requests/{request_id}"))

    def wait(self, request_id: str, timeout: float = 600.0, poll: float = 0.5) -> RequestStatus:
        """Waits until every run of the request has finished (completed or failed); raises
        TimeoutError after timeout seconds."""
        end = time.monotonic() + timeout
        while True:
            st = self.status(request_id)
            if st.done:
                return st
            if time.monotonic() > end:
                raise TimeoutError(f"request {request_id} still {st.status} after {timeout} s")
            time.sleep(poll)

    def events(self, request_id: str, timeout: float = 600.0) -> Iterator[Tuple[str, Any]]:
        """The request's Server-Sent Events as (event, data) pairs until ``end``: ``progress``,
        each result event by its type (``hret.run.completed.v1``, ...), then ``end``."""
        with self._http.stream("GET", f"/v1/requests/{request_id}/events",
                               timeout=httpx.Timeout(30.0, read=timeout)) as r:
            if r.status_code >= 400:
                r.read()
                self._raise(r)
            event, data = "message", []
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    yield event, json.loads("\n".join(data))
                    event, data = "message", []

    @staticmethod
    def _raise(r: httpx.Response) -> None:
        try:
            body = r.json()
        except ValueError:
            body = {}
        raise HretError(r.status_code, body.get("error", "http_error"), body.get("message", ""))

    # ---- reading -----------------------------------------------------------------------------

    def runs(self, model: Optional[str] = None, dataset: Optional[str] = None,
             status: Optional[str] = None, since: Optional[str] = None,
             limit: int = 100) -> List[Dict[str, Any]]:
        """Stored runs, newest first. ``since``: a timestamp or an age (30m, 12h, 7d)."""
        params = {k: v for k, v in (("model", model), ("dataset", dataset), ("status", status),
                                    ("since", since), ("limit", limit)) if v is not None}
        return self._call("GET", "/v1/runs", params=params)["runs"]

    def run(self, run_id: str, samples: bool = True, page_size: int = 1000) -> EvaluationResult:
        """A run as HRET's result: metrics, samples (every page, unless samples=False), info."""
        offset, got = 0, []
        while True:
            doc = self._call("GET", f"/v1/runs/{run_id}",
                             params={"offset": offset, "limit": page_size if samples else 0})
            got.extend(doc["results"][0]["samples"])
            nxt = doc["samples_page"]["next_offset"]
            if not samples or nxt is None:
                return EvaluationResult(doc, got)
            offset = nxt

    def metrics_history(self, metric: str = "accuracy", model: Optional[str] = None,
                        dataset: Optional[str] = None,
                        subset: Optional[str] = None) -> List[Dict[str, Any]]:
        """A metric over runs, oldest first: run_id, run_name, model, dataset, value, ..."""
        params = {k: v for k, v in (("metric", metric), ("model", model), ("dataset", dataset),
                                    ("subset", subset)) if v is not None}
        return self._call("GET", "/v1/metrics/history", params=params)["points"]

    def compare(self, a: str, b: str) -> Dict[str, Any]:
        """The paired comparison of runs a and b (McNemar's exact test, the paired bootstrap
        interval of B - A, per subset with Holm's correction), as ``hret compare --json``."""
        return self._call("GET", "/v1/compare", params={"a": a, "b": b})

    def evaluate(self, request: Optional[Mapping[str, Any]] = None, *, timeout: float = 600.0,
                 **kw: Any) -> Tuple[RequestStatus, List[EvaluationResult]]:
        """Submits, waits and fetches: the request's final status and one result per run."""
        rid = self.submit(request, **kw)
        st = self.wait(rid, timeout=timeout)
        if st.status != "completed":
            failed = [r for r in st.runs if r.get("status") == "failed"]
            why = failed[0].get("error") if failed else st.get("error")
            raise HretError(0, "failed", f"request {rid} {st.status}: {why}")
        return st, [self.run(r["run_id"]) for r in st.runs]
