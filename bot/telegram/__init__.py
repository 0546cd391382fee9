"""The Telegram Bot API layer: python-telegram-bot, the standard library and this package only.

`settings` (environment), `client` (sending with retries), `format` (splitting, keyboards),
`updates` (what an update is), `state` (dedupe store), `texts` (what a channel says on its own),
`runner` (the polling runner, `python -m bot.telegram`). The Rasa input channel that uses them is
`bot.channels.telegram`; the counsellors' side is `bot.channels.telegram_handoff`.
"""
