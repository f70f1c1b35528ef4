"""In the browser: a branch head uploads a CSV, reads the preview and commits the import."""

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer
from tests.customers.factories import TEST_PASSWORD

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


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_branch_head_uploads_previews_and_commits(live_server, page: Page, head_x, rm_a):
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

    # then
    expect(page.get_by_role("alert")).to_contain_text("2 customers were imported.")
    assert Customer.objects.filter(customer_number__in=["E2E1", "E2E2"]).count() == 2
