"""Configuration: library `Settings` (argument > Settings > KEFU_* env) and a shop's `shop.yaml`."""
