"""Evaluation: metrics, rolling-origin backtest, model selection and combination."""
