"""Rasa graph components for Vietnamese: a tokenizer, the audience rule and the safety net.

All are thin wrappers: the text work lives in `normalize.py`, `audience.py` and `safety.py`,
which import no Rasa, so they are tested fast and reused by channels.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import audience, normalize, safety


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Syllables grouped into underthesea compounds; offsets into the original text.

    The token's lemma carries the normalised form (teencode expanded, diacritics
    folded, compound and syllables), which CountVectorsFeaturizer uses by default.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Tokenizer.__init__ reads these keys directly.
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["underthesea"]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseTokenizer":
        return cls(config)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        # The teencode table is data outside the class: hash it so edits retrain.
        return normalize.teencode_fingerprint()

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        return [Token(t.text, t.start, t.end, lemma=t.lemma) for t in normalize.tokenize(text)]


def _force(message: Message, intent: Text, why: Text, was: Optional[Text]) -> None:
    """Put `intent` first with confidence 1, and say in /model/parse which rule did it and why."""
    ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != intent]
    message.set(INTENT, {"name": intent, "confidence": 1.0}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 1.0}, *ranking], add_to_output=True)
    message.set(why, {"forced": intent, "model_intent": was}, add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AudienceRule(GraphComponent, IntentClassifier):
    """A parent_guide guess written by a child about themself becomes ask_tip (bot/nlu/audience.py).

    Listed after the fallback and before the safety net; it never touches a risk intent.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "AudienceRule":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            name = (message.get(INTENT) or {}).get("name")
            settled = audience.settle(message.get(TEXT) or "", name)
            if settled:
                _force(message, settled, "audience_rule", name)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(GraphComponent, IntentClassifier):
    """Forces a disclosure intent when deterministic patterns see one the model missed.

    Registered as an intent classifier because Rasa drops other component types
    at prediction time; it must be listed after DIETClassifier and FallbackClassifier.
    It only ever raises the risk level, never lowers it. It trains nothing: the
    patterns are read from bot/nlu/data/safety_patterns.yml when the server starts.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyNet":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._guard(message)
        return messages

    @staticmethod
    def _guard(message: Message) -> None:
        predicted = message.get(INTENT) or {}
        name, confidence = predicted.get("name"), predicted.get("confidence") or 0.0
        forced = safety.decide(message.get(TEXT) or "", name, confidence)
        if not forced:
            return
        # Visible in /model/parse, so a counsellor can see why the intent changed.
        _force(message, forced, "safety_net", name)
