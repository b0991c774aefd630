"""Read registers from PostGIS: a table, a view or a query, named by a URL.

A source is ``postgresql://user[:password]@host[:port]/database#schema.table`` (the schema may be
left out for ``public``) or ``postgresql://...#query=SELECT ...``. `read_relation` returns the
rows as files give them (a GeoDataFrame with the geometry column's SRID as its CRS, or a plain
frame), held to the same row, column and cell limits; `estate.io.read_table` then maps,
reprojects and validates them exactly as it does a file's. Everything runs in a read-only
transaction, so nothing in the database is ever changed.

Passwords are never shown: every message and every source name (kept in provenance and
``run.json``) uses `masked_url`, which drops the password, and any text from the server or the
driver has the password replaced by ``***`` before it is shown.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from estate.errors import EstateError
from estate.sheets import check_shape, check_width, row_budget

SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
NAME = re.compile(r"^[A-Za-z0-9_]+$")
GEOMETRY_TYPES = ("geometry", "geography")
CONNECT_TIMEOUT_S = 10
QUERY_LABEL_CHARS = 80
FORMS = "postgresql://user@host/database#schema.table or postgresql://user@host/database#query=SELECT ..."


def is_database(source: object) -> bool:
    """Whether `source` is a PostGIS URL rather than a file path."""
    return isinstance(source, str) and source.strip().lower().startswith(SCHEMES)


@dataclass(frozen=True)
class DatabaseSource:
    """A parsed source: where to connect (with any password), and what to read."""

    url: str  # the connection URL, password included: never shown, never saved
    schema: str
    table: str
    query: str

    @property
    def label(self) -> str:
        """The source's name in messages and provenance: no password, ever."""
        base = masked_url(self.url)
        if self.query:
            text = " ".join(self.query.split())
            short = text if len(text) <= QUERY_LABEL_CHARS else text[: QUERY_LABEL_CHARS - 1] + "…"
            return f"{base}#query={short}"
        return f"{base}#{self.schema}.{self.table}"

    @property
    def sql(self) -> str:
        """The SELECT that gives the rows."""
        return self.query or f'SELECT * FROM "{self.schema}"."{self.table}"'

    def sibling(self, table: str) -> DatabaseSource:
        """The table `table` in the same schema."""
        return DatabaseSource(self.url, self.schema, table, "")


def masked_url(url: str) -> str:
    """`url` without its password (and without the ``#...`` part), for messages and records."""
    head = url.strip().partition("#")[0]
    scheme, sep, rest = head.partition("://")
    if not sep:
        return head
    authority, slash, path = rest.partition("/")
    user_info, at, host = authority.rpartition("@")
    if at:
        user = user_info.partition(":")[0]
        authority = f"{user}@{host}" if user else host
    return f"{scheme}://{authority}{slash}{path}"


def parse(source: str) -> DatabaseSource:
    """Split a PostGIS URL into connection and relation (or query).

    Raises
    ------
    EstateError
        If no table or query is named, or a name is not plain letters, digits and underscores.

    """
    url, _, fragment = source.strip().partition("#")
    label = masked_url(url)
    fragment = fragment.strip()
    if fragment.lower().startswith("query="):
        query = fragment[len("query=") :].strip().rstrip(";").strip()
        if not query:
            msg = f"{label}#query=: the query is empty. Give a SELECT, e.g. #query=SELECT * FROM estate.buildings"
            raise EstateError(msg)
        return DatabaseSource(url, "", "", query)
    if not fragment:
        msg = f"{label}: no table named. Add the table after '#', as in {FORMS}."
        raise EstateError(msg)
    schema, dot, table = fragment.rpartition(".")
    schema = schema if dot else "public"
    for part in (schema, table):
        if not NAME.match(part):
            msg = (
                f"{label}#{fragment}: {part!r} is not a plain table or schema name (letters, digits "
                f"and underscores). For anything else use #query=SELECT ... ; the forms are {FORMS}."
            )
            raise EstateError(msg)
    return DatabaseSource(url, schema, table, "")


def _secret(url: str) -> str:
    """The password in `url` ('' if none), to be blanked out of any text shown."""
    rest = url.partition("://")[2].partition("/")[0]
    user_info, at, _ = rest.rpartition("@")
    return user_info.partition(":")[2] if at else ""


def _masked(text: str, url: str) -> str:
    secret = _secret(url)
    return text.replace(secret, "***") if secret else text


def _first_line(err: BaseException, url: str) -> str:
    """The first line of an error from the driver or server, with the password blanked out."""
    inner = getattr(err, "orig", None) or err
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return _masked(lines[0], url) if lines else type(inner).__name__


def _engine(src: DatabaseSource) -> Any:
    """A SQLAlchemy engine for `src` (no pool: one connection, closed after use)."""
    try:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool
    except ModuleNotFoundError as err:  # pragma: no cover - the requirements include it
        msg = f"{src.label}: reading PostGIS needs SQLAlchemy and psycopg (pip install -r requirements.txt)."
        raise EstateError(msg) from err
    url = src.url.strip()
    if url.lower().startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        return sa.create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    except ModuleNotFoundError as err:
        msg = f"{src.label}: reading PostGIS needs the psycopg driver (pip install -r requirements.txt)."
        raise EstateError(msg) from err
    except Exception as err:  # a malformed URL
        msg = f"{src.label}: not a usable database URL ({_first_line(err, src.url)}). Use {FORMS}."
        raise EstateError(msg) from err


