"""Market outlook forecasts for Vietnam's rural industry products (CNNT)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
