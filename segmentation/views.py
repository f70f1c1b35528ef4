"""The branch head's tier dashboard."""

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.views.generic import TemplateView

from .selectors import tier_dashboard


class TierDashboardView(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    """Customers by tier and by RM for a branch head (their branch) or head office (all)."""

    template_name = "segmentation/dashboard.html"

    def test_func(self):
        user = self.request.user
        return user.is_branch_head or user.is_head_office

    def get_context_data(self, **kwargs):
        dashboard = tier_dashboard(user=self.request.user)
        return super().get_context_data(
            dashboard=dashboard, chart_data=dashboard.chart_data(), **kwargs
        )
