"""Pages of the customer book. Every query of customer data goes through `visible_to`."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import DetailView, ListView

from interactions.selectors import customer_timeline

from .filtersets import CustomerFilterSet
from .masking import mask_id_number, mask_phone
from .models import Customer
from .selectors import customer_aum_sparkline

__all__ = ["CustomerDetailView", "CustomerListView", "ScopedViewMixin"]


class ScopedViewMixin(LoginRequiredMixin):
    """The one gate of the HTML views: the queryset is what the user may see, so anything
    else is a 404, indistinguishable from a customer that does not exist."""

    model: type = Customer

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)


class CustomerListView(ScopedViewMixin, ListView):
    template_name = "customers/customer_list.html"
    context_object_name = "customers"
    paginate_by = 25

    def get_queryset(self):
        self.filterset = CustomerFilterSet(
            self.request.GET or None, queryset=super().get_queryset(), request=self.request
        )
        customers = self.filterset.qs if self.filterset.is_bound else self.filterset.queryset
        return customers.select_related("relationship_manager", "branch").order_by("name", "id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filterset"] = self.filterset
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
        return context


class CustomerDetailView(ScopedViewMixin, DetailView):
    template_name = "customers/customer_detail.html"
    context_object_name = "customer"

    def get_queryset(self):
        return super().get_queryset().select_related("relationship_manager", "branch")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        customer = self.object
        context.update(
            id_number_masked=mask_id_number(customer.id_number),
            phone_masked=mask_phone(customer.phone),
            timeline=customer_timeline(customer=customer),
            aum_sparkline=customer_aum_sparkline(customer=customer),
        )
        return context
