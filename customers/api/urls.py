"""Routes of the REST API under /api/v1/: reads by router, one bulk endpoint per kind."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import (
    BULK_VIEWS,
    CustomerScoreViewSet,
    CustomerViewSet,
    HoldingViewSet,
    ImportJobViewSet,
    InteractionViewSet,
    ReminderViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("customers", CustomerViewSet, basename="customer")
router.register("holdings", HoldingViewSet, basename="holding")
router.register("scores", CustomerScoreViewSet, basename="score")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("reminders", ReminderViewSet, basename="reminder")
router.register("import-jobs", ImportJobViewSet, basename="import-job")

urlpatterns = [
    *(
        path(f"bulk/{kind.replace('_', '-')}/", view.as_view(), name=f"bulk-{kind}")
        for kind, view in BULK_VIEWS.items()
    ),
    *router.urls,
]
