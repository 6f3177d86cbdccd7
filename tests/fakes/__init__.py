"""Test doubles, kept out of the production packages (nothing under helpdesk/ or an app can
import them): a fake channel adapter (channel.py), fake Twilio (twilio.py), Meta and Telegram
(social.py) at the HTTP boundary, and an API token client (api.py)."""
