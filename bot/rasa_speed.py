"""Rasa 3.6 hot spots fixed in the server process (see docs/scaling.md for the profile).

`RemoteAction._validate_action_result` calls `jsonschema.validate` on every custom action's reply,
which first checks the (constant) schema against its metaschema and builds a new validator: that
cost about 8% of the server's time under load, more than the action itself. The same schema, the
same `ValidationError` (best match, with Rasa's hint), one validator built once.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            "Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Idempotent; called when the Rasa server builds our tracker store (once per process)."""
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
