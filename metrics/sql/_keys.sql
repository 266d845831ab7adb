{#-
  _keys: the whitelist of group-key expressions, imported by the queries that group
  ({% from "_keys.sql" import k_partner_id, ... with context %}). Nothing here reaches the text but these fixed
  column expressions: the template inputs only choose among them.

  Inputs: keys   - for partner, model, pipeline, source: "all" / "some" / "none" of the query's families (for a
                   plain query: of its rows) group by it;
          period - the families' period bucket: "none", "week", "month", "quarter", or "by_unit" (families of
                   different units, or some of none: a CASE on the row's g_unit);
          roll   - (roll_keys() only) the same for the query's scopes, period included.

  A key every family groups by is the plain column; one no family groups by is a typed null (DuckDB then hashes
  nothing for it); one only some group by is a CASE on the row's g_* flag. `d` is the row's date (creation, or
  the deal date). Rows carry their scope's / family's columns (sid, g_partner, g_model, g_pipeline, g_source,
  g_unit): see _scope.sql.
-#}
{%- macro key(dim, expr, type, flag) -%}
{%- if keys[dim] == "all" -%}
{{ expr }}
{%- elif keys[dim] == "some" -%}
case when {{ flag }} then {{ expr }} end
{%- else -%}
cast(null as {{ type }})
{%- endif -%}
{%- endmacro -%}

{%- set k_partner_id = key("partner", "partner_id", "integer", "g_partner") -%}
{%- set k_model = key("model", "model", "varchar", "g_model") -%}
{%- set k_pipeline_id = key("pipeline", "pipeline_id", "bigint", "g_pipeline") -%}
{%- set k_source = key("source", "coalesce(utm_source, source_name)", "varchar", "g_source") -%}

{#- First day of d's bucket; day arithmetic is several times cheaper per row than date_trunc on a DATE. -#}
{%- set period_start = {
    "week": "(d - cast(isodow(d) - 1 as integer))",
    "month": "(d - cast(day(d) - 1 as integer))",
    "quarter": "cast(date_trunc('quarter', d) as date)",
} -%}
{%- if period == "none" -%}
{%- set k_period = "cast(null as date)" -%}
{%- elif period == "by_unit" -%}
{%- set k_period = "case g_unit when 'week' then " ~ period_start["week"] ~ " when 'month' then "
    ~ period_start["month"] ~ " when 'quarter' then " ~ period_start["quarter"] ~ " end" -%}
{%- else -%}
{%- set k_period = period_start[period] -%}
{%- endif -%}

{#- A partner's model follows from the partner: grouping by it too would only cost string hashing. -#}
{%- set model_from_partner = "true" if keys["partner"] == "all" and keys["model"] == "none" else "false" -%}

{#- The key columns of rows that carry them all (k_*): group_cols the used ones; key_cols every one, an unused
    one as its typed null constant, so GROUP BY ALL groups by the used keys only (a null column of a CTE would be
    hashed like any other, ~2x the cost). -#}
{%- set used = {
    "k_partner_id": keys["partner"] != "none", "k_model": keys["model"] != "none",
    "k_pipeline_id": keys["pipeline"] != "none", "k_source": keys["source"] != "none",
    "k_period": period != "none",
} -%}
{%- set types = {"k_partner_id": "integer", "k_model": "varchar", "k_pipeline_id": "bigint",
                 "k_source": "varchar", "k_period": "date"} -%}
{%- set ns = namespace(group_cols="sid", key_cols="sid") -%}
{%- for col, type in types.items() -%}
{%- if used[col] -%}
{%- set ns.group_cols = ns.group_cols ~ ", " ~ col -%}
{%- set ns.key_cols = ns.key_cols ~ ", " ~ col -%}
{%- else -%}
{%- set ns.key_cols = ns.key_cols ~ ", cast(null as " ~ type ~ ") as " ~ col -%}
{%- endif -%}
{%- endfor -%}
{%- set group_cols = ns.group_cols -%}
{%- set key_cols = ns.key_cols -%}

{#- A scope's keys from its family's rows `p` (joined as `sc`): each key the scope groups by (input roll). -#}
{%- macro rolled(dim, col, type, flag) -%}
{%- if roll[dim] == "all" -%}
p.{{ col }} as {{ col }}
{%- elif roll[dim] == "some" -%}
case when {{ flag }} then p.{{ col }} end as {{ col }}
{%- else -%}
cast(null as {{ type }}) as {{ col }}
{%- endif -%}
{%- endmacro -%}
{%- macro roll_keys() -%}
{{ rolled("partner", "k_partner_id", "integer", "sc.g_partner") }}, {{ rolled("model", "k_model", "varchar", "sc.g_model") }},
        {{ rolled("pipeline", "k_pipeline_id", "bigint", "sc.g_pipeline") }}, {{ rolled("source", "k_source", "varchar", "sc.g_source") }},
        {{ rolled("period", "k_period", "date", "sc.g_unit is not null") }}
{%- endmacro -%}
