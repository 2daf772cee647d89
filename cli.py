"""Thin shim so that ``python cli.py ...`` works from a checkout; the real app is forecast.cli."""

from forecast.cli import main

if __name__ == "__main__":
    main()
