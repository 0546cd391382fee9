"""Conversation stores (Rasa tracker stores) that keep our privacy rules."""
