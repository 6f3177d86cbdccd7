"""A warning (not an error: a bad provider path must not stop `serve`, and with it ingest) when a
personal data provider cannot be loaded. Export and erasure refuse to run until it is fixed."""

from django.core.checks import Warning, register
from django.core.exceptions import ImproperlyConfigured

from privacy.providers import providers


@register()
def check_providers(app_configs, **kwargs):
    try:
        providers()
    except ImproperlyConfigured as exc:
        return [Warning(str(exc), hint="Export and erasure refuse to run until this is fixed.",
                        id="privacy.W001")]
    return []
