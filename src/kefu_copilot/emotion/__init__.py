"""Emotion and risk: cues, `emotion_flag()`, the trainable escalation model."""
