"""Admin of the interaction log, for head office."""

from django.contrib import admin

from .models import Interaction, Notification, Reminder


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "channel", "logged_by"]
    list_filter = ["channel"]
    raw_id_fields = ["customer", "logged_by"]
    list_select_related = ["customer", "logged_by"]
    date_hierarchy = "occurred_at"


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["due_at", "title", "customer", "assigned_to", "status", "notified_at"]
    list_filter = ["status"]
    raw_id_fields = ["customer", "assigned_to", "interaction"]
    list_select_related = ["customer", "assigned_to"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "message", "read_at"]
    raw_id_fields = ["recipient", "reminder", "customer"]
    list_select_related = ["recipient"]
