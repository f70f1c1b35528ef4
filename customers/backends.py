"""Authentication backend that loads the user's branch with the user, since every scoped
query of the request needs it."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from crm_site.db import CompiledQuery

# Read on every request: compiled once per process.
_USER_WITH_BRANCH = CompiledQuery(
    lambda pk: get_user_model()._default_manager.select_related("branch").filter(pk=pk), int
)


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user_id = int(get_user_model()._meta.pk.to_python(user_id))
        except (TypeError, ValueError, ValidationError):
            return None
        users = _USER_WITH_BRANCH.objects(user_id)
        if not users:
            return None
        return users[0] if self.user_can_authenticate(users[0]) else None
