"""The LLM judge: any generator spec grading answers, pairwise in both orders or one at a time.

Pairwise follows MT-Bench's swap rule: each pair is judged with A first and with B first,
and a side wins only when both orders say so; otherwise it is a tie. Both raw verdicts are
kept, so position inconsistency is always known.

Two ways to read a verdict:

* ``text``: the judge writes its verdict ("1", "2", "tie", or a number on 1–5), read
  leniently; a reply that names none is retried once (sampled), then counted as an
  abstention. ``TEXT_ATTEMPTS`` is that policy, the one place the retry, the cache key and
  the cost estimate read it from.
* ``logprob``: where the backend exposes the next token's probabilities (llama.cpp), the
  verdict is read from the probabilities of "1" and "2" (or of 1–5) with nothing
  generated or parsed, one call per order. A pair's outcome then averages the two orders,
  so a judge's taste for the first position cancels out; a side wins when its averaged
  probability is more than ``tie_band`` from one half.

Position inconsistency means one thing for both methods, MT-Bench's: the verdict changes
when the order is swapped. Each order's verdict is "1", "2" or "tie" (for logprob: "tie"
when the order's probability is within ``tie_band`` of one half, the band the outcome
uses), and a pair is consistent when both orders name the same side.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ragtui.config.specs import parse_generator_spec
from ragtui.errors import RagtuiError
from ragtui.generation import GenerationOptions, make_generator
from ragtui.generation.base import GenerationDone, GenerationError, Prompt
from ragtui.generation.complete import complete
from ragtui.generation.prices import PriceTable
from ragtui.generation.retry import RETRY_TEMPERATURE, RetryPolicy
from ragtui.judging.judge_prompts import (
    SCALE,
    JudgeTemplates,
    correctness_prompt,
    faithfulness_prompt,
    pairwise_prompt,
    parse_pairwise,
    parse_scale,
)
from ragtui.judging.verdict_cache import VerdictCache, verdict_key
from ragtui.progress import WorkProgress

METHODS = ("auto", "text", "logprob")
ORDERS_PER_PAIR = 2  # MT-Bench's swap rule: every pair is asked with each answer first


@dataclass(frozen=True)
class AttemptPolicy:
    """How a text judge asks for one verdict: a greedy try, then sampled retries
    (the retry rules shared with the test-set generator, ``generation.retry``)."""

    attempts: int = 2  # a second, sampled try when the first reply names no verdict
    max_tokens: int = 8  # a verdict is one word; more only feeds explanations nobody reads
    retry_temperature: float = RETRY_TEMPERATURE

    def options(self, attempt: int) -> GenerationOptions:
        retry = RetryPolicy(self.attempts, self.retry_temperature)
        return retry.options(attempt, max_tokens=self.max_tokens)

    def key_material(self) -> dict[str, Any]:
        """Everything of the policy that can change a reply: part of the verdict's key."""
        return {
            "attempts": self.attempts,
            "max_tokens": self.max_tokens,
            "temperatures": [self.options(a).temperature for a in range(self.attempts)],
            "seeds": [self.options(a).seed for a in range(self.attempts)],
        }


TEXT_ATTEMPTS = AttemptPolicy()
MAX_TOKENS = TEXT_ATTEMPTS.max_tokens  # the cost estimate's tokens out per call


def requests_per_verdict(method: str, policy: AttemptPolicy = TEXT_ATTEMPTS) -> int:
    """The most model calls one verdict (one order, or one grade) can take.

    A text verdict is retried while its reply names none; log-probabilities are read once.
    """
    return 1 if method == "logprob" else policy.attempts


class JudgeError(RagtuiError):
    """The judge cannot be used as asked."""


@dataclass(frozen=True)
class JudgeOptions:
    method: str = "auto"
    use_reference: bool = True  # reference-guided when a reference answer exists
    tie_band: float = 0.1

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise JudgeError(f"judge method {self.method!r}: use one of {', '.join(METHODS)}")
        if not 0 <= self.tie_band < 0.5:
            raise JudgeError(f"judge tie band {self.tie_band:g}: use 0 up to (not incl.) 0.5")


