"""Moving customers in and out in bulk: import from CSV/XLSX (preview, then commit as a
background job) and export of the filtered customer list (masked; unmasked for branch heads
and head office after a fresh code, audited per customer). The rules live in
`customers.imports` and `customers.exports`; these views parse the request, keep the upload
between the two import steps, queue the commit and render its job."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from crm_site.forms import BootstrapForm
from crm_site.security import security_event

from ..choices import CustomerType
from ..exports import customers_export_csv, customers_export_xlsx
from ..filtersets import CustomerFilterSet
from ..imports import (
    IMPORT_COLUMNS,
    ImportFileError,
    customer_import_job_create,
    import_file_discard,
    import_file_load,
    import_file_read,
    import_file_store,
    import_rows_validate,
    import_template_csv,
)
from ..masking import mask_id_number, mask_phone
from ..models import ImportJob, ImportJobSource, ImportJobStatus
from ..services import customers_unmasked_export_record
from .customers import LIST_ORDERINGS, ScopedViewMixin
from .governance import BranchManagerRequiredMixin

__all__ = [
    "CustomerExportView",
    "CustomerImportCommitView",
    "CustomerImportJobView",
    "CustomerImportPreviewView",
    "CustomerImportTemplateView",
    "CustomerImportView",
    "CustomerUnmaskedExportView",
]

SESSION_KEY = "customer_import"
PREVIEW_ROWS = 200
PREVIEW_ERRORS = 1000
RECENT_JOBS = 5
JOB_PAGE_REFRESH_SECONDS = 2


# --- Import --------------------------------------------------------------------------------


class CustomerImportForm(BootstrapForm):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy("A .csv (UTF-8 or GB18030) or .xlsx file; the first sheet is read."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class _UploadSizeLimit(FileUploadHandler):
    """Stops reading an upload once it passes the import limit, so an oversize file is never
    spooled to disk in full; the view then says why."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.exceeded = False
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def _columns_context() -> dict:
    return {
        "columns": IMPORT_COLUMNS,
        "max_rows": settings.CUSTOMER_IMPORT_MAX_ROWS,
        "max_megabytes": f"{settings.CUSTOMER_IMPORT_MAX_BYTES / 1024 / 1024:g}",
    }


@method_decorator(csrf_exempt, name="dispatch")  # CSRF is checked in post(), after the limit
class CustomerImportView(BranchManagerRequiredMixin, View):
    """Step 1: upload. The file is read and kept aside; the preview validates every row."""

    template_name = "customers/import_form.html"

    def get(self, request):
        return self._render(CustomerImportForm())

    def post(self, request):
        # The size limit must be in place before the body is parsed, hence the CSRF check
        # below rather than in the middleware (Django's documented pattern).
        limit = _UploadSizeLimit(request, limit=settings.CUSTOMER_IMPORT_MAX_BYTES)
        request.upload_handlers.insert(0, limit)
        return self._upload(request, limit)

    @method_decorator(csrf_protect)
    def _upload(self, request, limit: _UploadSizeLimit):
        form = CustomerImportForm(request.POST, request.FILES)
        if limit.exceeded:
            form = CustomerImportForm(request.POST)
            form.is_valid()
            form.errors.clear()
            form.add_error(
                "file",
                _("The file is larger than %(size)s MB.")
                % {"size": f"{settings.CUSTOMER_IMPORT_MAX_BYTES / 1024 / 1024:g}"},
            )
            return self._render(form, status=400)
        if not form.is_valid():
            return self._render(form, status=400)
        upload = form.cleaned_data["file"]
        data = upload.read(settings.CUSTOMER_IMPORT_MAX_BYTES + 1)
        filename = (upload.name or "")[-200:]
        try:
            parsed = import_file_read(data, filename=filename)
        except ImportFileError as error:
            form.add_error("file", str(error.message))
            return self._render(form, status=400)
        previous = request.session.get(SESSION_KEY)
        if previous:
            import_file_discard(previous["token"])
        token, sha256 = import_file_store(data)
        request.session[SESSION_KEY] = {
            "token": token,
            "sha256": sha256,
            "filename": filename,
            "kind": parsed.kind,
        }
        return redirect("customers:import_preview")

    def _render(self, form, status: int = 200):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "recent_jobs": _upload_jobs(self.request)[:RECENT_JOBS],
                **_columns_context(),
            },
            status=status,
        )


def _upload_jobs(request):
    """The user's own imports from this page; nobody else's (another user's is a 404)."""
    return ImportJob.objects.filter(created_by=request.user, source=ImportJobSource.UPLOAD)


def _pending_upload(request):
    """The upload waiting in this session, read back and parsed; None if gone or expired."""
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return None, None
    try:
        data = import_file_load(pending["token"], sha256=pending["sha256"])
        parsed = import_file_read(data, filename=pending["filename"])
    except (FileNotFoundError, ImportFileError):
        request.session.pop(SESSION_KEY, None)
        return None, None
    return pending, parsed


def _preview_rows(rows):
    return [
        {
            "row": row.row,
            "customer_number": row.fields.get("customer_number", ""),
            "name": row.fields.get("name", ""),
            "customer_type": CustomerType(row.fields["customer_type"]).label,
            "id_number": mask_id_number(row.fields.get("id_number", "")),
            "phone": mask_phone(row.fields.get("phone", "")),
            "branch": row.branch,
            "relationship_manager": row.relationship_manager,
        }
        for row in rows[:PREVIEW_ROWS]
    ]


