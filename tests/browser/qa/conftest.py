"""The QA suite's fixtures: each role's day walked on a phone (390 x 844) and on a tablet
(1024 x 1366), as a QA engineer runs it before a release.

One live stack per module (the WMS under gunicorn on a SQLite database of the module's own, the
Starshipit simulator beside it for labels), its floor built once per module by the module's
`floor` fixture. Every test runs once per device (`device`: a fresh browser context, with touch)
and works on the device's own slice of that floor (codes tagged PH or TB), so that the phone's and
the tablet's runs of a test never meet. Each step is a screenshot named
`qa/<role>/<device>/<nn>-<step>.png` in the test artifacts folder (`test-artifacts/`, or
WMS_TEST_ARTIFACTS), taken after the page has answered and after the page is checked to fit the
device's width. Outcomes are asserted on the page and, where stock moved, through the app's own
functions; no timings.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import pytest

from simulator import Simulator
from tests.browser.conftest import _touch_page, sign_in_page
from tests.conftest import _seed_basics, make_app
from tests.support.floor import snap
from tests.support.processes import start_wms

DEVICES = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 1024, "height": 1366}}
TAGS = {"phone": "PH", "tablet": "TB"}  # each device's own codes on the shared floor


def ean13(number: int) -> str:
    """A valid EAN-13 (check digit computed) from a small number, in the 931234 range the other tests use."""
    digits = f"93123456{number:04d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


@dataclass
class Stack:
    """The running WMS, the app in this process (set-up and checks), the simulator."""

    server: object
    app: object
    sim: Simulator

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def qa_stack(sqlite_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("qa")
    path = folder / "wms.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    sim = Simulator(seed=10).start()
    settings = {"STARSHIPIT_API_URL": sim.url, "STARSHIPIT_RATE_LIMIT": "0"}
    app = make_app(url, **settings)
    server = None
    try:
        with app.app_context():
            _seed_basics()
        server = start_wms(url, folder, workers=2, **settings)
        yield Stack(server, app, sim)
    finally:
        if server is not None:
            server.stop()
        sim.stop()
        app.extensions["wms.engine"].dispose()


@dataclass
class Device:
    """One device's browser page, its name, its tag on the floor and its width."""

    name: str
    tag: str
    page: object
    width: int


@pytest.fixture(params=list(DEVICES))
def device(request, chromium):
    name = request.param
    context = _touch_page(chromium, DEVICES[name])
    context.on("dialog", lambda dialog: dialog.accept())  # "Deactivate ...?", "Revoke ...?"
    try:
        yield Device(name, TAGS[name], context.new_page(), DEVICES[name]["width"])
    finally:
        context.close()


@dataclass
class Day:
    """A role's day on a device: signs in, and names each step's screenshot
    `qa/<role>/<device>/<nn>-<step>.png`, numbered on from `first`."""

    stack: Stack
    device: Device
    role: str
    first: int = 1
    taken: list = field(default_factory=list)

    @property
    def page(self):
        return self.device.page

    @property
    def url(self) -> str:
        return self.stack.url

    def sign_in(self) -> None:
        sign_in_page(self.page, self.url, self.role)

    def shot(self, step: str) -> None:
        """Check that the page fits the device's width (no sideways scrolling), then save it."""
        number = self.first + len(self.taken)
        wide = self.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= self.device.width, f"step {number} {step}: the page is {wide} px wide on {self.device.name}"
        self.page.evaluate("window.scrollTo(0, 0)")  # a page scrolled down draws its sticky header mid-picture
        snap(self.page, f"qa/{self.role}/{self.device.name}/{number:02d}-{step}")
        self.taken.append(step)


@pytest.fixture
def day(qa_stack, device):
    """`day(role, first)`: the role's day on this test's device, signed in."""

    def start(role: str, first: int = 1) -> Day:
        walk = Day(qa_stack, device, role, first)
        walk.sign_in()
        return walk

    return start
