"""Singer tap for the Thinkst Canary Console."""
