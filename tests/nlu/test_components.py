"""The Rasa components on real Vietnamese messages."""

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.components import SafetyNet, VietnameseTokenizer


@pytest.fixture
def context(tmp_path):
    return LocalModelStorage(tmp_path), Resource("vi"), ExecutionContext(graph_schema=None, model_id="test")


@pytest.fixture
def tokenizer(context):
    storage, resource, ctx = context
    return VietnameseTokenizer.create(VietnameseTokenizer.get_default_config(), storage, resource, ctx)


@pytest.fixture
def safety_net(context):
    return SafetyNet.create({}, *context)


@pytest.mark.parametrize(
    "text", ["e bi bat nat tren fb", "Em bị bắt nạt trên Facebook", "mk ko muốn đi học nữaaa 😢"]
)
def test_tokens_point_into_the_original_text(tokenizer, text):
    message = Message({TEXT: text})
    tokenizer.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert tokens
    for token in tokens:
        assert text[token.start : token.end] == token.text


def test_with_and_without_diacritics_share_lemmas(tokenizer):
    plain, marked = Message({TEXT: "em bi bat nat"}), Message({TEXT: "em bị bắt nạt"})
    tokenizer.process([plain, marked])

    def words(m):
        return " ".join(t.lemma for t in m.get(TOKENS_NAMES[TEXT])).replace("_", " ").split()

    assert set(words(plain)) == set(words(marked))


def test_teencode_lemma_is_expanded(tokenizer):
    message = Message({TEXT: "ko dc"})
    tokenizer.process([message])
    lemmas = " ".join(t.lemma for t in message.get(TOKENS_NAMES[TEXT]))
    assert "khong" in lemmas and "duoc" in lemmas


def test_training_data_is_tokenized(tokenizer):
    data = TrainingData(
        [Message({TEXT: "có người dọa tung ảnh của em", INTENT: "disclose_sexual_exploitation"})]
    )
    tokenizer.process_training_data(data)
    assert data.training_examples[0].get(TOKENS_NAMES[TEXT])


def _classified(text, intent, confidence=0.9):
    return Message(
        {
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: [{"name": intent, "confidence": confidence}],
        }
    )


def test_safety_net_forces_a_missed_disclosure(safety_net):
    message = _classified("có người dọa tung ảnh của em", "greet")
    safety_net.process([message])
    assert message.get(INTENT)["name"] == "disclose_sexual_exploitation"
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "disclose_sexual_exploitation"
    assert message.get("safety_net")["model_intent"] == "greet"


def test_safety_net_never_lowers_a_risk(safety_net):
    message = _classified("acc game cua e bi hack, e muon chet", "disclose_self_harm")
    safety_net.process([message])
    assert message.get(INTENT)["name"] == "disclose_self_harm"


def test_safety_net_leaves_figures_of_speech_alone(safety_net):
    message = _classified("nóng muốn chết luôn á", "out_of_scope")
    safety_net.process([message])
    assert message.get(INTENT)["name"] == "out_of_scope"


def test_low_confidence_with_a_risk_cue_errs_to_safety(safety_net):
    message = _classified("em sợ lắm", "nlu_fallback", 0.3)
    safety_net.process([message])
    assert message.get(INTENT)["name"] in {"express_distress", "disclose_self_harm", "disclose_abuse_offline"}


def _entities(message):
    return {e["entity"]: e["value"] for e in message.get("entities") or []}


def test_a_child_with_a_pattern_cue_adds_nothing(safety_net):
    # The common case keeps the slot defaults (reporter child, evidence strong) from domain.yml.
    message = _classified("e muon chet", "disclose_self_harm", 0.4)
    safety_net.process([message])
    assert _entities(message) == {}


def test_the_model_alone_and_unsure_is_weak_evidence(safety_net):
    # No pattern sees self-harm here; the model's guess alone must not page counsellors.
    message = _classified("chán quá đi thôi, chắc nghỉ chơi luôn", "disclose_self_harm", 0.55)
    safety_net.process([message])
    assert message.get(INTENT)["name"] == "disclose_self_harm"  # /model/parse keeps the likeliest intent
    assert _entities(message) == {"risk_evidence": "weak"}


def test_the_model_alone_and_sure_is_strong_evidence(safety_net):
    message = _classified("chán quá đi thôi, chắc nghỉ chơi luôn", "disclose_self_harm", 0.95)
    safety_net.process([message])
    assert _entities(message) == {}


def test_an_adult_reporting_for_a_child_is_marked(safety_net):
    message = _classified("con gái tôi bị người lạ dọa tung ảnh", "parent_guide", 0.9)
    safety_net.process([message])
    assert message.get(INTENT)["name"] == "disclose_sexual_exploitation"
    assert _entities(message) == {"reporter": "adult"}


def test_no_entities_without_a_risk(safety_net):
    message = _classified("con tôi 10 tuổi chơi TikTok được không", "parent_guide", 0.9)
    safety_net.process([message])
    assert _entities(message) == {}


def test_the_threshold_comes_from_the_config(context):
    strict = SafetyNet.create({"strong_confidence": 0.99}, *context)
    message = _classified("chán quá đi thôi, chắc nghỉ chơi luôn", "disclose_self_harm", 0.95)
    strict.process([message])
    assert _entities(message) == {"risk_evidence": "weak"}


def test_weak_evidence_is_only_said_of_self_harm(safety_net):
    # Other risks open a case only with consent: their replies need no such difference.
    message = _classified("hôm nay trời đẹp quá", "disclose_scam", 0.4)
    safety_net.process([message])
    assert _entities(message) == {}
