"""A run's figures as the words a person reads, shared by the app's panes and the CLI."""

from __future__ import annotations

from ragtui.pipeline import RunStats


def format_ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def format_stats(stats: RunStats) -> str:
    """Two lines: timing, then tokens, cost and timing mode; unknown figures show as –."""
    approx = "≈" if stats.tokens_estimated else ""
    rate = "–" if stats.tokens_per_s is None else f"{stats.tokens_per_s:.1f} tok/s"
    cost = "cost unknown" if stats.cost_usd is None else f"cost ${stats.cost_usd:.6f}"

    def count(value: int | None) -> str:
        return "–" if value is None else f"{approx}{value}"

    queued = f" · queued {format_ms(stats.queued_ms)}" if stats.queued_ms >= 1 else ""
    parts = []
    if stats.encode_ms is not None:
        parts.append(f"{stats.encoder or 'encoding'} {format_ms(stats.encode_ms)}")
    if stats.engine_ms is not None:
        parts.append(f"{stats.engine or 'engine'} {format_ms(stats.engine_ms)}")
    breakdown = f" ({', '.join(parts)})" if parts else ""
    return (
        f"retrieval {format_ms(stats.retrieval_ms)}{breakdown} · "
        f"TTFT {format_ms(stats.ttft_ms)} · {rate} · "
        f"total {format_ms(stats.total_ms)}{queued}\n"
        f"tokens {count(stats.prompt_tokens)} in / {count(stats.completion_tokens)} out · "
        f"{cost} · {stats.timing_mode} timing"
    )
