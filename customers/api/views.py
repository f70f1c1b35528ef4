"""Customer endpoints of the REST API."""

from rest_framework import viewsets

from crm_site.api import ScopedQuerysetMixin

from ..filtersets import CustomerFilterSet
from ..models import Customer
from .serializers import CustomerSerializer


class CustomerViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Customers visible to the caller, filterable, in stable cursor pages."""

    scoped_model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = ["id", "updated_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return super().get_queryset().select_related("branch", "relationship_manager")
