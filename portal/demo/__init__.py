"""Demo data for local use: three drafts, 27 liaison points, one account per role."""
