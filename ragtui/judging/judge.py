"""The LLM judge: any generator spec grading answers, pairwise in both orders or one at a time.

Pairwise follows MT-Bench's swap rule: each pair is judged with A first and with B first,
and a side wins only when both orders say so; otherwise it is a tie. Both raw verdicts are
kept, so position inconsistency is always known.

Two ways to read a verdict:

* ``text``: the judge writes its verdict ("1", "2", "tie", or a number on 1–5), read
  leniently; a reply that names none is retried once (sampled), then counted as an
  abstention.
* ``logprob``: where the backend exposes the next token's probabilities (llama.cpp), the
  verdict is read from the probabilities of "1" and "2" (or of 1–5) with nothing
  generated or parsed. A pair's outcome then averages the two orders, so a judge's taste
  for the first position cancels out; a side wins when its averaged probability is more
  than ``tie_band`` from one half.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ragtui.config.specs import parse_generator_spec
from ragtui.errors import RagtuiError
from ragtui.generation import GenerationOptions, make_generator
from ragtui.generation.base import GenerationDone, GenerationError, Prompt
from ragtui.generation.complete import complete
from ragtui.generation.prices import PriceTable
from ragtui.generation.retry import RetryPolicy
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

METHODS = ("auto", "text", "logprob")
ATTEMPTS = 2  # a second, sampled try when the first reply names no verdict
RETRY = RetryPolicy(ATTEMPTS)
MAX_TOKENS = 8  # a verdict is one word; more only feeds explanations nobody reads


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
        """Whether both orders named the same side; None when either abstained."""
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
    calls: int = 0
    from_cache: int = 0
    abstentions: int = 0  # pairwise orders or single grades with no verdict
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    errors: list[str] = field(default_factory=list)


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
        self.tally = JudgeTally()
        self._identity: str | None = None

    @property
    def style(self):
        return self.generator.prompt_style

    async def identity(self) -> str:
        if self._identity is None:
            self._identity = await self.generator.identity()
        return self._identity

    async def describe(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "model_identity": await self.identity(),
            "method": self.method,
            "reference_guided": self.options.use_reference,
            "tie_band": self.options.tie_band if self.method == "logprob" else None,
        }

    async def aclose(self) -> None:
        await self.generator.aclose()
        if self.cache is not None:
            self.cache.close()

    # asking -----------------------------------------------------------------------------

    async def _ask(self, kind: str, prompt: Prompt, choices: Sequence[str]) -> dict[str, Any]:
        """The reply (text) or choice probabilities (logprob), from the cache if known."""
        key = verdict_key(
            {
                "judge": self.spec,
                "model": await self.identity(),
                "method": self.method,
                "kind": kind,
                "style": prompt.style,
                "messages": list(prompt.messages),
                "text": prompt.text,
            }
        )
        if self.cache is not None:
            known = self.cache.get(key)
            if known is not None:
                self.tally.from_cache += 1
                return known
        self.tally.calls += 1
        try:
            value = await self._call(kind, prompt, choices)
        except GenerationError as error:
            # The first call failing means the judge cannot be used (server down, wrong
            # model): say so. Later, one failed call is one abstention, not a lost run.
            if self.tally.calls == 1:
                raise JudgeError(f"judge {self.spec}: {error}") from None
            self.tally.errors.append(str(error))
            return {"replies": [], "error": str(error)}
        if self.cache is not None:
            self.cache.put(key, value)
        return value

    async def _call(self, kind: str, prompt: Prompt, choices: Sequence[str]) -> dict[str, Any]:
        if self.method == "logprob":
            probabilities = await self.generator.choice_probabilities(prompt, tuple(choices))
            return {"probabilities": probabilities}
        replies = []
        for attempt in range(RETRY.attempts):
            options = RETRY.options(attempt, max_tokens=MAX_TOKENS)
            reply = await self._complete(prompt, options)
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
            verdict = "1" if p_first >= 0.5 else "2"
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
