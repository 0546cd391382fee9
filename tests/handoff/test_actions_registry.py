"""The action server registers exactly the handoff actions of domain.yml (never the abstract base)."""

from rasa_sdk.executor import ActionExecutor


def test_action_server_registers_the_handoff_actions() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    assert {"action_create_urgent_case", "action_create_case", "action_cancel_handoff"} <= set(
        executor.actions
    )
