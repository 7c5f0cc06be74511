"""Chinese text: decoding and normalisation, tokenisation, the e-commerce vocabulary, personal data, injected instructions."""
