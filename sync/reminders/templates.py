"""Reminder texts in Bahasa Indonesia, filled with the member's name, the amount due and the deadline."""

from __future__ import annotations

import datetime as dt

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

PAYMENT_DUE = (
    "Halo {name}, iuran BPJS Ketenagakerjaan Anda bulan {month} sebesar {amount} jatuh tempo {deadline}. "
    "Bayar di Kantor Pos terdekat agar perlindungan tetap aktif. Balas STOP untuk berhenti."
)
PAYMENT_ARREARS = (
    "Halo {name}, iuran BPJS Ketenagakerjaan Anda belum dibayar {unpaid} bulan. Total {amount} "
    "mohon dibayar sebelum {deadline} agar kepesertaan tidak nonaktif. Balas STOP untuk berhenti."
)


def rupiah(amount: int | float) -> str:
    """16800 → ``Rp16.800`` (Indonesian thousands separator)."""
    return "Rp" + f"{int(round(amount)):,}".replace(",", ".")


def tanggal(day: dt.date) -> str:
    """2025-07-15 → ``15 Juli 2025``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def bulan(month: str) -> str:
    """``2025-07`` → ``Juli 2025``."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


def payment_text(*, name: str | None, month: str, amount: int, deadline: dt.date, unpaid_months: int = 1) -> str:
    """The D-5 / D-1 payment reminder; mentions the arrears when earlier months are unpaid too."""
    who = (name or "Peserta").strip().split(" ")[0] or "Peserta"
    if unpaid_months > 1:
        return PAYMENT_ARREARS.format(name=who, unpaid=unpaid_months, amount=rupiah(amount), deadline=tanggal(deadline))
    return PAYMENT_DUE.format(name=who, month=bulan(month), amount=rupiah(amount), deadline=tanggal(deadline))
