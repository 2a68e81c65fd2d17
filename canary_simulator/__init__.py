"""An offline double of the Thinkst Canary Console API, for tests, benchmarks and the demo."""
