"""In the browser: a branch head uploads a CSV, reads the preview and commits the import,
which a Celery worker runs (through the real Redis broker) while the page follows the job."""

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer
from tests.e2e.test_visit_flow import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "customer_number,customer_type,name,id_type,id_number,birth_date,phone,branch_code,"
    "relationship_manager\n"
    "E2E1,individual,Browser Person,prc_id,11010519491231002X,1949-12-31,13912345678,SH01,rm_a\n"
    "E2E2,individual,Second Person,,,,13912345679,SH01,\n"
)


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.CUSTOMER_IMPORT_DIR = str(tmp_path / "imports")


@pytest.fixture
def worker(redis_required):
    from celery.contrib.testing.worker import start_worker

    from crm_site.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def test_branch_head_uploads_previews_and_commits(live_server, page: Page, head_x, rm_a, worker):
    # given
    sign_in(page, live_server.url, "head_x")
    page.goto(f"{live_server.url}/customers/")
    page.get_by_test_id("import-link").click()

    # when: a file with a bad phone is checked
    page.get_by_label("CSV or Excel file").set_input_files(
        files=[
            {
                "name": "bad.csv",
                "mimeType": "text/csv",
                "buffer": CSV.replace("13912345679", "123").encode(),
            }
        ]
    )
    page.get_by_role("button", name="Check the file").click()

    # then: the error is shown with its row and column, and there is nothing to commit
    expect(page.get_by_test_id("import-errors")).to_contain_text("phone")
    expect(page.get_by_test_id("import-commit")).to_have_count(0)

    # when: the corrected file is uploaded and committed
    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("CSV or Excel file").set_input_files(
        files=[{"name": "good.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("import-rows")).to_contain_text("110***********002X")
    page.get_by_role("button", name="Import 2 customers").click()

    # then: the job's page follows the worker (it refreshes itself) until the import ends
    expect(page.get_by_test_id("import-job-succeeded")).to_contain_text(
        "2 customers were imported.", timeout=30_000
    )
    assert Customer.objects.filter(customer_number__in=["E2E1", "E2E2"]).count() == 2
    # and the importer is told in the notification bell
    page.get_by_role("link", name="Go to the customer list").click()
    page.get_by_label("Notifications").click()
    expect(page.locator(".notification-menu")).to_contain_text(
        "The import of good.csv finished: 2 customers were imported."
    )
