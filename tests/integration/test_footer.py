"""The footer's contacts, hours and legal details are deployment settings (UTILITY_FILE,
app/utility.py): a deployment's file reaches every page, in both languages, without
touching a template; without a file the demo utility's are shown (issue 19)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from app.settings import get_settings
from app.web import create_app
from tests.helpers import post_form

UTILITY_TOML = """
phone = "+7 (3412) 55-66-77"
email = "lk@vodokanal.example"
inn = "1831000001"
ogrn = "1021801000001"
department = { ru = "Отдел по работе с абонентами", en = "Subscriber department" }
hours = "пн–пт 9:00–18:00"
address = { ru = "426011, г. Ижевск, ул. Новая, 7" }
"""


@pytest.fixture
async def deployed(pool, tmp_path):
    """A client of the app built with a deployment's UTILITY_FILE."""
    path = tmp_path / "utility.toml"
    path.write_text(UTILITY_TOML, encoding="utf-8")
    app = create_app(dataclasses.replace(get_settings(), utility_file=path), manage_pool=False)
    for hook in app.on_startup:
        await hook(app)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    try:
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://testserver.local") as client:
            yield client
    finally:
        for hook in app.on_shutdown:
            await hook(app)


def footer(html: str) -> str:
    return html.split('<footer class="site-footer">', 1)[1].split("</footer>", 1)[0]


async def test_deployment_details_reach_the_footer(deployed):
    page = footer((await deployed.get("/help")).text)
    assert '<a href="tel:+73412556677">+7 (3412) 55-66-77</a>' in page
    assert '<a href="mailto:lk@vodokanal.example">lk@vodokanal.example</a>' in page
    assert "Отдел по работе с абонентами" in page
    assert "пн–пт 9:00–18:00" in page
    assert "426011, г. Ижевск, ул. Новая, 7" in page
    assert "ИНН 1831000001, ОГРН 1021801000001" in page
    # a key the file leaves out keeps the demo value
    assert "МУП г. Ижевска «Ижводоканал»" in page
    assert "00-00-00" not in page and "Примерная" not in page

    await post_form(deployed, "/lang", {"lang": "en", "next": "/help"})
    page = footer((await deployed.get("/help")).text)
    assert "Subscriber department" in page
    assert "INN 1831000001, OGRN 1021801000001" in page
    assert "MUP Izhvodokanal, Izhevsk" in page  # the demo default, translated
    assert "426011, г. Ижевск, ул. Новая, 7" in page  # no English given: the Russian
    assert "пн–пт 9:00–18:00" in page  # one string: as written


async def test_without_a_file_the_demo_details(client):
    page = footer((await client.get("/")).text)
    assert '<a href="tel:+73412000000">+7 (3412) 00-00-00</a>' in page
    assert "ИНН 1800000000, ОГРН 1001800000000" in page
    assert "время ижевское (UTC+4)" in page


async def test_the_privacy_policy_names_the_deployments_utility(deployed):
    """The policy names the operator of the personal data: the deployment's utility, not the
    demo one (it was a fixed sentence)."""
    page = (await deployed.get("/privacy")).text.split("</main>", 1)[0]
    assert ("Оператор персональных данных: МУП г. Ижевска «Ижводоканал», 426011, г. Ижевск, "
            "ул. Новая, 7, ИНН 1831000001, ОГРН 1021801000001; электронная почта для "
            "обращений: lk@vodokanal.example.") in page.replace("&#34;", '"')
    assert "426000" not in page
