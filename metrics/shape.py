"""Shaping a query's rows for the API: public key names, presentation order, and each scope's slice of a result
typed as a query of it alone would give it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.query import KEY_COLUMNS, MODEL_ORDER


def public_keys(df: pd.DataFrame, dims: tuple[str, ...]) -> pd.DataFrame:
    """Rename the k_* columns of the grouped dims to their public names, drop the others."""
    rename: dict[str, str] = {}
    for d in dims:
        rename.update(KEY_COLUMNS[d])
    keys = list(dict.fromkeys(rename.values()))
    rest = [c for c in df.columns if not c.startswith("k_")]
    out = df.rename(columns=rename)[keys + rest]
    if "period" in out.columns:
        out["period"] = pd.to_datetime(out["period"]).dt.date
    return out


def sort_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Stable presentation order: period, then model order, partner name (direct last), pipeline, source."""
    if df.empty:
        return df.reset_index(drop=True)
    key = pd.DataFrame(index=df.index)
    if "period" in df.columns:
        key["period"] = df["period"]
    if "partner" in df.columns:
        key["direct"] = df["partner_id"].isna()
        key["partner"] = df["partner"].fillna("").str.lower()
    elif "model" in df.columns:
        key["model"] = df["model"].map(MODEL_ORDER)
    for col in ("pipeline_id", "source"):
        if col in df.columns:
            key[col] = df[col]
    if key.columns.empty:
        return df.reset_index(drop=True)
    order = key.sort_values(list(key.columns), na_position="last", kind="stable").index
    return df.loc[order].reset_index(drop=True)


def nullable_columns(df: pd.DataFrame) -> list[str]:
    """Columns DuckDB gave a nullable integer / boolean dtype (it does so only when the column holds a null)."""
    return [col for col, dtype in df.dtypes.items()
            if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iub"]


def typed_part(part: pd.DataFrame, nullable: list[str]) -> pd.DataFrame:
    """A scope's rows with plain dtypes where it has no null: other scopes' null keys must not change them."""
    for col in nullable:
        if col in part.columns and not part[col].isna().any():
            part[col] = part[col].astype(part[col].dtype.numpy_dtype)
    return part


def scope_parts(df: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    """The rows of scopes 0..n-1 of a result ordered by sid, each typed as a query of it alone would give them."""
    bounds = np.searchsorted(df["sid"].to_numpy(), np.arange(n + 1))
    nullable = nullable_columns(df)
    return [typed_part(df.iloc[a:b].drop(columns="sid").reset_index(drop=True), nullable)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def public_names(dims: tuple[str, ...]) -> dict[str, str]:
    """Public key name -> k_* column of a grouping, in the order public_keys puts them."""
    names: dict[str, str] = {}
    for d in dims:
        for col, public in KEY_COLUMNS[d].items():
            names.setdefault(public, col)
    return names
