"""Queries that run on every page, compiled to SQL once per process instead of per request."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

__all__ = ["CompiledQuery"]

# Values no real lookup uses, to find where each parameter lands in the compiled SQL's params
# (the integer one fits a 32-bit column, which Django checks when it compiles).
_INT_SENTINEL = -2_047_483_011
_STR_SENTINEL = "\x00compiled-query-parameter\x00"


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    positions: tuple[int, ...]
    converters: dict
    compiler: Any
    model: type[Model] | None
    init_list: tuple[str, ...]
    model_fields: slice
    related_populators: tuple


class CompiledQuery:
    """A queryset of one fixed shape whose SQL Django compiles once per database.

    Django compiles a queryset to SQL, and works out how to turn rows into objects, on every
    evaluation: about 0.4 ms of CPU on the 2-core target machine even for a primary-key
    lookup, against 0.05 ms for the query itself. The session, the signed-in user, their
    team's customers and the header's notifications are read on every page, so for them the
    work is done once: `build(*placeholders)` makes the queryset; each call re-runs its SQL
    with the real values in the placeholders' places, and gives the same objects (or value
    rows) the queryset would, through Django's own converters and related-object
    populators.

    `kinds` says what each value is: `int` or `str` (the placeholders are values no real
    lookup uses, found in the compiled parameters); each call's values are checked against
    them, and None is refused (the SQL was compiled for `= %s`, not `IS NULL`). `build` must
    not depend on its values beyond placing them. Plain filters, `select_related`,
    `only`/`defer`, `order_by`, slicing and `values_list` are supported; annotations,
    `extra()`, `prefetch_related` and `values()` are refused when compiled.
    `tests/test_compiled_query.py` compares each use with its queryset.

    Compiled once per database alias and thread: a compiled query keeps its connection's
    converters (SQLite's connections are per thread). The alias is the router's choice for
    reading the model unless `using` says otherwise.
    """

    def __init__(self, build: Callable[..., QuerySet], *kinds: type):
        for kind in kinds:
            if kind not in (int, str):
                raise TypeError(f"CompiledQuery values are int or str, not {kind!r}")
        self._build = build
        self._kinds = kinds
        self._compiled: dict[tuple[str, int], _Compiled] = {}
        self._model: type[Model] | None = None

    def _placeholders(self) -> list:
        return [
            _INT_SENTINEL - index if kind is int else f"{_STR_SENTINEL}{index}"
            for index, kind in enumerate(self._kinds)
        ]

    def _compile(self, using: str) -> _Compiled:
        placeholders = self._placeholders()
        queryset = self._build(*placeholders)
        if queryset._iterable_class not in (ModelIterable, ValuesListIterable):
            raise TypeError("CompiledQuery reads model instances or values_list() rows")
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise TypeError("CompiledQuery does not prefetch or attach related objects")
        if queryset.query.annotations or queryset.query.extra:
            raise TypeError("CompiledQuery does not read annotations or extra() columns")
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        positions = []
        for placeholder in placeholders:
            found = [index for index, param in enumerate(params) if param == placeholder]
            if len(found) != 1:
                raise ValueError(f"each value must appear once in the SQL: {sql!r} {params!r}")
            positions.append(found[0])
        selected = [column for column, _, _ in compiler.select[: compiler.col_count]]
        model = init_list = model_fields = None
        related_populators: tuple = ()
        if queryset._iterable_class is ModelIterable:
            klass_info = compiler.klass_info
            model = klass_info["model"]
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            model_fields = slice(start, end)
            init_list = tuple(column.target.attname for column in selected[start:end])
            related_populators = tuple(get_related_populators(klass_info, compiler.select, using))
        compiled = _Compiled(
            sql=sql,
            params=tuple(params),
            positions=tuple(positions),
            converters=compiler.get_converters(selected),
            compiler=compiler,
            model=model,
            init_list=init_list or (),
            model_fields=model_fields or slice(0),
            related_populators=related_populators,
        )
        self._model = queryset.model
        self._compiled[using, threading.get_ident()] = compiled
        return compiled

    def _rows(self, values: tuple, using: str | None) -> tuple[_Compiled, list]:
        if len(values) != len(self._kinds):
            raise TypeError(f"expected {len(self._kinds)} values, got {len(values)}")
        for value, kind in zip(values, self._kinds, strict=True):
            if type(value) is bool or not isinstance(value, kind):
                raise TypeError(f"expected {kind.__name__}, got {value!r}")
        if using is None:
            if self._model is None:
                self._model = self._build(*self._placeholders()).model
            using = router.db_for_read(self._model)
        compiled = self._compiled.get((using, threading.get_ident())) or self._compile(using)
        params = list(compiled.params)
        for position, value in zip(compiled.positions, values, strict=True):
            params[position] = value
        with connections[using].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return compiled, rows

    def rows(self, *values, using: str | None = None) -> list:
        """The result rows as tuples (or lists, where a column needed converting)."""
        return self._rows(values, using)[1]

    def objects(self, *values, using: str | None = None) -> list[Model]:
        """The queryset's model instances, with their `select_related` objects."""
        compiled, rows = self._rows(values, using)
        if compiled.model is None:
            raise TypeError("objects() is for a queryset of model instances; use rows()")
        alias = compiled.compiler.using
        instances = []
        for row in rows:
            instance = compiled.model.from_db(alias, compiled.init_list, row[compiled.model_fields])
            for populator in compiled.related_populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances
