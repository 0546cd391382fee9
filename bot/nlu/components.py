"""Rasa graph components for Vietnamese: a tokenizer, the audience rule and the safety net.

All are thin wrappers: the text work lives in `normalize.py`, `audience.py` and `safety.py`,
which import no Rasa, so they are tested fast and reused by channels.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import audience, normalize, reporter, safety
from bot.risk import level_of, rank


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Syllables grouped into underthesea compounds; offsets into the original text.

    The token's lemma carries the normalised form (teencode expanded, diacritics
    folded, compound and syllables), which CountVectorsFeaturizer uses by default.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Tokenizer.__init__ reads these keys directly.
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["underthesea"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        return cls(config)

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        # The teencode table is data outside the class: hash it so edits retrain.
        return normalize.teencode_fingerprint()

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        return [Token(t.text, t.start, t.end, lemma=t.lemma) for t in normalize.tokenize(text)]


class _IntentRule(GraphComponent, IntentClassifier):
    """Base of the deterministic rules that follow the classifier: they train nothing.

    Registered (in subclasses) as intent classifiers because Rasa drops other component types at
    prediction time. A rule may replace the predicted intent; /model/parse then shows which rule
    did it and what the model had said, so a counsellor can see why.
    """

    #: The key in /model/parse that explains a replaced intent.
    why = "rule"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _IntentRule:
        return cls()

    def decide(self, text: str, intent: str | None, confidence: float) -> str | None:
        """The intent to use instead, or None to keep the prediction."""
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            predicted = message.get(INTENT) or {}
            name = predicted.get("name")
            forced = self.decide(message.get(TEXT) or "", name, predicted.get("confidence") or 0.0)
            if forced:
                ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != forced]
                message.set(INTENT, {"name": forced, "confidence": 1.0}, add_to_output=True)
                message.set(
                    INTENT_RANKING_KEY, [{"name": forced, "confidence": 1.0}, *ranking], add_to_output=True
                )
                message.set(self.why, {"forced": forced, "model_intent": name}, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AudienceRule(_IntentRule):
    """A parent_guide guess written by a child about themself becomes ask_tip, an ask_tip guess by an adult
    about their own child becomes parent_guide (bot/nlu/audience.py).

    Listed after the fallback and before the safety net; it never touches a risk intent.
    """

    why = "audience_rule"

    def decide(self, text: str, intent: str | None, confidence: float) -> str | None:
        return audience.settle(text, intent)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(_IntentRule):
    """Forces a disclosure intent when deterministic patterns see one the model missed.

    It must be listed after DIETClassifier and FallbackClassifier. It only ever raises the risk
    level, never lowers it. The patterns are read from bot/nlu/data/safety_patterns.yml when the
    server starts.

    On a risk intent it also says, as entities that fill slots (domain.yml), what the dialogue needs:
    - `reporter: adult` when an adult reports for a child (bot/nlu/reporter.py), so the reply fits them;
    - `risk_evidence: weak` when only the model, below `strong_confidence`, saw self-harm and no pattern
      did: the bot then asks directly instead of paging counsellors (data/rules/safety.yml).
    Nothing is added for a child with a confident signal, the common case.
    """

    why = "safety_net"

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"strong_confidence": 0.8}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyNet:
        return cls(float({**cls.get_default_config(), **config}["strong_confidence"]))

    def __init__(self, strong_confidence: float = 0.8) -> None:
        self.strong_confidence = strong_confidence

    def decide(self, text: str, intent: str | None, confidence: float) -> str | None:
        return safety.decide(text, intent, confidence)

    def evidence(self, text: str, intent: str, model_intent: str | None, confidence: float) -> str:
        """ "weak" when only the model saw self-harm, and not surely; else "strong".

        Only self-harm opens a case without asking (SPEC), so only self-harm needs the difference.
        """
        if intent != "disclose_self_harm":
            return "strong"
        detection = safety.detect(text)
        if detection and rank(level_of(detection.intent)) >= rank(level_of(intent)):
            return "strong"
        return "strong" if model_intent == intent and confidence >= self.strong_confidence else "weak"

    def process(self, messages: list[Message]) -> list[Message]:
        before = [dict(m.get(INTENT) or {}) for m in messages]
        super().process(messages)
        for message, model in zip(messages, before):
            intent = (message.get(INTENT) or {}).get("name")
            if level_of(intent) == "none":
                continue
            text = message.get(TEXT) or ""
            found = {
                "reporter": reporter.reporter_of(text),
                "risk_evidence": self.evidence(
                    text, intent, model.get("name"), model.get("confidence") or 0.0
                ),
            }
            added = [
                {
                    "entity": name,
                    "value": value,
                    "start": 0,
                    "end": len(text),
                    "confidence_entity": 1.0,
                    "extractor": type(self).__name__,
                }
                for name, value in found.items()
                if value in ("adult", "weak")
            ]
            if added:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), *added], add_to_output=True)
        return messages