def _render_preview(request, pending, report, *, status: int = 200):
    return render(
        request,
        "customers/import_preview.html",
        {
            "pending": pending,
            "report": report,
            "rows": _preview_rows(report.rows),
            "errors": report.errors[:PREVIEW_ERRORS],
            "more_rows": max(len(report.rows) - PREVIEW_ROWS, 0),
            "more_errors": max(len(report.errors) - PREVIEW_ERRORS, 0),
        },
        status=status,
    )


class CustomerImportPreviewView(BranchManagerRequiredMixin, View):
    """Step 2: what would be created, and every error with its row and column."""

    def get(self, request):
        pending, parsed = _pending_upload(request)
        if parsed is None:
            messages.error(request, _("The uploaded file has expired; please upload it again."))
            return redirect("customers:import")
        report = import_rows_validate(parsed=parsed, acting_user=request.user)
        return _render_preview(request, pending, report)


class CustomerImportCommitView(BranchManagerRequiredMixin, View):
    """Step 3: queue the commit as a job (validate again, then every customer or none) and
    follow it on its page; the importer is notified when it ends."""

    def post(self, request):
        pending, parsed = _pending_upload(request)
        if parsed is None or request.POST.get("token") != pending["token"]:
            messages.error(request, _("The uploaded file has expired; please upload it again."))
            return redirect("customers:import")
        try:
            job = customer_import_job_create(
                acting_user=request.user,
                token=pending["token"],
                sha256=pending["sha256"],
                source_name=pending["filename"],
                rows=len(parsed.rows),
            )
        except FileNotFoundError:
            messages.error(request, _("The uploaded file has expired; please upload it again."))
            return redirect("customers:import")
        finally:
            request.session.pop(SESSION_KEY, None)
        return redirect("customers:import_job", pk=job.pk)


class CustomerImportJobView(BranchManagerRequiredMixin, View):
    """Step 4: the commit's progress, then its result: how many customers were imported, or
    every problem that stopped it (nothing imported). Refreshes itself while it runs."""

    def get(self, request, pk: int):
        job = get_object_or_404(_upload_jobs(request), pk=pk)
        running = job.status in (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING)
        total = job.records_total or 0
        return render(
            request,
            "customers/import_job.html",
            {
                "job": job,
                "running": running,
                "refresh_seconds": JOB_PAGE_REFRESH_SECONDS,
                "percent": min(100, round(100 * job.records_processed / total)) if total else 0,
                "errors": job.errors[:PREVIEW_ERRORS],
            },
        )


class CustomerImportTemplateView(BranchManagerRequiredMixin, View):
    def get(self, request):
        response = HttpResponse(import_template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="customer-import-template.csv"'
        return response


# --- Export --------------------------------------------------------------------------------

EXPORT_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _logged_filters(filterset) -> dict:
    """What was filtered on, for the security log: free text is not logged (it may be a
    name or a phone number), only that it was used."""
    logged = {}
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, ""):
            continue
        logged[name] = "[search]" if name == "q" else getattr(value, "pk", str(value))
    return logged


class CustomerExportView(ScopedViewMixin, View):
    """The customer list as the user sees it (same scope, filters and order) as a file."""

    unmasked = False

    def get(self, request, file_format: str):
        if file_format not in EXPORT_FORMATS:
            return HttpResponse(status=404)
        filterset = CustomerFilterSet(
            request.GET or None, queryset=self.get_queryset(), request=request
        )
        if filterset.is_bound and not filterset.is_valid():
            return HttpResponseBadRequest(_("The filters are not valid; correct them first."))
        customers = filterset.qs if filterset.is_bound else filterset.queryset
        customers = customers.order_by(
            *LIST_ORDERINGS.get(request.GET.get("sort", "name"), LIST_ORDERINGS["name"])
        )
        count = customers.count()
        if count > settings.CUSTOMER_EXPORT_MAX_ROWS:
            messages.error(
                request,
                _("At most %(max)s customers can be exported at once; narrow the filters.")
                % {"max": settings.CUSTOMER_EXPORT_MAX_ROWS},
            )
            return redirect(f"{reverse('customers:list')}?{request.GET.urlencode()}")
        if self.unmasked:
            customers_unmasked_export_record(
                acting_user=request.user, customers=customers, file_format=file_format
            )
        security_event(
            "customers.exported",
            user=request.user,
            count=count,
            file_format=file_format,
            filters=_logged_filters(filterset) if filterset.is_bound else {},
            unmasked=self.unmasked,
        )
        kind = "customers-unmasked" if self.unmasked else "customers"
        filename = f"{kind}-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"
        if file_format == "csv":
            response = StreamingHttpResponse(
                customers_export_csv(customers, unmasked=self.unmasked),
                content_type=EXPORT_FORMATS["csv"],
            )
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        return FileResponse(
            customers_export_xlsx(customers, unmasked=self.unmasked),
            as_attachment=True,
            filename=filename,
            content_type=EXPORT_FORMATS["xlsx"],
        )


class CustomerUnmaskedExportView(BranchManagerRequiredMixin, CustomerExportView):
    """The same export with full ID numbers and phones: branch heads and head office only
    (403 for RMs), after a code entered in the last `MFA_STEP_UP_SECONDS`
    (`MFA_STEP_UP_VIEWS`), with one audit entry per exported customer."""

    unmasked = True