def read_relation(source: str | DatabaseSource, table: str, *, spatial: bool) -> pd.DataFrame:
    """The rows of a PostGIS table, view or query, within the limits of `estate.limits`.

    With `spatial`, the first geometry (or geography) column becomes the frame's geometry and
    its SRID the CRS (an SRID of 0 gives no CRS, which `estate.io` refuses with its message).
    ``numeric`` columns come back as floats. A spatial table with no geometry column is
    returned plain, for `estate.io` to find ``lon``/``lat`` or ``easting``/``northing`` columns.

    Raises
    ------
    EstateError
        If the server cannot be reached, the table does not exist, the query fails, or the
        rows are over a limit; the message names the source without its password.

    """
    src = parse(source) if isinstance(source, str) else source
    engine = _engine(src)
    try:
        with engine.connect() as con:
            return _read(con, src, table, spatial=spatial)
    except EstateError:
        raise
    except Exception as err:
        raise EstateError(_explain(err, src, table)) from err
    finally:
        engine.dispose()


def _read(con: Any, src: DatabaseSource, table: str, *, spatial: bool) -> pd.DataFrame:
    import sqlalchemy as sa

    con.execute(sa.text("SET TRANSACTION READ ONLY"))
    if not src.query:
        _check_exists(con, src)
    described = con.execute(sa.text(f"SELECT * FROM ({src.sql}) AS register LIMIT 0"))
    names = [str(d[0]) for d in described.cursor.description]
    oids = [int(d[1]) for d in described.cursor.description]
    described.close()
    types = dict(
        con.execute(
            sa.text("SELECT oid::int, typname FROM pg_type WHERE oid = ANY(:oids)"), {"oids": oids}
        ).all()
    )
    geometry = [n for n, oid in zip(names, oids, strict=True) if types.get(oid) in GEOMETRY_TYPES]
    columns = len(names)
    check_width(columns, src.label)
    rows = int(con.execute(sa.text(f"SELECT count(*) FROM ({src.sql}) AS register")).scalar_one())
    check_shape(rows, columns, src.label)
    sql = f"SELECT * FROM ({src.sql}) AS register LIMIT {row_budget(columns) + 1}"
    if spatial and geometry:
        frame: pd.DataFrame = gpd.read_postgis(sa.text(sql), con, geom_col=geometry[0])
    else:
        frame = pd.read_sql(sa.text(sql), con)
    check_shape(len(frame), columns, src.label)
    return _plain_numbers(frame)


def _check_exists(con: Any, src: DatabaseSource) -> None:
    """Refuse a table or view that is not there, listing what the schema does hold."""
    import sqlalchemy as sa

    found = con.execute(sa.text("SELECT to_regclass(:name)"), {"name": f'"{src.schema}"."{src.table}"'})
    if found.scalar_one() is not None:
        return
    present = (
        con.execute(
            sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
                "ORDER BY table_name LIMIT 21"
            ),
            {"schema": src.schema},
        )
        .scalars()
        .all()
    )
    there = (
        f"Tables and views in {src.schema}: {', '.join(present[:20])}{', ...' if len(present) > 20 else ''}."
        if present
        else f"Schema {src.schema!r} holds no table this user can see."
    )
    msg = f"{src.label}: no table or view {src.schema}.{src.table} in the database. {there}"
    raise EstateError(msg)


def _explain(err: BaseException, src: DatabaseSource, table: str) -> str:
    """A plain message for a failure from the driver or the server."""
    import sqlalchemy as sa

    detail = _first_line(err, src.url)
    if isinstance(err, sa.exc.OperationalError) and "connect" in str(err).lower():
        return (
            f"{src.label}: cannot connect to the database ({detail}). Check the host, port, "
            "database name, user and password (give the password in PGPASSWORD or ~/.pgpass "
            "rather than in the URL), and that the server is running and accepts connections."
        )
    if isinstance(err, sa.exc.DBAPIError):
        what = "the query" if src.query else f"reading {src.schema}.{src.table}"
        return f"{src.label}: the database refused {what} for the {table} table ({detail}). Check the SQL and the user's rights."
    return f"{src.label}: cannot be read as a {table} table ({type(err).__name__}: {detail})."


def _plain_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """``numeric`` columns (Python Decimals) as floats, as a file's numbers read."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        values = column.dropna()
        if len(values) and all(isinstance(v, decimal.Decimal) for v in values):
            frame[name] = column.map(lambda v: None if v is None else float(v)).astype(float)
    return frame


def siblings(source: str, tables: tuple[str, ...]) -> dict[str, str]:
    """{table: URL} for the `tables` that sit beside a ``#schema.buildings`` table.

    As a GeoPackage's other layers come with its ``buildings`` layer, a database schema's tables
    named ``occupiers``, ``zones``, ``access`` and ``compatibility`` come with its ``buildings``
    table. Nothing is found for a query or for a buildings table of another name.
    """
    src = parse(source)
    if src.query or src.table != "buildings":
        return {}
    import sqlalchemy as sa

    engine = _engine(src)
    try:
        with engine.connect() as con:
            found = (
                con.execute(
                    sa.text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :schema "
                        "AND table_name = ANY(:names)"
                    ),
                    {"schema": src.schema, "names": list(tables)},
                )
                .scalars()
                .all()
            )
    except Exception as err:
        raise EstateError(_explain(err, src, "buildings")) from err
    finally:
        engine.dispose()
    head = source.strip().partition("#")[0]
    return {t: f"{head}#{src.schema}.{t}" for t in tables if t in found}


def default_name(source: str) -> str:
    """A place name for an estate read from `source`: the schema (or the database for ``public``)."""
    src = parse(source)
    if src.query:
        return masked_url(src.url).rpartition("/")[2] or "database"
    return src.schema if src.schema != "public" else masked_url(src.url).rpartition("/")[2] or src.table
