"""Admin of the interaction log, for head office: holidays and survey questions are
configured here; the rest is read for support. Every change made here is audited."""

from django.contrib import admin

from customers.admin import AuditedAdmin

from .models import (
    Complaint,
    CustomerRequest,
    Holiday,
    Interaction,
    Notification,
    Reminder,
    Survey,
    SurveyQuestion,
)


@admin.register(Interaction)
class InteractionAdmin(AuditedAdmin):
    list_display = ["occurred_at", "customer", "channel", "outcome", "logged_by"]
    list_filter = ["channel", "outcome"]
    raw_id_fields = ["customer", "logged_by", "staff_participants", "contact_participants"]
    list_select_related = ["customer", "logged_by"]
    date_hierarchy = "occurred_at"


@admin.register(Reminder)
class ReminderAdmin(AuditedAdmin):
    list_display = ["due_at", "title", "kind", "customer", "assigned_to", "status", "notified_at"]
    list_filter = ["status", "kind", "occasion"]
    raw_id_fields = ["customer", "assigned_to", "interaction", "customer_request", "key_contact"]
    list_select_related = ["customer", "assigned_to"]


@admin.register(Notification)
class NotificationAdmin(AuditedAdmin):
    list_display = ["created_at", "recipient", "message", "read_at"]
    raw_id_fields = ["recipient", "reminder", "customer"]
    list_select_related = ["recipient"]


@admin.register(CustomerRequest)
class CustomerRequestAdmin(AuditedAdmin):
    list_display = ["raised_at", "customer", "description", "promised_by", "status", "answered_at"]
    list_filter = ["status"]
    raw_id_fields = ["customer", "interaction", "raised_by", "answered_by"]
    list_select_related = ["customer"]


@admin.register(Complaint)
class ComplaintAdmin(AuditedAdmin):
    list_display = ["received_at", "customer", "category", "severity", "status", "due_at", "owner"]
    list_filter = ["status", "severity", "category", "received_channel"]
    raw_id_fields = ["customer", "owner", "logged_by", "escalated_to"]
    list_select_related = ["customer", "owner"]


@admin.register(Holiday)
class HolidayAdmin(AuditedAdmin):
    list_display = ["date", "name", "occasion", "is_active"]
    list_filter = ["occasion", "is_active"]
    list_editable = ["is_active"]


@admin.register(SurveyQuestion)
class SurveyQuestionAdmin(AuditedAdmin):
    list_display = ["position", "code", "text", "role", "is_active"]
    list_editable = ["is_active"]
    ordering = ["position"]


@admin.register(Survey)
class SurveyAdmin(AuditedAdmin):
    list_display = ["quarter", "customer", "status", "source", "score", "completed_at"]
    list_filter = ["quarter", "status", "source"]
    raw_id_fields = ["customer", "recorded_by"]
    exclude = ["token_hash"]
    list_select_related = ["customer"]
