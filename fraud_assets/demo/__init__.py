"""Deterministic demo data: landing feeds that look like a bank's, with injected fraud."""

from fraud_assets.demo.generator import GeneratorConfig, GeneratorSummary, generate
from fraud_assets.demo.reference import SCENARIOS

__all__ = ["SCENARIOS", "GeneratorConfig", "GeneratorSummary", "generate"]
