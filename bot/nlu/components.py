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


class _IntentRule(GraphComponent, IntentClassifier):
    """Base of the deterministic rules that follow the classifier: they train nothing.

    Registered (in subclasses) as intent classifiers because Rasa drops other component types at
    prediction time. A rule may replace the predicted intent; /model/parse then shows which rule
    did it and what the model had said, so a counsellor can see why.
    """

    #: The key in /model/parse that explains a replaced intent.
    why = "rule"

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
    ) -> "_IntentRule":
        return cls()

    def decide(self, text: Text, intent: Optional[Text], confidence: float) -> Optional[Text]:
        """The intent to use instead, or None to keep the prediction."""
        raise NotImplementedError

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            predicted = message.get(INTENT) or {}
            name = predicted.get("name")
            forced = self.decide(message.get(TEXT) or "", name, predicted.get("confidence") or 0.0)
            if forced:
                ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != forced]
                message.set(INTENT, {"name": forced, "confidence": 1.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [{"name": forced, "confidence": 1.0}, *ranking], add_to_output=True)
                message.set(self.why, {"forced": forced, "model_intent": name}, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class AudienceRule(_IntentRule):
    """A parent_guide guess written by a child about themself becomes ask_tip (bot/nlu/audience.py).

    Listed after the fallback and before the safety net; it never touches a risk intent.
    """

    why = "audience_rule"

    def decide(self, text: Text, intent: Optional[Text], confidence: float) -> Optional[Text]:
        return audience.settle(text, intent)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNet(_IntentRule):
    """Forces a disclosure intent when deterministic patterns see one the model missed.

    It must be listed after DIETClassifier and FallbackClassifier. It only ever raises the risk
    level, never lowers it. The patterns are read from bot/nlu/data/safety_patterns.yml when the
    server starts.
    """

    why = "safety_net"

    def decide(self, text: Text, intent: Optional[Text], confidence: float) -> Optional[Text]:
        return safety.decide(text, intent, confidence)
