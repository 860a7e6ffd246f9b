"""The tasks whose targets are not label rows: classify (class folders), semantic (mask PNGs)
and depth (depth maps). Each module checks a dataset as Ultralytics 8.4 will read it."""
