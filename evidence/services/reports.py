"""What an import did, line by line: the report every import service returns."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# --- Reports ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A field where a stored study and a file's record disagree, each value as text."""

    field: str
    stored: str
    incoming: str


@dataclass(frozen=True)
class ReportLine:
    action: str  # created, updated, unchanged, merged, rejected, conflict, orphaned
    kind: str  # study, article, claim, citation
    label: str
    detail: str = ""
    title: str = ""  # the entry's title, where it has one
    differences: tuple[Difference, ...] = ()  # a conflict's fields: the stored and the file's value


@dataclass
class ImportReport:
    """What an import did, line by line; ``counts()`` summarises it."""

    lines: list[ReportLine] = field(default_factory=list)
    dry_run: bool = False
    format: str = ""  # the file's format, for bibliography and retraction imports

    def summary(self, kind: str | None = None) -> str:
        """e.g. "3 created, 1 updated, 2 rejected", in a fixed order."""
        order = ["created", "updated", "unchanged", "merged", "conflict", "orphaned", "rejected"]
        counts = self.counts(kind)
        return ", ".join(f"{counts[action]} {action}" for action in order if counts[action]) or "nothing to do"

    def add(
        self,
        action: str,
        kind: str,
        label: str,
        detail: str = "",
        *,
        title: str = "",
        differences: tuple[Difference, ...] = (),
    ) -> None:
        self.lines.append(ReportLine(action, kind, label, detail, title, differences))

    def counts(self, kind: str | None = None) -> Counter[str]:
        return Counter(line.action for line in self.lines if kind is None or line.kind == kind)

    def of(self, action: str, kind: str | None = None) -> list[ReportLine]:
        return [line for line in self.lines if line.action == action and (kind is None or line.kind == kind)]

    @property
    def changed(self) -> bool:
        return any(line.action in {"created", "updated", "merged"} for line in self.lines)


# --- Studies --------------------------------------------------------------------------------------------
