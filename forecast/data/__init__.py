"""Data layer: contract, readers, reference geography and calendar, warehouse."""
