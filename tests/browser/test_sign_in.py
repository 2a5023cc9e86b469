def test_picker_signs_in_on_a_phone_and_sees_home(live_wms, phone):
    from tests.browser.conftest import sign_in_page

    server, _ = live_wms
    sign_in_page(phone, server.url, "picker")
    assert phone.locator("h1").inner_text() == "Hello, picker"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
