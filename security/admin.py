from django.contrib import admin

from security.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read only: the log is written by the portal, never edited."""

    list_display = ("time", "kind", "username", "ip", "method", "path", "status")
    list_filter = ("kind",)
    search_fields = ("username", "path", "summary")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
