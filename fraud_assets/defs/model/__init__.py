"""The learned model: training, versions in the lake, the promotion gate."""
