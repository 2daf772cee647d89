"""Adapters that put well-kept third-party forecasting libraries behind our protocol."""
