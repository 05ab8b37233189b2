"""Retries follow Neon's rules; waits honour Retry-After; creates never leave silent orphans."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import email.utils
import itertools
import random
import time
from typing import Any

import httpx
import pytest
from fakes import ORG_ID, FakeNeon, created, json_response, run
from neon_keys import (
    APIConnectionError,
    APITimeoutError,
    AsyncNeonKeys,
    Backoff,
    CreateOutcomeUnknownError,
    LockedError,
    NeonKeys,
    RateLimitError,
    RateLimits,
    ServerError,
    SkippedWaits,
    UnexpectedResponseError,
)
from neon_keys._retry import Verdict, judge, parse_retry_after
from neon_keys.testing import AsyncEmulatorTransport, EmulatorTransport, FakeClock, Fault, World

REQUEST = httpx.Request("GET", "https://x.test/")


def _status(code: int) -> httpx.Response:
    return httpx.Response(code)


@pytest.mark.parametrize(
    ("method", "outcome", "verdict"),
    [
        ("GET", _status(500), Verdict.RETRY),
        ("GET", _status(502), Verdict.RETRY),
        ("GET", _status(504), Verdict.RETRY),
        ("POST", _status(500), Verdict.AMBIGUOUS),
        ("DELETE", _status(502), Verdict.AMBIGUOUS),
        ("POST", _status(504), Verdict.AMBIGUOUS),
        ("POST", _status(503), Verdict.RETRY),
        ("DELETE", _status(423), Verdict.RETRY),
        ("POST", _status(429), Verdict.RETRY),
        ("GET", _status(404), Verdict.FAIL),
        ("POST", _status(400), Verdict.FAIL),
        ("GET", _status(501), Verdict.RETRY),
        ("GET", _status(520), Verdict.RETRY),
        ("POST", _status(524), Verdict.AMBIGUOUS),
        ("DELETE", _status(507), Verdict.AMBIGUOUS),
        ("POST", httpx.ConnectError("refused", request=REQUEST), Verdict.RETRY),
        ("DELETE", httpx.ConnectTimeout("slow", request=REQUEST), Verdict.RETRY),
        ("GET", httpx.ReadTimeout("slow", request=REQUEST), Verdict.RETRY),
        ("POST", httpx.ReadTimeout("slow", request=REQUEST), Verdict.AMBIGUOUS),
        ("DELETE", httpx.RemoteProtocolError("dropped", request=REQUEST), Verdict.AMBIGUOUS),
        ("GET", httpx.ReadError("reset", request=REQUEST), Verdict.RETRY),
    ],
)
def test_policy(method: str, outcome: Any, verdict: Verdict) -> None:
    """Each method and failure gets Neon's documented verdict."""
    assert judge(method, outcome) is verdict


