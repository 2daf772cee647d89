"""Large hierarchies: diagonal MinT solved with sparse matrices gives the dense result."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hierarchy_fixtures import demo_hierarchy, snaive_engine

import forecast.reconcile as rc


@functools.cache
def _engine():
    return snaive_engine(demo_hierarchy(), noise=0.1)


@pytest.mark.parametrize("method", ["wls_var", "mint_shrink"])
def test_sparse_solver_above_the_node_limit(method, monkeypatch):
    h = demo_hierarchy()
    base, backtest = _engine()
    dense = rc.reconcile(h, base, method="wls_var", backtest=backtest)
    monkeypatch.setattr(rc, "DENSE_MAX_NODES", 100)
    large = rc.reconcile(h, base, method=method, backtest=backtest)
    a, b = dense.forecasts["yhat"].to_numpy(), large.forecasts["yhat"].to_numpy()
    np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-6)
    if method == "mint_shrink":  # no sparse form: wls_var instead, and the run says why
        assert large.method_used == "wls_var"
        assert "too many for a dense MinT covariance (limit 100)" in (large.fallback or "")
    else:
        assert large.method_used == "wls_var" and large.fallback is None


def test_sparse_wls_struct_equals_dense(monkeypatch):
    h = demo_hierarchy()
    base, _ = _engine()
    dense = rc.reconcile(h, base, method="wls_var", backtest=None)  # no residuals: wls_struct
    monkeypatch.setattr(rc, "DENSE_MAX_NODES", 100)
    large = rc.reconcile(h, base, method="wls_var", backtest=None)
    assert dense.method_used == large.method_used == "wls_struct"
    np.testing.assert_allclose(
        large.forecasts["yhat"].to_numpy(), dense.forecasts["yhat"].to_numpy(), rtol=1e-8, atol=1e-6
    )