@dataclass(frozen=True)
class OrderVerdict:
    """What the judge said with the answers in one order."""

    verdict: str | None  # "1", "2", "tie"; None when it abstained
    raw: str  # the reply as written, or the probabilities read
    p_first: float | None = None  # logprob: probability that position 1 is better


def order_verdict_from_probability(p_first: float, tie_band: float) -> str:
    """One order's verdict read from log-probabilities, with the band the outcome uses.

    Without the band, a judge that cannot tell two answers apart (p near one half) would
    name a side in each order by a hair, and its position inconsistency would count noise.
    """
    if p_first > 0.5 + tie_band:
        return "1"
    if p_first < 0.5 - tie_band:
        return "2"
    return "tie"


@dataclass(frozen=True)
class PairJudgment:
    """One pair judged in both orders; ``outcome`` names the better answer or a tie."""

    forward: OrderVerdict  # A shown as answer 1
    backward: OrderVerdict  # B shown as answer 1
    outcome: str  # "a", "b", "tie", or "abstain"
    method: str

    @property
    def sides(self) -> tuple[str | None, str | None]:
        """Each order's verdict named by side ("a", "b", "tie"), None for an abstention."""
        forward = {"1": "a", "2": "b", "tie": "tie"}.get(self.forward.verdict or "")
        backward = {"1": "b", "2": "a", "tie": "tie"}.get(self.backward.verdict or "")
        return forward, backward

    @property
    def consistent(self) -> bool | None:
        """Whether both orders named the same side (MT-Bench's position consistency: the
        verdict did not change with the order); None when either abstained."""
        forward, backward = self.sides
        if forward is None or backward is None:
            return None
        return forward == backward

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "method": self.method,
            "consistent": self.consistent,
            "forward": asdict(self.forward),
            "backward": asdict(self.backward),
        }


@dataclass(frozen=True)
class ScoreJudgment:
    """One answer graded on 1–5; ``score`` is None when the judge abstained."""

    score: float | None
    raw: str

    @property
    def unit(self) -> float | None:
        """The score on 0–1, as answer metrics are."""
        return None if self.score is None else (self.score - 1) / (len(SCALE) - 1)


@dataclass
class JudgeTally:
    calls: int = 0  # requests sent to the model: retries included, the unit of the estimate
    # Of those, requests the server refused (HTTP 429, 502, 503 or 504) and ragtui sent
    # again: they generated no tokens, so they add no cost by the usage the server reports.
    http_retries: int = 0
    from_cache: int = 0  # verdicts read from the cache
    abstentions: int = 0  # pairwise orders or single grades with no verdict
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    errors: list[str] = field(default_factory=list)


class VerdictProgress:
    """Progress of a run of verdicts for a progress line, in verdicts.

    A verdict read from the cache costs nothing, so it comes off the total instead of
    counting as done: the rate and ETA are those of the model's own work (the progress
    printer's rule for cached work). ``note`` counts what the cache gave.
    """

    def __init__(
        self,
        judge: Judge,
        total: int,
        report: Callable[[WorkProgress], None] | None,
        action: str,
        unit: str = "verdicts",
    ) -> None:
        self.judge = judge
        self.total = total
        self.report = report
        self.action = action
        self.unit = unit
        self.done = 0
        self.cached = 0
        self._cache_seen = judge.tally.from_cache
        self._started = time.monotonic()

    def step(self, verdicts: int) -> None:
        """``verdicts`` more were given, from the model or the cache."""
        cached = self.judge.tally.from_cache - self._cache_seen
        self._cache_seen = self.judge.tally.from_cache
        self.cached += cached
        self.total -= cached
        self.done += verdicts - cached
        if self.report is not None:
            note = f"{self.cached:,} from the cache" if self.cached else ""
            elapsed_s = time.monotonic() - self._started
            self.report(
                WorkProgress(self.done, self.total, elapsed_s, self.action, self.unit, note)
            )


