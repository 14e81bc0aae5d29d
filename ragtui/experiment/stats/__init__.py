"""The statistics of a grid: paired comparisons and their corrections, attribution to
the component, rank-threshold effects, and the good-enough decisions."""
