from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.cache import cache_page
from django.views.decorators.http import last_modified
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog

from api.v1 import api as api_v1
from tickets.console import views as console_views

_STARTED = timezone.now()

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:queue", permanent=False)),
    # Browsers and feed readers ask for /favicon.ico on any page without a <link rel=icon>.
    path("favicon.ico", RedirectView.as_view(url=static("console/favicon.ico"), permanent=False)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # The console script's strings in the user's language (gettext/ngettext/interpolate).
    # Translations change only with a deploy: cached an hour, revalidated by process start time.
    path("jsi18n/", cache_page(3600)(last_modified(lambda request: _STARTED)(
        JavaScriptCatalog.as_view(packages=["tickets", "service_levels", "reports"]))), name="javascript-catalog"),
    path("console/", include("tickets.console.urls")),
    path("console/customers/", include("privacy.urls")),
    path("console/mailboxes/", include("mailboxes.urls")),
    path("console/sla/", include("service_levels.urls")),
    path("console/routing/", include("routing.urls")),
    path("console/reports/", include("reports.urls")),
    path("console/notifications/", include("notifications.urls")),
    path("console/views/", include("saved_views.urls")),
    path("console/preferences/", include("preferences.urls")),
    path("console/pictures/", include("customer_pictures.urls")),
    path("api/v1/", api_v1.urls),
    path("attachments/<int:pk>/", console_views.download_attachment, name="attachment"),
    path("attachments/inline/<int:pk>/<str:token>/", console_views.inline_image, name="inline_image"),
    path("", include("channels_email.urls")),
    path("", include("channels_sms.urls")),
    path("", include("channels_social.urls")),
    path("", include("livechat.urls")),
    path("", include("surveys.urls")),
]
