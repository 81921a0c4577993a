"""hret: the Python client of the hret evaluation service (``hret api``), and HRET's Python API
on top of it. See clients/python/README.md for the mapping from HRET's calls."""
from .client import Client, EvaluationResult, HretError, RequestStatus, build_request
from .hret_api import (EvaluationContext, ModelComparison, benchmark, compare_metric,
                       compare_models, configure, evaluate, evaluation_context,
                       get_metrics_history, quick_eval)

__all__ = ["Client", "EvaluationResult", "HretError", "RequestStatus", "build_request",
           "configure", "evaluate", "benchmark", "evaluation_context", "EvaluationContext",
           "quick_eval", "compare_models", "ModelComparison", "get_metrics_history",
           "compare_metric"]
__version__ = "0.1.0"
