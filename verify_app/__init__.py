"""The verification app for employers and universities: ``create_app(config)``."""
