"""Pages of the customer book, one module per subdomain."""

from .book import (
    KeyContactEditView,
    KeyContactRemoveView,
    RelatedPartyEditView,
    RelatedPartyUnlinkView,
    TeamMemberAddView,
    TeamMemberRemoveView,
)
from .customers import (
    CustomerDetailView,
    CustomerListView,
    CustomerProfileEditView,
    CustomerRevealView,
    CustomerScopedMixin,
    ScopedViewMixin,
)
from .data_transfer import (
    CustomerExportView,
    CustomerImportCommitView,
    CustomerImportJobView,
    CustomerImportPreviewView,
    CustomerImportTemplateView,
    CustomerImportView,
)
from .governance import (
    AutoAssignView,
    ChangeRequestCreateView,
    ChangeRequestDecideView,
    ChangeRequestQueueView,
    CustomerAuditView,
    HandoverView,
    KeyContactAddView,
    ReassignView,
    RelatedPartyLinkView,
)

__all__ = [
    "AutoAssignView",
    "ChangeRequestCreateView",
    "ChangeRequestDecideView",
    "ChangeRequestQueueView",
    "CustomerAuditView",
    "CustomerDetailView",
    "CustomerExportView",
    "CustomerImportCommitView",
    "CustomerImportJobView",
    "CustomerImportPreviewView",
    "CustomerImportTemplateView",
    "CustomerImportView",
    "CustomerListView",
    "CustomerProfileEditView",
    "CustomerRevealView",
    "CustomerScopedMixin",
    "HandoverView",
    "KeyContactAddView",
    "KeyContactEditView",
    "KeyContactRemoveView",
    "ReassignView",
    "RelatedPartyEditView",
    "RelatedPartyLinkView",
    "RelatedPartyUnlinkView",
    "ScopedViewMixin",
    "TeamMemberAddView",
    "TeamMemberRemoveView",
]
