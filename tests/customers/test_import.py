"""Customer import from CSV/XLSX: preview with per-row errors, all-or-nothing commit, and a
file reader that trusts nothing about the upload."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from customers import imports
from customers.choices import AuditAction
from customers.imports import (
    IMPORT_COLUMNS,
    ImportFileError,
    ImportRejected,
    customer_import_job_run,
    customers_import,
    import_file_read,
    import_rows_validate,
    import_template_csv,
)
from customers.models import AuditEntry, Customer, ImportJob, ImportJobSource, ImportJobStatus
from interactions.models import Notification
from tests.customers.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "customer_number",
    "customer_type",
    "name",
    "id_type",
    "id_number",
    "birth_date",
    "phone",
    "email",
    "branch_code",
    "relationship_manager",
    "income_band",
    "risk_appetite",
]
VALID_PRC_ID = "11010519491231002X"
VALID_USCC = "91310000MA1FL8YQ53"


def person(number: int, **overrides) -> dict[str, str]:
    row = {
        "customer_number": f"IMP{number:06d}",
        "customer_type": "individual",
        "name": f"Imported Person {number}",
        "id_type": "prc_id",
        "id_number": VALID_PRC_ID,
        "birth_date": "1949-12-31",
        "phone": f"139{number:08d}",
        "email": f"p{number}@example.com",
        "branch_code": "SH01",
        "relationship_manager": "",
        "income_band": "300k_1m",
        "risk_appetite": "3",
    }
    row.update(overrides)
    return row


def csv_bytes(rows, header=HEADER, encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(client, data: bytes, name: str = "customers.csv"):
    return client.post(reverse("customers:import"), {"file": SimpleUploadedFile(name, data)})


def commit(client):
    token = client.session["customer_import"]["token"]
    return client.post(reverse("customers:import_commit"), {"token": token})


def commit_and_run(client) -> tuple:
    """Commit the previewed upload, then run its job as the worker would (tests without a
    broker: the task is queued on commit, which a test transaction never reaches)."""
    response = commit(client)
    assert response.status_code == 302, response
    job = ImportJob.objects.get(source=ImportJobSource.UPLOAD)
    assert response.url == reverse("customers:import_job", args=[job.pk])
    customer_import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return response, job


def validate(data: bytes, user, name: str = "customers.csv"):
    return import_rows_validate(parsed=import_file_read(data, filename=name), acting_user=user)


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.CUSTOMER_IMPORT_DIR = str(tmp_path / "imports")
    return tmp_path / "imports"


# --- The happy path ------------------------------------------------------------------------


def test_branch_head_previews_then_commits_and_each_row_is_audited(
    client_for, head_x, rm_a, import_dir
):
    # given
    rows = [person(1, relationship_manager="rm_a"), person(2), person(3, risk_appetite="")]
    client = client_for(head_x)

    # when: upload, then preview
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 302
    preview = client.get(reverse("customers:import_preview"))

    # then: the preview lists the rows, masked, and nothing is written yet
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "Imported Person 1" in body and "Import 3 customers" in body
    assert VALID_PRC_ID not in body and "110***********002X" in body
    assert "13900000001" not in body
    assert not Customer.objects.filter(customer_number__startswith="IMP").exists()

    # when: commit, and the job runs
    _response, job = commit_and_run(client)

    # then
    assert job.status == ImportJobStatus.SUCCEEDED and job.created == 3
    imported = Customer.objects.filter(customer_number__startswith="IMP").order_by(
        "customer_number"
    )
    assert imported.count() == 3
    first = imported[0]
    assert first.relationship_manager == rm_a
    assert first.branch == head_x.branch
    assert first.risk_appetite == 3
    assert first.income_band == "300k_1m"
    assert imported[2].risk_appetite is None
    audits = AuditEntry.objects.filter(action=AuditAction.CREATE, actor=head_x)
    assert audits.count() == 3
    assert all("customers.csv" in entry.reason for entry in audits)
    assert "customer_import" not in client.session
    assert list(import_dir.iterdir()) == []  # the upload is gone once imported


def test_head_office_imports_into_any_branch(head_office, rm_y):
    rows = [person(1, branch_code="BJ", relationship_manager="rm_y")]
    parsed = import_file_read(csv_bytes(rows), filename="x.csv")
    assert customers_import(acting_user=head_office, parsed=parsed) == 1
    assert Customer.objects.get(customer_number="IMP000001").relationship_manager == rm_y


def test_corporate_with_valid_credit_code_and_dynamic_fields(head_x):
    header = [
        "customer_number",
        "customer_type",
        "name",
        "id_type",
        "id_number",
        "branch_code",
        "industry",
        "company_size",
        "preferred_channel",
    ]
    row = {
        "customer_number": "CORP1",
        "customer_type": "CORPORATE",  # codes are case-insensitive
        "name": "Shanghai Example Trading Co.",
        "id_type": "uscc",
        "id_number": VALID_USCC.lower(),
        "branch_code": "SH01",
        "industry": "Wholesale",
        "company_size": "small",
        "preferred_channel": "visit",
    }
    report = validate(csv_bytes([row], header=header), head_x)
    assert report.errors == []
    assert report.rows[0].fields["id_number"] == VALID_USCC  # normalised like the page does
    assert report.rows[0].fields["customer_type"] == "corporate"


def test_consents_collateral_and_industry_outlook_are_imported(head_x):
    header = ["customer_number", "customer_type", "name", "branch_code", "collateral",
              "industry_outlook", "consent_phone", "consent_sms", "consent_wechat",
              "consent_visit"]  # fmt: skip
    row = {
        "customer_number": "CORP2",
        "customer_type": "corporate",
        "name": "Pudong Logistics Ltd",
        "branch_code": "SH01",
        "collateral": "Warehouse, Pudong",
        "industry_outlook": "Cross-border e-commerce keeps volumes growing.",
        "consent_phone": "Yes",
        "consent_sms": "否",
        "consent_wechat": "1",
        "consent_visit": "",
    }
    report = validate(csv_bytes([row], header=header), head_x)
    assert report.errors == []
    customers_import(
        acting_user=head_x,
        parsed=import_file_read(csv_bytes([row], header=header), filename="c.csv"),
    )
    customer = Customer.objects.get(customer_number="CORP2")
    assert (customer.collateral, customer.industry_outlook) == (
        "Warehouse, Pudong",
        "Cross-border e-commerce keeps volumes growing.",
    )
    consents = (customer.consent_phone, customer.consent_sms, customer.consent_wechat)
    assert consents == (True, False, True)
    assert customer.consent_visit is False  # empty: no consent


def test_a_consent_that_is_neither_yes_nor_no_is_a_row_error(head_x):
    header = [*HEADER, "consent_email"]
    report = validate(csv_bytes([person(1, consent_email="maybe")], header=header), head_x)
    assert [(error.row, error.column) for error in report.errors] == [(2, "consent_email")]
    assert "Enter yes or no" in report.errors[0].message


# --- Per-row errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "column", "reason"),
    [
        ({"customer_type": "person"}, "customer_type", "Unknown value"),
        ({"income_band": "very_rich"}, "income_band", "use one of"),
        ({"risk_appetite": "7"}, "risk_appetite", "Unknown value"),
        ({"id_number": "110105194912310021"}, "id_number", "check digit"),
        ({"id_number": "1101051949"}, "id_number", "17 digits"),
        ({"phone": "12345"}, "phone", "11-digit"),
        ({"id_number": "", "id_type": "", "birth_date": "2999-01-01"}, "birth_date", "future"),
        ({"birth_date": "31/12/1949"}, "birth_date", "YYYY-MM-DD"),
        ({"birth_date": "1950-01-01"}, "birth_date", "does not match"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"name": ""}, "name", "blank"),
        ({"customer_number": ""}, "customer_number", "blank"),
        ({"branch_code": ""}, "branch_code", "Enter a branch code"),
        ({"id_type": "uscc", "id_number": VALID_USCC}, "id_type", "identifies a company"),
    ],
)
def test_each_kind_of_bad_input_is_reported_with_row_column_and_reason(
    head_x, overrides, column, reason
):
    # given: the bad row is the second data row, i.e. spreadsheet row 3
    data = csv_bytes([person(1), person(2, **overrides), person(3)])
    # when
    report = validate(data, head_x)
    # then
    assert [(error.row, error.column) for error in report.errors] == [(3, column)], report.errors
    assert reason in report.errors[0].message
    assert [row.row for row in report.rows] == [2, 4]


def test_malformed_credit_code_is_a_row_error(head_x):
    row = person(
        1, customer_type="corporate", id_type="uscc", id_number="91310000MA1FL8YQ5", birth_date=""
    )
    report = validate(csv_bytes([row]), head_x)
    assert [(e.row, e.column) for e in report.errors] == [(2, "id_number")]
    assert "18 characters" in report.errors[0].message


def test_duplicate_numbers_in_the_file_and_in_the_book(head_x, customer_a):
    # given
    rows = [
        person(1),
        person(2, customer_number=customer_a.customer_number),
        person(1, name="Same number again"),
    ]
    # when
    report = validate(csv_bytes(rows), head_x)
    # then
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "customer_number"),
        (4, "customer_number"),
    ]
    assert "already exists" in report.errors[0].message
    assert "row 2" in report.errors[1].message


def test_branch_and_rm_outside_the_importers_scope_are_row_errors(
    head_x, rm_a, rm_b, rm_y, branch_x2
):
    # given: head_x heads SH01 only; BJ and SH02 are outside, as is the BJ RM
    inactive = UserFactory(username="rm_gone", branch=head_x.branch, is_active=False)
    rows = [
        person(1, branch_code="BJ"),
        person(2, branch_code="SH02"),
        person(3, relationship_manager="rm_y"),
        person(4, relationship_manager=inactive.username),
        person(5, relationship_manager="nobody"),
        person(6, relationship_manager="rm_b"),  # fine: in the branch
    ]
    # when
    report = validate(csv_bytes(rows), head_x)
    # then
    assert [(e.row, e.column) for e in report.errors] == [
        (2, "branch_code"),
        (3, "branch_code"),
        (4, "relationship_manager"),
        (5, "relationship_manager"),
        (6, "relationship_manager"),
    ]
    assert report.errors[0].message == report.errors[1].message  # unknown = out of scope
    assert [row.row for row in report.rows] == [7]


def test_rm_must_work_at_the_customers_branch(head_city, rm_a, branch_x2):
    report = validate(
        csv_bytes([person(1, branch_code="SH02", relationship_manager="rm_a")]), head_city
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, "relationship_manager")]
    assert "works at" in report.errors[0].message


def test_preview_shows_the_error_table_and_no_commit_button(client_for, head_x):
    client = client_for(head_x)
    upload(client, csv_bytes([person(1), person(2, phone="12345")]))
    body = client.get(reverse("customers:import_preview")).content.decode()
    assert 'data-testid="import-errors"' in body
    assert "<td>3</td><td><code>phone</code></td>" in body
    assert 'data-testid="import-commit"' not in body


# --- All or nothing ------------------------------------------------------------------------


def test_one_bad_row_among_many_writes_nothing(client_for, head_x):
    # given
    rows = [person(n) for n in range(1, 301)]
    rows[249]["id_number"] = "110105194912310021"  # bad checksum at spreadsheet row 251
    client = client_for(head_x)
    upload(client, csv_bytes(rows))
    # when: committed anyway (the preview shows no commit button for such a file)
    _response, job = commit_and_run(client)
    # then
    assert job.status == ImportJobStatus.FAILED
    page = client.get(reverse("customers:import_job", args=[job.pk])).content.decode()
    assert "<td>251</td>" in page and "Nothing was imported." in page
    assert Customer.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_failure_while_writing_rolls_back_the_rows_already_written(head_x, monkeypatch):
    # given: the 200th customer_create fails after 199 rows were written
    real_create = imports.customer_create
    calls = []

    def failing_create(**kwargs):
        calls.append(kwargs["customer_number"])
        if len(calls) == 200:
            raise ValidationError({"phone": "Refused by the service."})
        return real_create(**kwargs)

    monkeypatch.setattr(imports, "customer_create", failing_create)
    parsed = import_file_read(csv_bytes([person(n) for n in range(1, 251)]), filename="x.csv")
    # when
    with pytest.raises(ImportRejected) as rejected:
        customers_import(acting_user=head_x, parsed=parsed)
    # then
    assert [(e.row, e.column) for e in rejected.value.report.errors] == [(201, "phone")]
    assert Customer.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_commit_validates_again_so_a_number_taken_since_preview_writes_nothing(
    client_for, head_x, rm_a
):
    # given
    client = client_for(head_x)
    upload(client, csv_bytes([person(1), person(2)]))
    assert client.get(reverse("customers:import_preview")).status_code == 200
    Customer.objects.create(
        customer_number="IMP000002", customer_type="individual", name="Raced", branch=head_x.branch
    )
    # when
    _response, job = commit_and_run(client)
    # then
    assert job.status == ImportJobStatus.FAILED
    assert job.errors == [
        {
            "row": 3,
            "column": "customer_number",
            "message": "A customer with this number already exists.",
        }
    ]
    assert Customer.objects.filter(customer_number="IMP000001").count() == 0


def test_commit_needs_the_token_of_this_sessions_upload(client_for, head_x):
    client = client_for(head_x)
    upload(client, csv_bytes([person(1)]))
    response = client.post(reverse("customers:import_commit"), {"token": "x" * 43})
    assert response.status_code == 302 and response.url == reverse("customers:import")
    assert Customer.objects.count() == 0


def test_an_expired_upload_must_be_uploaded_again(client_for, head_x, settings):
    client = client_for(head_x)
    upload(client, csv_bytes([person(1)]))
    settings.CUSTOMER_IMPORT_TTL_SECONDS = -1
    response = client.get(reverse("customers:import_preview"))
    assert response.status_code == 302 and response.url == reverse("customers:import")


# --- The commit as a background job --------------------------------------------------------


def test_commit_hands_the_file_to_a_job_that_runs_once_and_notifies_once(
    client_for, head_x, import_dir
):
    # given
    client = client_for(head_x)
    upload(client, csv_bytes([person(1), person(2)]))
    # when
    response = commit(client)
    job = ImportJob.objects.get()
    # then: the job holds the file (safe from the sweep of expired uploads), nothing written
    assert response.url == reverse("customers:import_job", args=[job.pk])
    assert (job.kind, job.source, job.source_name) == ("customers", "upload", "customers.csv")
    assert (job.status, job.records_total) == (ImportJobStatus.QUEUED, 2)
    assert [path.name for path in import_dir.iterdir()] == [job.file_name]
    assert job.file_name.endswith(".job") and "customer_import" not in client.session
    page = client.get(response.url).content.decode()
    assert 'data-testid="import-job-running"' in page and 'http-equiv="refresh"' in page
    assert not Customer.objects.exists()
    # when: the task runs, and is delivered a second time
    first = customer_import_job_run(job_id=job.pk)
    second = customer_import_job_run(job_id=job.pk)
    # then
    assert first.status == ImportJobStatus.SUCCEEDED and second is None
    assert Customer.objects.count() == 2 and first.created == 2
    assert list(import_dir.iterdir()) == []
    page = client.get(response.url).content.decode()
    assert "2 customers were imported." in page and 'http-equiv="refresh"' not in page
    notice = Notification.objects.get(recipient=head_x)
    assert notice.message == ("The import of customers.csv finished: 2 customers were imported.")


def test_a_rejected_job_keeps_its_errors_and_tells_the_importer(client_for, head_x):
    # given: the preview was clean, then a number was taken before the job ran
    client = client_for(head_x)
    upload(client, csv_bytes([person(1), person(2)]))
    commit(client)
    Customer.objects.create(
        customer_number="IMP000001", customer_type="individual", name="Raced", branch=head_x.branch
    )
    job = ImportJob.objects.get()
    # when
    customer_import_job_run(job_id=job.pk)
    # then
    job.refresh_from_db()
    assert (job.status, job.rejected, job.created) == (ImportJobStatus.FAILED, 1, 0)
    assert not Customer.objects.filter(customer_number="IMP000002").exists()
    assert "failed; nothing was imported" in Notification.objects.get(recipient=head_x).message
    page = client.get(reverse("customers:import_job", args=[job.pk])).content.decode()
    assert "A customer with this number already exists." in page


def test_a_job_whose_file_is_gone_fails_cleanly(client_for, head_x, import_dir):
    client = client_for(head_x)
    upload(client, csv_bytes([person(1)]))
    commit(client)
    job = ImportJob.objects.get()
    (import_dir / job.file_name).unlink()
    assert customer_import_job_run(job_id=job.pk).failure == "The uploaded file is gone."
    assert not Customer.objects.exists()


def test_a_job_of_someone_who_may_no_longer_import_fails(client_for, head_x):
    client = client_for(head_x)
    upload(client, csv_bytes([person(1)]))
    commit(client)
    head_x.role = "relationship_manager"
    head_x.save()
    job = customer_import_job_run(job_id=ImportJob.objects.get().pk)
    assert job.status == ImportJobStatus.FAILED and not Customer.objects.exists()


def test_the_import_reports_its_progress(head_x):
    # given
    parsed = import_file_read(csv_bytes([person(n) for n in range(1, 251)]), filename="x.csv")
    reports: list[int] = []
    # when
    customers_import(acting_user=head_x, parsed=parsed, progress=reports.append)
    # then
    assert reports == [100, 200]


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(head_x):
    from django.db import transaction

    from customers.imports import _ProgressReporter

    # given: a running job
    job = ImportJob.objects.create(
        kind="customers",
        source="upload",
        created_by=head_x,
        file_name="x.job",
        file_sha256="-",
        status=ImportJobStatus.RUNNING,
        records_total=500,
    )
    reporter = _ProgressReporter(job.pk)
    try:
        with transaction.atomic():
            Customer.objects.create(
                customer_number="T1", customer_type="individual", name="T", branch=head_x.branch
            )
            # when: the import, still uncommitted, reports
            reporter(300)
            # then: the job row shows it already (another connection committed it)
            seen = ImportJob.objects.get(pk=job.pk).records_processed
    finally:
        reporter.close()
    if connection.vendor == "postgresql":
        assert seen == 300
    else:
        assert seen == 0  # SQLite: one writer; the page shows "running" until the end


def test_the_job_page_is_its_importers_only(client_for, head_x, head_city, head_y, rm_a):
    # given
    job = ImportJob.objects.create(
        kind="customers", source="upload", created_by=head_x, file_name="x.job", file_sha256="-"
    )
    api_job = ImportJob.objects.create(kind="customers", created_by=head_x, file_name="y")
    url = reverse("customers:import_job", args=[job.pk])
    # then
    assert client_for(head_x).get(url).status_code == 200
    assert client_for(head_city).get(url).status_code == 404  # even a head above them
    assert client_for(head_y).get(url).status_code == 404
    assert client_for(rm_a).get(url).status_code == 403
    api_url = reverse("customers:import_job", args=[api_job.pk])
    assert client_for(head_x).get(api_url).status_code == 404  # the API's jobs are not here


def test_page_imports_are_not_listed_by_the_api(api_client_for, head_x):
    ImportJob.objects.create(
        kind="customers", source="upload", created_by=head_x, file_name="x.job", file_sha256="-"
    )
    assert api_client_for(head_x).get("/api/v1/import-jobs/").json()["results"] == []


def test_import_page_lists_ones_recent_imports(client_for, head_x, head_y):
    job = ImportJob.objects.create(
        kind="customers",
        source="upload",
        source_name="october.csv",
        created_by=head_x,
        file_name="x.job",
        file_sha256="-",
    )
    mine = client_for(head_x).get(reverse("customers:import")).content.decode()
    theirs = client_for(head_y).get(reverse("customers:import")).content.decode()
    assert reverse("customers:import_job", args=[job.pk]) in mine and "october.csv" in mine
    assert "october.csv" not in theirs


@pytest.mark.django_db(transaction=True)
def test_commit_runs_through_the_broker_and_the_page_follows_it(redis_required, client_for, head_x):
    import time

    from celery.contrib.testing.worker import start_worker

    from crm_site.celery import app

    # given
    client = client_for(head_x)
    upload(client, csv_bytes([person(n) for n in range(1, 6)]))
    # when
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        url = commit(client).url
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = client.get(url).content.decode()
            if 'data-testid="import-job-running"' not in page:
                break
            time.sleep(0.2)
    # then
    assert "5 customers were imported." in page
    assert Customer.objects.filter(customer_number__startswith="IMP").count() == 5
    assert Notification.objects.filter(recipient=head_x).count() == 1


# --- The file ------------------------------------------------------------------------------


def test_oversize_file_is_refused_before_it_is_stored(client_for, head_x, settings, import_dir):
    # given
    settings.CUSTOMER_IMPORT_MAX_BYTES = 2000
    data = csv_bytes([person(n) for n in range(1, 40)])
    assert len(data) > 2000
    # when
    response = upload(client_for(head_x), data)
    # then
    assert response.status_code == 400
    assert "larger than" in response.content.decode()
    assert not import_dir.exists() or list(import_dir.iterdir()) == []


def test_too_many_rows_are_refused(head_x, settings):
    settings.CUSTOMER_IMPORT_MAX_ROWS = 5
    with pytest.raises(ImportFileError, match="more than 5"):
        import_file_read(csv_bytes([person(n) for n in range(1, 7)]), filename="x.csv")


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "photo.csv", "binary"),
        (xlsx_bytes([HEADER]), "customers.csv", "not CSV text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls.csv", ".xls"),
        ("customer_number\r\n".encode("utf-16"), "unicode.csv", "UTF-16"),
        (b"customer_number,\x01\x02\x03\n", "control.csv", "binary"),
        (b"customer_number\n", "customers.xlsx", "not an Excel file"),
        (b"customer_number\n", "customers.txt", ".csv or .xlsx"),
    ],
)
def test_type_is_decided_from_the_content(client_for, head_x, data, name, reason):
    response = upload(client_for(head_x), data, name=name)
    assert response.status_code == 400
    assert reason in response.content.decode()


def test_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ImportFileError, match="not an Excel file"):
        import_file_read(buffer.getvalue(), filename="x.xlsx")


def test_xlsx_that_expands_too_far_is_refused_before_parsing(settings):
    # given: a few KB on the wire, 8 MB once inflated
    settings.CUSTOMER_IMPORT_MAX_XLSX_EXPANDED_BYTES = 4 * 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (8 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100_000
    # when / then
    with pytest.raises(ImportFileError, match="expands to too much data"):
        import_file_read(buffer.getvalue(), filename="bomb.xlsx")


def test_xlsx_declaring_a_huge_sheet_is_refused():
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    workbook.active.cell(row=1_000_000, column=1, value="x")
    output = io.BytesIO()
    workbook.save(output)
    with pytest.raises(ImportFileError, match="declares 1000000 rows"):
        import_file_read(output.getvalue(), filename="huge.xlsx")


def test_xlsx_understating_its_size_is_still_read_to_the_end(settings):
    # given: 8 rows, but a dimension claiming two; the cap is 5 rows
    settings.CUSTOMER_IMPORT_MAX_ROWS = 5
    data = xlsx_bytes([HEADER] + [list(person(n).values()) for n in range(1, 9)])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(
                    b'<dimension ref="A1:L9" />', b'<dimension ref="A1:L2" />'
                )
                assert b'ref="A1:L2"' in content
            archive.writestr(item, content)
    # when / then: the extra rows are not silently dropped
    with pytest.raises(ImportFileError, match="more than 5"):
        import_file_read(buffer.getvalue(), filename="liar.xlsx")


def test_xlsx_with_numbers_and_dates_as_excel_stores_them(head_x):
    # given: Excel keeps the phone as a number and the birth date as a date
    data = xlsx_bytes(
        [
            ["Customer_Number", "customer_type", "name", "id_type", "id_number", "birth_date",
             "phone", "branch_code", "risk_appetite"],
            ["X1", "individual", "Excel Person", "prc_id", VALID_PRC_ID,
             dt.datetime(1949, 12, 31), 13912345678, "SH01", 4],
        ]
    )  # fmt: skip
    # when
    report = validate(data, head_x, name="book.xlsx")
    # then
    assert report.errors == []
    fields = report.rows[0].fields
    assert fields["phone"] == "13912345678"
    assert fields["birth_date"] == dt.date(1949, 12, 31)
    assert fields["risk_appetite"] == 4


def test_xlsx_upload_through_the_page(client_for, head_x):
    client = client_for(head_x)
    data = xlsx_bytes([HEADER, list(person(1).values())])
    assert upload(client, data, name="book.xlsx").status_code == 302
    _response, job = commit_and_run(client)
    assert job.status == ImportJobStatus.SUCCEEDED
    assert Customer.objects.filter(customer_number="IMP000001").exists()


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", True), ("utf-8", False), ("gb18030", False)]
)
def test_utf8_with_or_without_bom_and_gb18030(head_x, encoding, bom):
    data = csv_bytes(
        [person(1, name="王小明"), person(2, name="上海浦東")], encoding=encoding, bom=bom
    )
    report = validate(data, head_x)
    assert report.errors == []
    assert [row.fields["name"] for row in report.rows] == ["王小明", "上海浦東"]


def test_unknown_missing_and_duplicated_columns_are_file_errors():
    with pytest.raises(ImportFileError, match="Unknown columns: brith_date"):
        import_file_read(
            b"customer_number,customer_type,name,branch_code,brith_date\n1,i,n,b,x\n",
            filename="x.csv",
        )
    with pytest.raises(ImportFileError, match="Required columns missing: branch_code"):
        import_file_read(b"customer_number,customer_type,name\n1,i,n\n", filename="x.csv")
    with pytest.raises(ImportFileError, match="Columns given twice: name"):
        import_file_read(
            b"customer_number,customer_type,name,name,branch_code\n1,i,n,n,b\n", filename="x.csv"
        )


def test_a_row_with_more_cells_than_columns_is_a_row_error(head_x):
    data = csv_bytes([person(1)]) + b"IMP2,individual,Extra,,,,,,SH01,,,,surplus\r\n"
    report = validate(data, head_x)
    assert [(e.row, e.column) for e in report.errors] == [(3, "")]


# --- Who may import ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name", ["import", "import_preview", "import_template", "import_commit"]
)
def test_relationship_managers_get_403(client_for, rm_a, url_name):
    client = client_for(rm_a)
    url = reverse(f"customers:{url_name}")
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert upload(client, csv_bytes([person(1)])).status_code == 403
    assert Customer.objects.count() == 0


def test_relationship_manager_cannot_import_through_the_service(rm_a):
    parsed = import_file_read(csv_bytes([person(1)]), filename="x.csv")
    with pytest.raises(PermissionDenied):
        customers_import(acting_user=rm_a, parsed=parsed)


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("customers:import"))
    assert response.status_code == 302 and "login" in response.url


def test_upload_without_csrf_token_is_refused(head_x):
    from django.test import Client

    from tests.totp import mark_session_verified

    client = Client(enforce_csrf_checks=True)
    client.force_login(head_x)
    mark_session_verified(client, head_x)  # signed in with password and code
    response = upload(client, csv_bytes([person(1)]))
    assert response.status_code == 403


# --- Documentation and template ------------------------------------------------------------


def test_import_page_documents_every_column_and_its_codes(client_for, head_x):
    body = client_for(head_x).get(reverse("customers:import")).content.decode()
    for column in IMPORT_COLUMNS:
        assert f"<code>{column.name}</code>" in body
    assert "<code>300k_1m</code>" in body
    assert reverse("customers:import_template") in body


def test_template_csv_has_every_column_and_its_examples_import_cleanly(client_for, head_x):
    # given
    response = client_for(head_x).get(reverse("customers:import_template"))
    content = response.content
    assert response["Content-Disposition"].startswith("attachment")
    assert content.startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == [column.name for column in IMPORT_COLUMNS]
    # when: the user puts in their branch code
    data = content.replace(b"YOUR-BRANCH-CODE", b"SH01")
    report = validate(data, head_x)
    # then
    assert report.errors == []
    assert len(report.rows) == 2
    assert import_template_csv().count("\n") == 3


def test_list_page_links_to_import_for_branch_heads_only(client_for, head_x, rm_a):
    assert b'data-testid="import-link"' in client_for(head_x).get(reverse("customers:list")).content
    assert (
        b'data-testid="import-link"' not in client_for(rm_a).get(reverse("customers:list")).content
    )
