"""Pages of the customer book, one module per subdomain."""

from .customers import (
    CustomerDetailView,
    CustomerListView,
    CustomerProfileEditView,
    CustomerRevealView,
    ScopedViewMixin,
)
from .governance import (
    AutoAssignView,
    ChangeRequestCreateView,
    ChangeRequestDecideView,
    ChangeRequestQueueView,
    CustomerAuditView,
    HandoverView,
    ReassignView,
)

__all__ = [
    "AutoAssignView",
    "ChangeRequestCreateView",
    "ChangeRequestDecideView",
    "ChangeRequestQueueView",
    "CustomerAuditView",
    "CustomerDetailView",
    "CustomerListView",
    "CustomerProfileEditView",
    "CustomerRevealView",
    "HandoverView",
    "ReassignView",
    "ScopedViewMixin",
]
