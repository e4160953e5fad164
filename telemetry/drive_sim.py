"""Synthetic but physically consistent Volt drives, as Torque Pro would upload them. Pure.

Used by `manage.py simulate_drive` and by the tests, so both exercise the same
shapes: an electric stretch that spends the usable battery, then gas mode
holding the SOC at its floor, optionally with a cold-weather engine pulse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

KM_PER_MILE = 1.609344
LITRES_PER_GALLON = 3.785411784
# A new simulated vehicle's odometer.
FIRST_ODOMETER_MILES = 12_000.0


@dataclass(frozen=True, slots=True)
class DrivePlan:
    session: str
    start: datetime
    electric_miles: float = 30.0
    gas_miles: float = 20.0
    mph: float = 40.0
    kwh_per_mile: float = 0.28
    mpg: float = 40.0
    start_soc: float = 80.0
    usable_kwh: float = 14.0
    tank_gallons: float = 8.9
    start_fuel_pct: float = 60.0
    start_odometer_miles: float = FIRST_ODOMETER_MILES
    ambient_c: float = 18.0
    step_seconds: float = 10.0
    # Cold-weather pulse: the engine heats for this long at the start, while the car drives on the battery.
    cold_pulse_seconds: float = 0.0
    device_id: str = "sim-device-0001"
    battery_capacity_kwh: float | None = 16.2
    # Standing before setting off and after arriving (ignition on, 0 mph), in readings `step_seconds` apart.
    standing_readings: int = 0

    @property
    def electric_seconds(self) -> float:
        return self.electric_miles / self.mph * 3600.0

    @property
    def gas_seconds(self) -> float:
        return self.gas_miles / self.mph * 3600.0

    @property
    def expected_kwh(self) -> float:
        return self.electric_miles * self.kwh_per_mile

    @property
    def expected_gallons(self) -> float:
        return self.gas_miles / self.mpg

    @property
    def floor_soc(self) -> float:
        return self.start_soc - self.expected_kwh / self.usable_kwh * 100.0


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def drive_readings(plan: DrivePlan) -> Iterator[dict[str, str]]:
    """The data uploads of one drive, in time order, in Torque's units and key names."""
    total = plan.electric_seconds + plan.gas_seconds
    steps = int(total // plan.step_seconds) + 1
    for k in range(plan.standing_readings, 0, -1):
        yield _reading(plan, 0.0, at_s=-k * plan.step_seconds, moving=False)
    for i in range(steps):
        yield _reading(plan, min(i * plan.step_seconds, total))
    for k in range(1, plan.standing_readings + 1):
        yield _reading(plan, total, at_s=total + k * plan.step_seconds, moving=False)


def _reading(plan: DrivePlan, t: float, *, at_s: float | None = None, moving: bool = True) -> dict[str, str]:
    """The upload `t` seconds into the drive, sent at `at_s` (default `t`); standing still unless `moving`."""
    start_ms = int(plan.start.timestamp() * 1000)
    in_gas = t > plan.electric_seconds
    miles = t / 3600.0 * plan.mph
    electric_t = min(t, plan.electric_seconds)
    gas_t = max(t - plan.electric_seconds, 0.0)
    soc = plan.start_soc - (electric_t / 3600.0 * plan.mph * plan.kwh_per_mile) / plan.usable_kwh * 100.0
    gallons = gas_t / 3600.0 * plan.mph / plan.mpg
    engine_on = moving and (in_gas or t < plan.cold_pulse_seconds)
    mph = plan.mph if moving else 0.0
    params = {
        "v": "8",
        "session": plan.session,
        "id": plan.device_id,
        "eml": "owner@example.com",
        "time": str(start_ms + int((t if at_s is None else at_s) * 1000)),
        "kd": _fmt(mph * KM_PER_MILE),
        "kff1001": _fmt(mph * KM_PER_MILE),
        "ka6": _fmt((plan.start_odometer_miles + miles) * KM_PER_MILE),
        "kff1204": _fmt(miles * KM_PER_MILE),
        "kff1271": _fmt(gallons * LITRES_PER_GALLON),
        "kc": "1450" if engine_on else "0",
        "k46": _fmt(plan.ambient_c),
        "k5": _fmt(85.0 if engine_on else 30.0),
        "k22005b": _fmt(soc),
        "k22002f": _fmt(plan.start_fuel_pct - gallons / plan.tank_gallons * 100.0),
        "k22000b": _fmt((0.4 if in_gas else plan.mph * plan.kwh_per_mile) if moving else 0.3),
        "k220009": _fmt(360.0 + soc * 0.3),
        "k220057": "0",
        "kff1006": _fmt(42.33 + miles * 0.01),
        "kff1005": _fmt(-83.05 + miles * 0.01),
    }
    if plan.battery_capacity_kwh is not None:
        params["k2241a3"] = _fmt(plan.battery_capacity_kwh)
    return params


def drive_metadata(plan: DrivePlan) -> dict[str, str]:
    """A metadata message as Torque sends it before the data (PID names and units)."""
    return {
        "v": "8", "session": plan.session, "id": plan.device_id, "eml": "owner@example.com",
        "userFullName22005b": "State of Charge (displayed)", "userShortName22005b": "SOC", "userUnit22005b": "%",
        "defaultUnit22005b": "%", "userFullName22000b": "HV Battery Power", "userShortName22000b": "HVkW",
        "userUnit22000b": "kW", "defaultUnit22000b": "kW",
    }


def session_for(start: datetime) -> str:
    """Torque's session id: the ms timestamp at which logging started."""
    return str(int(start.astimezone(UTC).timestamp() * 1000))


@dataclass(frozen=True, slots=True)
class ChargePlan:
    """A parked charge: the charger draws `charger_kw` from the wall; the pack gets `efficiency` of it."""

    session: str
    start: datetime
    start_soc: float = 20.0
    end_soc: float = 90.0
    charger_kw: float = 3.3
    efficiency: float = 0.9
    usable_kwh: float = 14.0
    step_seconds: float = 30.0
    # No readings for a while (the phone lost the car; the charge goes on): `(after_seconds, for_seconds)`.
    gap: tuple[float, float] | None = None
    report_charger_power: bool = True
    fuel_pct: float = 60.0
    odometer_miles: float = 12_050.0
    device_id: str = "sim-device-0001"

    @property
    def battery_kwh(self) -> float:
        return (self.end_soc - self.start_soc) / 100.0 * self.usable_kwh

    @property
    def expected_kwh(self) -> float:
        """Energy from the wall: what the charger-power PID integrates to."""
        return self.battery_kwh / self.efficiency

    @property
    def charge_seconds(self) -> float:
        return self.expected_kwh / self.charger_kw * 3600.0


def charge_readings(plan: ChargePlan) -> Iterator[dict[str, str]]:
    """The data uploads of one parked charge, in time order, in Torque's units and key names."""
    total = plan.charge_seconds
    gap_from, gap_len = plan.gap or (total, 0.0)
    start_ms = int(plan.start.timestamp() * 1000)
    battery_kw = plan.charger_kw * plan.efficiency
    times = [i * plan.step_seconds for i in range(int(total // plan.step_seconds) + 1)]
    if times[-1] < total:
        times.append(total)
    for t in times:
        if gap_from < t < gap_from + gap_len:
            continue
        soc = plan.start_soc + battery_kw * t / 3600.0 / plan.usable_kwh * 100.0
        params = {
            "v": "8", "session": plan.session, "id": plan.device_id, "eml": "owner@example.com",
            "time": str(start_ms + int(t * 1000)),
            "kd": "0", "kff1001": "0", "kc": "0",
            "ka6": _fmt(plan.odometer_miles * KM_PER_MILE),
            "k22005b": _fmt(soc),
            "k22002f": _fmt(plan.fuel_pct),
            "k22000b": _fmt(-battery_kw),
            "k220009": _fmt(360.0 + soc * 0.3),
            "k220057": "1",
            "kff1006": "42.331234", "kff1005": "-83.051234",
        }
        if plan.report_charger_power:
            params["k22006e"] = _fmt(plan.charger_kw)
        yield params
