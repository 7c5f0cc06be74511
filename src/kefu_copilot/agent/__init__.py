"""The agent: routing per message, intents and slots, shop-system tools, notices, handoff packets, conversations."""
