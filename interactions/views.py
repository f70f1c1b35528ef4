"""Pages of the interaction log: logging a visit, the notifications."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView

from customers.models import Customer

from .forms import VisitForm
from .models import Notification
from .services import notification_mark_read, visit_log


class VisitLogView(LoginRequiredMixin, FormView):
    """Log a visit (or any contact) on one of the user's customers."""

    form_class = VisitForm
    template_name = "interactions/visit_form.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.customer = get_object_or_404(
            Customer.objects.visible_to(request.user), pk=kwargs["customer_pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        now = timezone.localtime().replace(second=0, microsecond=0)
        return {"occurred_at": now}

    def get_context_data(self, **kwargs):
        return super().get_context_data(customer=self.customer, **kwargs)

    def form_valid(self, form):
        try:
            visit_log(acting_user=self.request.user, customer=self.customer, **form.cleaned_data)
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
            return self.form_invalid(form)
        messages.success(self.request, _("The contact was logged."))
        return redirect("customers:detail", pk=self.customer.pk)


class NotificationListView(LoginRequiredMixin, ListView):
    template_name = "interactions/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 30

    def get_queryset(self):
        return Notification.objects.filter(recipient=self.request.user).select_related("customer")


class NotificationReadView(LoginRequiredMixin, View):
    """Mark one notification (or, without an id, all of them) as read."""

    def post(self, request, pk: int | None = None):
        notification_mark_read(acting_user=request.user, notification_id=pk)
        if pk is not None:
            notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
            if notification.customer_id:
                return redirect("customers:detail", pk=notification.customer_id)
        return redirect("interactions:notifications")
