"""The bottom layer: what every app may import and which imports none of them (the domain
error base). Nothing here imports Django settings, `pos`, `accounts` or `monitoring`."""