def pair_outcome(
    forward: OrderVerdict, backward: OrderVerdict, method: str, tie_band: float
) -> str:
    """The swap rule (text) or the two orders' averaged probability (logprob)."""
    if method == "logprob" and forward.p_first is not None and backward.p_first is not None:
        p_a = (forward.p_first + (1 - backward.p_first)) / 2
        if p_a > 0.5 + tie_band:
            return "a"
        if p_a < 0.5 - tie_band:
            return "b"
        return "tie"
    judgment = PairJudgment(forward, backward, "", method)
    side_forward, side_backward = judgment.sides
    if side_forward is None or side_backward is None:
        return "abstain"
    return side_forward if side_forward == side_backward else "tie"


class Judge:
    """A generator spec used as a judge; see the module's docstring."""

    def __init__(
        self,
        spec: str,
        backends=None,
        *,
        templates: JudgeTemplates | None = None,
        options: JudgeOptions | None = None,
        cache: VerdictCache | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.spec = spec
        self.closed = False
        self.generator_spec = parse_generator_spec(spec)
        if self.generator_spec.backend == "extractive":
            raise JudgeError(
                "extractive cannot judge answers: use a model, e.g. --judge llamacpp:gemma3"
            )
        self.generator = make_generator(self.generator_spec, backends)
        self.templates = templates or JudgeTemplates()
        self.options = options or JudgeOptions()
        can_read_probabilities = hasattr(self.generator, "choice_probabilities")
        if self.options.method == "logprob" and not can_read_probabilities:
            raise JudgeError(
                f"judge {spec}: this backend gives no token probabilities; use "
                "--judge-method text (logprob works with llamacpp judges)"
            )
        self.method = (
            ("logprob" if can_read_probabilities else "text")
            if self.options.method == "auto"
            else self.options.method
        )
        self.cache = cache
        self.prices = prices or PriceTable()
        self.attempts = TEXT_ATTEMPTS
        self.tally = JudgeTally()
        self._identity: str | None = None
        self._asked_model = False  # whether a verdict was asked of the model (not the cache)

    @property
    def style(self):
        return self.generator.prompt_style

    async def identity(self) -> str:
        if self._identity is None:
            self._identity = await self.generator.identity()
        return self._identity

    def most_requests(self, verdicts: int) -> int:
        """The most model calls ``verdicts`` verdicts can take, retries included."""
        return verdicts * requests_per_verdict(self.method, self.attempts)

    async def describe(self) -> dict[str, Any]:
        """The judge's whole configuration: what a calibration is matched on."""
        return {
            "spec": self.spec,
            "model_identity": await self.identity(),
            "method": self.method,
            "reference_guided": self.options.use_reference,
            "tie_band": self.options.tie_band if self.method == "logprob" else None,
            "prompt_sha256": self.templates.sha256(),
        }

    async def aclose(self) -> None:
        """Close the model's connection and the verdict cache (again: nothing happens)."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.generator.aclose()
        finally:
            if self.cache is not None:
                self.cache.close()

    def close(self) -> None:
        """``aclose`` from synchronous code (a command's ``finally``), outside any loop."""
        if not self.closed:
            asyncio.run(self.aclose())

    # asking -----------------------------------------------------------------------------

    async def verdict_key(self, kind: str, prompt: Prompt, choices: Sequence[str]) -> str:
        """The cache key of one verdict: everything that can change what the model says.

        Text verdicts depend on the attempt policy (max tokens, attempts, each attempt's
        temperature and seed); log-probability verdicts on the choices read (and on no
        sampling setting).
        """
        material: dict[str, Any] = {
            "judge": self.spec,
            "model": await self.identity(),
            "method": self.method,
            "kind": kind,
            "style": prompt.style,
            "messages": list(prompt.messages),
            "text": prompt.text,
            "stop": list(prompt.stop),
        }
        if self.method == "logprob":
            material["choices"] = list(choices)
        else:
            material["attempts"] = self.attempts.key_material()
        return verdict_key(material)

    async def _ask(self, kind: str, prompt: Prompt, choices: Sequence[str]) -> dict[str, Any]:
        """The reply (text) or choice probabilities (logprob), from the cache if known."""
        key = await self.verdict_key(kind, prompt, choices)
        if self.cache is not None:
            known = self.cache.get(key)
            if known is not None:
                self.tally.from_cache += 1
                return known
        first_verdict = not self._asked_model
        self._asked_model = True
        try:
            value = await self._call(kind, prompt, choices)
        except GenerationError as error:
            # The first verdict failing means the judge cannot be used (server down, wrong
            # model): say so. Later, one failed call is one abstention, not a lost run.
            if first_verdict:
                raise JudgeError(f"judge {self.spec}: {error}") from None
            self.tally.errors.append(str(error))
            return {"replies": [], "error": str(error)}
        if self.cache is not None:
            self.cache.put(key, value)
        return value

    async def _call(self, kind: str, prompt: Prompt, choices: Sequence[str]) -> dict[str, Any]:
        if self.method == "logprob":
            self.tally.calls += 1
            probabilities = await self.generator.choice_probabilities(prompt, tuple(choices))
            return {"probabilities": probabilities}
        replies = []
        for attempt in range(self.attempts.attempts):
            self.tally.calls += 1
            reply = await self._complete(prompt, self.attempts.options(attempt))
            replies.append(reply)
            parse = parse_pairwise if kind == "pairwise" else parse_scale
            if parse(reply) is not None:
                break
        return {"replies": replies}

    async def _complete(self, prompt: Prompt, options: GenerationOptions) -> str:
        reply, done = await complete(self.generator, prompt, options)
        if done is not None:
            self._count(done)
        return reply

    def _count(self, done: GenerationDone) -> None:
        self.tally.calls += done.http_retries
        self.tally.http_retries += done.http_retries
        usage = done.usage
        self.tally.prompt_tokens += usage.prompt_tokens or 0
        self.tally.completion_tokens += usage.completion_tokens or 0
        cost = self.prices.cost_usd(self.generator_spec, self.generator.runs_locally, usage)
        if cost is None or self.tally.cost_usd is None:
            self.tally.cost_usd = None
        else:
            self.tally.cost_usd += cost

    async def _order(self, prompt: Prompt) -> OrderVerdict:
        value = await self._ask("pairwise", prompt, ("1", "2"))
        if "probabilities" in value:
            probabilities = value["probabilities"]
            p_first = float(probabilities["1"])
            verdict = order_verdict_from_probability(p_first, self.options.tie_band)
            return OrderVerdict(verdict, f"p(1)={p_first:.3f}", p_first)
        replies = value["replies"]
        verdict = parse_pairwise(replies[-1]) if replies else None
        if verdict is None:
            self.tally.abstentions += 1
        return OrderVerdict(verdict, " | ".join(" ".join(reply.split()) for reply in replies))

    # judging ----------------------------------------------------------------------------

    async def pairwise(
        self, question: str, answer_a: str, answer_b: str, reference: str | None = None
    ) -> PairJudgment:
        """A against B, judged with each shown first; never raises for a bad reply."""
        reference = reference if self.options.use_reference else None
        forward = await self._order(
            pairwise_prompt(self.templates, self.style, question, answer_a, answer_b, reference)
        )
        backward = await self._order(
            pairwise_prompt(self.templates, self.style, question, answer_b, answer_a, reference)
        )
        outcome = pair_outcome(forward, backward, self.method, self.options.tie_band)
        return PairJudgment(forward, backward, outcome, self.method)

    async def _score(self, kind: str, prompt: Prompt) -> ScoreJudgment:
        value = await self._ask(kind, prompt, tuple(str(point) for point in SCALE))
        if "probabilities" in value:
            probabilities = value["probabilities"]
            expected = sum(point * float(probabilities[str(point)]) for point in SCALE)
            return ScoreJudgment(expected, f"expected {expected:.2f}")
        replies = value["replies"]
        score = parse_scale(replies[-1]) if replies else None
        if score is None:
            self.tally.abstentions += 1
        return ScoreJudgment(
            None if score is None else float(score),
            " | ".join(" ".join(reply.split()) for reply in replies),
        )

    async def correctness(
        self, question: str, answer: str, reference: str | None = None
    ) -> ScoreJudgment:
        reference = reference if self.options.use_reference else None
        prompt = correctness_prompt(self.templates, self.style, question, answer, reference)
        return await self._score("correctness", prompt)

    async def faithfulness(self, passages: Sequence[str], answer: str) -> ScoreJudgment:
        prompt = faithfulness_prompt(self.templates, self.style, list(passages), answer)
        return await self._score("faithfulness", prompt)
