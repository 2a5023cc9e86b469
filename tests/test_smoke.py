def test_sign_in_page_loads(client):
    assert client.get("/login").status_code == 200


def test_picker_signs_in_and_sees_home(picker):
    page = picker.get("/")
    assert page.status_code == 200
    assert "Hello, picker" in page.get_data(as_text=True)
