"""Where ragtui keeps things, what ragtui.toml and the environment say, specs and choices."""