def test_backoff_grows_and_is_capped() -> None:
    """Without jitter the waits double from `initial` up to `maximum`."""
    backoff = Backoff(initial=0.5, maximum=3.0, jitter=False)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_backoff_cannot_be_changed_once_made() -> None:
    """A Backoff shared by clients is immutable: setting a field raises; replace() copies."""
    backoff = Backoff(initial=1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        backoff.initial = 5.0  # type: ignore[misc]
    assert dataclasses.replace(backoff, initial=5.0).initial == 5.0 and backoff.initial == 1.0


def test_backoff_jitter_spans_half_to_the_whole_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The random factor reaches from half the wait (draw 0) to nearly all of it (draw ~1)."""
    backoff = Backoff(initial=2.0, maximum=8.0)
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert backoff.delay(2) == pytest.approx(2.0)
    monkeypatch.setattr(random, "random", lambda: 0.98)
    assert backoff.delay(2) == pytest.approx(3.96)


def test_backoff_jitter_stays_in_range() -> None:
    """Jitter keeps each wait between half and all of the computed wait."""
    backoff = Backoff(initial=1.0, maximum=8.0)
    waits = [backoff.delay(3) for _ in range(200)]
    assert all(w is not None and 2.0 <= w <= 4.0 for w in waits)
    assert len(set(waits)) > 1


def test_retry_after_replaces_backoff_until_the_cap() -> None:
    """A Retry-After within the cap is waited exactly; beyond it, retries stop."""
    backoff = Backoff(max_retry_after=60)
    assert backoff.delay(1, retry_after=7.0) == 7.0
    assert backoff.delay(1, retry_after=61.0) is None
    assert Backoff.immediate().delay(1, retry_after=7.0) == 0.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 2.5 ", 2.5), ("-4", 0.0), ("soon", None), (None, None), ("nan", None)],
)
def test_parse_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    """Retry-After in delta-seconds form is read; nonsense is ignored."""
    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_date() -> None:
    """Retry-After as an HTTP date is converted to seconds from now."""
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)


class TestCallRetries:
    """Whole calls through the client: attempts counted at the fake server."""

    def test_get_retried_on_5xx_then_succeeds(self, make_client: Any, fake: FakeNeon) -> None:
        """A GET that meets 500 then 502 succeeds on the third attempt."""
        ok = fake.routes[("GET", "/api/v2/api_keys")]
        fake.route("GET", "/api_keys", _status(500), _status(502), ok)  # type: ignore[arg-type]
        keys = run(make_client().personal_keys.list())
        assert len(keys) == 3 and len(fake.requests) == 3

    def test_retries_are_bounded(self, make_client: Any, fake: FakeNeon) -> None:
        """After max_retries the last error is raised with its attempt count."""
        fake.route("GET", "/api_keys", _status(503))
        with pytest.raises(ServerError) as caught:
            run(make_client(max_retries=3).personal_keys.list())
        assert caught.value.attempts == 4 and len(fake.requests) == 4

    def test_same_request_id_across_retries(self, make_client: Any, fake: FakeNeon) -> None:
        """Retries of one call reuse its X-Request-ID, so Neon's logs tie them together."""
        fake.route("GET", "/auth", _status(503))
        with pytest.raises(ServerError):
            run(make_client().whoami())
        assert len({r.headers["x-request-id"] for r in fake.requests}) == 1

    @pytest.mark.parametrize("status", [429, 503, 423])
    def test_post_retried_on_statuses_safe_for_any_method(
        self, make_client: Any, fake: FakeNeon, status: int
    ) -> None:
        """A create that meets 429, 503 or 423 is sent again and succeeds."""
        fake.route("POST", "/api_keys", _status(status), json_response(created(9, "ci")))
        key = run(make_client().personal_keys.create("ci"))
        assert key.id == 9 and len(fake.requests) == 2

    def test_locked_is_raised_after_retries(self, make_client: Any, fake: FakeNeon) -> None:
        """A resource that stays locked raises LockedError."""
        fake.route("DELETE", "/api_keys/5", _status(423))
        with pytest.raises(LockedError) as caught:
            run(make_client(max_retries=1).personal_keys.revoke(5))
        assert caught.value.attempts == 2

    def test_delete_not_retried_after_500(self, make_client: Any, fake: FakeNeon) -> None:
        """A revoke that meets a 500 is not sent again."""
        fake.route("DELETE", "/api_keys/5", _status(500))
        with pytest.raises(ServerError) as caught:
            run(make_client().personal_keys.revoke(5))
        assert len(fake.requests) == 1 and caught.value.attempts == 1

    def test_connect_error_retried_for_post(self, make_client: Any, fake: FakeNeon) -> None:
        """A create whose connection failed (nothing sent) is retried."""

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        fake.route("POST", "/api_keys", refuse, json_response(created(9, "ci")))
        assert run(make_client().personal_keys.create("ci")).id == 9
        assert len(fake.requests) == 2

    def test_connect_errors_exhausted(self, make_client: Any, fake: FakeNeon) -> None:
        """Persistent connect failures raise APIConnectionError saying nothing was sent."""

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        fake.route("GET", "/api_keys", refuse)
        with pytest.raises(APIConnectionError) as caught:
            run(make_client(max_retries=1).personal_keys.list())
        assert caught.value.request_sent is False and caught.value.attempts == 2
        assert isinstance(caught.value.__cause__, httpx.ConnectError)

    def test_get_timeout_retried(self, make_client: Any, fake: FakeNeon) -> None:
        """A GET that timed out is retried."""

        def slow(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("timed out", request=request)

        fake.route("GET", "/auth", slow)
        with pytest.raises(APITimeoutError) as caught:
            run(make_client(max_retries=2).whoami())
        assert caught.value.attempts == 3

    def test_retry_after_is_waited(self, fake: FakeNeon, skipped_waits: SkippedWaits) -> None:
        """The client waits what Retry-After asks before retrying."""
        fake.route(
            "GET",
            "/api_keys",
            json_response({"message": "slow"}, status=429, **{"Retry-After": "4"}),
            json_response([]),
        )
        neon = fake.sync_client(backoff=Backoff())
        assert neon.personal_keys.list() == []
        assert skipped_waits.waits == [pytest.approx(4.0, abs=0.05)]

    @pytest.mark.parametrize(("status", "form"), [(503, "date"), (423, "seconds"), (429, "date")])
    def test_retry_after_is_honoured_on_any_retried_status(
        self, fake: FakeNeon, status: int, form: str, skipped_waits: SkippedWaits
    ) -> None:
        """Retry-After, in seconds or as an HTTP date, sets the wait after 429, 503 and 423."""
        value = "20" if form == "seconds" else email.utils.formatdate(time.time() + 20, usegmt=True)
        fake.route(
            "DELETE",
            "/api_keys/5",
            json_response({"message": "busy"}, status=status, **{"Retry-After": value}),
            json_response({"id": 5, "name": "k", "revoked": True}),
        )
        neon = fake.sync_client(backoff=Backoff(), rate_limits=None)
        assert neon.personal_keys.revoke(5).revoked
        waits = skipped_waits.waits
        assert len(waits) == 1 and 18 <= waits[0] <= 20, waits

    @pytest.mark.parametrize("skew_days", [-730, 730])
    def test_an_http_date_is_read_on_the_answers_own_clock(
        self, fake: FakeNeon, skew_days: int, skipped_waits: SkippedWaits
    ) -> None:
        """A Retry-After date is read against the answer's Date, so a server clock years
        off this machine's still asks for the wait it means (here 20 s)."""
        server_now = time.time() + skew_days * 86_400
        headers = {
            "Date": email.utils.formatdate(server_now, usegmt=True),
            "Retry-After": email.utils.formatdate(server_now + 20, usegmt=True),
        }
        fake.route(
            "GET",
            "/api_keys",
            json_response({"message": "slow"}, status=429, **headers),
            json_response([]),
        )
        neon = fake.sync_client(backoff=Backoff(), rate_limits=None)
        assert neon.personal_keys.list() == []
        waits = skipped_waits.waits
        assert len(waits) == 1 and 18 <= waits[0] <= 20, waits

    def test_retry_after_beyond_the_cap_ends_retries_of_503(
        self, fake: FakeNeon, skipped_waits: SkippedWaits
    ) -> None:
        """A 503 asking for a wait longer than the cap is raised at once, not retried early."""
        fake.route("GET", "/auth", json_response({}, status=503, **{"Retry-After": "600"}))
        neon = fake.sync_client(backoff=Backoff(), rate_limits=None)
        with pytest.raises(ServerError) as caught:
            neon.whoami()
        assert caught.value.attempts == 1 and len(fake.requests) == 1
        assert skipped_waits.waits == []

    def test_long_retry_after_is_left_to_the_caller(
        self, fake: FakeNeon, skipped_waits: SkippedWaits
    ) -> None:
        """A Retry-After beyond the cap raises at once with retry_after set."""
        fake.route(
            "GET",
            "/api_keys",
            json_response({"message": "slow"}, status=429, **{"Retry-After": "3600"}),
        )
        neon = fake.sync_client(backoff=Backoff())
        with pytest.raises(RateLimitError) as caught:
            neon.personal_keys.list()
        assert caught.value.retry_after == 3600 and len(fake.requests) == 1
        assert skipped_waits.waits == []

    def test_immediate_backoff_never_waits_between_attempts(
        self, fake: FakeNeon, skipped_waits: SkippedWaits
    ) -> None:
        """With Backoff.immediate() the retries come at once, Retry-After or not."""
        fake.route(
            "GET",
            "/api_keys",
            json_response({"message": "slow"}, status=503, **{"Retry-After": "2"}),
        )
        neon = fake.sync_client(backoff=Backoff.immediate(), rate_limits=None)
        with pytest.raises(ServerError) as caught:
            neon.personal_keys.list()
        assert caught.value.attempts == 3 and skipped_waits.waits == []

    def test_immediate_backoff_still_paces(
        self, fake: FakeNeon, skipped_waits: SkippedWaits
    ) -> None:
        """Backoff.immediate() turns backoff waits off, not pacing: bulk work is still paced."""
        neon = fake.sync_client(backoff=Backoff.immediate())
        for _ in range(25):
            neon.whoami()
        # One route sends 20 at once, then paces at 39 a second: five waits of 1/39 s.
        assert skipped_waits.waits == [pytest.approx(1 / 39)] * 5

    def test_429_slows_the_whole_client(self, fake: FakeNeon, skipped_waits: SkippedWaits) -> None:
        """After a 429 the client waits Retry-After and then paces its other calls."""
        fake.route(
            "GET",
            "/api_keys",
            json_response({"message": "slow"}, status=429, **{"Retry-After": "2"}),
            json_response([]),
        )
        neon = fake.sync_client(backoff=Backoff())
        waits = skipped_waits.waits
        assert neon.personal_keys.list() == []
        assert waits == [pytest.approx(2.0, abs=0.1)]
        for _ in range(5):
            neon.whoami()
        assert len(waits) >= 5 and all(w > 0 for w in waits[1:])

    def test_the_pace_recovers_as_calls_succeed_after_a_429(
        self, fake: FakeNeon, skipped_waits: SkippedWaits
    ) -> None:
        """A 429 slows the account's pace by half; successful calls bring it back."""
        fake.route(
            "GET",
            "/api_keys",
            json_response({"message": "slow"}, status=429, **{"Retry-After": "0"}),
            json_response([]),
        )
        limits = RateLimits(per_minute=60, burst_per_route=1e6)  # 59 a minute, bursts of 6
        neon = fake.sync_client(backoff=Backoff(jitter=False), rate_limits=limits)
        neon.personal_keys.list()  # refused once, then retried
        for _ in range(60):
            neon.whoami()
        waits = [w for w in skipped_waits.waits if w > 0]
        assert waits[0] == pytest.approx(1.5 * 60 / 59)  # slowed down
        assert waits[-1] == pytest.approx(60 / 59)  # recovered

    def test_backoff_waits_between_attempts(
        self, fake: FakeNeon, skipped_waits: SkippedWaits
    ) -> None:
        """Without Retry-After the waits follow the backoff."""
        fake.route("GET", "/api_keys", _status(503))
        neon = fake.sync_client(
            backoff=Backoff(initial=1, maximum=10, jitter=False), rate_limits=None
        )
        with pytest.raises(ServerError):
            neon.personal_keys.list()
        assert skipped_waits.waits == [1, 2]


class TestOrphans:
    """A create whose answer is lost is never silently left behind."""

    def _lose_answer(
        self,
        fake: FakeNeon,
        path: str,
        name: str,
        key_id: int,
        answer: httpx.Response | None = None,
    ) -> None:
        """The create succeeds; its answer is lost (a timeout) or is ``answer``."""
        listing = fake.routes[("GET", "/api/v2" + path)]
        listed = listing(httpx.Request("GET", "https://x.test"))  # type: ignore[operator]
        import json

        keys = json.loads(listed.content)

        def create_then_drop(request: httpx.Request) -> httpx.Response:
            keys.append(
                {
                    "id": key_id,
                    "name": name,
                    "created_at": "2099-01-01T00:00:00Z",
                    "created_by": {"id": "u", "name": "", "image": ""},
                    "last_used_at": None,
                    "last_used_from_addr": "",
                }
            )
            if answer is not None:
                return answer
            raise httpx.ReadTimeout("response lost", request=request)

        fake.route("POST", path, create_then_drop)
        fake.route("GET", path, lambda r: json_response(keys))

    def test_lost_personal_create_reports_candidate(self, client: Any, fake: FakeNeon) -> None:
        """The error names the key that was created anyway, and the POST is not repeated."""
        self._lose_answer(fake, "/api_keys", "ci", 4242)
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            run(client.personal_keys.create("ci"))
        error = caught.value
        assert [k.id for k in error.candidates] == [4242]
        assert "4242" in str(error) and "revoke" in str(error)
        assert isinstance(error.cause, APITimeoutError)
        assert [r.method for r in fake.requests] == ["POST", "GET"]

    def test_lost_org_create_reports_candidate(self, client: Any, fake: FakeNeon) -> None:
        """The same holds for organization keys, with an org-specific revoke hint."""
        self._lose_answer(fake, f"/organizations/{ORG_ID}/api_keys", "deploy", 77)
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            run(client.org(ORG_ID).keys.create("deploy"))
        assert [k.id for k in caught.value.candidates] == [77]
        assert ORG_ID in str(caught.value)

    @pytest.mark.parametrize(
        "body", [b'{"id": 4242, "key": "fake_secret_', b"<html>OK</html>", b'{"id": 4242}']
    )
    def test_unreadable_create_answer_reports_candidate(
        self, client: Any, fake: FakeNeon, body: bytes
    ) -> None:
        """A 200 to a create whose body cannot be read names the key it made, as a lost one."""
        self._lose_answer(fake, "/api_keys", "ci", 4242, httpx.Response(200, content=body))
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            run(client.personal_keys.create("ci"))
        error = caught.value
        assert [k.id for k in error.candidates] == [4242] and "4242" in str(error)
        assert isinstance(error.cause, UnexpectedResponseError)
        assert error.attempts == 1
        assert [r.method for r in fake.requests] == ["POST", "GET"]

    def test_500_on_create_checks_and_finds_nothing(self, client: Any, fake: FakeNeon) -> None:
        """A 500 on create is not retried; the lookup finds no key of that name."""
        fake.route("POST", "/api_keys", _status(500))
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            run(client.personal_keys.create("fresh-name"))
        assert caught.value.candidates == ()
        assert isinstance(caught.value.cause, ServerError)
        assert [r.method for r in fake.requests] == ["POST", "GET"]

    def test_lookup_failure_is_reported(self, make_client: Any, fake: FakeNeon) -> None:
        """If the keys cannot be listed either, the error says so (candidates None)."""
        fake.route("POST", "/api_keys", _status(502))
        fake.route("GET", "/api_keys", _status(401))
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            run(make_client().personal_keys.create("x"))
        assert caught.value.candidates is None
        assert "could not be listed" in str(caught.value)


class TestOrphanWindowOnNeonsClock:
    """The orphan search reads the window on Neon's clock, not this machine's."""

    @staticmethod
    def _create_lost(world: World, name: str, flavour: str) -> CreateOutcomeUnknownError:
        world.faults.inject("createApiKey", Fault.lost_response())
        token = world.seed.admin_token
        if flavour == "sync":
            transport = EmulatorTransport(world)
            with (
                httpx.Client(transport=transport) as http,
                NeonKeys(api_key=token, base_url=transport.base_url, http_client=http) as neon,
                pytest.raises(CreateOutcomeUnknownError) as caught,
            ):
                neon.personal_keys.create(name)
            return caught.value

        async def main() -> CreateOutcomeUnknownError:
            transport = AsyncEmulatorTransport(world)
            async with (
                httpx.AsyncClient(transport=transport) as http,
                AsyncNeonKeys(api_key=token, base_url=transport.base_url, http_client=http) as neon,
            ):
                with pytest.raises(CreateOutcomeUnknownError) as caught:
                    await neon.personal_keys.create(name)
                return caught.value

        return asyncio.run(main())

    @pytest.mark.parametrize("flavour", ["sync", "async"])
    def test_found_when_this_machine_is_far_ahead_of_neon(self, flavour: str) -> None:
        """Neon's clock two years behind this machine's: the lost key is still found."""
        world = World.seeded(clock=FakeClock(datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)))
        error = self._create_lost(world, "nightly", flavour)
        assert [key.name for key in error.candidates or ()] == ["nightly"]
        assert world.log.count("createApiKey") == 1

    @pytest.mark.parametrize("flavour", ["sync", "async"])
    def test_an_older_key_of_the_same_name_is_not_blamed(self, flavour: str) -> None:
        """A key of that name made 100 s before the attempt is not among the candidates."""
        clock = FakeClock()
        world = World.seeded(clock=clock)
        older = world.key_for_token(world.issue_personal_key(world.seed.admin_id, "nightly"))
        assert older is not None
        clock.advance(100)
        error = self._create_lost(world, "nightly", flavour)
        candidates = error.candidates or ()
        assert len(candidates) == 1 and candidates[0].id != older.id
        assert str(older.id) not in str(error)


class TestOrphanSearchSparesDeliveredKeys:
    """A key this client (or a copy) created and returned is never blamed as an orphan."""

    @staticmethod
    def _neon(world: World) -> NeonKeys:
        transport = EmulatorTransport(world)
        return NeonKeys(
            api_key=world.seed.admin_token,
            base_url=transport.base_url,
            http_client=httpx.Client(transport=transport),
        )

    @pytest.mark.parametrize("through_a_copy", [False, True])
    def test_a_delivered_key_of_the_same_name_is_not_a_candidate(
        self, through_a_copy: bool
    ) -> None:
        """Create "ci", wait 2 s, create "ci" again, answer lost: only the second is named."""
        clock = FakeClock()
        world = World.seeded(clock=clock)
        neon = self._neon(world)
        first = (neon.with_options(max_retries=1) if through_a_copy else neon).personal_keys
        delivered = first.create("ci")
        clock.advance(2)
        world.faults.inject("createApiKey", Fault.lost_response())
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            neon.personal_keys.create("ci")
        candidates = caught.value.candidates or ()
        assert len(candidates) == 1 and candidates[0].id != delivered.id
        assert str(delivered.id) not in str(caught.value)

    def test_another_clients_key_made_at_the_same_moment_stays_a_candidate(self) -> None:
        """A key of that name made by someone else within the window cannot be told apart."""
        clock = FakeClock()
        world = World.seeded(clock=clock)
        other = world.key_for_token(world.issue_personal_key(world.seed.admin_id, "ci"))
        assert other is not None
        clock.advance(1)
        world.faults.inject("createApiKey", Fault.lost_response())
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            self._neon(world).personal_keys.create("ci")
        assert len(caught.value.candidates or ()) == 2
        assert other.id in [key.id for key in caught.value.candidates or ()]

    def test_a_key_made_three_seconds_before_is_not_blamed(self) -> None:
        """A key of that name made 3 s before the create left is outside the 2 s slack."""
        clock = FakeClock()
        world = World.seeded(clock=clock)
        other = world.key_for_token(world.issue_personal_key(world.seed.admin_id, "ci"))
        assert other is not None
        clock.advance(3)
        world.faults.inject("createApiKey", Fault.lost_response())
        with pytest.raises(CreateOutcomeUnknownError) as caught:
            self._neon(world).personal_keys.create("ci")
        assert [key.id for key in caught.value.candidates or ()] != [other.id]
        assert len(caught.value.candidates or ()) == 1

    def test_the_memory_of_delivered_keys_is_bounded(self) -> None:
        """A client remembers its latest delivered keys only, so memory stays bounded."""
        from neon_keys._operations import DeliveredKeys

        delivered = DeliveredKeys(size=3)
        for key_id in range(1, 6):
            delivered.add(key_id)
        assert len(delivered) == 3
        assert [key_id in delivered for key_id in range(1, 6)] == [False, False, True, True, True]


def test_the_search_starts_on_neons_clock_less_the_elapsed_time_and_slack() -> None:
    """With Neon's Date: its time less the elapsed seconds less ORPHAN_SERVER_SLACK (2 s)."""
    from neon_keys._operations import search_start

    assert search_start(server_now=1_000.0, local_now=9_999.0, elapsed=10.0) == 988.0
    assert search_start(server_now=1_000.0, local_now=0.0, elapsed=0.0) == 998.0


def test_without_a_date_the_search_allows_for_clock_skew() -> None:
    """Without a Date: the local time less the elapsed seconds less ORPHAN_CLOCK_SKEW (120 s)."""
    from neon_keys._operations import search_start

    assert search_start(server_now=None, local_now=10_000.0, elapsed=10.0) == 9_870.0
    assert search_start(server_now=None, local_now=10_000.0, elapsed=0.0) == 9_880.0


@pytest.mark.parametrize(("offset", "counted"), [(0.0, True), (-0.001, False), (5.0, True)])
def test_a_key_counts_from_the_very_second_the_window_starts(offset: float, counted: bool) -> None:
    """A key created at the window's start counts; a millisecond before, it does not."""
    from neon_keys._models import PersonalKey
    from neon_keys._operations import OrphanSearch, candidates_of, list_personal_keys

    since = 1_700_000_000.0
    key = PersonalKey(
        id=1,
        name="ci",
        created_at=datetime.datetime.fromtimestamp(since + offset, tz=datetime.UTC),
        created_by=None,
    )
    search = OrphanSearch(list_personal_keys(), "ci", "hint")
    assert (candidates_of(search, [key], since) == [key]) is counted


# -- boundaries a mutation study found untested -----------------------------------------------


@pytest.mark.parametrize(
    ("error", "sent", "verdict"),
    [
        (httpx.ConnectError, False, Verdict.RETRY),
        (httpx.ConnectTimeout, False, Verdict.RETRY),
        (httpx.PoolTimeout, False, Verdict.RETRY),  # waiting for a pooled connection sends nothing
        (httpx.WriteError, None, Verdict.AMBIGUOUS),  # part of the request may have left
        (httpx.WriteTimeout, None, Verdict.AMBIGUOUS),
        (httpx.ReadError, True, Verdict.AMBIGUOUS),
        (httpx.ReadTimeout, True, Verdict.AMBIGUOUS),
        (httpx.RemoteProtocolError, True, Verdict.AMBIGUOUS),
    ],
)
def test_what_each_transport_error_says_about_a_create(
    error: type[httpx.RequestError], sent: bool | None, verdict: Verdict
) -> None:
    """Whether a request left, for each transport error, and whether a POST may be resent."""
    from neon_keys._retry import request_was_sent

    failure = error("failed", request=REQUEST)
    assert request_was_sent(failure) is sent
    assert judge("POST", failure) is verdict
    assert judge("GET", failure) is Verdict.RETRY


@pytest.mark.parametrize(
    ("retry_after", "delay"), [(60.0, 60.0), (59.999, 59.999), (60.001, None), (0.0, 0.0)]
)
def test_a_retry_after_equal_to_the_cap_is_still_waited(
    retry_after: float, delay: float | None
) -> None:
    """max_retry_after is inclusive: exactly 60 s is waited, a millisecond more is not."""
    assert Backoff(max_retry_after=60.0).delay(1, retry_after=retry_after) == delay


def test_scale_multiplies_every_backoff_wait() -> None:
    """Backoff.scale scales the exponential waits and Retry-After alike."""
    backoff = Backoff(initial=1.0, jitter=False, scale=0.5)
    assert [backoff.delay(1), backoff.delay(2), backoff.delay(1, retry_after=8.0)] == [0.5, 1, 4]


@pytest.mark.parametrize(
    "header",
    [
        "inf",
        "Infinity",
        "-inf",
        "1e400",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 -0000",
    ],
)
def test_a_retry_after_without_a_real_moment_is_ignored(header: str) -> None:
    """Infinite seconds and HTTP dates without a time zone are not a wait: ignored."""
    assert parse_retry_after(header, now=0.0) is None


def test_a_retry_after_date_in_the_past_means_no_wait() -> None:
    """An HTTP date already gone asks for no wait at all (never a negative one)."""
    now = 1_700_000_000.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    header = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 98 <= (parse_retry_after(header) or 0) <= 100


def test_the_slowdown_after_429s_is_capped_at_an_eighth() -> None:
    """However many 429s, the account pace slows to an eighth of its rate and no further."""
    from neon_keys._pacing import MAX_SLOWDOWN, Pacer, RateLimits

    now = [0.0]
    pacer = Pacer(RateLimits(per_minute=60, burst_per_route=1e6), lambda: now[0])
    base = 1 / pacer.plan.account.rate
    for _ in range(30):
        pacer.backoff(0.0)
    sends = []
    for number in range(10):
        now[0] += pacer.reserve(f"operation-{number}")
        sends.append(now[0])
    gaps = {round(later - earlier, 9) for earlier, later in itertools.pairwise(sends[1:])}
    assert gaps == {round(MAX_SLOWDOWN * base, 9)} and MAX_SLOWDOWN == 8.0


def test_one_429_slows_by_half_and_each_success_recovers_two_percent() -> None:
    """A 429 stretches the account interval 1.5 times; each success takes 2% of it back."""
    from neon_keys._pacing import Pacer, RateLimits

    now = [0.0]
    pacer = Pacer(RateLimits(per_minute=60, burst_per_route=1e6), lambda: now[0])
    base = 1 / pacer.plan.account.rate

    def gap() -> float:
        first = now[0] + pacer.reserve("a")
        now[0] = first
        second = now[0] + pacer.reserve("b")
        now[0] = second + 100  # let the buckets drain before the next measurement
        return second - first

    for _ in range(8):  # use up the burst so that gaps show the interval
        now[0] += pacer.reserve("warm")
    pacer.backoff(0.0)
    now[0] += pacer.reserve("c")
    assert gap() == pytest.approx(1.5 * base)
    pacer.recovered()
    for _ in range(8):
        now[0] += pacer.reserve("warm")
    assert gap() == pytest.approx(1.5 * 0.98 * base)


def test_a_date_without_a_time_zone_is_not_neons_clock(fake: FakeNeon) -> None:
    """A listing whose Date has no zone is not trusted: the local clock (with skew) stands in."""
    now = datetime.datetime.now(datetime.UTC)
    made = (now - datetime.timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = [
        {
            "id": 4242,
            "name": "ci",
            "created_at": made,
            "created_by": {"id": "u", "name": "", "image": ""},
            "last_used_at": None,
            "last_used_from_addr": "",
        }
    ]
    fake.route("POST", "/api_keys", _status(500))
    # Read as UTC, this Date would put Neon's clock in 2099 and rule the key out.
    fake.route("GET", "/api_keys", json_response(listed, Date="Thu, 01 Jan 2099 00:00:00"))
    with pytest.raises(CreateOutcomeUnknownError) as caught:
        fake.sync_client().personal_keys.create("ci")
    assert [key.id for key in caught.value.candidates or ()] == [4242]


def test_an_interrupted_search_never_waits_past_its_deadline(fake: FakeNeon) -> None:
    """A listing answering 503 with a Retry-After beyond the deadline is not retried."""
    from neon_keys import interrupted_create

    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    fake.route("POST", "/api_keys", interrupt)
    fake.route("GET", "/api_keys", json_response({}, status=503, **{"Retry-After": "10"}))
    with pytest.raises(KeyboardInterrupt) as caught:
        fake.sync_client(backoff=Backoff()).personal_keys.create("ci")
    found = interrupted_create(caught.value)
    assert found is not None and found.candidates is None and "503" in (found.failure or "")
    assert [r.method for r in fake.requests] == ["POST", "GET"]


@pytest.mark.parametrize(
    ("timeout", "limits"),
    [
        (30.0, {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}),
        (None, {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}),
        (2.0, {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}),
        (httpx.Timeout(1.0, read=60.0), {"connect": 1.0, "read": 5.0, "write": 1.0, "pool": 1.0}),
    ],
)
def test_the_search_after_an_interruption_bounds_each_request(
    fake: FakeNeon, timeout: Any, limits: dict[str, float]
) -> None:
    """No phase of the interrupted search's listing may outlast the search's 5 s deadline."""
    seen: list[dict[str, float]] = []

    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    def listing(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return json_response([])

    fake.route("POST", "/api_keys", interrupt)
    fake.route("GET", "/api_keys", listing)
    with pytest.raises(KeyboardInterrupt):
        fake.sync_client(timeout=timeout).personal_keys.create("ci")
    ((phases),) = seen
    assert phases == pytest.approx(limits, abs=0.1)
    assert all(value <= limits[name] for name, value in phases.items())
